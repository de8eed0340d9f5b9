// Package report answers the provider's questions about money and
// subscribers: payments by channel and day, charges by tariff and month,
// subscribers by status and tariff, ARPU, debt, debtors and limited lines,
// each as rows and as CSV.
package report

import (
	"context"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/kabinet-billing/kabinet/internal/csvfile"
	"github.com/kabinet-billing/kabinet/internal/money"
	"github.com/kabinet-billing/kabinet/internal/store"
)

// Reports reads from one database in the provider's zone.
type Reports struct {
	DB   *store.DB
	Zone *time.Location
}

// New makes Reports; zone decides what "a day" is.
func New(db *store.DB, zone *time.Location) *Reports {
	if zone == nil {
		zone = time.UTC
	}
	return &Reports{DB: db, Zone: zone}
}

// Table is a report ready for CSV. Header holds stable column ids; cells
// are text (string), numbers (int64, int) or amounts (money.Amount), so the
// file writes each as the reader's spreadsheet expects.
type Table struct {
	Header []string
	Rows   [][]any
}

// WriteCSV writes t with a header line as a spreadsheet in lang reads it
// (see csvfile).
func WriteCSV(w io.Writer, t Table, lang string) error {
	cw := csvfile.NewWriter(w, lang)
	header := make([]any, len(t.Header))
	for i, h := range t.Header {
		header[i] = h
	}
	if err := cw.Write(header...); err != nil {
		return err
	}
	for _, r := range t.Rows {
		if err := cw.Write(r...); err != nil {
			return err
		}
	}
	return cw.Flush()
}

// PaymentRow is the money one channel brought in one day.
type PaymentRow struct {
	Day     string // YYYY-MM-DD in the provider's zone
	Channel string
	Count   int64
	Amount  money.Amount
}

// PaymentsByChannelDay sums succeeded payments paid in [from, to). Days are
// the provider's, so the bucketing is done here rather than in SQL, where
// SQLite and PostgreSQL disagree on time zones.
func (r *Reports) PaymentsByChannelDay(ctx context.Context, from, to time.Time) ([]PaymentRow, error) {
	rows, err := r.DB.Query(ctx, `SELECT channel, amount, paid_at FROM payments WHERE status = 'succeeded' AND paid_at >= ? AND paid_at < ?`, from.UTC(), to.UTC())
	if err != nil {
		return nil, fmt.Errorf("payments report: %w", err)
	}
	defer rows.Close()
	type key struct{ day, channel string }
	sums := map[key]*PaymentRow{}
	for rows.Next() {
		var ch string
		var amt int64
		var at store.Time
		if err := rows.Scan(&ch, &amt, &at); err != nil {
			return nil, fmt.Errorf("payments report: %w", err)
		}
		k := key{at.Time.In(r.Zone).Format("2006-01-02"), ch}
		row := sums[k]
		if row == nil {
			row = &PaymentRow{Day: k.day, Channel: ch}
			sums[k] = row
		}
		row.Count++
		row.Amount += money.Amount(amt)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("payments report: %w", err)
	}
	out := make([]PaymentRow, 0, len(sums))
	for _, v := range sums {
		out = append(out, *v)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Day != out[j].Day {
			return out[i].Day < out[j].Day
		}
		return out[i].Channel < out[j].Channel
	})
	return out, nil
}

// PaymentsTable renders payment rows.
func PaymentsTable(rows []PaymentRow) Table {
	t := Table{Header: []string{"day", "channel", "count", "amount"}}
	for _, r := range rows {
		t.Rows = append(t.Rows, []any{r.Day, r.Channel, r.Count, r.Amount})
	}
	return t
}

// ChargeRow is what one tariff or package earned in one month.
type ChargeRow struct {
	Period  string // YYYY-MM
	Service string // tariff or package code
	Name    string
	Count   int64
	Amount  money.Amount // charged less refunded, positive
}

// ChargesByTariffMonth sums periodic charges (less proration refunds) for
// periods in [fromPeriod, toPeriod], both "YYYY-MM".
func (r *Reports) ChargesByTariffMonth(ctx context.Context, fromPeriod, toPeriod string) ([]ChargeRow, error) {
	rows, err := r.DB.Query(ctx, `SELECT x.period, x.service, COALESCE(t.name, p.name, x.service), COUNT(*), -SUM(x.amount)
		FROM ledger_txns x LEFT JOIN tariffs t ON t.code = x.service LEFT JOIN packages p ON p.code = x.service
		WHERE x.kind IN ('charge', 'refund') AND x.period >= ? AND x.period <= ? AND x.period <> ''
		GROUP BY x.period, x.service, t.name, p.name ORDER BY x.period, x.service`, fromPeriod, toPeriod)
	if err != nil {
		return nil, fmt.Errorf("charges report: %w", err)
	}
	defer rows.Close()
	var out []ChargeRow
	for rows.Next() {
		var c ChargeRow
		var amt int64
		if err := rows.Scan(&c.Period, &c.Service, &c.Name, &c.Count, &amt); err != nil {
			return nil, fmt.Errorf("charges report: %w", err)
		}
		c.Amount = money.Amount(amt)
		out = append(out, c)
	}
	return out, rows.Err()
}

