package admin

import (
	"cmp"
	"net/http"
	"strings"

	"github.com/kabinet-billing/kabinet/internal/fiscal"
	"github.com/kabinet-billing/kabinet/internal/web/platform"
)

type receiptsData struct {
	Receipts []fiscal.Receipt
	Off      bool // [fiscal] names no operator
	L        platform.Listing
}

// receipts lists the fiscal receipts an operator must watch: unfinished
// and failed; ?status=all or done for the rest.
func (a *Admin) receipts(w http.ResponseWriter, r *http.Request) {
	d := receiptsData{Off: a.d.Office.Fiscal == nil}
	var err error
	if d.Receipts, err = a.d.Office.Receipts(r.Context(), r.URL.Query().Get("status")); err != nil {
		a.failed(w, r, "/admin/receipts", err)
		return
	}
	// The newest receipts of the status chosen (fiscal.List's bound),
	// sorted and paged here.
	d.L = platform.ListingOf(r, 50, true, "date", "kind", "amount", "status", "attempts")
	d.Receipts = platform.SortPage(&d.L, d.Receipts, map[string]func(x, y fiscal.Receipt) int{
		"date":     func(x, y fiscal.Receipt) int { return cmp.Compare(x.ID, y.ID) },
		"kind":     func(x, y fiscal.Receipt) int { return strings.Compare(x.Kind, y.Kind) },
		"amount":   func(x, y fiscal.Receipt) int { return cmp.Compare(x.Amount, y.Amount) },
		"status":   func(x, y fiscal.Receipt) int { return strings.Compare(x.Status, y.Status) },
		"attempts": func(x, y fiscal.Receipt) int { return cmp.Compare(x.Attempts, y.Attempts) },
	})
	a.render(w, r, http.StatusOK, "receipts", "admin.receipts.title", "receipts", d)
}

// resendReceipt sends a receipt again, audited.
func (a *Admin) resendReceipt(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(r, "id")
	if !ok {
		a.p.NotFound(w, r)
		return
	}
	if err := a.d.Office.ResendReceipt(r.Context(), a.who(r), id); err != nil {
		a.failed(w, r, "/admin/receipts", err)
		return
	}
	a.done(w, r, "/admin/receipts", "admin.flash.receipt_resent")
}
