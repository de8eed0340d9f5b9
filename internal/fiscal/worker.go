package fiscal

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/kabinet-billing/kabinet/internal/clock"
	"github.com/kabinet-billing/kabinet/internal/store"
)

// Run sends due receipts every interval, and at once when a payment queues
// one, until ctx ends; the round under way is finished first.
func (q *Queue) Run(ctx context.Context, every time.Duration) {
	if q.sandbox && q.op == nil {
		stop, err := q.startSandbox()
		if err != nil {
			q.log.Error("fiscal receipts are not sent", "err", err)
			return
		}
		defer stop()
	}
	if q.op == nil {
		return
	}
	q.resume(ctx)
	clock.EveryOr(ctx, every, q.wake, func(ctx context.Context) {
		if _, err := q.Process(ctx); err != nil {
			q.log.Error("fiscal receipts", "err", err)
		}
	})
}

// resume makes every unfinished receipt due at once when this process is
// the only one on the database (SQLite: one instance per file): a lease
// left by a process that died mid-send, or a backoff, is then no one's, and
// sending again is safe, since the operator answers a known external id
// with the document it made. On a shared database (PostgreSQL) a lease may
// be another live instance's, so it runs out instead.
func (q *Queue) resume(ctx context.Context) {
	if q.db.Shared() {
		return
	}
	now := q.clock.Now().UTC()
	var n int64
	err := q.db.Write(ctx, func(tx *store.Tx) error {
		res, err := tx.Exec(ctx, `UPDATE fiscal_receipts SET next_attempt_at = ? WHERE status IN (?, ?) AND next_attempt_at > ?`,
			now, StatusQueued, StatusWait, now)
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	if err != nil {
		q.log.Error("fiscal receipts: resuming the unfinished", "err", err)
		return
	}
	if n > 0 {
		q.log.Info("fiscal receipts: unfinished receipts resumed at start", "count", n)
	}
}

// lease keeps a receipt claimed while one instance talks to the operator
// about it; a crash in between retries after it.
const lease = 5 * time.Minute

// retryDelay is the wait after the nth try that got no answer: 10 s,
// doubling, at most an hour, so a fiscal service away for a night is
// retried through it.
func retryDelay(n int) time.Duration {
	return min(10*time.Second<<min(max(n-1, 0), 12), time.Hour)
}

// pollDelay is the wait before asking again for a document still being
// registered: 2 s, doubling, at most 10 minutes.
func pollDelay(n int) time.Duration {
	return min(2*time.Second<<min(max(n-1, 0), 12), 10*time.Minute)
}

// sendParallel is how many requests the worker has at the operator at
// once: one at a time, a thousand payments a second would queue receipts
// faster than they go out.
const sendParallel = 8

// batchSize is how many due receipts one round claims and settles, each
// in one transaction.
const batchSize = 200

// Process works through every due receipt: sends the queued, asks after
// the waiting. A refund receipt waits for its sale's. A round claims a
// batch in one transaction, talks to the operator about up to sendParallel
// of them at once, and writes the answers in one transaction. When the
// operator is away it stops until the backoff ends, rather than time out on
// each receipt. It returns how many receipts it finished.
func (q *Queue) Process(ctx context.Context) (done int, err error) {
	if q.op == nil {
		return 0, nil
	}
	for {
		now := q.clock.Now().UTC()
		rows, err := q.db.Query(ctx, `SELECT `+receiptCols+` FROM fiscal_receipts r WHERE status IN (?, ?) AND next_attempt_at <= ?
			AND (refund_of IS NULL OR EXISTS (SELECT 1 FROM fiscal_receipts s WHERE s.id = r.refund_of AND s.status = ?))
			ORDER BY next_attempt_at, id LIMIT ?`, StatusQueued, StatusWait, now, StatusDone, batchSize)
		if err != nil {
			return done, fmt.Errorf("receipts due: %w", err)
		}
		var batch []Receipt
		for rows.Next() {
			r, err := scanReceipt(rows)
			if err != nil {
				rows.Close()
				return done, fmt.Errorf("receipts due: %w", err)
			}
			batch = append(batch, r)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return done, err
		}
		if len(batch) == 0 {
			return done, nil
		}
		claimed, err := q.claim(ctx, batch, now)
		if err != nil {
			return done, err
		}
		outs := make([]outcome, len(claimed))
		var away atomic.Bool
		// The first goes alone: when the operator is away, one request
		// finds it out rather than sendParallel.
		if len(claimed) > 0 {
			outs[0] = q.step(ctx, claimed[0])
			away.Store(outs[0].away)
		}
		var wg sync.WaitGroup
		sem := make(chan struct{}, sendParallel)
		for i := 1; i < len(claimed) && !away.Load(); i++ {
			sem <- struct{}{}
			wg.Go(func() {
				defer func() { <-sem }()
				outs[i] = q.step(ctx, claimed[i])
				if outs[i].away {
					away.Store(true)
				}
			})
		}
		wg.Wait()
		if away.Load() {
			// The ones not tried wait as the one that found the operator away.
			for i := range outs {
				if outs[i].set == "" {
					outs[i] = outcome{set: `next_attempt_at = ?`, args: []any{q.clock.Now().UTC().Add(retryDelay(claimed[i].Attempts + 1))}}
				}
			}
		}
		if err := q.settle(ctx, claimed, outs); err != nil {
			return done, err
		}
		for _, o := range outs {
			if o.finished {
				done++
			}
		}
		if away.Load() {
			return done, nil
		}
	}
}

// claim takes the due receipts of batch for this worker for a lease, in
// one transaction, and returns those it got (another instance may have
// taken some).
func (q *Queue) claim(ctx context.Context, batch []Receipt, now time.Time) ([]Receipt, error) {
	var got []Receipt
	err := q.db.Write(ctx, func(tx *store.Tx) error {
		got = got[:0]
		for _, r := range batch {
			res, err := tx.Exec(ctx, `UPDATE fiscal_receipts SET next_attempt_at = ? WHERE id = ? AND status = ? AND next_attempt_at <= ?`,
				now.Add(lease), r.ID, r.Status, now)
			if err != nil {
				return fmt.Errorf("receipt %d: claim: %w", r.ID, err)
			}
			if n, _ := res.RowsAffected(); n == 1 {
				got = append(got, r)
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("claim receipts: %w", err)
	}
	return got, nil
}

// outcome is what one step learnt, written by settle: the columns to set
// and their values. A zero outcome (a receipt not tried) writes nothing.
type outcome struct {
	set            string
	args           []any
	finished, away bool
}

// step moves one claimed receipt on. away is true when the operator could
// not be reached (the rest would fail the same way).
func (q *Queue) step(ctx context.Context, r Receipt) outcome {
	cctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	if r.Status == StatusQueued {
		uuid, err := q.op.Register(cctx, r)
		switch {
		case err == nil:
			return outcome{set: `status = ?, uuid = ?, attempts = 0, next_attempt_at = ?, last_error = ''`,
				args: []any{StatusWait, uuid, q.clock.Now().UTC().Add(pollDelay(1))}}
		case errors.Is(err, ErrRejected):
			q.log.Warn("fiscal receipt refused", "receipt", r.ID, "kind", r.Kind, "err", err)
			return outcome{finished: true, set: `status = ?, attempts = attempts + 1, last_error = ?`, args: []any{StatusFailed, truncate(err.Error())}}
		default:
			q.log.Warn("fiscal data operator away; receipt retried later", "receipt", r.ID, "attempt", r.Attempts+1, "err", err)
			return outcome{away: true, set: `attempts = attempts + 1, next_attempt_at = ?, last_error = ?`,
				args: []any{q.clock.Now().UTC().Add(retryDelay(r.Attempts + 1)), truncate(err.Error())}}
		}
	}
	res, err := q.op.Report(cctx, r.UUID)
	now := q.clock.Now().UTC()
	switch {
	case err == nil && res.Done:
		link := res.CheckURL
		if link == "" && q.set.CheckURL != "" {
			link = strings.NewReplacer("{fn}", res.FNNumber, "{fd}", strconv.FormatInt(res.FiscalDocumentNumber, 10),
				"{fp}", res.FiscalDocumentAttribute).Replace(q.set.CheckURL)
		}
		return outcome{finished: true, set: `status = ?, fn_number = ?, fiscal_document_number = ?, fiscal_document_attribute = ?,
			fiscal_receipt_number = ?, shift_number = ?, receipt_datetime = ?, ecr_registration_number = ?, fns_site = ?, check_url = ?,
			done_at = ?, last_error = ''`, args: []any{StatusDone, res.FNNumber, res.FiscalDocumentNumber, res.FiscalDocumentAttribute,
			res.FiscalReceiptNumber, res.ShiftNumber, res.ReceiptDatetime, res.ECRRegistrationNumber, res.FNSSite, link, now}}
	case err == nil:
		return outcome{set: `attempts = attempts + 1, next_attempt_at = ?`, args: []any{now.Add(pollDelay(r.Attempts + 1))}}
	case errors.Is(err, ErrRejected):
		q.log.Warn("fiscal receipt failed at the operator", "receipt", r.ID, "kind", r.Kind, "uuid", r.UUID, "err", err)
		return outcome{finished: true, set: `status = ?, attempts = attempts + 1, last_error = ?`, args: []any{StatusFailed, truncate(err.Error())}}
	default:
		q.log.Warn("fiscal data operator away; report asked again later", "receipt", r.ID, "attempt", r.Attempts+1, "err", err)
		return outcome{away: true, set: `attempts = attempts + 1, next_attempt_at = ?, last_error = ?`,
			args: []any{now.Add(retryDelay(r.Attempts + 1)), truncate(err.Error())}}
	}
}

// settle writes the steps' outcomes in one transaction, each unless an
// operator's resend changed its receipt meanwhile (its key then differs,
// or it is back in the queue).
func (q *Queue) settle(ctx context.Context, rs []Receipt, outs []outcome) error {
	now := q.clock.Now().UTC()
	// The operator has answered: its answer is kept even if serve is
	// stopping meanwhile.
	ctx = context.WithoutCancel(ctx)
	err := q.db.Write(ctx, func(tx *store.Tx) error {
		for i, o := range outs {
			if o.set == "" {
				continue
			}
			r := rs[i]
			args := append(append([]any{}, o.args...), now, r.ID, r.ExternalID, r.Status)
			if _, err := tx.Exec(ctx, `UPDATE fiscal_receipts SET `+o.set+`, updated_at = ? WHERE id = ? AND external_id = ? AND status = ?`, args...); err != nil {
				return fmt.Errorf("receipt %d: %w", r.ID, err)
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("settle receipts: %w", err)
	}
	return nil
}

func truncate(s string) string {
	if len(s) > 500 {
		return s[:500]
	}
	return s
}
