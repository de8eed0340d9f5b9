// Package ledger keeps the double-entry books: every movement of money is a
// transaction of postings that sum to zero, with an idempotency key, and the
// balance on each ledger account moves in the same database transaction.
package ledger

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/kabinet-billing/kabinet/internal/derrors"
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
)

// Post writes t inside tx. A key seen before changes nothing and returns the
// first transaction's id with Duplicate set.
func Post(ctx context.Context, tx *store.Tx, t Txn, now time.Time) (Result, error) {
	rs, _, err := PostMany(ctx, tx, []Txn{t}, now)
	if err != nil {
		return Result{}, err
	}
	return rs[0], nil
}

// PostMany writes txns inside tx in a few statements whatever their number:
// on SQLite the cost of a payment is mostly per statement, so a batch of
// payments posts together. It returns a result per transaction, in order
// (a key seen before, or earlier in txns, is Duplicate and changes nothing),
// and the balance after them of every ledger account they moved, read in
// the statement that moved it.
//
// Each account's balance moves once for the whole of txns, by the sum of
// its postings: on PostgreSQL every update of a row leaves a version that
// later statements of the same transaction step over, and an account that
// every transaction of a large batch touches (the import's equity, a
// payment channel's cash) would otherwise be updated once per chunk.
func PostMany(ctx context.Context, tx *store.Tx, txns []Txn, now time.Time) ([]Result, map[int64]money.Amount, error) {
	for i := range txns {
		if err := check(&txns[i], now); err != nil {
			return nil, nil, err
		}
	}
	results := make([]Result, 0, len(txns))
	delta := map[int64]money.Amount{}
	var order []int64
	for part := range slices.Chunk(txns, store.ChunkRows) {
		rs, err := postChunk(ctx, tx, part, now, delta, &order)
		if err != nil {
			return nil, nil, err
		}
		results = append(results, rs...)
	}
	balances := map[int64]money.Amount{}
	for ids := range slices.Chunk(order, store.ChunkRows) {
		if err := moveBalances(ctx, tx, ids, delta, balances); err != nil {
			return nil, nil, fmt.Errorf("txn %s: %w", txns[0].Key, err)
		}
	}
	return results, balances, nil
}

func check(t *Txn, now time.Time) error {
	if t.Key == "" {
		return ErrNoKey
	}
	if len(t.Postings) < 2 {
		return fmt.Errorf("txn %s: %w: needs two postings", t.Key, ErrUnbalanced)
	}
	var sum money.Amount
	for _, p := range t.Postings {
		sum += p.Amount
	}
	if sum != 0 {
		return fmt.Errorf("txn %s: %w (%s)", t.Key, ErrUnbalanced, sum.Decimal())
	}
	if t.EffectiveAt.IsZero() {
		t.EffectiveAt = now
	}
	return nil
}

