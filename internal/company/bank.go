package company

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/kabinet-billing/kabinet/internal/billing"
	"github.com/kabinet-billing/kabinet/internal/derrors"
	"github.com/kabinet-billing/kabinet/internal/ledger"
	"github.com/kabinet-billing/kabinet/internal/money"
	"github.com/kabinet-billing/kabinet/internal/operator"
	"github.com/kabinet-billing/kabinet/internal/store"
)

// ChannelBank is the payment channel of bank transfers: the ledger's cash
// account cash:bank and the payments' keys pay:bank:<bank payment id>.
const ChannelBank = "bank"

// Statuses of a bank payment.
const (
	BankCredited = "credited" // on an organisation's (or a point's) balance
	BankUnsorted = "unsorted" // matched nothing: waits for an operator
)

// BankPayment is an incoming transfer from a statement.
type BankPayment struct {
	ID               int64
	DocNo            string
	DocDate          string // YYYY-MM-DD
	PayerAccount     string
	Amount           money.Amount
	PayerINN         string
	PayerKPP         string
	PayerName        string
	PayerBIK         string
	RecipientAccount string
	Purpose          string
	InvoiceNo        string // the invoice it paid, when one matched
	Status           string
	OrganisationID   int64
	OrganisationName string
	AccountID        int64 // the point credited, in balance mode "points"
	Source           string
	AssignedBy       string
	CreatedAt        time.Time
	CreditedAt       time.Time
}

// ImportReport says what a statement's import did.
type ImportReport struct {
	File           string       `json:"file"`
	Encoding       string       `json:"encoding"`
	Documents      int          `json:"documents"` // every document in the file
	Outgoing       int          `json:"outgoing"`  // ours as payer, or not a payment order: not ours to credit
	Credited       int          `json:"credited"`  // credited now
	CreditedAmount money.Amount `json:"credited_amount"`
	Invoices       int          `json:"invoices"`   // of those, matched to an invoice
	Duplicates     int          `json:"duplicates"` // imported before: nothing done
	Unsorted       int          `json:"unsorted"`   // matched nothing: in the list to sort
	UnsortedAmount money.Amount `json:"unsorted_amount"`
}

// WriteText writes the report for an operator.
func (r ImportReport) WriteText(w io.Writer) error {
	_, err := fmt.Fprintf(w, "%s (%s): %d documents, %d not incoming payments\ncredited %d (%s), %d of them to invoices\nalready imported %d\nto sort %d (%s)\n",
		r.File, r.Encoding, r.Documents, r.Outgoing, r.Credited, r.CreditedAmount.Decimal(), r.Invoices, r.Duplicates, r.Unsorted, r.UnsortedAmount.Decimal())
	return err
}

// importChunk is how many documents one transaction credits: a 50,000-line
// statement is a few dozen transactions, each all-or-nothing; a failure
// leaves the chunks before it credited, and the import run again credits
// the rest (the documents' unique key skips those done).
const importChunk = 1000

// orgRef is what matching needs of an organisation.
type orgRef struct {
	id   int64
	kpp  string
	mode string
	lid  int64
}

// Importer matches a statement's documents to organisations.
type matcher struct {
	byINN      map[string][]orgRef
	byContract map[string]orgRef
	byID       map[int64]orgRef
}

