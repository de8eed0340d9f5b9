package billing

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"net/netip"
	"sync/atomic"
	"time"

	"github.com/kabinet-billing/kabinet/internal/clock"
	"github.com/kabinet-billing/kabinet/internal/ledger"
	"github.com/kabinet-billing/kabinet/internal/money"
	"github.com/kabinet-billing/kabinet/internal/store"
)

// Rules are the provider's billing settings.
type Rules struct {
	Zone         *time.Location
	GraceMonths  int
	GraceDays    int
	LimitKbps    int64
	StaticIPPool netip.Prefix // addresses handed out with the static IP package
}

// DefaultRules: Moscow time, one month of grace, 128 kbit/s.
func DefaultRules() Rules {
	z, err := time.LoadLocation("Europe/Moscow")
	if err != nil {
		z = time.FixedZone("MSK", 3*3600)
	}
	return Rules{Zone: z, GraceMonths: 1, LimitKbps: 128, StaticIPPool: netip.MustParsePrefix("198.51.100.0/24")}
}

// Biller applies the rules of money to accounts.
type Biller struct {
	DB    *store.DB
	Clock clock.Clock
	Rules Rules
	// ChunkSize is how many accounts one billing transaction covers.
	ChunkSize int64
	// Hook, when set, is told of every payment credited or reversed, in
	// the same transaction (the fiscal receipts' queue).
	Hook PaymentHook

	cat atomic.Pointer[catalogue] // see Biller.catalogue
	// holdCleared is told, in the payment's transaction, that a payment
	// ended a promised payment's hold (see OnHoldCleared).
	holdCleared atomic.Pointer[HoldClearedFunc]
}

// New makes a Biller.
func New(db *store.DB, clk clock.Clock, r Rules) *Biller {
	if r.Zone == nil {
		r.Zone = DefaultRules().Zone
	}
	if !r.StaticIPPool.IsValid() {
		r.StaticIPPool = DefaultRules().StaticIPPool
	}
	return &Biller{DB: db, Clock: clk, Rules: r, ChunkSize: 20000}
}

// RunResult sums up a billing run.
type RunResult struct {
	Periods   []string
	Charges   int64
	Total     money.Amount // charged, as a positive amount
	Limited   int64
	Tariffs   int64 // scheduled tariff changes applied
	BoostsEnd int64
}

// Progress is told how many of total accounts a period has covered.
type Progress func(period string, done, total int64)

// Run charges everything due up to at: the fees of each month whose 1st is
// at or before at, for every period not charged yet (catch-up after
// downtime, dated to the 1st), then applies limits for overdue debt and ends
// expired boosts. Each charge has a unique key, so re-running, or two runs at
// once, charge nothing twice.
func (b *Biller) Run(ctx context.Context, at time.Time, progress Progress) (RunResult, error) {
	var res RunResult
	periods, err := b.duePeriods(ctx, at)
	if err != nil {
		return res, err
	}
	var minID, maxID int64
	if err := b.DB.QueryRow(ctx, `SELECT COALESCE(MIN(id), 0), COALESCE(MAX(id), 0) FROM accounts`).Scan(&minID, &maxID); err != nil {
		return res, fmt.Errorf("billing run: %w", err)
	}
	for _, p := range periods {
		res.Periods = append(res.Periods, p.Key)
		runID, err := b.startRun(ctx, p, at)
		if err != nil {
			return res, err
		}
		var pr RunResult
		for lo := minID; lo <= maxID && maxID > 0; lo += b.ChunkSize {
			hi := min(lo+b.ChunkSize-1, maxID)
			var cr RunResult
			err := b.DB.Write(ctx, func(tx *store.Tx) error {
				cr = RunResult{}
				return b.chargeChunk(ctx, tx, p, at, lo, hi, &cr)
			})
			if err != nil {
				return res, fmt.Errorf("billing %s accounts %d–%d: %w", p.Key, lo, hi, err)
			}
			pr.Charges += cr.Charges
			pr.Total += cr.Total
			pr.Limited += cr.Limited
			pr.Tariffs += cr.Tariffs
			if progress != nil {
				progress(p.Key, hi-minID+1, maxID-minID+1)
			}
		}
		if err := b.DB.Write(ctx, func(tx *store.Tx) error {
			_, err := tx.Exec(ctx, `UPDATE billing_runs SET finished_at = ?, charges = ?, total = ?, limited = ? WHERE id = ?`,
				b.Clock.Now().UTC(), pr.Charges, int64(pr.Total), pr.Limited, runID)
			return err
		}); err != nil {
			return res, fmt.Errorf("billing %s: %w", p.Key, err)
		}
		res.Charges += pr.Charges
		res.Total += pr.Total
		res.Limited += pr.Limited
		res.Tariffs += pr.Tariffs
	}
	n, err := b.ApplyLimits(ctx, at)
	if err != nil {
		return res, err
	}
	res.Limited += n
	if res.BoostsEnd, err = b.EndBoosts(ctx, at); err != nil {
		return res, err
	}
	return res, nil
}