// postChunk writes txns and their postings and adds what they move to
// delta, the accounts first moved to order.
func postChunk(ctx context.Context, tx *store.Tx, txns []Txn, now time.Time, delta map[int64]money.Amount, order *[]int64) ([]Result, error) {
	var q strings.Builder
	q.WriteString(`INSERT INTO ledger_txns (key, kind, account_id, amount, service, period, memo, effective_at, created_at, reverses) VALUES `)
	args := make([]any, 0, 10*len(txns))
	for i, t := range txns {
		if i > 0 {
			q.WriteString(", ")
		}
		q.WriteString("(?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
		var acct, rev any
		if t.AccountID != 0 {
			acct = t.AccountID
		}
		if t.Reverses != 0 {
			rev = t.Reverses
		}
		args = append(args, t.Key, t.Kind, acct, int64(t.Amount), t.Service, t.Period, t.Memo, t.EffectiveAt.UTC(), now.UTC(), rev)
	}
	q.WriteString(` ON CONFLICT (key) DO NOTHING RETURNING id, key`)
	ids, err := keyedIDs(ctx, tx, q.String(), args)
	if err != nil {
		return nil, fmt.Errorf("txn %s: %w", txns[0].Key, err)
	}
	// A key that inserted no row was posted before; one repeated within
	// txns was posted by its first occurrence. Neither moves money again.
	results := make([]Result, len(txns))
	var fresh []int
	seen := map[string]bool{}
	for i, t := range txns {
		id, ok := ids[t.Key]
		switch {
		case ok && !seen[t.Key]:
			results[i] = Result{TxnID: id}
			fresh = append(fresh, i)
		case ok:
			results[i] = Result{TxnID: id, Duplicate: true}
		default:
			if err := tx.QueryRow(ctx, `SELECT id FROM ledger_txns WHERE key = ?`, t.Key).Scan(&id); err != nil {
				return nil, fmt.Errorf("txn %s: %w", t.Key, err)
			}
			results[i] = Result{TxnID: id, Duplicate: true}
		}
		seen[t.Key] = true
	}
	if len(fresh) == 0 {
		return results, nil
	}
	// One statement for the postings.
	q.Reset()
	q.WriteString(`INSERT INTO postings (txn_id, ledger_account_id, amount) VALUES `)
	args = args[:0]
	for _, i := range fresh {
		for _, p := range txns[i].Postings {
			if len(args) > 0 {
				q.WriteString(", ")
			}
			q.WriteString("(?, ?, ?)")
			args = append(args, results[i].TxnID, p.LedgerAccountID, int64(p.Amount))
			if _, ok := delta[p.LedgerAccountID]; !ok {
				*order = append(*order, p.LedgerAccountID)
			}
			delta[p.LedgerAccountID] += p.Amount
		}
	}
	if _, err := tx.Exec(ctx, q.String(), args...); err != nil {
		return nil, fmt.Errorf("txn %s: postings: %w", txns[fresh[0]].Key, err)
	}
	return results, nil
}

// keyedIDs runs an INSERT … RETURNING id, key and maps keys to ids: the
// engines do not promise RETURNING rows in VALUES order.
func keyedIDs(ctx context.Context, tx *store.Tx, q string, args []any) (map[string]int64, error) {
	rows, err := tx.Query(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	ids := map[string]int64{}
	for rows.Next() {
		var id int64
		var key string
		if err := rows.Scan(&id, &key); err != nil {
			return nil, err
		}
		ids[key] = id
	}
	return ids, rows.Err()
}

// moveBalances adds delta to the ledger accounts in order in one statement
// and records their new balances. The list is padded to a power of two (store.InList) by
// repeating its first account (a repeated WHEN never matches, a repeated
// IN changes nothing) so that few statement texts exist.
func moveBalances(ctx context.Context, tx *store.Tx, order []int64, delta, balances map[int64]money.Amount) error {
	marks, ids := store.InList(order)
	var cases strings.Builder
	uargs := make([]any, 0, 3*len(ids))
	for _, id := range ids {
		cases.WriteString(" WHEN ? THEN ?::bigint")
		uargs = append(uargs, id, int64(delta[id.(int64)]))
	}
	rows, err := tx.Query(ctx, `UPDATE ledger_accounts SET balance = balance + CASE id`+cases.String()+` END WHERE id IN (`+marks+`) RETURNING id, balance`, append(uargs, ids...)...)
	if err != nil {
		return fmt.Errorf("balances: %w", err)
	}
	defer rows.Close()
	moved := 0
	for rows.Next() {
		var id, b int64
		if err := rows.Scan(&id, &b); err != nil {
			return fmt.Errorf("balances: %w", err)
		}
		balances[id] = money.Amount(b)
		moved++
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("balances: %w", err)
	}
	if moved != len(order) {
		return fmt.Errorf("%d of %d ledger accounts: %w", moved, len(order), derrors.NotFound)
	}
	return nil
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

// TxnAccount tells whose transaction txnID is: the subscriber account's id,
// 0 for one that moves no subscriber's money.
func TxnAccount(ctx context.Context, q interface {
	QueryRow(context.Context, string, ...any) *sql.Row
}, txnID int64) (int64, error) {
	var id int64
	err := q.QueryRow(ctx, `SELECT COALESCE(account_id, 0) FROM ledger_txns WHERE id = ?`, txnID).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		err = derrors.NotFound
	}
	if err != nil {
		return 0, fmt.Errorf("ledger transaction %d: %w", txnID, err)
	}
	return id, nil
}

// Reverse posts the mirror image of transaction txnID under key: a mistake is
// fixed by a new transaction, never by editing the old one.
func Reverse(ctx context.Context, tx *store.Tx, txnID int64, key, memo string, now time.Time) (Result, error) {
	var t Txn
	var reverses sql.NullInt64
	if err := tx.QueryRow(ctx, `SELECT kind, COALESCE(account_id, 0), amount, service, reverses FROM ledger_txns WHERE id = ?`, txnID).
		Scan(&t.Kind, &t.AccountID, &t.Amount, &t.Service, &reverses); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return Result{}, fmt.Errorf("reverse %d: %w", txnID, derrors.NotFound)
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
