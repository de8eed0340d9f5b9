// Package ledger keeps the double-entry books: every movement of money is a
// transaction of postings that sum to zero, with an idempotency key, and the
// balance on each ledger account moves in the same database transaction.
package ledger

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/kabinet-billing/kabinet/internal/money"
	"github.com/kabinet-billing/kabinet/internal/store"
)

// Kinds of ledger accounts.
const (
	KindSubscriber     = "subscriber"      // a subscriber's money
	KindRevenue        = "revenue"         // revenue per service kind
	KindCash           = "cash"            // cash per payment channel
	KindBonusLiability = "bonus_liability" // points promised to subscribers
	KindBonus          = "bonus"           // a subscriber's points
	KindAdjustment     = "adjustment"      // operators' corrections
)

// Kinds of transactions.
const (
	TxnCharge     = "charge"
	TxnRefund     = "refund"
	TxnPayment    = "payment"
	TxnBonus      = "bonus"
	TxnCorrection = "correction"
	TxnReversal   = "reversal"
)

// RevenueCode is the system account code for revenue of a service kind
// ("tariff", "tv", "antivirus", …).
func RevenueCode(serviceKind string) string { return "revenue:" + serviceKind }

// CashCode is the system account code of a payment channel.
func CashCode(channel string) string { return "cash:" + channel }

// Posting moves Amount on one ledger account; positive is a credit to the
// subscriber's side (money in), negative a debit.
type Posting struct {
	LedgerAccountID int64
	Amount          money.Amount
}

// Txn is one ledger transaction.
type Txn struct {
	Key         string // idempotency key, unique forever
	Kind        string
	AccountID   int64        // the subscriber concerned, 0 for none
	Amount      money.Amount // what the subscriber's balance moves by
	Service     string       // tariff or package code, payment channel
	Period      string       // YYYY-MM for periodic charges
	Memo        string
	EffectiveAt time.Time
	Reverses    int64
	Postings    []Posting
}

// Result says what Post did.
type Result struct {
	TxnID     int64
	Duplicate bool // the key was already posted: nothing changed
}

var (
	ErrUnbalanced = errors.New("postings do not sum to zero")
	ErrNoKey      = errors.New("transaction has no idempotency key")
	ErrNotFound   = errors.New("not found")
)

// Post writes t inside tx. A key seen before changes nothing and returns the
// first transaction's id with Duplicate set.
func Post(ctx context.Context, tx *store.Tx, t Txn, now time.Time) (Result, error) {
	if t.Key == "" {
		return Result{}, ErrNoKey
	}
	if len(t.Postings) < 2 {
		return Result{}, fmt.Errorf("txn %s: %w: needs two postings", t.Key, ErrUnbalanced)
	}
	var sum money.Amount
	for _, p := range t.Postings {
		sum += p.Amount
	}
	if sum != 0 {
		return Result{}, fmt.Errorf("txn %s: %w (%s)", t.Key, ErrUnbalanced, sum.Decimal())
	}
	if t.EffectiveAt.IsZero() {
		t.EffectiveAt = now
	}
	var acct, rev any
	if t.AccountID != 0 {
		acct = t.AccountID
	}
	if t.Reverses != 0 {
		rev = t.Reverses
	}
	var id int64
	err := tx.QueryRow(ctx, `INSERT INTO ledger_txns (key, kind, account_id, amount, service, period, memo, effective_at, created_at, reverses)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (key) DO NOTHING RETURNING id`,
		t.Key, t.Kind, acct, int64(t.Amount), t.Service, t.Period, t.Memo, t.EffectiveAt.UTC(), now.UTC(), rev).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		if err := tx.QueryRow(ctx, `SELECT id FROM ledger_txns WHERE key = ?`, t.Key).Scan(&id); err != nil {
			return Result{}, fmt.Errorf("txn %s: %w", t.Key, err)
		}
		return Result{TxnID: id, Duplicate: true}, nil
	}
	if err != nil {
		return Result{}, fmt.Errorf("txn %s: %w", t.Key, err)
	}
	// One statement for the postings and one for the balances, whatever
	// their number: a payment's ledger work is most of its time on SQLite.
	ins := make([]string, len(t.Postings))
	args := make([]any, 0, 3*len(t.Postings))
	delta := map[int64]money.Amount{}
	var order []int64
	for i, p := range t.Postings {
		ins[i] = "(?, ?, ?)"
		args = append(args, id, p.LedgerAccountID, int64(p.Amount))
		if _, ok := delta[p.LedgerAccountID]; !ok {
			order = append(order, p.LedgerAccountID)
		}
		delta[p.LedgerAccountID] += p.Amount
	}
	if _, err := tx.Exec(ctx, `INSERT INTO postings (txn_id, ledger_account_id, amount) VALUES `+strings.Join(ins, ", "), args...); err != nil {
		return Result{}, fmt.Errorf("txn %s: postings: %w", t.Key, err)
	}
	var cases strings.Builder
	var uargs, ids []any
	marks := make([]string, len(order))
	for i, lid := range order {
		cases.WriteString(" WHEN ? THEN ?::bigint")
		uargs = append(uargs, lid, int64(delta[lid]))
		ids = append(ids, lid)
		marks[i] = "?"
	}
	res, err := tx.Exec(ctx, `UPDATE ledger_accounts SET balance = balance + CASE id`+cases.String()+` END WHERE id IN (`+strings.Join(marks, ", ")+`)`, append(uargs, ids...)...)
	if err != nil {
		return Result{}, fmt.Errorf("txn %s: balances: %w", t.Key, err)
	}
	if n, _ := res.RowsAffected(); n != int64(len(order)) {
		return Result{}, fmt.Errorf("txn %s: %d of %d ledger accounts: %w", t.Key, n, len(order), ErrNotFound)
	}
	return Result{TxnID: id}, nil
}

