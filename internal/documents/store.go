package documents

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/kabinet-billing/kabinet/internal/derrors"
	"github.com/kabinet-billing/kabinet/internal/money"
	"github.com/kabinet-billing/kabinet/internal/store"
)

// draft is a document before it has its number.
type draft struct {
	key      string // the regular document's key; "" for an on-demand one
	orgID    int64
	corrects int64
	data     Data
}

func (d draft) year() int { return parseDay(d.data.Date).Year() }

// issueBatch is how many documents one transaction numbers and stores: the
// SQLite writer is held while their PDFs are drawn, so a batch is kept to
// a fraction of a second.
const issueBatch = 64

// issue numbers, renders and stores drafts. A draft whose key is already
// issued is skipped (another run issued it first). It returns what it
// issued, in the order given.
func (s *Service) issue(ctx context.Context, drafts []draft) ([]Document, error) {
	type group struct {
		kind Kind
		year int
	}
	byGroup := map[group][]draft{}
	var order []group
	for _, d := range drafts {
		g := group{d.data.Kind, d.year()}
		if _, ok := byGroup[g]; !ok {
			order = append(order, g)
		}
		byGroup[g] = append(byGroup[g], d)
	}
	var out []Document
	for _, g := range order {
		ds := byGroup[g]
		for lo := 0; lo < len(ds); lo += issueBatch {
			part := ds[lo:min(lo+issueBatch, len(ds))]
			var got []Document
			err := s.db.Write(ctx, func(tx *store.Tx) error {
				var err error
				got, err = s.issueTx(ctx, tx, g.kind, g.year, part)
				return err
			})
			if err != nil {
				return out, err
			}
			out = append(out, got...)
		}
	}
	return out, nil
}

