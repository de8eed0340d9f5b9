package payment

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/kabinet-billing/kabinet/internal/billing"
	"github.com/kabinet-billing/kabinet/internal/clock"
	"github.com/kabinet-billing/kabinet/internal/derrors"
	"github.com/kabinet-billing/kabinet/internal/money"
	"github.com/kabinet-billing/kabinet/internal/store"
)

// Channel names. Each is the idempotency scope of its external ids and has
// its own cash account in the ledger (ledger.CashCode(channel)).
const ChannelCash = "cash"

// CardChannel is the channel of a card processor.
func CardChannel(processor string) string { return "card:" + processor }

// OSMPChannelName is the channel of a bank or terminal network.
func OSMPChannelName(name string) string { return "osmp:" + name }

// Sources of a payment row.
const (
	SourceOnline   = "online"
	SourceRegistry = "registry"
	SourceCashier  = "cashier"
)

// Service records payments: the store-backed side of every channel.
type Service struct {
	db         *store.DB
	biller     *billing.Biller
	clock      clock.Clock
	log        *slog.Logger
	opts       Options
	processors map[string]Processor
	pays       groupCommit[*bankPay]
	cards      groupCommit[*cardJob]
	checks     checkTimes
	onSaved    []func(context.Context, *store.Tx, SavedMethod) error
}

// Options configure a Service.
type Options struct {
	// PublicURL is Kabinet's address as the subscriber's browser and the
	// processors reach it ("https://my.isp.example"); return and callback
	// URLs are built on it.
	PublicURL string
	// BonusPercentBP is the bonus points accrued per payment, in basis points
	// (100 = 1%); 0 accrues none.
	BonusPercentBP int64
	Log            *slog.Logger
}

// NewService builds the service over an open, migrated database.
// The biller credits accounts and settles their debt and limit.
func NewService(db *store.DB, clk clock.Clock, biller *billing.Biller, processors []Processor, opts Options) *Service {
	if clk == nil {
		clk = clock.System
	}
	if opts.Log == nil {
		opts.Log = slog.Default()
	}
	opts.PublicURL = strings.TrimRight(opts.PublicURL, "/")
	s := &Service{db: db, biller: biller, clock: clk, log: opts.Log, opts: opts, processors: map[string]Processor{}}
	for _, p := range processors {
		s.processors[p.Name()] = p
		switch p := p.(type) {
		case *Sandbox:
			p.log = opts.Log
		case *yooKassa:
			p.log = opts.Log
		}
	}
	return s
}

// Processor returns a configured processor by name.
func (s *Service) Processor(name string) (Processor, bool) {
	p, ok := s.processors[name]
	return p, ok
}

// Payment is one row of the payment history.
type Payment struct {
	ID          int64
	Channel     string
	ExternalID  string
	AccountID   int64
	Amount      money.Amount
	Status      Status
	Reason      Reason // for failed card payments
	DeclineCode string
	Source      string
	LedgerTxnID int64
	Operator    string
	Memo        string
	PaidAt      time.Time // zero until paid
	CreatedAt   time.Time
}

// ReasonText is the subscriber-facing decline text's message ID and the
// processor's security phone to fill it with.
func (s *Service) ReasonText(p Payment) (messageID, phone string) {
	if p.Reason == ReasonNone {
		return "", ""
	}
	if proc, ok := s.processors[strings.TrimPrefix(p.Channel, "card:")]; ok {
		phone = proc.SecurityPhone()
	}
	return p.Reason.MessageID(), phone
}

const paymentCols = `id, channel, COALESCE(external_id, ''), account_id, amount, status, reason, decline_code, source,
	COALESCE(ledger_txn_id, 0), operator, memo, paid_at, created_at`

func scanPayment(row interface{ Scan(...any) error }) (Payment, error) {
	var p Payment
	var paid sql.NullTime
	err := row.Scan(&p.ID, &p.Channel, &p.ExternalID, &p.AccountID, &p.Amount, &p.Status, &p.Reason, &p.DeclineCode,
		&p.Source, &p.LedgerTxnID, &p.Operator, &p.Memo, &paid, &p.CreatedAt)
	if paid.Valid {
		p.PaidAt = paid.Time
	}
	return p, err
}

