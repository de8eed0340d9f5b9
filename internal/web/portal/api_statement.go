package portal

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/kabinet-billing/kabinet/internal/ledger"
	"github.com/kabinet-billing/kabinet/internal/subscriber"
)

// StatementFile renders the account's statement for the days from..to
// (inclusive, provider's zone) as the portal's CSV or PDF, so that the JSON
// API hands out the same documents as the portal.
func (po *Portal) StatementFile(ctx context.Context, lang string, a subscriber.Account, from, to time.Time, format string) ([]byte, error) {
	d := statementData{From: from.Format("2006-01-02"), To: to.Format("2006-01-02")}
	var err error
	if d.S, err = ledger.StatementFor(ctx, po.d.DB, a.ID, from, to.AddDate(0, 0, 1)); err != nil {
		return nil, err
	}
	r, _ := http.NewRequestWithContext(ctx, http.MethodGet, "/statement", nil)
	if d.Names, err = po.serviceNames(r, lang); err != nil {
		return nil, err
	}
	po.channelNames(lang, d.Names, d.S.Lines)
	switch format {
	case "csv":
		return po.statementCSV(lang, a, d)
	case "pdf":
		return po.statementPDF(lang, a, d)
	}
	return nil, fmt.Errorf("statement format %q", format)
}

// Describe is a statement line as the subscriber reads it, in lang.
func (po *Portal) Describe(ctx context.Context, lang string, l []ledger.Line) ([]string, error) {
	r, _ := http.NewRequestWithContext(ctx, http.MethodGet, "/statement", nil)
	names, err := po.serviceNames(r, lang)
	if err != nil {
		return nil, err
	}
	po.channelNames(lang, names, l)
	out := make([]string, len(l))
	for i := range l {
		out[i] = po.describe(lang, names, l[i])
	}
	return out, nil
}
