package payment

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"time"

	"github.com/kabinet-billing/kabinet/internal/billing"
	"github.com/kabinet-billing/kabinet/internal/derrors"
	"github.com/kabinet-billing/kabinet/internal/money"
	"github.com/kabinet-billing/kabinet/internal/store"
)

// CallbackPath is where a processor's callbacks arrive; the web layer mounts
// CallbackHandler there for each processor (see Service.Routes).
func CallbackPath(processor string) string { return "/pay/card/" + processor + "/callback" }

// CardStart asks to start a card payment.
type CardStart struct {
	AccountID int64
	Amount    money.Amount
	Processor string // a configured processor's name
	Lang      string
	// ReturnURL is where the browser comes back, success or not; "{id}" in
	// it becomes the payment id. The page there shows the payment's status
	// (Get), because only the callback decides it.
	ReturnURL string
	// SaveMethod: the subscriber asked to remember the card for autopay.
	// Its paid callback stores the method the processor returns.
	// Method is MethodCard (the default) or MethodSBP, where the processor
	// offers it (MethodsOf).
	Method     string
	SaveMethod bool
}

// ErrBadAmount means an amount a payment cannot have.
var ErrBadAmount error = derrors.New(derrors.Invalid, "amount", "the amount must be positive")

// StartCard records a pending card payment and returns it with the
// processor's page address to redirect the subscriber to.
func (s *Service) StartCard(ctx context.Context, in CardStart) (Payment, string, error) {
	in.Method = MethodCard
	p, c, err := s.Start(ctx, in)
	return p, c.URL, err
}

// callbackBase is the address processors call back: the configured public
// URL, or else the origin the subscriber's browser used (the portal's return
// URL), so that an installation without public_url still works behind the
// name it is reached by.
func (s *Service) callbackBase(returnURL string) (string, error) {
	if s.opts.PublicURL != "" {
		return s.opts.PublicURL, nil
	}
	u, err := url.Parse(returnURL)
	if err != nil || u.Scheme == "" || u.Host == "" {
		return "", fmt.Errorf("neither public_url nor an absolute return URL says where the processor's callback can reach Kabinet")
	}
	return u.Scheme + "://" + u.Host, nil
}

// ApplyCardCallback records a verified callback. The rules, each of which a
// forged, replayed or reordered callback meets:
//   - a payment Kabinet did not start on this processor: ErrUnknownPayment;
//   - an amount other than the payment's: ErrAmountMismatch;
//   - a processor transaction already bound to another payment (a callback
//     replayed with another payment id): refused;
//   - paid: credited once; a repeat finds the payment succeeded and moves nothing;
//   - declined: a pending payment fails with the reason; a decline arriving
//     after success (reordered) never takes money back;
//   - refund or chargeback: logged for an operator, nothing moves.
//
// Concurrent callbacks commit together (see groupCommit): at a thousand
// notifications a second the disk flush of each commit, not the work, is
// what limits them.
func (s *Service) ApplyCardCallback(ctx context.Context, processor string, cb Callback) error {
	j := &cardJob{processor: processor, cb: cb, done: make(chan struct{})}
	s.cards.add(j, s.cardBatch)
	<-j.done
	return j.err
}

// applyCallback is ApplyCardCallback inside tx. Its refusals (cardRefusal)
// come before it writes anything, so the other callbacks of a batch stand.
func (s *Service) applyCallback(ctx context.Context, tx *store.Tx, processor string, cb Callback, now time.Time) error {
	p, err := s.checkCallback(ctx, tx, processor, cb)
	if err != nil {
		return err
	}
	switch cb.Outcome {
	case OutcomePaid:
		if p.Status == StatusSucceeded || p.Status == StatusReversed {
			return nil // a repeat: the first callback's result stands
		}
		return s.creditCallbacks(ctx, tx, []paidCallback{{processor, cb, p}}, now)
	case OutcomeDeclined:
		if p.Status != StatusPending {
			return nil
		}
		_, err := tx.Exec(ctx, `UPDATE payments SET status = ?, reason = ?, decline_code = ?, updated_at = ? WHERE id = ?`,
			string(StatusFailed), string(cb.Reason), cb.DeclineCode, now.UTC(), p.ID)
		if err != nil {
			return fmt.Errorf("payment %d: %w", p.ID, err)
		}
		if err := s.afterCallback(ctx, tx, p, processor, cb, now); err != nil {
			return err
		}
	case OutcomeReversed:
		if cb.RefundRef != "" {
			done, err := s.refundConfirmed(ctx, tx, p, cb.RefundRef, now)
			if err != nil || done {
				return err
			}
		}
		s.log.Warn("card payment refunded or charged back at the processor: an operator must reverse it",
			"payment", p.ID, "account", p.AccountID, "amount", p.Amount, "transaction", cb.ExternalID)
	}
	return nil
}

