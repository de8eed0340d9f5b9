package admin

import (
	"net/http"

	"github.com/kabinet-billing/kabinet/internal/report"
)

type debtorsData struct {
	Total   report.DebtTotal
	Debtors []report.Debtor
	Limited []report.Debtor
}

func (a *Admin) debtors(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	now := a.p.Clock.Now()
	var d debtorsData
	var err error
	if d.Total, err = a.d.Reports.Debt(ctx); err == nil {
		if d.Debtors, err = a.d.Reports.Debtors(ctx, now, 500); err == nil {
			d.Limited, err = a.d.Reports.Limited(ctx, now, 500)
		}
	}
	if err != nil {
		a.p.Fail(w, r, err)
		return
	}
	a.render(w, r, http.StatusOK, "debtors", "admin.debtors.title", "debtors", d)
}
