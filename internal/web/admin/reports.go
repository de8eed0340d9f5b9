package admin

import (
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/kabinet-billing/kabinet/internal/money"
	"github.com/kabinet-billing/kabinet/internal/report"
	"github.com/kabinet-billing/kabinet/internal/statement"
)

type reportsData struct {
	From, To    string // YYYY-MM-DD, To exclusive
	FromP, ToP  string // YYYY-MM
	Payments    []report.PaymentRow
	Charges     []report.ChargeRow
	Subscribers []report.StatusRow
	ARPU        report.ARPU
	Debt        report.DebtTotal
	Chart       chart
}

// chart is an inline SVG bar chart of payments per day: drawn on the
// server, so the back office needs no script library and the CSP stays
// strict.
type chart struct {
	Width, Height int
	Bars          []bar
	Max           money.Amount
}

type bar struct {
	X, Y, W, H int
	Label      string
	Amount     money.Amount
}

// period is the reports' days, from the 1st of this month to today
// unless the query names others; from is the first day's start, to the
// moment after the last day. msg says what was wrong with the query's.
func (a *Admin) period(r *http.Request) (from, to time.Time, msg string) {
	q := r.URL.Query()
	p, msg := a.periodOf(r, q.Get("from"), q.Get("to"), statement.ThisMonth(a.p.Clock.Now(), a.p.Zone), statement.MaxStatementDays)
	return p.From, p.End(), msg
}

func (a *Admin) reports(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	from, to, msg := a.period(r)
	d := reportsData{From: from.Format("2006-01-02"), To: to.AddDate(0, 0, -1).Format("2006-01-02"), FromP: from.Format("2006-01"), ToP: to.AddDate(0, 0, -1).Format("2006-01")}
	var err error
	if d.Payments, err = a.d.Reports.PaymentsByChannelDay(ctx, from, to); err == nil {
		if d.Charges, err = a.d.Reports.ChargesByTariffMonth(ctx, d.FromP, d.ToP); err == nil {
			if d.Subscribers, err = a.d.Reports.SubscribersByStatusTariff(ctx); err == nil {
				if d.ARPU, err = a.d.Reports.ARPUFor(ctx, d.ToP); err == nil {
					d.Debt, err = a.d.Reports.Debt(ctx)
				}
			}
		}
	}
	if err != nil {
		a.p.Fail(w, r, err)
		return
	}
	d.Chart = paymentsChart(d.Payments, from, to)
	status := http.StatusOK
	if msg != "" {
		status = http.StatusUnprocessableEntity
	}
	a.renderError(w, r, status, "reports", "admin.reports.title", "reports", d, msg)
}

func paymentsChart(rows []report.PaymentRow, from, to time.Time) chart {
	perDay := map[string]money.Amount{}
	for _, r := range rows {
		perDay[r.Day] += r.Amount
	}
	var days []string
	for d := from; d.Before(to) && len(days) < 92; d = d.AddDate(0, 0, 1) {
		days = append(days, d.Format("2006-01-02"))
	}
	c := chart{Width: 720, Height: 160}
	for _, d := range days {
		c.Max = max(c.Max, perDay[d])
	}
	if len(days) == 0 {
		return c
	}
	w := max(c.Width/len(days), 2)
	for i, d := range days {
		h := 0
		if c.Max > 0 {
			h = int(int64(perDay[d]) * int64(c.Height-20) / int64(c.Max))
		}
		c.Bars = append(c.Bars, bar{X: i * w, Y: c.Height - h, W: max(w-1, 1), H: h, Label: d, Amount: perDay[d]})
	}
	return c
}

// reportCSV exports one report as CSV for a spreadsheet.
func (a *Admin) reportCSV(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	from, to, msg := a.period(r)
	if msg != "" {
		http.Error(w, msg, http.StatusUnprocessableEntity)
		return
	}
	fromP, toP := from.Format("2006-01"), to.AddDate(0, 0, -1).Format("2006-01")
	var t report.Table
	name, ok := strings.CutSuffix(r.PathValue("file"), ".csv")
	if !ok {
		a.p.NotFound(w, r)
		return
	}
	switch name {
	case "payments":
		rows, err := a.d.Reports.PaymentsByChannelDay(ctx, from, to)
		if err != nil {
			a.p.Fail(w, r, err)
			return
		}
		t = report.PaymentsTable(rows)
	case "charges":
		rows, err := a.d.Reports.ChargesByTariffMonth(ctx, fromP, toP)
		if err != nil {
			a.p.Fail(w, r, err)
			return
		}
		t = report.ChargesTable(rows)
	case "subscribers":
		rows, err := a.d.Reports.SubscribersByStatusTariff(ctx)
		if err != nil {
			a.p.Fail(w, r, err)
			return
		}
		t = report.SubscribersTable(rows)
	case "debtors", "limited":
		list := a.d.Reports.Debtors
		if name == "limited" {
			list = a.d.Reports.Limited
		}
		rows, err := list(ctx, a.p.Clock.Now(), 10000)
		if err != nil {
			a.p.Fail(w, r, err)
			return
		}
		t = report.DebtorsTable(rows, a.p.Zone)
	default:
		a.p.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="%s-%s.csv"`, name, from.Format("2006-01-02")))
	if err := report.WriteCSV(w, t, a.p.LangOf(r)); err != nil {
		a.p.Log.Error("csv export", "err", err)
	}
}