// duePeriods are the months from the first not yet fully billed to the one
// containing at.
func (b *Biller) duePeriods(ctx context.Context, at time.Time) ([]Period, error) {
	var last string
	if err := b.DB.QueryRow(ctx, `SELECT COALESCE(MAX(period), '') FROM billing_runs WHERE finished_at IS NOT NULL`).Scan(&last); err != nil {
		return nil, fmt.Errorf("billing periods: %w", err)
	}
	var first Period
	if last != "" {
		p, err := ParsePeriod(last, b.Rules.Zone)
		if err != nil {
			return nil, err
		}
		// Accounts and packages added after a period's run were charged
		// for it when they were connected, under the same keys.
		first = p.Next()
	} else {
		var oldest store.Time
		var n int64
		if err := b.DB.QueryRow(ctx, `SELECT COUNT(*) FROM accounts`).Scan(&n); err != nil {
			return nil, fmt.Errorf("billing periods: %w", err)
		}
		if n == 0 {
			return nil, nil
		}
		if err := b.DB.QueryRow(ctx, `SELECT MIN(created_at) FROM accounts`).Scan(&oldest); err != nil {
			return nil, fmt.Errorf("billing periods: %w", err)
		}
		first = PeriodOf(oldest.Time, b.Rules.Zone)
	}
	var out []Period
	for p := first; !p.Start.After(at); p = p.Next() {
		out = append(out, p)
	}
	return out, nil
}

func (b *Biller) startRun(ctx context.Context, p Period, at time.Time) (int64, error) {
	var id int64
	err := b.DB.Write(ctx, func(tx *store.Tx) error {
		return tx.QueryRow(ctx, `INSERT INTO billing_runs (at, period, started_at) VALUES (?, ?, ?) RETURNING id`,
			at.UTC(), p.Key, b.Clock.Now().UTC()).Scan(&id)
	})
	if err != nil {
		return 0, fmt.Errorf("billing %s: %w", p.Key, err)
	}
	return id, nil
}

func batchBase() int64 {
	var buf [8]byte
	rand.Read(buf[:])
	// Positive, with the low 4 bits free for the kinds within a chunk.
	return int64(binary.BigEndian.Uint64(buf[:])>>2) &^ 15
}

// chargeKinds: the tariff and each package kind, so that each batch of charges
// credits one revenue account.
var chargeKinds = []string{"tariff", PackageTV, PackageAntivirus, PackageStaticIP, PackageBoost, PackageOther}