// paidCallback is a paid callback checked against its pending payment.
type paidCallback struct {
	processor string
	cb        Callback
	p         Payment
}

// creditCallbacks credits paid callbacks of pending payments (each payment
// once, checked by checkCallback) together: the ledger transactions, the
// debt settled once per account, the events, receipts and bonus points in a
// statement per chunk, as banks' pays are credited; then each payment row
// and its saved method.
func (s *Service) creditCallbacks(ctx context.Context, tx *store.Tx, paid []paidCallback, now time.Time) error {
	pays := make([]billing.Payment, len(paid))
	for i, pc := range paid {
		pays[i] = billing.Payment{AccountID: pc.p.AccountID, Channel: pc.p.Channel, ExternalID: pc.cb.ExternalID, Amount: pc.p.Amount, Memo: pc.p.Memo, At: now}
	}
	rs, err := s.biller.CreditMany(ctx, tx, pays, now)
	if err != nil {
		return fmt.Errorf("credit payment %d: %w", paid[0].p.ID, err)
	}
	var bonus []accrual
	for i, pc := range paid {
		// A duplicate means the ledger already holds the key: nothing moves
		// again, and the payment row takes the first transaction.
		if !rs[i].Duplicate {
			bonus = append(bonus, accrual{pc.p.AccountID, billing.PaymentKey(pc.p.Channel, pc.cb.ExternalID), pc.p.Amount})
		}
	}
	if err := s.accrueBonus(ctx, tx, bonus, now); err != nil {
		return err
	}
	for i, pc := range paid {
		p, cb := pc.p, pc.cb
		p.ExternalID, p.PaidAt, p.LedgerTxnID, p.Status = cb.ExternalID, now, rs[i].TxnID, StatusSucceeded
		_, err = tx.Exec(ctx, `UPDATE payments SET status = ?, external_id = ?, ledger_txn_id = ?, reason = '', decline_code = '', paid_at = ?, updated_at = ? WHERE id = ?`,
			string(StatusSucceeded), cb.ExternalID, p.LedgerTxnID, now.UTC(), now.UTC(), p.ID)
		if err != nil {
			return fmt.Errorf("payment %d: %w", p.ID, err)
		}
		s.log.Info("card payment credited", "payment", p.ID, "account", p.AccountID, "amount", p.Amount, "transaction", cb.ExternalID)
		if err := s.afterCallback(ctx, tx, p, pc.processor, cb, now); err != nil {
			return err
		}
	}
	return nil
}

// checkCallback reads the callback's payment, locked, and checks the
// callback against it; every refusal comes before anything is written.
func (s *Service) checkCallback(ctx context.Context, tx *store.Tx, processor string, cb Callback) (Payment, error) {
	channel := CardChannel(processor)
	// Locked on PostgreSQL: two instances taking two callbacks of one
	// payment must see each other's result, not both its pending state.
	p, err := scanPayment(tx.QueryRow(ctx, `SELECT `+paymentCols+` FROM payments WHERE id = ? AND channel = ?`+tx.ForUpdate(), cb.PaymentID, channel))
	if errors.Is(err, sql.ErrNoRows) {
		return p, fmt.Errorf("payment %d on %s: %w", cb.PaymentID, channel, ErrUnknownPayment)
	}
	if err != nil {
		return p, fmt.Errorf("payment %d: %w", cb.PaymentID, err)
	}
	if cb.Amount != p.Amount {
		return p, fmt.Errorf("payment %d of %s, callback says %s: %w", p.ID, p.Amount, cb.Amount, ErrAmountMismatch)
	}
	if p.ExternalID != "" && p.ExternalID != cb.ExternalID && p.Status == StatusSucceeded {
		// A second processor transaction for a paid payment: the card may
		// have been charged twice. Crediting it would hide that; refuse so
		// that an operator sees it in the log and refunds.
		return p, fmt.Errorf("payment %d already paid by transaction %s, not %s: %w", p.ID, p.ExternalID, cb.ExternalID, ErrBadCallback)
	}
	var other int64
	err = tx.QueryRow(ctx, `SELECT id FROM payments WHERE channel = ? AND external_id = ? AND id <> ?`, channel, cb.ExternalID, p.ID).Scan(&other)
	if err == nil {
		return p, fmt.Errorf("transaction %s belongs to payment %d, not %d: %w", cb.ExternalID, other, p.ID, ErrBadCallback)
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return p, fmt.Errorf("payment %d: %w", p.ID, err)
	}
	return p, nil
}