// Get returns the account's payment id: the portal's status page after the
// subscriber returns from the processor. Scoped by account, so that one
// subscriber cannot read another's payments.
func (s *Service) Get(ctx context.Context, accountID, id int64) (Payment, error) {
	p, err := scanPayment(s.db.QueryRow(ctx, `SELECT `+paymentCols+` FROM payments WHERE id = ? AND account_id = ?`, id, accountID))
	if errors.Is(err, sql.ErrNoRows) {
		return p, fmt.Errorf("payment %d of account %d: %w", id, accountID, derrors.NotFound)
	}
	if err != nil {
		return p, fmt.Errorf("payment %d: %w", id, err)
	}
	return p, nil
}

// History lists the account's payments, newest first.
func (s *Service) History(ctx context.Context, accountID int64, offset, limit int) ([]Payment, error) {
	if limit <= 0 {
		limit = 100
	}
	rows, err := s.db.Query(ctx, `SELECT `+paymentCols+` FROM payments WHERE account_id = ? ORDER BY created_at DESC, id DESC LIMIT ? OFFSET ?`,
		accountID, limit, max(offset, 0))
	if err != nil {
		return nil, fmt.Errorf("payments of account %d: %w", accountID, err)
	}
	defer rows.Close()
	var out []Payment
	for rows.Next() {
		p, err := scanPayment(rows)
		if err != nil {
			return nil, fmt.Errorf("payments of account %d: %w", accountID, err)
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

// CardPayments lists the account's card payments that went through (the
// ones a refund may concern), newest first, a page at a time, and how many
// there are in all.
func (s *Service) CardPayments(ctx context.Context, accountID int64, offset, limit int) ([]Payment, int, error) {
	const where = ` FROM payments WHERE account_id = ? AND channel LIKE ? AND status NOT IN (?, ?)`
	args := []any{accountID, CardChannel("%"), StatusPending, StatusFailed}
	var total int
	if err := s.db.QueryRow(ctx, `SELECT COUNT(*)`+where, args...).Scan(&total); err != nil {
		return nil, 0, fmt.Errorf("card payments of account %d: %w", accountID, err)
	}
	rows, err := s.db.Query(ctx, `SELECT `+paymentCols+where+` ORDER BY created_at DESC, id DESC LIMIT ? OFFSET ?`,
		append(args, max(limit, 1), max(offset, 0))...)
	if err != nil {
		return nil, 0, fmt.Errorf("card payments of account %d: %w", accountID, err)
	}
	defer rows.Close()
	var out []Payment
	for rows.Next() {
		p, err := scanPayment(rows)
		if err != nil {
			return nil, 0, fmt.Errorf("card payments of account %d: %w", accountID, err)
		}
		out = append(out, p)
	}
	return out, total, rows.Err()
}

// credit moves a payment's money onto the account inside tx through the
// billing package: the ledger transaction under the key (channel, external
// id), subscriber up and the channel's cash down, the debt limit lifted in
// the same transaction, and the event; then the bonus points. It returns the
// ledger transaction id.
func (s *Service) credit(ctx context.Context, tx *store.Tx, p Payment, now time.Time) (int64, error) {
	at := p.PaidAt
	if at.IsZero() || at.After(now) {
		// A bank's clock ahead of ours must not date money into the future.
		at = now
	}
	res, err := s.biller.Credit(ctx, tx, p.AccountID, p.Channel, p.ExternalID, p.Amount, p.Memo, at)
	if err != nil {
		return 0, fmt.Errorf("credit payment %d: %w", p.ID, err)
	}
	if res.Duplicate {
		// The payments row guards the key first; reaching here means the
		// ledger already holds it, so nothing may move again.
		return res.TxnID, nil
	}
	if err := s.accrueBonus(ctx, tx, []accrual{{p.AccountID, billing.PaymentKey(p.Channel, p.ExternalID), p.Amount}}, now); err != nil {
		return 0, err
	}
	return res.TxnID, nil
}

// recordOnce inserts a payment that arrives with its channel's id, unless
// (channel, external id) is already there, and credits it. A repeat returns
// the first payment with credited=false; the same id with another account or
// amount is errTxnConflict. Both come before anything is written.
func (s *Service) recordOnce(ctx context.Context, tx *store.Tx, p Payment, now time.Time) (Payment, bool, error) {
	id, inserted, err := insertPayment(ctx, tx, p, now)
	if err != nil {
		return p, false, err
	}
	if !inserted {
		first, err := paymentByExternal(ctx, tx, p.Channel, p.ExternalID)
		if err != nil {
			return p, false, fmt.Errorf("payment %s/%s: %w", p.Channel, p.ExternalID, err)
		}
		if first.AccountID != p.AccountID || first.Amount != p.Amount {
			return p, false, fmt.Errorf("%s id %s was %s to account %d, now %s to %d: %w",
				p.Channel, p.ExternalID, first.Amount, first.AccountID, p.Amount, p.AccountID, errTxnConflict)
		}
		return first, false, nil
	}
	p.ID = id
	if p.LedgerTxnID, err = s.credit(ctx, tx, p, now); err != nil {
		return p, false, err
	}
	if _, err := tx.Exec(ctx, `UPDATE payments SET ledger_txn_id = ? WHERE id = ?`, p.LedgerTxnID, id); err != nil {
		return p, false, fmt.Errorf("payment %d: %w", id, err)
	}
	return p, true, nil
}

// insertPayment inserts a row unless (channel, external id) exists; ok=false
// then. Both engines stop at the partial unique index without an error.
func insertPayment(ctx context.Context, tx *store.Tx, p Payment, now time.Time) (id int64, ok bool, err error) {
	err = tx.QueryRow(ctx, `INSERT INTO payments (`+insertCols+`) VALUES `+insertMarks+
		` ON CONFLICT (channel, external_id) WHERE external_id IS NOT NULL DO NOTHING RETURNING id`, insertArgs(p, now)...).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, fmt.Errorf("insert payment %s/%s: %w", p.Channel, p.ExternalID, err)
	}
	return id, true, nil
}

// insertNew inserts payments that must be new, each with its channel's id,
// in a statement per up to store.ChunkRows rows, and returns their ids in
// order.
func insertNew(ctx context.Context, tx *store.Tx, ps []Payment, now time.Time) ([]int64, error) {
	ids := make([]int64, 0, len(ps))
	for chunk := range slices.Chunk(ps, store.ChunkRows) {
		q := `INSERT INTO payments (` + insertCols + `) VALUES ` + strings.Repeat(insertMarks+", ", len(chunk)-1) + insertMarks +
			` ON CONFLICT (channel, external_id) WHERE external_id IS NOT NULL DO NOTHING RETURNING id, channel, external_id`
		var args []any
		for _, p := range chunk {
			args = append(args, insertArgs(p, now)...)
		}
		rows, err := tx.Query(ctx, q, args...)
		if err != nil {
			return nil, fmt.Errorf("insert payment %s/%s: %w", chunk[0].Channel, chunk[0].ExternalID, err)
		}
		got := map[[2]string]int64{}
		for rows.Next() {
			var id int64
			var ch, ext string
			if err := rows.Scan(&id, &ch, &ext); err != nil {
				rows.Close()
				return nil, fmt.Errorf("insert payment %s/%s: %w", chunk[0].Channel, chunk[0].ExternalID, err)
			}
			got[[2]string{ch, ext}] = id
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("insert payment %s/%s: %w", chunk[0].Channel, chunk[0].ExternalID, err)
		}
		for _, p := range chunk {
			id, ok := got[[2]string{p.Channel, p.ExternalID}]
			if !ok {
				// Only a damaged database has the payment without its money.
				return nil, fmt.Errorf("payment %s/%s exists without ledger transaction %d", p.Channel, p.ExternalID, p.LedgerTxnID)
			}
			ids = append(ids, id)
		}
	}
	return ids, nil
}

const (
	insertCols  = `channel, external_id, account_id, amount, status, reason, decline_code, source, operator, memo, paid_at, ledger_txn_id, created_at, updated_at`
	insertMarks = `(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`
)

func insertArgs(p Payment, now time.Time) []any {
	var ext, paid, txn any
	if p.ExternalID != "" {
		ext = p.ExternalID
	}
	if !p.PaidAt.IsZero() {
		paid = p.PaidAt.UTC()
	}
	if p.LedgerTxnID != 0 {
		txn = p.LedgerTxnID
	}
	return []any{p.Channel, ext, p.AccountID, int64(p.Amount), string(p.Status), string(p.Reason), p.DeclineCode, p.Source,
		p.Operator, p.Memo, paid, txn, now.UTC(), now.UTC()}
}

func paymentByExternal(ctx context.Context, tx *store.Tx, channel, ext string) (Payment, error) {
	return scanPayment(tx.QueryRow(ctx, `SELECT `+paymentCols+` FROM payments WHERE channel = ? AND external_id = ?`, channel, ext))
}