// chargeChunk bills accounts lo..hi for period p in set-based statements:
// scheduled tariff changes, charges with unique keys (ON CONFLICT DO NOTHING
// makes re-runs free), their postings, the balances, debt start and limits.
// A month whose 1st falls inside a voluntary suspension is not charged the
// tariff's fee (see Freeze and Thaw); the packages of a suspended account
// are charged as usual.
func (b *Biller) chargeChunk(ctx context.Context, tx *store.Tx, p Period, at time.Time, lo, hi int64, res *RunResult) error {
	start := p.Start.UTC()
	now := b.Clock.Now().UTC()

	// Tariff changes scheduled for this 1st or earlier.
	rows, err := tx.Query(ctx, `SELECT id, tariff_id, next_tariff_id FROM accounts WHERE id BETWEEN ? AND ? AND next_tariff_id IS NOT NULL AND next_tariff_at <= ?`, lo, hi, start)
	if err != nil {
		return err
	}
	type change struct{ acct, from, to int64 }
	var changes []change
	for rows.Next() {
		var c change
		if err := rows.Scan(&c.acct, &c.from, &c.to); err != nil {
			rows.Close()
			return err
		}
		changes = append(changes, c)
	}
	rows.Close()
	for _, c := range changes {
		if _, err := tx.Exec(ctx, `UPDATE accounts SET tariff_id = next_tariff_id, next_tariff_id = NULL, next_tariff_at = NULL, updated_at = ? WHERE id = ?`, now, c.acct); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO tariff_changes (account_id, from_tariff_id, to_tariff_id, requested_at, effective_at) VALUES (?, ?, ?, ?, ?)`, c.acct, c.from, c.to, now, start); err != nil {
			return err
		}
		if err := tx.Emit(ctx, store.Event{Kind: store.EventTariffChanged, AccountID: c.acct, At: now}); err != nil {
			return err
		}
		res.Tariffs++
	}

	base := batchBase()
	for i, kind := range chargeKinds {
		batch := base + int64(i)
		var r interface{ RowsAffected() (int64, error) }
		if kind == "tariff" {
			r, err = tx.Exec(ctx, `INSERT INTO ledger_txns (key, kind, account_id, amount, service, period, memo, effective_at, created_at, batch)
				SELECT 'fee:' || a.id || ':tariff:' || ?::text, 'charge', a.id, -t.fee, t.code, ?::text, '', ?::timestamptz, ?::timestamptz, ?::bigint
				FROM accounts a JOIN tariffs t ON t.id = a.tariff_id
				WHERE a.id BETWEEN ? AND ? AND a.status IN ('active', 'limited') AND a.created_at < ? AND t.fee > 0
				  AND NOT EXISTS (SELECT 1 FROM suspensions u WHERE u.account_id = a.id AND u.state <> 'cancelled'
				                  AND u.starts_at <= ? AND u.ends_at > ?)
				ON CONFLICT (key) DO NOTHING`,
				p.Key, p.Key, start, now, batch, lo, hi, p.End.UTC(), start, start)
		} else {
			r, err = tx.Exec(ctx, `INSERT INTO ledger_txns (key, kind, account_id, amount, service, period, memo, effective_at, created_at, batch)
				SELECT 'fee:' || s.account_id || ':pkg:' || s.id || ':' || ?::text, 'charge', s.account_id, -k.price, k.code, ?::text, '', ?::timestamptz, ?::timestamptz, ?::bigint
				FROM subscriptions s JOIN packages k ON k.id = s.package_id JOIN accounts a ON a.id = s.account_id
				WHERE s.account_id BETWEEN ? AND ? AND k.kind = ? AND k.pricing = 'monthly' AND k.price > 0
				  AND (a.status IN ('active', 'limited') OR EXISTS (SELECT 1 FROM suspensions u WHERE u.account_id = a.id AND u.state = 'active'))
				  AND s.started_at < ? AND (s.ended_at IS NULL OR s.ended_at > ?)
				ON CONFLICT (key) DO NOTHING`,
				p.Key, p.Key, start, now, batch, lo, hi, kind, p.End.UTC(), start)
		}
		if err != nil {
			return fmt.Errorf("charge %s: %w", kind, err)
		}
		n, _ := r.RowsAffected()
		if n == 0 {
			continue
		}
		res.Charges += n
		rev, err := ledger.Account(ctx, tx, ledger.RevenueCode(kind), ledger.KindRevenue)
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO postings (txn_id, ledger_account_id, amount)
			SELECT t.id, a.ledger_id, t.amount FROM ledger_txns t JOIN accounts a ON a.id = t.account_id WHERE t.batch = ?`, batch); err != nil {
			return fmt.Errorf("charge %s postings: %w", kind, err)
		}
		if _, err := tx.Exec(ctx, `INSERT INTO postings (txn_id, ledger_account_id, amount)
			SELECT t.id, ?::bigint, -t.amount FROM ledger_txns t WHERE t.batch = ?`, rev, batch); err != nil {
			return fmt.Errorf("charge %s postings: %w", kind, err)
		}
	}
	if res.Charges > 0 {
		var total int64
		if err := tx.QueryRow(ctx, `SELECT COALESCE(SUM(amount), 0) FROM ledger_txns WHERE batch BETWEEN ? AND ?`, base, base+15).Scan(&total); err != nil {
			return err
		}
		res.Total = money.Amount(-total)
		if _, err := tx.Exec(ctx, `UPDATE ledger_accounts SET balance = ledger_accounts.balance + d.s
			FROM (SELECT p.ledger_account_id AS lid, SUM(p.amount) AS s FROM postings p JOIN ledger_txns t ON t.id = p.txn_id
			      WHERE t.batch BETWEEN ? AND ? GROUP BY p.ledger_account_id) AS d
			WHERE ledger_accounts.id = d.lid`, base, base+15); err != nil {
			return fmt.Errorf("balances: %w", err)
		}
		// Debt begins on the 1st for those the charge took below zero.
		if _, err := tx.Exec(ctx, `UPDATE accounts SET debt_since = ? WHERE id BETWEEN ? AND ? AND debt_since IS NULL
			AND (SELECT balance FROM ledger_accounts l WHERE l.id = accounts.ledger_id) < 0`, start, lo, hi); err != nil {
			return fmt.Errorf("debt: %w", err)
		}
	}
	n, err := b.limitRange(ctx, tx, start, lo, hi)
	res.Limited += n
	return err
}

