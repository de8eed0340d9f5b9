package admin

import (
	"cmp"
	"net/http"
	"strings"

	"github.com/kabinet-billing/kabinet/internal/report"
	"github.com/kabinet-billing/kabinet/internal/web/platform"
)

type debtorsData struct {
	Total   report.DebtTotal
	Debtors debtorList
	Limited debtorList
}

// debtorList is one of the page's two tables, sorted and paged.
type debtorList struct {
	Rows []report.Debtor
	L    platform.Listing
}

// maxDebtors bounds the rows read for the page's sorting; the CSV files
// have every debtor.
const maxDebtors = 5000

func sortDebtors(l *platform.Listing, rows []report.Debtor) debtorList {
	return debtorList{L: *l, Rows: platform.SortPage(l, rows, map[string]func(x, y report.Debtor) int{
		"days":     func(x, y report.Debtor) int { return cmp.Compare(x.DaysInDebt, y.DaysInDebt) },
		"balance":  func(x, y report.Debtor) int { return cmp.Compare(x.Balance, y.Balance) },
		"contract": func(x, y report.Debtor) int { return strings.Compare(x.ContractNo, y.ContractNo) },
		"name":     func(x, y report.Debtor) int { return platform.Fold(x.Name, y.Name) },
		"limited":  func(x, y report.Debtor) int { return x.LimitedSince.Compare(y.LimitedSince) },
	})}
}

func (a *Admin) debtors(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	now := a.p.Clock.Now()
	var d debtorsData
	var err error
	var debtors, limited []report.Debtor
	if d.Total, err = a.d.Reports.Debt(ctx); err == nil {
		if debtors, err = a.d.Reports.Debtors(ctx, now, maxDebtors); err == nil {
			limited, err = a.d.Reports.Limited(ctx, now, maxDebtors)
		}
	}
	if err != nil {
		a.p.Fail(w, r, err)
		return
	}
	dl := platform.NamedListing(r, "debtors", 50, true, "days", "balance", "contract", "name", "limited")
	ll := platform.NamedListing(r, "limited", 50, true, "days", "balance", "contract", "name", "limited")
	d.Debtors, d.Limited = sortDebtors(&dl, debtors), sortDebtors(&ll, limited)
	d.Debtors.L, d.Limited.L = dl, ll
	a.render(w, r, http.StatusOK, "debtors", "admin.debtors.title", "debtors", d)
}