// issueTx numbers and stores drafts of one kind and year in tx. The
// counter row is locked first (an UPDATE that changes nothing takes the
// row lock on PostgreSQL; SQLite has one writer anyway), so that a second
// run waits here, then sees what the first stored and skips it: no number
// is taken for a document that is then not stored.
func (s *Service) issueTx(ctx context.Context, tx *store.Tx, kind Kind, year int, drafts []draft) ([]Document, error) {
	if _, err := tx.Exec(ctx, `INSERT INTO document_counters (kind, year, last) VALUES (?, ?, 0) ON CONFLICT (kind, year) DO NOTHING`, string(kind), year); err != nil {
		return nil, fmt.Errorf("%s numbers %d: %w", kind, year, err)
	}
	if _, err := tx.Exec(ctx, `UPDATE document_counters SET last = last WHERE kind = ? AND year = ?`, string(kind), year); err != nil {
		return nil, fmt.Errorf("%s numbers %d: %w", kind, year, err)
	}
	var keys []string
	for _, d := range drafts {
		if d.key != "" {
			keys = append(keys, d.key)
		}
	}
	taken, err := existingKeys(ctx, tx, keys)
	if err != nil {
		return nil, err
	}
	fresh := drafts[:0:0]
	for _, d := range drafts {
		if d.key == "" || !taken[d.key] {
			fresh = append(fresh, d)
			if d.key != "" {
				taken[d.key] = true // twice in one call: once
			}
		}
	}
	if len(fresh) == 0 {
		return nil, nil
	}
	var last int64
	if err := tx.QueryRow(ctx, `UPDATE document_counters SET last = last + ? WHERE kind = ? AND year = ? RETURNING last`,
		int64(len(fresh)), string(kind), year).Scan(&last); err != nil {
		return nil, fmt.Errorf("%s numbers %d: %w", kind, year, err)
	}
	first := last - int64(len(fresh)) + 1
	docs := make([]Document, len(fresh))
	pdfs := make([][]byte, len(fresh))
	blobs := make([][]byte, len(fresh))
	for i := range fresh {
		d := &fresh[i]
		d.data.Number = FormatNumber(year, first+int64(i))
	}
	// The PDFs are drawn on every core: they are most of the work.
	errs := make([]error, len(fresh))
	var wg sync.WaitGroup
	next := make(chan int)
	for range max(1, runtime.GOMAXPROCS(0)) {
		wg.Go(func() {
			for i := range next {
				pdfs[i], errs[i] = s.Render(fresh[i].data)
				if errs[i] == nil {
					blobs[i], errs[i] = json.Marshal(fresh[i].data)
				}
			}
		})
	}
	for i := range fresh {
		next <- i
	}
	close(next)
	wg.Wait()
	now := s.clock.Now().UTC()
	for i, d := range fresh {
		if errs[i] != nil {
			return nil, fmt.Errorf("%s %s: %w", kind, d.data.Number, errs[i])
		}
		sum := sha256.Sum256(pdfs[i])
		var key, corrects any
		if d.key != "" {
			key = d.key
		}
		if d.corrects != 0 {
			corrects = d.corrects
		}
		doc := Document{Kind: kind, Number: d.data.Number, Year: year, Seq: first + int64(i), OrgID: d.orgID, OrgName: d.data.Buyer.Title(),
			OrgINN: d.data.Buyer.INN, Period: d.data.Period, Date: parseDay(d.data.Date), Total: d.data.Total, VAT: d.data.VAT,
			Status: Issued, Corrects: d.corrects, CreatedAt: now}
		if err := tx.QueryRow(ctx, `INSERT INTO documents (kind, year, seq, number, org_id, org_name, org_inn, period, doc_date, total, vat, doc_key, corrects, data, pdf, pdf_sha256, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
			string(kind), year, doc.Seq, doc.Number, doc.OrgID, doc.OrgName, doc.OrgINN, doc.Period, d.data.Date, int64(doc.Total), int64(doc.VAT),
			key, corrects, string(blobs[i]), pdfs[i], hex.EncodeToString(sum[:]), now).Scan(&doc.ID); err != nil {
			return nil, fmt.Errorf("%s %s: %w", kind, doc.Number, err)
		}
		docs[i] = doc
	}
	return docs, nil
}

func existingKeys(ctx context.Context, q store.Querier, keys []string) (map[string]bool, error) {
	taken := map[string]bool{}
	for lo := 0; lo < len(keys); lo += 256 {
		marks, args := store.InList(keys[lo:min(lo+256, len(keys))])
		rows, err := q.Query(ctx, `SELECT doc_key FROM documents WHERE doc_key IN (`+marks+`)`, args...)
		if err != nil {
			return nil, fmt.Errorf("documents: %w", err)
		}
		for rows.Next() {
			var k string
			if err := rows.Scan(&k); err != nil {
				rows.Close()
				return nil, err
			}
			taken[k] = true
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
	}
	return taken, nil
}

const docColumns = `id, kind, number, year, seq, org_id, org_name, org_inn, period, doc_date, total, vat, status, paid, COALESCE(corrects, 0), created_at, sent_at, paid_at`

func scanDoc(sc interface{ Scan(...any) error }) (Document, error) {
	var d Document
	var kind, status, date string
	var total, vat, paid int64
	var sent, paidAt store.Time
	if err := sc.Scan(&d.ID, &kind, &d.Number, &d.Year, &d.Seq, &d.OrgID, &d.OrgName, &d.OrgINN, &d.Period, &date, &total, &vat, &status, &paid,
		&d.Corrects, &d.CreatedAt, &sent, &paidAt); err != nil {
		return d, err
	}
	d.Kind, d.Status, d.Date = Kind(kind), Status(status), parseDay(date)
	d.Total, d.VAT, d.Paid = money.Amount(total), money.Amount(vat), money.Amount(paid)
	d.SentAt, d.PaidAt = sent.Time, paidAt.Time
	return d, nil
}

// Get is one document.
func (s *Service) Get(ctx context.Context, id int64) (Document, error) {
	d, err := scanDoc(s.db.QueryRow(ctx, `SELECT `+docColumns+` FROM documents WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return d, fmt.Errorf("document %d: %w", id, derrors.NotFound)
	}
	if err != nil {
		return d, fmt.Errorf("document %d: %w", id, err)
	}
	return d, nil
}

// PDF is the document's PDF as it was issued.
func (s *Service) PDF(ctx context.Context, id int64) (Document, []byte, error) {
	d, err := s.Get(ctx, id)
	if err != nil {
		return d, nil, err
	}
	var b []byte
	if err := s.db.QueryRow(ctx, `SELECT pdf FROM documents WHERE id = ?`, id).Scan(&b); err != nil {
		return d, nil, fmt.Errorf("document %d: %w", id, err)
	}
	return d, b, nil
}

// DataOf is the document's data as it was issued.
func (s *Service) DataOf(ctx context.Context, id int64) (Data, error) {
	var raw string
	var out Data
	err := s.db.QueryRow(ctx, `SELECT data FROM documents WHERE id = ?`, id).Scan(&raw)
	if errors.Is(err, sql.ErrNoRows) {
		return out, fmt.Errorf("document %d: %w", id, derrors.NotFound)
	}
	if err != nil {
		return out, fmt.Errorf("document %d: %w", id, err)
	}
	if err := json.Unmarshal([]byte(raw), &out); err != nil {
		return out, fmt.Errorf("document %d: %w", id, err)
	}
	return out, nil
}

// Filter picks documents for a list.
type Filter struct {
	Kind   Kind
	Status Status
	OrgID  int64
	Period string // YYYY-MM
	Query  string // a number, or part of the organisation's name or INN
	Offset int
	Limit  int // default 50, at most 1000
}

// List returns documents newest first and how many match in all.
func (s *Service) List(ctx context.Context, f Filter) ([]Document, int, error) {
	if f.Limit <= 0 || f.Limit > 1000 {
		f.Limit = 50
	}
	where := []string{"1 = 1"}
	var args []any
	if f.Kind != "" {
		where, args = append(where, "kind = ?"), append(args, string(f.Kind))
	}
	if f.Status != "" {
		where, args = append(where, "status = ?"), append(args, string(f.Status))
	}
	if f.OrgID != 0 {
		where, args = append(where, "org_id = ?"), append(args, f.OrgID)
	}
	if f.Period != "" {
		where, args = append(where, "period = ?"), append(args, f.Period)
	}
	if q := strings.TrimSpace(f.Query); q != "" {
		like := "%" + strings.ToLower(q) + "%"
		where, args = append(where, "(number = ? OR org_inn = ? OR LOWER(org_name) LIKE ?)"), append(args, q, q, like)
	}
	cond := strings.Join(where, " AND ")
	var n int
	if err := s.db.QueryRow(ctx, `SELECT COUNT(*) FROM documents WHERE `+cond, args...).Scan(&n); err != nil {
		return nil, 0, fmt.Errorf("documents: %w", err)
	}
	rows, err := s.db.Query(ctx, `SELECT `+docColumns+` FROM documents WHERE `+cond+` ORDER BY id DESC LIMIT ? OFFSET ?`, append(args, f.Limit, f.Offset)...)
	if err != nil {
		return nil, 0, fmt.Errorf("documents: %w", err)
	}
	defer rows.Close()
	var out []Document
	for rows.Next() {
		d, err := scanDoc(rows)
		if err != nil {
			return nil, 0, fmt.Errorf("documents: %w", err)
		}
		out = append(out, d)
	}
	return out, n, rows.Err()
}

// InvoiceByNumber is the invoice numbered number ("2026-000123", or as a
// payer writes it: "2026-123", "2026/123").
func (s *Service) InvoiceByNumber(ctx context.Context, q store.Querier, number string) (Document, error) {
	year, seq, ok := parseNumber(number)
	if !ok {
		return Document{}, derrors.Invalidf("number", "number", "invoice number %q: want YYYY-NNNNNN", number)
	}
	d, err := scanDoc(q.QueryRow(ctx, `SELECT `+docColumns+` FROM documents WHERE kind = 'invoice' AND year = ? AND seq = ?`, year, seq))
	if errors.Is(err, sql.ErrNoRows) {
		return d, fmt.Errorf("invoice %s: %w", number, derrors.NotFound)
	}
	if err != nil {
		return d, fmt.Errorf("invoice %s: %w", number, err)
	}
	return d, nil
}

func parseNumber(s string) (int, int64, bool) {
	s = strings.TrimSpace(s)
	i := strings.IndexAny(s, "-/")
	if i != 4 {
		return 0, 0, false
	}
	y, err1 := strconv.Atoi(s[:4])
	n, err2 := strconv.ParseInt(s[5:], 10, 64)
	if err1 != nil || err2 != nil || y < 2000 || y > 2999 || n <= 0 {
		return 0, 0, false
	}
	return y, n, true
}

// InvoiceNumbers finds what look like invoice numbers in a payment's
// purpose — "Оплата по счёту № 2026-000123 от 25.12.2025", "сч.2026/123" —
// written the canonical way, in the order they appear, each once. Dates
// such as 25.12.2025 or 2025-12-25 are not numbers.
func InvoiceNumbers(purpose string) []string {
	var out []string
	seen := map[string]bool{}
	r := []rune(purpose)
	isDigit := func(i int) bool { return i >= 0 && i < len(r) && r[i] >= '0' && r[i] <= '9' }
	for i := 0; i+5 < len(r); i++ {
		// Four digits not preceded by a digit, '-' or '/' or '.', then '-'
		// or '/', then 1–6 digits not followed by a digit, '-', '/' or '.'+digit.
		if !(isDigit(i) && isDigit(i+1) && isDigit(i+2) && isDigit(i+3)) || isDigit(i-1) {
			continue
		}
		if i > 0 && (r[i-1] == '-' || r[i-1] == '/' || r[i-1] == '.') && isDigit(i-2) {
			continue
		}
		if r[i+4] != '-' && r[i+4] != '/' {
			continue
		}
		j := i + 5
		for j < len(r) && isDigit(j) {
			j++
		}
		n := j - (i + 5)
		if n == 0 || n > 6 {
			continue
		}
		if j < len(r) && (r[j] == '-' || r[j] == '/' || (r[j] == '.' && isDigit(j+1))) {
			continue // a date 2025-12-25 or 2025/12/25
		}
		y, seq, ok := parseNumber(string(r[i:j]))
		if !ok {
			continue
		}
		num := FormatNumber(y, seq)
		if !seen[num] {
			seen[num] = true
			out = append(out, num)
		}
		i = j - 1
	}
	return out
}

// ErrNotInvoice refuses a payment applied to a document that is not an invoice.
var ErrNotInvoice error = derrors.New(derrors.Invalid, "not_invoice", "not an invoice")

// ApplyPaymentTx counts amount of the credited payment txnID (its ledger
// transaction) towards the invoice, in the payment's transaction; the
// invoice is paid once what counts towards it covers its total. The same
// payment applied twice counts once. It returns the invoice after.
func (s *Service) ApplyPaymentTx(ctx context.Context, tx *store.Tx, invoiceID, txnID int64, amount money.Amount) (Document, error) {
	d, err := scanDoc(tx.QueryRow(ctx, `SELECT `+docColumns+` FROM documents WHERE id = ?`, invoiceID))
	if errors.Is(err, sql.ErrNoRows) {
		return d, fmt.Errorf("invoice %d: %w", invoiceID, derrors.NotFound)
	}
	if err != nil {
		return d, fmt.Errorf("invoice %d: %w", invoiceID, err)
	}
	if d.Kind != Invoice {
		return d, fmt.Errorf("document %s: %w", d.Number, ErrNotInvoice)
	}
	if amount <= 0 {
		return d, derrors.Invalidf("amount", "amount", "payment to invoice %s: amount must be positive", d.Number)
	}
	res, err := tx.Exec(ctx, `INSERT INTO document_payments (document_id, txn_id, amount, created_at) VALUES (?, ?, ?, ?) ON CONFLICT (document_id, txn_id) DO NOTHING`,
		invoiceID, txnID, int64(amount), s.clock.Now().UTC())
	if err != nil {
		return d, fmt.Errorf("invoice %s: payment: %w", d.Number, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return d, nil
	}
	return s.settleTx(ctx, tx, d)
}

// settleTx recounts what covers invoice d and marks it paid when covered.
func (s *Service) settleTx(ctx context.Context, tx *store.Tx, d Document) (Document, error) {
	var paid int64
	if err := tx.QueryRow(ctx, `SELECT COALESCE(SUM(amount), 0) FROM document_payments WHERE document_id = ?`, d.ID).Scan(&paid); err != nil {
		return d, fmt.Errorf("invoice %s: %w", d.Number, err)
	}
	d.Paid = money.Amount(paid)
	if d.Paid >= d.Total && d.Status != Paid {
		now := s.clock.Now().UTC()
		if _, err := tx.Exec(ctx, `UPDATE documents SET paid = ?, status = 'paid', paid_at = ? WHERE id = ?`, paid, now, d.ID); err != nil {
			return d, fmt.Errorf("invoice %s: %w", d.Number, err)
		}
		d.Status, d.PaidAt = Paid, now
		return d, nil
	}
	if _, err := tx.Exec(ctx, `UPDATE documents SET paid = ? WHERE id = ?`, paid, d.ID); err != nil {
		return d, fmt.Errorf("invoice %s: %w", d.Number, err)
	}
	return d, nil
}

// MarkPaidTx marks an invoice paid whatever payments cover it (an operator
// who saw the money arrive some other way), in tx.
func (s *Service) MarkPaidTx(ctx context.Context, tx *store.Tx, invoiceID int64) (Document, error) {
	d, err := scanDoc(tx.QueryRow(ctx, `SELECT `+docColumns+` FROM documents WHERE id = ?`, invoiceID))
	if errors.Is(err, sql.ErrNoRows) {
		return d, fmt.Errorf("invoice %d: %w", invoiceID, derrors.NotFound)
	}
	if err != nil {
		return d, err
	}
	if d.Kind != Invoice {
		return d, fmt.Errorf("document %s: %w", d.Number, ErrNotInvoice)
	}
	if d.Status == Paid {
		return d, nil
	}
	now := s.clock.Now().UTC()
	if _, err := tx.Exec(ctx, `UPDATE documents SET status = 'paid', paid_at = ? WHERE id = ?`, now, d.ID); err != nil {
		return d, fmt.Errorf("invoice %s: %w", d.Number, err)
	}
	d.Status, d.PaidAt = Paid, now
	return d, nil
}

// MarkPaid is MarkPaidTx in a transaction of its own.
func (s *Service) MarkPaid(ctx context.Context, invoiceID int64) (Document, error) {
	var d Document
	err := s.db.Write(ctx, func(tx *store.Tx) error {
		var err error
		d, err = s.MarkPaidTx(ctx, tx, invoiceID)
		return err
	})
	return d, err
}

// Settle counts the payments made to organisations' points and contracts
// towards their unpaid invoices, oldest invoice first, so that an invoice
// paid through any channel (cash at the office, a bank transfer that named
// no invoice) is marked paid too. A payment counts towards an invoice when
// it came after the organisation's invoice before it was issued (money
// paid ahead, before the invoice itself, pays it; money from before the
// last invoice paid for older months), or within a month before the
// organisation's first invoice, or when part of it already pays an
// invoice (the rest was paid ahead). What a payment already counts towards is
// not counted again. It returns how many invoices became paid.
func (s *Service) Settle(ctx context.Context) (int, error) {
	rows, err := s.db.Query(ctx, `SELECT `+docColumns+` FROM documents WHERE kind = 'invoice' AND status <> 'paid' ORDER BY org_id, doc_date, id`)
	if err != nil {
		return 0, fmt.Errorf("settle invoices: %w", err)
	}
	byOrg := map[int64][]Document{}
	var orgs []int64
	for rows.Next() {
		d, err := scanDoc(rows)
		if err != nil {
			rows.Close()
			return 0, err
		}
		if _, ok := byOrg[d.OrgID]; !ok {
			orgs = append(orgs, d.OrgID)
		}
		byOrg[d.OrgID] = append(byOrg[d.OrgID], d)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, err
	}
	paid := 0
	for _, org := range orgs {
		p, err := s.dir.Organisation(ctx, org)
		if errors.Is(err, derrors.NotFound) {
			continue
		}
		if err != nil {
			return paid, err
		}
		if len(p.Points) == 0 && p.LedgerID == 0 {
			continue
		}
		n, err := s.settleOrg(ctx, p, byOrg[org])
		paid += n
		if err != nil {
			return paid, err
		}
	}
	return paid, nil
}

func (s *Service) settleOrg(ctx context.Context, p Party, invoices []Document) (int, error) {
	ids, err := s.ledgerIDs(ctx, p)
	if err != nil || len(ids) == 0 {
		return 0, err
	}
	sort.Slice(invoices, func(i, j int) bool {
		return invoices[i].Date.Before(invoices[j].Date) || invoices[i].Date.Equal(invoices[j].Date) && invoices[i].ID < invoices[j].ID
	})
	paid := 0
	err = s.db.Write(ctx, func(tx *store.Tx) error {
		paid = 0
		// From when a payment counts towards each invoice: the day of the
		// organisation's invoice before it.
		from, err := s.paymentsFrom(ctx, tx, p.ID, invoices)
		if err != nil {
			return err
		}
		since := from[invoices[0].ID].Add(-24 * time.Hour) // a payment the same day, in any zone
		marks, args := store.InList(ids)
		// Payments into the organisation's accounts, and what of each is
		// already counted towards invoices.
		rows, err := tx.Query(ctx, `SELECT t.id, SUM(p.amount), t.effective_at, COALESCE((SELECT SUM(dp.amount) FROM document_payments dp WHERE dp.txn_id = t.id), 0)
			FROM postings p JOIN ledger_txns t ON t.id = p.txn_id
			WHERE t.kind = 'payment' AND p.ledger_account_id IN (`+marks+`)
			AND (t.effective_at >= ? OR EXISTS (SELECT 1 FROM document_payments dp WHERE dp.txn_id = t.id))
			GROUP BY t.id, t.effective_at HAVING SUM(p.amount) > 0 ORDER BY t.effective_at, t.id`,
			append(args, since.UTC())...)
		if err != nil {
			return err
		}
		type pay struct {
			id   int64
			left money.Amount
			at   time.Time
			// invoiced: part of it already pays an invoice; the rest is
			// paid ahead, for the invoices after, whenever it came.
			invoiced bool
		}
		var pays []pay
		for rows.Next() {
			var p pay
			var amount, used int64
			var at store.Time
			if err := rows.Scan(&p.id, &amount, &at, &used); err != nil {
				rows.Close()
				return err
			}
			p.at, p.invoiced = at.Time, used > 0
			if p.left = money.Amount(amount - used); p.left > 0 {
				pays = append(pays, p)
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		for _, inv := range invoices {
			due := inv.Total - inv.Paid
			for i := range pays {
				if due <= 0 {
					break
				}
				if pays[i].left <= 0 || (pays[i].at.Before(from[inv.ID]) && !pays[i].invoiced) {
					continue
				}
				take := min(due, pays[i].left)
				if _, err := tx.Exec(ctx, `INSERT INTO document_payments (document_id, txn_id, amount, created_at) VALUES (?, ?, ?, ?) ON CONFLICT (document_id, txn_id) DO NOTHING`,
					inv.ID, pays[i].id, int64(take), s.clock.Now().UTC()); err != nil {
					return err
				}
				pays[i].left -= take
				pays[i].invoiced = true
				due -= take
			}
			if due < inv.Total-inv.Paid {
				after, err := s.settleTx(ctx, tx, inv)
				if err != nil {
					return err
				}
				if after.Status == Paid {
					paid++
				}
			}
		}
		return nil
	})
	return paid, err
}

// paymentsFrom is, for each of an organisation's unpaid invoices (oldest
// first), the moment from which a payment counts towards it: the start of
// the day of the organisation's invoice before it, or a month before the
// invoice's own day for its first.
func (s *Service) paymentsFrom(ctx context.Context, tx *store.Tx, orgID int64, unpaid []Document) (map[int64]time.Time, error) {
	rows, err := tx.Query(ctx, `SELECT id, doc_date FROM documents WHERE kind = 'invoice' AND org_id = ? ORDER BY doc_date, id`, orgID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	type issued struct {
		id  int64
		day time.Time
	}
	var all []issued
	for rows.Next() {
		var d issued
		var day string
		if err := rows.Scan(&d.id, &day); err != nil {
			return nil, err
		}
		d.day = parseDay(day)
		all = append(all, d)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	from := map[int64]time.Time{}
	for _, inv := range unpaid {
		from[inv.ID] = dayStart(inv.Date, s.opts.Zone).AddDate(0, -1, 0)
		for i, d := range all {
			if d.id == inv.ID && i > 0 {
				from[inv.ID] = dayStart(all[i-1].day, s.opts.Zone)
			}
		}
	}
	return from, nil
}

// dayStart is midnight of a document's day (stored as a date) in zone.
func dayStart(d time.Time, zone *time.Location) time.Time {
	return time.Date(d.Year(), d.Month(), d.Day(), 0, 0, 0, 0, zone)
}

// OfOrganisation lists one organisation's documents, newest first: the
// company's own cabinet shows them.
func (s *Service) OfOrganisation(ctx context.Context, orgID int64, offset, limit int) ([]Document, int, error) {
	if orgID <= 0 {
		return nil, 0, fmt.Errorf("organisation %d: %w", orgID, derrors.NotFound)
	}
	return s.List(ctx, Filter{OrgID: orgID, Offset: offset, Limit: limit})
}

// OrganisationPDF is a document's PDF for the organisation it was issued
// to; another organisation's document is not found, as if it did not exist.
func (s *Service) OrganisationPDF(ctx context.Context, orgID, id int64) (Document, []byte, error) {
	d, pdf, err := s.PDF(ctx, id)
	if err != nil {
		return Document{}, nil, err
	}
	if d.OrgID != orgID || orgID <= 0 {
		return Document{}, nil, fmt.Errorf("document %d: %w", id, derrors.NotFound)
	}
	return d, pdf, nil
}