// known caches ledger account ids by database and code once their
// transaction committed: accounts are never deleted, and the payment path
// asks for the same system accounts on every payment.
var known sync.Map // accountKey → int64

type accountKey struct {
	db   *store.DB
	code string
}

// Account returns the id of the ledger account with code, creating it with
// kind when it does not exist yet (system accounts are made on first use).
func Account(ctx context.Context, tx *store.Tx, code, kind string) (int64, error) {
	k := accountKey{tx.DB(), code}
	if v, ok := known.Load(k); ok {
		return v.(int64), nil
	}
	var id int64
	err := tx.QueryRow(ctx, `SELECT id FROM ledger_accounts WHERE code = ?`, code).Scan(&id)
	if err == nil {
		tx.OnCommit(func() { known.Store(k, id) })
		return id, nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return 0, fmt.Errorf("ledger account %s: %w", code, err)
	}
	err = tx.QueryRow(ctx, `INSERT INTO ledger_accounts (code, kind, balance) VALUES (?, ?, 0)
		ON CONFLICT (code) DO UPDATE SET kind = ledger_accounts.kind RETURNING id`, code, kind).Scan(&id)
	if err != nil {
		return 0, fmt.Errorf("ledger account %s: %w", code, err)
	}
	tx.OnCommit(func() { known.Store(k, id) })
	return id, nil
}

// Balance of a ledger account.
func Balance(ctx context.Context, q interface {
	QueryRow(context.Context, string, ...any) *sql.Row
}, ledgerID int64) (money.Amount, error) {
	var b int64
	if err := q.QueryRow(ctx, `SELECT balance FROM ledger_accounts WHERE id = ?`, ledgerID).Scan(&b); err != nil {
		return 0, fmt.Errorf("balance of %d: %w", ledgerID, err)
	}
	return money.Amount(b), nil
}

// Reverse posts the mirror image of transaction txnID under key: a mistake is
// fixed by a new transaction, never by editing the old one.
func Reverse(ctx context.Context, tx *store.Tx, txnID int64, key, memo string, now time.Time) (Result, error) {
	var t Txn
	var reverses sql.NullInt64
	if err := tx.QueryRow(ctx, `SELECT kind, COALESCE(account_id, 0), amount, service, reverses FROM ledger_txns WHERE id = ?`, txnID).
		Scan(&t.Kind, &t.AccountID, &t.Amount, &t.Service, &reverses); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return Result{}, fmt.Errorf("reverse %d: %w", txnID, ErrNotFound)
		}
		return Result{}, fmt.Errorf("reverse %d: %w", txnID, err)
	}
	var already int64
	err := tx.QueryRow(ctx, `SELECT id FROM ledger_txns WHERE reverses = ?`, txnID).Scan(&already)
	if err == nil {
		return Result{TxnID: already, Duplicate: true}, nil
	}
	rows, err := tx.Query(ctx, `SELECT ledger_account_id, amount FROM postings WHERE txn_id = ? ORDER BY id`, txnID)
	if err != nil {
		return Result{}, fmt.Errorf("reverse %d: %w", txnID, err)
	}
	var ps []Posting
	for rows.Next() {
		var p Posting
		if err := rows.Scan(&p.LedgerAccountID, &p.Amount); err != nil {
			rows.Close()
			return Result{}, fmt.Errorf("reverse %d: %w", txnID, err)
		}
		p.Amount = -p.Amount
		ps = append(ps, p)
	}
	rows.Close()
	return Post(ctx, tx, Txn{
		Key: key, Kind: TxnReversal, AccountID: t.AccountID, Amount: -t.Amount,
		Service: t.Service, Memo: memo, Reverses: txnID, Postings: ps,
	}, now)
}