// ChargesTable renders charge rows.
func ChargesTable(rows []ChargeRow) Table {
	t := Table{Header: []string{"period", "service", "name", "count", "amount"}}
	for _, r := range rows {
		t.Rows = append(t.Rows, []any{r.Period, r.Service, r.Name, r.Count, r.Amount})
	}
	return t
}

// StatusRow counts subscribers of one tariff in one status.
type StatusRow struct {
	Tariff string
	Name   string
	Status string
	Count  int64
}

// SubscribersByStatusTariff counts accounts now.
func (r *Reports) SubscribersByStatusTariff(ctx context.Context) ([]StatusRow, error) {
	rows, err := r.DB.Query(ctx, `SELECT t.code, t.name, a.status, COUNT(*) FROM accounts a JOIN tariffs t ON t.id = a.tariff_id
		GROUP BY t.code, t.name, a.status ORDER BY t.code, a.status`)
	if err != nil {
		return nil, fmt.Errorf("subscribers report: %w", err)
	}
	defer rows.Close()
	var out []StatusRow
	for rows.Next() {
		var s StatusRow
		if err := rows.Scan(&s.Tariff, &s.Name, &s.Status, &s.Count); err != nil {
			return nil, fmt.Errorf("subscribers report: %w", err)
		}
		out = append(out, s)
	}
	return out, rows.Err()
}

// SubscribersTable renders status rows.
func SubscribersTable(rows []StatusRow) Table {
	t := Table{Header: []string{"tariff", "name", "status", "count"}}
	for _, r := range rows {
		t.Rows = append(t.Rows, []any{r.Tariff, r.Name, r.Status, r.Count})
	}
	return t
}

// ARPU is the average revenue per charged subscriber in one period.
type ARPU struct {
	Period   string
	Revenue  money.Amount
	Accounts int64
	ARPU     money.Amount
}

// ARPUFor computes ARPU for a period "YYYY-MM": periodic charges less
// refunds over the accounts that were charged.
func (r *Reports) ARPUFor(ctx context.Context, period string) (ARPU, error) {
	a := ARPU{Period: period}
	var rev int64
	err := r.DB.QueryRow(ctx, `SELECT COALESCE(-SUM(amount), 0), COUNT(DISTINCT account_id) FROM ledger_txns WHERE kind IN ('charge', 'refund') AND period = ?`, period).Scan(&rev, &a.Accounts)
	if err != nil {
		return a, fmt.Errorf("ARPU %s: %w", period, err)
	}
	a.Revenue = money.Amount(rev)
	if a.Accounts > 0 {
		a.ARPU = money.Amount(rev / a.Accounts)
	}
	return a, nil
}

// DebtTotal is the money subscribers owe now.
type DebtTotal struct {
	Debtors int64
	Total   money.Amount // positive
}

// Debt sums negative balances.
func (r *Reports) Debt(ctx context.Context) (DebtTotal, error) {
	var d DebtTotal
	var total int64
	err := r.DB.QueryRow(ctx, `SELECT COUNT(*), COALESCE(-SUM(l.balance), 0) FROM accounts a JOIN ledger_accounts l ON l.id = a.ledger_id WHERE l.balance < 0 AND a.status <> 'closed'`).Scan(&d.Debtors, &total)
	d.Total = money.Amount(total)
	if err != nil {
		return d, fmt.Errorf("debt: %w", err)
	}
	return d, nil
}

// Debtor is an account in debt (or limited).
type Debtor struct {
	AccountID    int64
	Login        string
	ContractNo   string
	Name         string
	Phone        string
	Status       string
	Balance      money.Amount
	DebtSince    time.Time
	DaysInDebt   int
	LimitedSince time.Time
}

// Debtors lists accounts with a negative balance, longest in debt first.
func (r *Reports) Debtors(ctx context.Context, now time.Time, limit int) ([]Debtor, error) {
	return r.debtors(ctx, now, debtorsWhere, `a.debt_since, a.id`, limit)
}

// Limited lists accounts whose line is limited for debt, longest first.
func (r *Reports) Limited(ctx context.Context, now time.Time, limit int) ([]Debtor, error) {
	return r.debtors(ctx, now, limitedWhere, `a.limited_since, a.id`, limit)
}

