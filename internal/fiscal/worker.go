package fiscal

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
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
	clock.EveryOr(ctx, every, q.wake, func(ctx context.Context) {
		if _, err := q.Process(ctx); err != nil {
			q.log.Error("fiscal receipts", "err", err)
		}
	})
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

// Process works through every due receipt: sends the queued, asks after
// the waiting. A refund receipt waits for its sale's. When the operator is
// away it stops until the backoff ends, rather than time out on each
// receipt. It returns how many receipts it finished.
func (q *Queue) Process(ctx context.Context) (done int, err error) {
	if q.op == nil {
		return 0, nil
	}
	for {
		now := q.clock.Now().UTC()
		rows, err := q.db.Query(ctx, `SELECT `+receiptCols+` FROM fiscal_receipts r WHERE status IN (?, ?) AND next_attempt_at <= ?
			AND (refund_of IS NULL OR EXISTS (SELECT 1 FROM fiscal_receipts s WHERE s.id = r.refund_of AND s.status = ?))
			ORDER BY next_attempt_at, id LIMIT 50`, StatusQueued, StatusWait, now, StatusDone)
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
		for _, r := range batch {
			ok, err := q.claim(ctx, r, now)
			if err != nil {
				return done, err
			}
			if !ok {
				continue
			}
			finished, away, err := q.step(ctx, r)
			if err != nil {
				return done, err
			}
			if finished {
				done++
			}
			if away {
				return done, nil
			}
		}
	}
}

func (q *Queue) claim(ctx context.Context, r Receipt, now time.Time) (bool, error) {
	var n int64
	err := q.db.Write(ctx, func(tx *store.Tx) error {
		res, err := tx.Exec(ctx, `UPDATE fiscal_receipts SET next_attempt_at = ? WHERE id = ? AND status = ? AND next_attempt_at <= ?`,
			now.Add(lease), r.ID, r.Status, now)
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	if err != nil {
		return false, fmt.Errorf("receipt %d: claim: %w", r.ID, err)
	}
	return n == 1, nil
}

// step moves one claimed receipt on. away is true when the operator could
// not be reached (the rest would fail the same way).
func (q *Queue) step(ctx context.Context, r Receipt) (finished, away bool, err error) {
	cctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	if r.Status == StatusQueued {
		uuid, err := q.op.Register(cctx, r)
		switch {
		case err == nil:
			return false, false, q.settle(ctx, r, `status = ?, uuid = ?, attempts = 0, next_attempt_at = ?, last_error = ''`,
				StatusWait, uuid, q.clock.Now().UTC().Add(pollDelay(1)))
		case errors.Is(err, ErrRejected):
			q.log.Warn("fiscal receipt refused", "receipt", r.ID, "kind", r.Kind, "err", err)
			return true, false, q.settle(ctx, r, `status = ?, attempts = attempts + 1, last_error = ?`, StatusFailed, truncate(err.Error()))
		default:
			q.log.Warn("fiscal data operator away; receipt retried later", "receipt", r.ID, "attempt", r.Attempts+1, "err", err)
			return false, true, q.settle(ctx, r, `attempts = attempts + 1, next_attempt_at = ?, last_error = ?`,
				q.clock.Now().UTC().Add(retryDelay(r.Attempts+1)), truncate(err.Error()))
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
		return true, false, q.settle(ctx, r, `status = ?, fn_number = ?, fiscal_document_number = ?, fiscal_document_attribute = ?,
			fiscal_receipt_number = ?, shift_number = ?, receipt_datetime = ?, ecr_registration_number = ?, fns_site = ?, check_url = ?,
			done_at = ?, last_error = ''`, StatusDone, res.FNNumber, res.FiscalDocumentNumber, res.FiscalDocumentAttribute,
			res.FiscalReceiptNumber, res.ShiftNumber, res.ReceiptDatetime, res.ECRRegistrationNumber, res.FNSSite, link, now)
	case err == nil:
		return false, false, q.settle(ctx, r, `attempts = attempts + 1, next_attempt_at = ?`, now.Add(pollDelay(r.Attempts+1)))
	case errors.Is(err, ErrRejected):
		q.log.Warn("fiscal receipt failed at the operator", "receipt", r.ID, "kind", r.Kind, "uuid", r.UUID, "err", err)
		return true, false, q.settle(ctx, r, `status = ?, attempts = attempts + 1, last_error = ?`, StatusFailed, truncate(err.Error()))
	default:
		q.log.Warn("fiscal data operator away; report asked again later", "receipt", r.ID, "attempt", r.Attempts+1, "err", err)
		return false, true, q.settle(ctx, r, `attempts = attempts + 1, next_attempt_at = ?, last_error = ?`,
			now.Add(retryDelay(r.Attempts+1)), truncate(err.Error()))
	}
}

// settle writes a step's outcome, unless an operator's resend changed the
// receipt meanwhile (its key then differs, or it is back in the queue).
func (q *Queue) settle(ctx context.Context, r Receipt, set string, args ...any) error {
	now := q.clock.Now().UTC()
	args = append(args, now, r.ID, r.ExternalID, r.Status)
	// The operator has answered: its answer is kept even if serve is
	// stopping meanwhile.
	ctx = context.WithoutCancel(ctx)
	err := q.db.Write(ctx, func(tx *store.Tx) error {
		_, err := tx.Exec(ctx, `UPDATE fiscal_receipts SET `+set+`, updated_at = ? WHERE id = ? AND external_id = ? AND status = ?`, args...)
		return err
	})
	if err != nil {
		return fmt.Errorf("receipt %d: %w", r.ID, err)
	}
	return nil
}

func truncate(s string) string {
	if len(s) > 500 {
		return s[:500]
	}
	return s
}
