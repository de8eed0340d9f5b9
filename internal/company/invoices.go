package company

import (
	"context"
	"strings"
	"unicode"

	"github.com/kabinet-billing/kabinet/internal/money"
	"github.com/kabinet-billing/kabinet/internal/store"
)

// Invoice is what bank import needs to know of an issued invoice.
type Invoice struct {
	ID             int64
	Number         string // as issued, e.g. СЧ-2026-000123
	OrganisationID int64
	// AccountID is the point the invoice is for when the contract keeps
	// separate balances per point; 0 for the contract's balance.
	AccountID int64
	Amount    money.Amount // the invoice's total, VAT included
}

// Invoices is what the documents package provides to bank import: it finds
// the invoice a payment's purpose names and is told what was paid toward
// it. Both run inside the crediting transaction.
type Invoices interface {
	// InvoiceByNumber finds an issued invoice by a number as written in a
	// payment's purpose (one of InvoiceNumbers' candidates: the numbering
	// series may be missing or spelt with other dashes or case, so compare
	// loosely). found is false when none is.
	InvoiceByNumber(ctx context.Context, tx *store.Tx, number string) (inv Invoice, found bool, err error)
	// Numbers finds the invoice numbers the documents package writes in a
	// payment's purpose, wherever they are (a bare "2026-000123" too);
	// match tries them before the words after "счёт".
	Numbers(purpose string) []string
	// InvoicePaid is told that amount of bank payment paymentID went
	// toward inv (it may be part of the invoice, or more than it).
	InvoicePaid(ctx context.Context, tx *store.Tx, inv Invoice, paymentID int64, amount money.Amount) error
}

// SetInvoices sets the invoices' lookup bank import uses (the documents
// package); nil turns it off. Safe to call while imports run.
func (s *Service) SetInvoices(inv Invoices) {
	if inv == nil {
		s.invoices.Store(nil)
		return
	}
	s.invoices.Store(&inv)
}

func (s *Service) invoiceLookup() Invoices {
	if p := s.invoices.Load(); p != nil {
		return *p
	}
	return nil
}

// trimWord strips the punctuation a purpose puts around a number.
func trimWord(w string) string {
	return strings.TrimFunc(w, func(r rune) bool {
		return r == ',' || r == ';' || r == ':' || r == '(' || r == ')' || r == '"' || r == '«' || r == '»' || r == '.' || r == '\''
	})
}

func hasDigit(s string) bool { return strings.IndexFunc(s, unicode.IsDigit) >= 0 }

// isInvoiceWord tells whether w is "счёт" in a form or an abbreviation:
// сч, сч., счет, счёт, счету, счёта, счетам…
func isInvoiceWord(w string) bool {
	w = strings.ReplaceAll(strings.ToLower(w), "ё", "е")
	w = strings.TrimSuffix(w, ".")
	if w == "сч" {
		return true
	}
	// Not "счет-фактура" (a VAT invoice names the act, not the bill) nor
	// an account ("расчетный счет" is caught by its number's length).
	return strings.HasPrefix(w, "счет") && !strings.Contains(w, "фактур")
}

// InvoiceNumbers finds what may be invoice numbers in a payment's purpose,
// loosely: a word after "счёт" (in any form, or "сч."), skipping "№", "N",
// "#", "no"; and a word that is itself СЧ-… with a digit. A 20-digit bank
// account after "счёт" is not a number. Candidates come in the order
// written, each once.
func InvoiceNumbers(purpose string) []string {
	words := strings.Fields(strings.NewReplacer("№", " № ", "\u00a0", " ").Replace(purpose))
	var out []string
	add := func(w string) {
		w = trimWord(w)
		if !hasDigit(w) || len(w) > 40 || (allDigits(w, 20)) {
			return
		}
		for _, o := range out {
			if o == w {
				return
			}
		}
		out = append(out, w)
	}
	for i := 0; i < len(words); i++ {
		w := trimWord(words[i])
		lw := strings.ToLower(w)
		if strings.HasPrefix(lw, "сч-") || strings.HasPrefix(lw, "сч–") {
			add(w)
			continue
		}
		if !isInvoiceWord(w) && !isInvoiceWord(words[i]) {
			continue
		}
		for j := i + 1; j < len(words) && j <= i+3; j++ {
			n := trimWord(words[j])
			switch strings.ToLower(n) {
			case "№", "n", "#", "no", "номер", "":
				continue
			}
			add(n)
			break
		}
	}
	return out
}
