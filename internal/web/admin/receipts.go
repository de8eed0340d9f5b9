package admin

import (
	"net/http"

	"github.com/kabinet-billing/kabinet/internal/fiscal"
)

type receiptsData struct {
	Receipts []fiscal.Receipt
	Off      bool // [fiscal] names no operator
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