func (s *Service) loadMatcher(ctx context.Context) (*matcher, error) {
	m := &matcher{byINN: map[string][]orgRef{}, byContract: map[string]orgRef{}, byID: map[int64]orgRef{}}
	rows, err := s.DB.Query(ctx, `SELECT id, inn, kpp, contract_no, balance_mode, ledger_id FROM organisations ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("organisations: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var o orgRef
		var inn, contract string
		if err := rows.Scan(&o.id, &inn, &o.kpp, &contract, &o.mode, &o.lid); err != nil {
			return nil, err
		}
		m.byINN[inn] = append(m.byINN[inn], o)
		m.byContract[strings.ToLower(contract)] = o
		m.byID[o.id] = o
	}
	return m, rows.Err()
}

// contractNumbers finds "договор № X" in a purpose.
func contractNumbers(purpose string) []string {
	words := strings.Fields(strings.NewReplacer("№", " № ").Replace(purpose))
	var out []string
	for i, w := range words {
		if !strings.HasPrefix(strings.ToLower(w), "дог") {
			continue
		}
		for j := i + 1; j < len(words) && j <= i+3; j++ {
			n := trimWord(words[j])
			if n == "№" || strings.EqualFold(n, "n") || n == "" {
				continue
			}
			if hasDigit(n) {
				out = append(out, strings.ToLower(n))
			}
			break
		}
	}
	return out
}

// match decides whose a document is: the invoice its purpose names (if the
// documents package knows it), else the organisation with the payer's INN
// (one, or the one with the payer's KPP among branches), else the contract
// its purpose names.
func (s *Service) match(ctx context.Context, tx *store.Tx, m *matcher, d BankDocument) (org orgRef, inv *Invoice, ok bool, err error) {
	if lookup := s.invoiceLookup(); lookup != nil {
		for _, n := range append(lookup.Numbers(d.Purpose), InvoiceNumbers(d.Purpose)...) {
			i, found, err := lookup.InvoiceByNumber(ctx, tx, n)
			if err != nil {
				return org, nil, false, err
			}
			if o, known := m.byID[i.OrganisationID]; found && known {
				return o, &i, true, nil
			}
		}
	}
	if cands := m.byINN[d.PayerINN]; len(cands) == 1 {
		return cands[0], nil, true, nil
	} else if len(cands) > 1 {
		for _, c := range cands {
			if c.kpp == d.PayerKPP {
				return c, nil, true, nil
			}
		}
	}
	for _, n := range contractNumbers(d.Purpose) {
		if o, found := m.byContract[n]; found {
			return o, nil, true, nil
		}
	}
	return org, nil, false, nil
}

// ImportStatement reads a 1C statement and credits its incoming payment
// orders: each once, whatever files it comes in again (the bank document's
// number, date and payer account are its key); one matched to an
// organisation goes to its balance (and, when its purpose names an issued
// invoice, toward that invoice), one that matches nothing waits in the
// list to sort. ours are further accounts of the provider's, besides those
// the statement names. The import is audited as actor's.
func (s *Service) ImportStatement(ctx context.Context, actor operator.Actor, name string, r io.Reader, ours []string) (ImportReport, error) {
	rep := ImportReport{File: name}
	st, err := ParseStatement(r)
	if err != nil {
		return rep, err
	}
	rep.Encoding = st.Encoding
	rep.Documents = len(st.Documents)
	ours = append(append([]string(nil), ours...), s.Accounts...)
	var in []BankDocument
	for _, d := range st.Documents {
		if d.Kind != KindPaymentOrder || !st.Incoming(d, ours) {
			rep.Outgoing++
			continue
		}
		in = append(in, d)
	}
	m, err := s.loadMatcher(ctx)
	if err != nil {
		return rep, err
	}
	source := "1c:" + name
	for part := range slices.Chunk(in, importChunk) {
		var cr ImportReport
		err := s.DB.Write(ctx, func(tx *store.Tx) error {
			cr = ImportReport{}
			return s.importChunk(ctx, tx, m, part, source, &cr)
		})
		if err != nil {
			return rep, fmt.Errorf("statement %s: %w", name, err)
		}
		rep.Credited += cr.Credited
		rep.CreditedAmount += cr.CreditedAmount
		rep.Invoices += cr.Invoices
		rep.Duplicates += cr.Duplicates
		rep.Unsorted += cr.Unsorted
		rep.UnsortedAmount += cr.UnsortedAmount
	}
	now := s.Clock.Now()
	err = s.DB.Write(ctx, func(tx *store.Tx) error {
		return operator.Audit(ctx, tx, now, actor, operator.Entry{Action: "company.bank_import", Object: "statement:" + name, After: rep})
	})
	return rep, err
}

type pending struct {
	doc   BankDocument
	org   orgRef
	inv   *Invoice
	match bool
}

func (s *Service) importChunk(ctx context.Context, tx *store.Tx, m *matcher, docs []BankDocument, source string, rep *ImportReport) error {
	now := s.Clock.Now()
	ps := make([]pending, len(docs))
	for i, d := range docs {
		org, inv, ok, err := s.match(ctx, tx, m, d)
		if err != nil {
			return err
		}
		ps[i] = pending{doc: d, org: org, inv: inv, match: ok}
	}
	// Insert every document; those already there (the key) insert nothing
	// and are not credited again.
	var q strings.Builder
	q.WriteString(`INSERT INTO bank_payments (doc_no, doc_date, payer_account, amount, payer_inn, payer_kpp, payer_name, payer_bik, recipient_account,
		purpose, invoice_no, status, organisation_id, account_id, source, created_at, credited_at) VALUES `)
	args := make([]any, 0, 17*len(ps))
	for i, p := range ps {
		if i > 0 {
			q.WriteString(", ")
		}
		q.WriteString("(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
		status, org, acct, credited, invNo := BankUnsorted, any(nil), any(nil), any(nil), ""
		if p.match {
			status, org, credited = BankCredited, p.org.id, now.UTC()
			if p.inv != nil {
				invNo = p.inv.Number
				if p.inv.AccountID != 0 && p.org.mode == BalancePoints {
					acct = p.inv.AccountID
				}
			}
		}
		d := p.doc
		args = append(args, d.Number, d.Date, d.PayerAccount, int64(d.Amount), d.PayerINN, d.PayerKPP, d.PayerName, d.PayerBIK, d.RecipientAccount,
			d.Purpose, invNo, status, org, acct, source, now.UTC(), credited)
	}
	q.WriteString(` ON CONFLICT (doc_no, doc_date, payer_account) DO NOTHING RETURNING id, doc_no, doc_date, payer_account`)
	rows, err := tx.Query(ctx, q.String(), args...)
	if err != nil {
		return fmt.Errorf("bank payments: %w", err)
	}
	ids := map[[3]string]int64{}
	for rows.Next() {
		var id int64
		var k [3]string
		if err := rows.Scan(&id, &k[0], &k[1], &k[2]); err != nil {
			rows.Close()
			return err
		}
		ids[k] = id
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	var credits []credit
	for _, p := range ps {
		id, fresh := ids[[3]string{p.doc.Number, p.doc.Date, p.doc.PayerAccount}]
		if !fresh {
			rep.Duplicates++
			continue
		}
		delete(ids, [3]string{p.doc.Number, p.doc.Date, p.doc.PayerAccount}) // a line repeated within the file counts once
		if !p.match {
			rep.Unsorted++
			rep.UnsortedAmount += p.doc.Amount
			continue
		}
		c := credit{id: id, org: p.org, amount: p.doc.Amount, at: paidAt(p.doc, s.Zone, now), inv: p.inv, memo: memo(p.doc)}
		if p.inv != nil && p.inv.AccountID != 0 && p.org.mode == BalancePoints {
			c.account = p.inv.AccountID
		}
		credits = append(credits, c)
		rep.Credited++
		rep.CreditedAmount += p.doc.Amount
		if p.inv != nil {
			rep.Invoices++
		}
	}
	return s.credit(ctx, tx, credits, now)
}

func memo(d BankDocument) string {
	m := fmt.Sprintf("п/п № %s от %s, %s", d.Number, d.Date, d.PayerName)
	if len(m) > 300 {
		m = m[:300]
	}
	return strings.ToValidUTF8(m, "")
}

// paidAt is the day the money arrived (ДатаПоступило, else the document's
// date) at noon in the provider's zone, or now when that is earlier.
func paidAt(d BankDocument, zone *time.Location, now time.Time) time.Time {
	day := d.Received
	if day == "" {
		day = d.Date
	}
	t, err := time.ParseInLocation("2006-01-02", day, zone)
	if err != nil {
		return now
	}
	t = t.Add(12 * time.Hour)
	if t.After(now) {
		return now
	}
	return t
}

type credit struct {
	id      int64 // bank payment
	org     orgRef
	account int64 // a point, in balance mode "points" with an invoice for it
	amount  money.Amount
	at      time.Time
	inv     *Invoice
	memo    string
}

// credit posts bank payments in tx: to the organisation's ledger account,
// or, for a point's invoice, to the point through billing; then pools the
// money of the organisations that need it and tells the invoices.
func (s *Service) credit(ctx context.Context, tx *store.Tx, cs []credit, now time.Time) error {
	if len(cs) == 0 {
		return nil
	}
	cash, err := ledger.Account(ctx, tx, ledger.CashCode(ChannelBank), ledger.KindCash)
	if err != nil {
		return err
	}
	var txns []ledger.Txn
	var pays []billing.Payment
	orgs := map[int64]bool{}
	var order []int64
	for _, c := range cs {
		ext := strconv.FormatInt(c.id, 10)
		if !orgs[c.org.id] {
			orgs[c.org.id] = true
			order = append(order, c.org.id)
		}
		if c.account != 0 {
			pays = append(pays, billing.Payment{AccountID: c.account, Channel: ChannelBank, ExternalID: ext, Amount: c.amount, Memo: c.memo, At: c.at})
			continue
		}
		txns = append(txns, ledger.Txn{Key: billing.PaymentKey(ChannelBank, ext), Kind: ledger.TxnPayment, Amount: c.amount,
			Service: ChannelBank, Memo: c.memo, EffectiveAt: c.at,
			Postings: []ledger.Posting{{LedgerAccountID: c.org.lid, Amount: c.amount}, {LedgerAccountID: cash, Amount: -c.amount}}})
	}
	if len(txns) > 0 {
		if _, _, err := ledger.PostMany(ctx, tx, txns, now); err != nil {
			return err
		}
	}
	if len(pays) > 0 {
		if _, err := s.Biller.CreditMany(ctx, tx, pays, now); err != nil {
			return err
		}
	}
	if lookup := s.invoiceLookup(); lookup != nil {
		for _, c := range cs {
			if c.inv != nil {
				if err := lookup.InvoicePaid(ctx, tx, *c.inv, c.id, c.amount); err != nil {
					return fmt.Errorf("invoice %s: %w", c.inv.Number, err)
				}
			}
		}
	}
	// Pool only where there is something to move or a debt mark to clear:
	// a statement of thousands of payments from organisations without
	// points moves nothing else.
	need, err := needPool(ctx, tx, order)
	if err != nil {
		return err
	}
	for _, id := range order {
		if need[id] {
			if _, err := s.Pool(ctx, tx, id, now); err != nil {
				return err
			}
		}
	}
	return nil
}

func needPool(ctx context.Context, tx *store.Tx, ids []int64) (map[int64]bool, error) {
	out := map[int64]bool{}
	for chunk := range slices.Chunk(ids, store.ChunkRows) {
		marks, args := store.InList(chunk)
		ids, err := store.IDs(tx.Query(ctx, `SELECT id FROM organisations WHERE debt_since IS NOT NULL AND id IN (`+marks+`)
			UNION SELECT p.organisation_id FROM company_points p JOIN accounts a ON a.id = p.account_id JOIN ledger_accounts l ON l.id = a.ledger_id
			WHERE l.balance <> 0 AND p.organisation_id IN (`+marks+`)`, append(args, args...)...))
		if err != nil {
			return nil, fmt.Errorf("pool: %w", err)
		}
		for _, id := range ids {
			out[id] = true
		}
	}
	return out, nil
}

var ErrSorted error = derrors.New(derrors.Conflict, "bank_sorted", "the payment is already credited")

// Assign credits an unsorted bank payment to an organisation, audited as
// actor's in the same transaction. Two operators assigning the same
// payment: the second is refused with ErrSorted.
func (s *Service) Assign(ctx context.Context, actor operator.Actor, paymentID, orgID int64, note string) error {
	now := s.Clock.Now()
	err := s.DB.Write(ctx, func(tx *store.Tx) error {
		o, err := getOrg(ctx, tx, "o.id = ?", orgID)
		if err != nil {
			return err
		}
		p, err := bankPayment(ctx, tx, paymentID)
		if err != nil {
			return err
		}
		r, err := tx.Exec(ctx, `UPDATE bank_payments SET status = ?, organisation_id = ?, assigned_by = ?, credited_at = ? WHERE id = ? AND status = ?`,
			BankCredited, orgID, actor.Login, now.UTC(), paymentID, BankUnsorted)
		if err != nil {
			return err
		}
		if n, _ := r.RowsAffected(); n == 0 {
			return fmt.Errorf("bank payment %d: %w", paymentID, ErrSorted)
		}
		d := BankDocument{Number: p.DocNo, Date: p.DocDate, PayerName: p.PayerName}
		if err := s.credit(ctx, tx, []credit{{id: paymentID, org: orgRef{id: o.ID, kpp: o.KPP, mode: o.BalanceMode, lid: o.LedgerID},
			amount: p.Amount, at: now, memo: memo(d)}}, now); err != nil {
			return err
		}
		return operator.Audit(ctx, tx, now, actor, operator.Entry{Action: "company.bank_assign", Object: object(orgID), Note: note,
			After: map[string]any{"bank_payment": paymentID, "doc_no": p.DocNo, "doc_date": p.DocDate, "amount": p.Amount.Decimal(), "payer_inn": p.PayerINN}})
	})
	if err != nil {
		return fmt.Errorf("assign bank payment %d to organisation %d: %w", paymentID, orgID, err)
	}
	return nil
}

const bankCols = `b.id, b.doc_no, b.doc_date, b.payer_account, b.amount, b.payer_inn, b.payer_kpp, b.payer_name, b.payer_bik, b.recipient_account,
	b.purpose, b.invoice_no, b.status, COALESCE(b.organisation_id, 0), COALESCE(o.short_name, ''), COALESCE(b.account_id, 0), b.source, b.assigned_by,
	b.created_at, b.credited_at`

func scanBank(row interface{ Scan(...any) error }) (BankPayment, error) {
	var p BankPayment
	var credited sql.NullTime
	err := row.Scan(&p.ID, &p.DocNo, &p.DocDate, &p.PayerAccount, &p.Amount, &p.PayerINN, &p.PayerKPP, &p.PayerName, &p.PayerBIK, &p.RecipientAccount,
		&p.Purpose, &p.InvoiceNo, &p.Status, &p.OrganisationID, &p.OrganisationName, &p.AccountID, &p.Source, &p.AssignedBy, &p.CreatedAt, &credited)
	p.CreditedAt = credited.Time
	return p, err
}

func bankPayment(ctx context.Context, q Queryer, id int64) (BankPayment, error) {
	p, err := scanBank(q.QueryRow(ctx, `SELECT `+bankCols+` FROM bank_payments b LEFT JOIN organisations o ON o.id = b.organisation_id WHERE b.id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return p, fmt.Errorf("bank payment %d: %w", id, derrors.NotFound)
	}
	return p, err
}