// limitRange limits accounts lo..hi whose debt is overdue at t.
// hi 0 means every account, with no id range in the query: a range would
// steer SQLite's planner away from the index on (status, debt_since).
func (b *Biller) limitRange(ctx context.Context, tx *store.Tx, t time.Time, lo, hi int64) (int64, error) {
	where, args := "", []any{t.UTC(), b.Clock.Now().UTC()}
	if hi != 0 {
		where, args = "id BETWEEN ? AND ? AND ", append(args, lo, hi)
	}
	ids, err := store.IDs(tx.Query(ctx, `UPDATE accounts SET status = 'limited', limited_since = ?, updated_at = ?
		WHERE `+where+`status = 'active' AND debt_since IS NOT NULL AND debt_since <= ?
		AND (promised_until IS NULL OR promised_until <= ?)
		AND (SELECT balance FROM ledger_accounts l WHERE l.id = accounts.ledger_id) < 0 RETURNING id`,
		append(args, b.Rules.graceStart(t).UTC(), t.UTC())...))
	if err != nil {
		return 0, fmt.Errorf("limits: %w", err)
	}
	for _, id := range ids {
		if err := tx.Emit(ctx, store.Event{Kind: store.EventAccountLimited, AccountID: id, At: t,
			Data: map[string]string{"limit_kbps": fmt.Sprint(b.Rules.LimitKbps)}}); err != nil {
			return 0, err
		}
	}
	return int64(len(ids)), nil
}

// ApplyLimits limits every account whose debt is overdue at at. The
// scheduler runs it between billing runs, since debt that began mid-month
// becomes overdue mid-month.
func (b *Biller) ApplyLimits(ctx context.Context, at time.Time) (int64, error) {
	// One statement over all accounts: the scheduler calls this every
	// minute, and the index on debt_since (migration 00003) keeps it to the
	// accounts in debt rather than a pass over every account.
	var n int64
	err := b.DB.Write(ctx, func(tx *store.Tx) error {
		var err error
		n, err = b.limitRange(ctx, tx, at, 0, 0)
		return err
	})
	return n, err
}
