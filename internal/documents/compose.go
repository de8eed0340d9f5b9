package documents

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/kabinet-billing/kabinet/internal/derrors"
	"github.com/kabinet-billing/kabinet/internal/money"
	"github.com/kabinet-billing/kabinet/internal/store"
)

// pointInfo is what a line says of a connection point.
type pointInfo struct {
	login, address, status string
	tariffCode, tariffName string
	fee                    money.Amount
}

// service is a monthly fee a point pays.
type service struct {
	code, name string
	fee        money.Amount
}

// chunkIDs calls fn for account ids in chunks an IN list takes.
func chunkIDs(ids []int64, fn func(marks string, args []any) error) error {
	for lo := 0; lo < len(ids); lo += 256 {
		marks, args := store.InList(ids[lo:min(lo+256, len(ids))])
		if err := fn(marks, args); err != nil {
			return err
		}
	}
	return nil
}

func pointIDs(orgs []Party) []int64 {
	var ids []int64
	for _, o := range orgs {
		for _, p := range o.Points {
			ids = append(ids, p.AccountID)
		}
	}
	return ids
}

// monthlyFees reads, for the points, what a month from start costs: the
// tariff in force on start (a change scheduled for it counts) and each
// monthly package connected then.
func (s *Service) monthlyFees(ctx context.Context, ids []int64, start time.Time) (map[int64]pointInfo, map[int64][]service, error) {
	points := map[int64]pointInfo{}
	pkgs := map[int64][]service{}
	err := chunkIDs(ids, func(marks string, args []any) error {
		rows, err := s.db.Query(ctx, `SELECT a.id, a.login, a.address, a.status,
			CASE WHEN a.next_tariff_id IS NOT NULL AND a.next_tariff_at <= ? THEN n.code ELSE t.code END,
			CASE WHEN a.next_tariff_id IS NOT NULL AND a.next_tariff_at <= ? THEN n.name ELSE t.name END,
			CASE WHEN a.next_tariff_id IS NOT NULL AND a.next_tariff_at <= ? THEN n.fee ELSE t.fee END
			FROM accounts a JOIN tariffs t ON t.id = a.tariff_id LEFT JOIN tariffs n ON n.id = a.next_tariff_id
			WHERE a.id IN (`+marks+`)`, append([]any{start.UTC(), start.UTC(), start.UTC()}, args...)...)
		if err != nil {
			return err
		}
		for rows.Next() {
			var id, fee int64
			var p pointInfo
			if err := rows.Scan(&id, &p.login, &p.address, &p.status, &p.tariffCode, &p.tariffName, &fee); err != nil {
				rows.Close()
				return err
			}
			p.fee = money.Amount(fee)
			points[id] = p
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		rows, err = s.db.Query(ctx, `SELECT s.account_id, k.code, k.name, k.price FROM subscriptions s JOIN packages k ON k.id = s.package_id
			WHERE s.account_id IN (`+marks+`) AND k.pricing = 'monthly' AND k.price > 0 AND s.started_at < ?
			  AND (s.ended_at IS NULL OR s.ended_at > ?) ORDER BY s.account_id, s.id`, append(args, start.AddDate(0, 1, 0).UTC(), start.UTC())...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var id, price int64
			var sv service
			if err := rows.Scan(&id, &sv.code, &sv.name, &price); err != nil {
				return err
			}
			sv.fee = money.Amount(price)
			pkgs[id] = append(pkgs[id], sv)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, nil, fmt.Errorf("documents: fees: %w", err)
	}
	return points, pkgs, nil
}

// serviceNames maps the codes of tariffs and of packages to their names.
func (s *Service) serviceNames(ctx context.Context) (tariffs, packages map[string]string, err error) {
	read := func(q string) (map[string]string, error) {
		names := map[string]string{}
		rows, err := s.db.Query(ctx, q)
		if err != nil {
			return nil, fmt.Errorf("documents: names: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			var c, n string
			if err := rows.Scan(&c, &n); err != nil {
				return nil, err
			}
			names[c] = n
		}
		return names, rows.Err()
	}
	if tariffs, err = read(`SELECT code, name FROM tariffs`); err != nil {
		return nil, nil, err
	}
	packages, err = read(`SELECT code, name FROM packages`)
	return tariffs, packages, err
}

// lineName names a point's service for a month.
func lineName(what string, month time.Time, p pointInfo) string {
	var b strings.Builder
	b.WriteString(what)
	b.WriteString(" за ")
	b.WriteString(MonthRu(month))
	var where []string
	if p.address != "" {
		where = append(where, p.address)
	}
	if p.login != "" {
		where = append(where, "логин "+p.login)
	}
	if len(where) > 0 {
		b.WriteString(" (")
		b.WriteString(strings.Join(where, ", "))
		b.WriteString(")")
	}
	return b.String()
}

func tariffWhat(name string) string {
	return fmt.Sprintf("Услуги доступа в интернет по тарифу «%s»", name)
}
func packageWhat(name string) string { return fmt.Sprintf("Услуга «%s»", name) }

// base fills what every document of org for the month starting at start
// says.
func (s *Service) base(kind Kind, org Party, start time.Time, date time.Time) Data {
	end := start.AddDate(0, 1, -1)
	d := Data{Kind: kind, Date: day(date), Period: start.Format("2006-01"), From: day(start), To: day(end),
		Seller: s.Seller(), Buyer: org, VATRate: s.vatRate(start)}
	if org.WithoutVAT {
		d.VATRate = -1
	}
	if org.ContractNo != "" {
		d.Basis = "Договор № " + org.ContractNo
		if org.ContractDate != "" {
			d.Basis += " от " + parseDay(org.ContractDate).Format("02.01.2006")
		}
	}
	return d
}

// total sums the lines and their VAT.
func (d *Data) total() {
	d.Total, d.VAT = 0, 0
	for i := range d.Lines {
		l := &d.Lines[i]
		if d.VATRate > 0 {
			l.VAT = VATIn(l.Sum, d.VATRate)
		}
		d.Total += l.Sum
		d.VAT += l.VAT
	}
}

// invoiceDrafts: for each organisation, the month's fees of its points
// that are not blocked or closed, as an invoice dated date.
func (s *Service) invoiceDrafts(ctx context.Context, orgs []Party, start, date time.Time) ([]draft, error) {
	points, pkgs, err := s.monthlyFees(ctx, pointIDs(orgs), start)
	if err != nil {
		return nil, err
	}
	payBy := date.AddDate(0, 0, s.opts.PayDays)
	if before := start.AddDate(0, 0, -1); payBy.After(before) && date.Before(before) {
		payBy = before // due before the month it pays for begins
	}
	var out []draft
	for _, org := range orgs {
		d := s.base(Invoice, org, start, date)
		d.PayBy = day(payBy)
		for _, pt := range org.Points {
			p, ok := points[pt.AccountID]
			if !ok || p.status == "closed" || p.status == "blocked" {
				continue
			}
			if pt.Address != "" {
				p.address = pt.Address
			}
			if p.fee > 0 {
				d.Lines = append(d.Lines, Line{Name: lineName(tariffWhat(p.tariffName), start, p), Qty: 1, Unit: "мес.", Price: p.fee, Sum: p.fee, AccountID: pt.AccountID, Service: p.tariffCode})
			}
			for _, sv := range pkgs[pt.AccountID] {
				d.Lines = append(d.Lines, Line{Name: lineName(packageWhat(sv.name), start, p), Qty: 1, Unit: "мес.", Price: sv.fee, Sum: sv.fee, AccountID: pt.AccountID, Service: sv.code})
			}
		}
		d.total()
		if d.Total <= 0 {
			continue
		}
		out = append(out, draft{key: regularKey(Invoice, org.ID, d.Period), orgID: org.ID, data: d})
	}
	return out, nil
}

// regularKey is the key of an organisation's regular document for a month:
// acts and UPDs share one, so an organisation switched from one to the
// other does not get both for a month.
func regularKey(k Kind, org int64, period string) string {
	if k == UPD {
		k = Act
	}
	return fmt.Sprintf("%s:%d:%s", k, org, period)
}

// closingDrafts: for each organisation, what its points were charged in
// the month (charges less refunds, by service), as an act or UPD dated
// the month's last day; a point that left the contract during the month
// with what it was charged until it left.
func (s *Service) closingDrafts(ctx context.Context, orgs []Party, start time.Time) ([]draft, error) {
	end := start.AddDate(0, 1, 0)
	ids := pointIDs(orgs)
	orgs = slices.Clone(orgs) // a former point joins its organisation's points here only
	var left []Point          // the month's former points
	for i := range orgs {
		for _, f := range orgs[i].Former {
			// Still (or again) a point, or already counted: once.
			if f.Left.After(start) && !slices.ContainsFunc(orgs[i].Points, func(p Point) bool { return p.AccountID == f.AccountID }) {
				left = append(left, f)
				ids = append(ids, f.AccountID)
				orgs[i].Points = append(slices.Clip(orgs[i].Points), f)
			}
		}
	}
	type key struct {
		acct    int64
		service string
	}
	charged := map[key]money.Amount{}
	var services = map[int64][]string{}
	err := chunkIDs(ids, func(marks string, args []any) error {
		rows, err := s.db.Query(ctx, `SELECT account_id, service, SUM(amount) FROM ledger_txns
			WHERE account_id IN (`+marks+`) AND kind IN ('charge', 'refund') AND effective_at >= ? AND effective_at < ?
			GROUP BY account_id, service`, append(args, start.UTC(), end.UTC())...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var k key
			var sum int64
			if err := rows.Scan(&k.acct, &k.service, &sum); err != nil {
				return err
			}
			charged[k] = money.Amount(-sum)
			services[k.acct] = append(services[k.acct], k.service)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("documents: charges: %w", err)
	}
	// A former point's charges count until it left (one query each: a
	// month sees few leave).
	for _, f := range left {
		if !f.Left.Before(end) {
			continue
		}
		for _, c := range services[f.AccountID] {
			delete(charged, key{f.AccountID, c})
		}
		services[f.AccountID] = nil
		rows, err := s.db.Query(ctx, `SELECT service, SUM(amount) FROM ledger_txns
			WHERE account_id = ? AND kind IN ('charge', 'refund') AND effective_at >= ? AND effective_at < ? GROUP BY service`,
			f.AccountID, start.UTC(), f.Left.UTC())
		if err != nil {
			return nil, fmt.Errorf("documents: charges of a former point: %w", err)
		}
		for rows.Next() {
			k := key{acct: f.AccountID}
			var sum int64
			if err := rows.Scan(&k.service, &sum); err != nil {
				rows.Close()
				return nil, err
			}
			charged[k] = money.Amount(-sum)
			services[k.acct] = append(services[k.acct], k.service)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
	}
	tariffNames, packageNames, err := s.serviceNames(ctx)
	if err != nil {
		return nil, err
	}
	points, _, err := s.monthlyFees(ctx, ids, start)
	if err != nil {
		return nil, err
	}
	date := end.AddDate(0, 0, -1)
	var out []draft
	for _, org := range orgs {
		kind := org.Closing
		if kind != Act && kind != UPD {
			kind = s.opts.Closing
		}
		d := s.base(kind, org, start, date)
		if kind == UPD {
			d.UPDStatus = 1
			if d.WithoutVAT() {
				d.UPDStatus = 2
			}
		}
		for _, pt := range org.Points {
			p := points[pt.AccountID]
			if pt.Address != "" {
				p.address = pt.Address
			}
			svcs := services[pt.AccountID]
			sort.Strings(svcs)
			// The tariff first, then packages and the rest by code.
			sort.SliceStable(svcs, func(i, j int) bool { return svcs[i] == p.tariffCode && svcs[j] != p.tariffCode })
			for _, code := range svcs {
				sum := charged[key{pt.AccountID, code}]
				if sum <= 0 {
					continue
				}
				what := "Услуги связи"
				if n, ok := tariffNames[code]; ok {
					what = tariffWhat(n)
				} else if n, ok := packageNames[code]; ok {
					what = packageWhat(n)
				}
				d.Lines = append(d.Lines, Line{Name: lineName(what, start, p), Qty: 1, Unit: "мес.", Price: sum, Sum: sum, AccountID: pt.AccountID, Service: code})
			}
		}
		d.total()
		if d.Total <= 0 {
			continue
		}
		out = append(out, draft{key: regularKey(kind, org.ID, d.Period), orgID: org.ID, data: d})
	}
	return out, nil
}

// reconciliationDraft: the organisation's movements from from to to
// (days, inclusive) as the provider's books have them: the opening
// balance, a debit per month of services (naming the act or UPD issued
// for it), a credit per payment, and the closing balance.
func (s *Service) reconciliationDraft(ctx context.Context, org Party, from, to time.Time) (draft, error) {
	if to.Before(from) {
		return draft{}, derrors.Invalidf("to", "period_order", "the period ends before it begins")
	}
	zone := s.opts.Zone
	start := time.Date(from.Year(), from.Month(), from.Day(), 0, 0, 0, 0, zone)
	end := time.Date(to.Year(), to.Month(), to.Day(), 0, 0, 0, 0, zone).AddDate(0, 0, 1)
	now := s.clock.Now().In(zone)
	d := Data{Kind: Reconciliation, Date: day(now), Period: day(start) + ".." + day(end.AddDate(0, 0, -1)), From: day(start), To: day(end.AddDate(0, 0, -1)),
		Seller: s.Seller(), Buyer: org, VATRate: -1}
	if org.ContractNo != "" {
		d.Basis = "Договор № " + org.ContractNo
		if org.ContractDate != "" {
			d.Basis += " от " + parseDay(org.ContractDate).Format("02.01.2006")
		}
	}
	lids, err := s.ledgerIDs(ctx, org)
	if err != nil {
		return draft{}, err
	}
	if len(lids) == 0 {
		return draft{orgID: org.ID, data: d}, nil
	}
	marks, args := store.InList(lids)
	// The organisation's money is on its own ledger account and its points';
	// a transfer between them moves nothing in all. The act counts what the
	// organisation owes, so the sign turns.
	var opening int64
	if err := s.db.QueryRow(ctx, `SELECT COALESCE(SUM(p.amount), 0) FROM postings p JOIN ledger_txns t ON t.id = p.txn_id
		WHERE p.ledger_account_id IN (`+marks+`) AND t.effective_at < ?`,
		append(args, start.UTC())...).Scan(&opening); err != nil {
		return draft{}, fmt.Errorf("reconciliation: %w", err)
	}
	d.Opening = money.Amount(-opening)
	rows, err := s.db.Query(ctx, `SELECT t.kind, t.service, t.memo, t.key, SUM(p.amount), t.effective_at FROM postings p JOIN ledger_txns t ON t.id = p.txn_id
		WHERE p.ledger_account_id IN (`+marks+`) AND t.effective_at >= ? AND t.effective_at < ?
		GROUP BY t.id, t.kind, t.service, t.memo, t.key, t.effective_at HAVING SUM(p.amount) <> 0 ORDER BY t.effective_at, t.id`,
		append(args, start.UTC(), end.UTC())...)
	if err != nil {
		return draft{}, fmt.Errorf("reconciliation: %w", err)
	}
	type month struct {
		first time.Time
		sum   money.Amount
	}
	var months []*month
	byMonth := map[string]*month{}
	var entries []Entry
	for rows.Next() {
		var kind, svc, memo, key string
		var amount int64
		var when store.Time // SQLite may hand a grouped column back as text
		if err := rows.Scan(&kind, &svc, &memo, &key, &amount, &when); err != nil {
			rows.Close()
			return draft{}, err
		}
		at := when.Time.In(zone)
		a := money.Amount(amount)
		switch {
		case kind == "charge" || kind == "refund":
			mk := at.Format("2006-01")
			m, ok := byMonth[mk]
			if !ok {
				m = &month{first: time.Date(at.Year(), at.Month(), 1, 0, 0, 0, 0, zone)}
				byMonth[mk] = m
				months = append(months, m)
			}
			m.sum -= a
		case kind == "payment" && a > 0:
			text := "Оплата"
			if ref := paymentRef(key, memo); ref != "" {
				text += " (" + ref + ")"
			}
			entries = append(entries, Entry{Date: day(at), Text: text, Credit: a})
		case a > 0:
			entries = append(entries, Entry{Date: day(at), Text: movementText(kind), Credit: a})
		default:
			entries = append(entries, Entry{Date: day(at), Text: movementText(kind), Debit: -a})
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return draft{}, err
	}
	// Each month's services, under the act or UPD issued for it.
	closing := map[string]Document{}
	if org.ID != 0 {
		crow, err := s.db.Query(ctx, `SELECT `+docColumns+` FROM documents WHERE org_id = ? AND kind IN ('act', 'upd') ORDER BY id`, org.ID)
		if err != nil {
			return draft{}, fmt.Errorf("reconciliation: %w", err)
		}
		for crow.Next() {
			doc, err := scanDoc(crow)
			if err != nil {
				crow.Close()
				return draft{}, err
			}
			closing[doc.Period] = doc // the latest (a correction) wins
		}
		crow.Close()
	}
	for _, m := range months {
		last := m.first.AddDate(0, 1, -1)
		e := Entry{Date: day(last), Text: "Услуги связи за " + MonthRu(m.first)}
		if doc, ok := closing[m.first.Format("2006-01")]; ok {
			e.Date = day(doc.Date)
			e.Text = fmt.Sprintf("Продажа (%s № %s от %s)", shortTitle(doc.Kind), doc.Number, doc.Date.Format("02.01.2006"))
		}
		if last.After(end.AddDate(0, 0, -1)) {
			e.Date = day(end.AddDate(0, 0, -1))
		}
		if m.sum > 0 {
			e.Debit = m.sum
		} else if m.sum < 0 {
			e.Credit = -m.sum
		} else {
			continue
		}
		entries = append(entries, e)
	}
	sort.SliceStable(entries, func(i, j int) bool { return entries[i].Date < entries[j].Date })
	d.Entries = entries
	for _, e := range entries {
		d.Debits += e.Debit
		d.Credits += e.Credit
	}
	d.Closing = d.Opening + d.Debits - d.Credits
	return draft{orgID: org.ID, data: d}, nil
}

// ledgerIDs are the ledger accounts holding the organisation's money: its
// own and its points'.
func (s *Service) ledgerIDs(ctx context.Context, org Party) ([]int64, error) {
	var out []int64
	if org.LedgerID != 0 {
		out = append(out, org.LedgerID)
	}
	ids := make([]int64, len(org.Points))
	for i, p := range org.Points {
		ids[i] = p.AccountID
	}
	err := chunkIDs(ids, func(marks string, args []any) error {
		ids, err := store.IDs(s.db.Query(ctx, `SELECT ledger_id FROM accounts WHERE id IN (`+marks+`)`, args...))
		out = append(out, ids...)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("organisation %d: ledger accounts: %w", org.ID, err)
	}
	return out, nil
}

func shortTitle(k Kind) string {
	switch k {
	case Act:
		return "акт"
	case UPD:
		return "УПД"
	case Invoice:
		return "счёт"
	}
	return string(k)
}

func movementText(kind string) string {
	switch kind {
	case "correction":
		return "Корректировка"
	case "reversal":
		return "Сторно"
	case "bonus":
		return "Оплата бонусами"
	case "opening":
		return "Входящий остаток"
	}
	return "Операция"
}

// paymentRef names a payment by its channel's id of it ("pay:bank:123").
func paymentRef(key, memo string) string {
	if memo != "" {
		return memo
	}
	if rest, ok := strings.CutPrefix(key, "pay:"); ok {
		ch, id, _ := strings.Cut(rest, ":")
		switch ch {
		case "bank":
			return "п/п № " + id
		case "cash":
			return "наличные, " + id
		}
		return ch + " " + id
	}
	return ""
}
