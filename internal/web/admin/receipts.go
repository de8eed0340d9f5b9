package admin

import (
	"net/http"

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
	d.L = platform.ListingOf(r, 50, true, "date", "kind", "amount", "status", "attempts")
	var err error
	d.Receipts, d.L.Total, err = a.d.Office.Receipts(r.Context(), fiscal.Filter{Status: r.URL.Query().Get("status"),
		Sort: d.L.Sort, Desc: d.L.Desc, Offset: d.L.Offset(), Limit: d.L.Per})
	if err != nil {
		a.failed(w, r, "/admin/receipts", err)
		return
	}
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