// BankPayment finds one by id.
func (s *Service) BankPayment(ctx context.Context, id int64) (BankPayment, error) {
	return bankPayment(ctx, s.DB, id)
}

func (s *Service) bankList(ctx context.Context, where string, args ...any) ([]BankPayment, error) {
	rows, err := s.DB.Query(ctx, `SELECT `+bankCols+` FROM bank_payments b LEFT JOIN organisations o ON o.id = b.organisation_id WHERE `+where, args...)
	if err != nil {
		return nil, fmt.Errorf("bank payments: %w", err)
	}
	defer rows.Close()
	var out []BankPayment
	for rows.Next() {
		p, err := scanBank(rows)
		if err != nil {
			return nil, fmt.Errorf("bank payments: %w", err)
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

// Unsorted lists the payments that wait for an operator, oldest first.
func (s *Service) Unsorted(ctx context.Context, limit, offset int) ([]BankPayment, int, error) {
	if limit <= 0 || limit > 500 {
		limit = 100
	}
	var total int
	if err := s.DB.QueryRow(ctx, `SELECT COUNT(*) FROM bank_payments WHERE status = ?`, BankUnsorted).Scan(&total); err != nil {
		return nil, 0, fmt.Errorf("bank payments: %w", err)
	}
	l, err := s.bankList(ctx, `b.status = ? ORDER BY b.doc_date, b.id LIMIT ? OFFSET ?`, BankUnsorted, limit, max(offset, 0))
	return l, total, err
}

// Payments lists an organisation's bank payments, newest first.
func (s *Service) Payments(ctx context.Context, orgID int64, limit int) ([]BankPayment, error) {
	if limit <= 0 || limit > 1000 {
		limit = 100
	}
	return s.bankList(ctx, `b.organisation_id = ? ORDER BY b.doc_date DESC, b.id DESC LIMIT ?`, orgID, limit)
}