// cardRefusal tells whether err refuses one callback on its own merits,
// before anything was written.
func cardRefusal(err error) bool {
	return errors.Is(err, ErrUnknownPayment) || errors.Is(err, ErrAmountMismatch) || errors.Is(err, ErrBadCallback)
}

// cardJob is one card callback waiting for its batch (see groupCommit).
type cardJob struct {
	processor string
	cb        Callback
	err       error
	done      chan struct{}
}

// cardBatch applies a batch in one transaction, in payment id order (so
// that instances sharing PostgreSQL lock rows in one order). The batch is
// no one request's: a processor hanging up must not roll back the others.
// When the transaction fails, each callback is applied again alone, so
// that one the database refuses does not fail the others with it.
func (s *Service) cardBatch(batch []*cardJob) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	slices.SortStableFunc(batch, func(a, b *cardJob) int { return cmp.Compare(a.cb.PaymentID, b.cb.PaymentID) })
	apply := func(jobs []*cardJob) error {
		now := s.clock.Now()
		return s.db.Write(ctx, func(tx *store.Tx) error {
			return s.applyBatch(ctx, tx, jobs, now)
		})
	}
	if err := apply(batch); err != nil {
		if len(batch) == 1 {
			batch[0].err = err
		} else {
			for _, j := range batch {
				if err := apply([]*cardJob{j}); err != nil {
					j.err = err
				}
			}
		}
	}
	for _, j := range batch {
		close(j.done)
	}
}

// PendingTimeout is how long a card payment waits for its callback before
// the history calls it failed. A subscriber who closed the processor's page
// never gets one; a callback that still arrives later credits the payment.
const PendingTimeout = 24 * time.Hour

// ExpirePending marks card payments pending since before now−PendingTimeout
// as failed, and says how many.
func (s *Service) ExpirePending(ctx context.Context) (int64, error) {
	now := s.clock.Now()
	var n int64
	err := s.db.Write(ctx, func(tx *store.Tx) error {
		res, err := tx.Exec(ctx, `UPDATE payments SET status = ?, updated_at = ? WHERE status = ? AND external_id IS NULL AND created_at < ?`,
			string(StatusFailed), now.UTC(), string(StatusPending), now.Add(-PendingTimeout).UTC())
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("expire pending card payments: %w", err)
	}
	return n, nil
}

// applyBatch applies a batch's callbacks in tx: each is checked, those
// that credit a pending payment are credited together (creditCallbacks),
// the others applied one by one. A callback repeated within the batch is a
// repeat; another transaction for a payment paid in the batch, or one
// transaction for two payments, is refused as it would be one after the
// other.
func (s *Service) applyBatch(ctx context.Context, tx *store.Tx, jobs []*cardJob, now time.Time) error {
	var paid []paidCallback
	byPayment := map[int64]string{} // payment → the transaction paying it in this batch
	byTxn := map[string]int64{}     // channel and transaction → the payment it pays
	for _, j := range jobs {
		j.err = nil
		if j.cb.Outcome != OutcomePaid {
			if j.err = s.applyCallback(ctx, tx, j.processor, j.cb, now); j.err != nil && !cardRefusal(j.err) {
				return j.err
			}
			continue
		}
		p, err := s.checkCallback(ctx, tx, j.processor, j.cb)
		if err != nil {
			if j.err = err; !cardRefusal(err) {
				return err
			}
			continue
		}
		txn := CardChannel(j.processor) + " " + j.cb.ExternalID
		if ext, ok := byPayment[p.ID]; ok {
			if ext != j.cb.ExternalID {
				j.err = fmt.Errorf("payment %d already paid by transaction %s, not %s: %w", p.ID, ext, j.cb.ExternalID, ErrBadCallback)
			}
			continue
		}
		if other, ok := byTxn[txn]; ok {
			j.err = fmt.Errorf("transaction %s belongs to payment %d, not %d: %w", j.cb.ExternalID, other, p.ID, ErrBadCallback)
			continue
		}
		if p.Status == StatusSucceeded || p.Status == StatusReversed {
			continue // a repeat: the first callback's result stands
		}
		byPayment[p.ID], byTxn[txn] = j.cb.ExternalID, p.ID
		paid = append(paid, paidCallback{j.processor, j.cb, p})
	}
	if len(paid) == 0 {
		return nil
	}
	return s.creditCallbacks(ctx, tx, paid, now)
}
