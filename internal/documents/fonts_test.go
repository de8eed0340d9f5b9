package documents_test

import (
	"testing"

	"github.com/kabinet-billing/kabinet/internal/clock"
	"github.com/kabinet-billing/kabinet/internal/documents"
)

// TestSubsetCoversForms draws every kind of document, with VAT and without,
// with the prepared font subsets: the fixed words of the forms must all be
// in them, since only the data's text is checked when a document is drawn.
func TestSubsetCoversForms(t *testing.T) {
	s, err := documents.New(nil, clock.System, documents.Parties{}, fonts, documents.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, kind := range []documents.Kind{documents.Invoice, documents.Act, documents.UPD, documents.Reconciliation} {
		for _, vat := range []int64{22, 0, -1} {
			d := sample(kind, 3, vat)
			d.Corrects = "2026-000100"
			if !s.Subsetted(d) {
				t.Errorf("%s (VAT %d): the sample's text is not covered by the subsets", kind, vat)
			}
			if _, err := documents.RenderSubset(d, func(r rune) { t.Errorf("%s (VAT %d): %q (%U) is not in the font subsets", kind, vat, r, r) }); err != nil {
				t.Fatal(err)
			}
		}
	}
	// A character outside them draws the document with the full fonts.
	d := sample(documents.Act, 1, 22)
	d.Buyer.Name = "ООО «Дом 家»"
	if s.Subsetted(d) {
		t.Error("a buyer's name with 家 is drawn with the subsets")
	}
	if _, err := documents.RenderSubset(d, func(rune) {}); err != nil {
		t.Fatal(err)
	}
}