// DebtorQuery is one page of the back office's debtors or limited lists.
type DebtorQuery struct {
	Sort   string // days (default), balance, contract, name, limited
	Desc   bool
	Offset int
	Limit  int // 1..500, default 50
}

// debtorSorts are the orders a DebtorQuery names: the expressions, and
// whether they run against the sort's direction (more days in debt is an
// earlier debt_since). An account without the date sorts as zero days or
// the zero time on every database; id breaks ties so that a page never
// repeats or skips a row.
var debtorSorts = map[string]struct {
	by     []string
	invert bool
}{
	"days":     {[]string{"CASE WHEN a.debt_since IS NULL THEN 1 ELSE 0 END", "a.debt_since"}, true},
	"balance":  {[]string{"l.balance"}, false},
	"contract": {[]string{"a.contract_no"}, false},
	"name":     {[]string{"LOWER(a.name)"}, false},
	"limited":  {[]string{"CASE WHEN a.limited_since IS NULL THEN 0 ELSE 1 END", "a.limited_since"}, false},
}

// DebtorsPage is a page of the debtors sorted as q says, and how many there are.
func (r *Reports) DebtorsPage(ctx context.Context, now time.Time, q DebtorQuery) ([]Debtor, int, error) {
	return r.debtorPage(ctx, now, debtorsWhere, q)
}

// LimitedPage is a page of the accounts limited for debt, and how many there are.
func (r *Reports) LimitedPage(ctx context.Context, now time.Time, q DebtorQuery) ([]Debtor, int, error) {
	return r.debtorPage(ctx, now, limitedWhere, q)
}

const (
	debtorsWhere = `l.balance < 0 AND a.status <> 'closed'`
	limitedWhere = `a.status = 'limited'`
)

func (r *Reports) debtorPage(ctx context.Context, now time.Time, where string, q DebtorQuery) ([]Debtor, int, error) {
	if q.Limit <= 0 || q.Limit > 500 {
		q.Limit = 50
	}
	s, ok := debtorSorts[q.Sort]
	if !ok {
		s = debtorSorts["days"]
	}
	dir := " ASC"
	if q.Desc != s.invert {
		dir = " DESC"
	}
	order := strings.Join(s.by, dir+", ") + dir + ", a.id" + dir
	var total int
	if err := r.DB.QueryRow(ctx, `SELECT COUNT(*) FROM accounts a JOIN ledger_accounts l ON l.id = a.ledger_id WHERE `+where).Scan(&total); err != nil {
		return nil, 0, fmt.Errorf("debtors: %w", err)
	}
	out, err := r.debtorRows(ctx, now, where, order, q.Limit, max(q.Offset, 0))
	return out, total, err
}

func (r *Reports) debtors(ctx context.Context, now time.Time, where, order string, limit int) ([]Debtor, error) {
	if limit <= 0 || limit > 10000 {
		limit = 1000
	}
	return r.debtorRows(ctx, now, where, order, limit, 0)
}

func (r *Reports) debtorRows(ctx context.Context, now time.Time, where, order string, limit, offset int) ([]Debtor, error) {
	rows, err := r.DB.Query(ctx, `SELECT a.id, a.login, a.contract_no, a.name, a.phone, a.status, l.balance, a.debt_since, a.limited_since
		FROM accounts a JOIN ledger_accounts l ON l.id = a.ledger_id WHERE `+where+` ORDER BY `+order+` LIMIT ? OFFSET ?`, limit, offset)
	if err != nil {
		return nil, fmt.Errorf("debtors: %w", err)
	}
	defer rows.Close()
	var out []Debtor
	for rows.Next() {
		var d Debtor
		var bal int64
		var since, limited store.Time
		if err := rows.Scan(&d.AccountID, &d.Login, &d.ContractNo, &d.Name, &d.Phone, &d.Status, &bal, &since, &limited); err != nil {
			return nil, fmt.Errorf("debtors: %w", err)
		}
		d.Balance, d.DebtSince, d.LimitedSince = money.Amount(bal), since.Time, limited.Time
		if since.Valid {
			d.DaysInDebt = int(now.Sub(since.Time).Hours() / 24)
		}
		out = append(out, d)
	}
	return out, rows.Err()
}

// DebtorsTable renders debtors.
func DebtorsTable(rows []Debtor, zone *time.Location) Table {
	t := Table{Header: []string{"login", "contract", "name", "phone", "status", "balance", "debt_since", "days_in_debt", "limited_since"}}
	day := func(x time.Time) string {
		if x.IsZero() {
			return ""
		}
		return x.In(zone).Format("2006-01-02")
	}
	for _, d := range rows {
		t.Rows = append(t.Rows, []any{d.Login, d.ContractNo, d.Name, d.Phone, d.Status, d.Balance, day(d.DebtSince), d.DaysInDebt, day(d.LimitedSince)})
	}
	return t
}
