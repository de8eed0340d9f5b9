package admin

import (
	"net/http"

	"github.com/kabinet-billing/kabinet/internal/report"
	"github.com/kabinet-billing/kabinet/internal/web/platform"
)

type debtorsData struct {
	Total   report.DebtTotal
	Debtors debtorList
	Limited debtorList
}

// debtorList is one of the page's two tables, paged in the database.
type debtorList struct {
	Rows []report.Debtor
	L    platform.Listing
}

func (a *Admin) debtors(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	now := a.p.Clock.Now()
	var d debtorsData
	d.Debtors.L = platform.NamedListing(r, "debtors", 50, true, "days", "balance", "contract", "name", "limited")
	d.Limited.L = platform.NamedListing(r, "limited", 50, true, "days", "balance", "contract", "name", "limited")
	query := func(l platform.Listing) report.DebtorQuery {
		return report.DebtorQuery{Sort: l.Sort, Desc: l.Desc, Offset: l.Offset(), Limit: l.Per}
	}
	var err error
	if d.Total, err = a.d.Reports.Debt(ctx); err == nil {
		if d.Debtors.Rows, d.Debtors.L.Total, err = a.d.Reports.DebtorsPage(ctx, now, query(d.Debtors.L)); err == nil {
			d.Limited.Rows, d.Limited.L.Total, err = a.d.Reports.LimitedPage(ctx, now, query(d.Limited.L))
		}
	}
	if err != nil {
		a.p.Fail(w, r, err)
		return
	}
	a.render(w, r, http.StatusOK, "debtors", "admin.debtors.title", "debtors", d)
}
