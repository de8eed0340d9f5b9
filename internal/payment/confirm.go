package payment

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/kabinet-billing/kabinet/internal/billing"
	"github.com/kabinet-billing/kabinet/internal/derrors"
	"github.com/kabinet-billing/kabinet/internal/store"
)

// Start records a pending payment by card or SBP and asks the processor to
// create it; the Confirmation says where the subscriber goes (the card
// page) or what they scan (the SBP QR code). A processor that cannot be
// reached leaves the payment failed with "try later", never pending for a day.
func (s *Service) Start(ctx context.Context, in CardStart) (Payment, Confirmation, error) {
	proc, ok := s.processors[in.Processor]
	if !ok {
		return Payment{}, Confirmation{}, fmt.Errorf("start payment: processor %q is not configured", in.Processor)
	}
	if in.Method == "" {
		in.Method = MethodCard
	}
	if !slices.Contains(MethodsOf(proc), in.Method) {
		return Payment{}, Confirmation{}, fmt.Errorf("start payment by %s at %s: %w", in.Method, proc.Name(), ErrMethodUnsupported)
	}
	if in.Amount <= 0 {
		return Payment{}, Confirmation{}, fmt.Errorf("start payment of %s: %w", in.Amount, ErrBadAmount)
	}
	now := s.clock.Now()
	p := Payment{Channel: CardChannel(proc.Name()), AccountID: in.AccountID, Amount: in.Amount, Status: StatusPending, Source: SourceOnline, CreatedAt: now}
	var contact billing.Contact
	err := s.db.Write(ctx, func(tx *store.Tx) error {
		c, err := billing.ContactOf(ctx, tx, in.AccountID)
		if err != nil {
			return err
		}
		contact = c
		id, _, err := insertPayment(ctx, tx, p, now)
		p.ID = id
		if err == nil && in.SaveMethod {
			err = requestSave(ctx, tx, id)
		}
		return err
	})
	if err != nil {
		return Payment{}, Confirmation{}, fmt.Errorf("start payment: %w", err)
	}
	ret := strings.ReplaceAll(in.ReturnURL, "{id}", strconv.FormatInt(p.ID, 10))
	base, err := s.callbackBase(in.ReturnURL)
	if err != nil {
		return Payment{}, Confirmation{}, fmt.Errorf("start payment %d: %w", p.ID, err)
	}
	cp := CardPayment{
		ID: p.ID, AccountID: in.AccountID, Account: contact.ContractNo, Email: contact.Email, Phone: contact.Phone, Amount: in.Amount, Lang: in.Lang,
		CallbackURL: base + CallbackPath(proc.Name()), SuccessURL: ret, DeclineURL: ret, SaveMethod: in.SaveMethod,
	}
	var c Confirmation
	if mp, ok := proc.(MethodProcessor); ok {
		c, err = mp.StartMethod(ctx, cp, in.Method)
	} else {
		c.Method = MethodCard
		c.URL, err = proc.Start(ctx, cp)
	}
	if err != nil {
		s.abandon(context.WithoutCancel(ctx), p.ID)
		return p, c, fmt.Errorf("start payment %d: %w", p.ID, err)
	}
	if c.Ref != "" || c.QR != "" {
		err = s.db.Write(ctx, func(tx *store.Tx) error {
			_, err := tx.Exec(ctx, `INSERT INTO payment_confirmations (payment_id, method, processor_ref, confirmation_url, qr_data, created_at) VALUES (?, ?, ?, ?, ?, ?)`,
				p.ID, c.Method, c.Ref, c.URL, c.QR, now.UTC())
			return err
		})
		if err != nil {
			return p, c, fmt.Errorf("start payment %d: %w", p.ID, err)
		}
	}
	return p, c, nil
}

// abandon fails a payment the processor never created: nothing can pay it.
func (s *Service) abandon(ctx context.Context, id int64) {
	now := s.clock.Now()
	err := s.db.Write(ctx, func(tx *store.Tx) error {
		_, err := tx.Exec(ctx, `UPDATE payments SET status = ?, reason = ?, updated_at = ? WHERE id = ? AND status = ?`,
			string(StatusFailed), string(ReasonTryLater), now.UTC(), id, string(StatusPending))
		return err
	})
	if err != nil {
		s.log.Error("payment: marking a payment the processor refused as failed", "payment", id, "err", err)
	}
}

// Confirmation returns how the account's payment id is confirmed: the SBP
// QR code's data for the page that draws it. A payment without one (a card
// at a redirect-only processor) is derrors.NotFound.
func (s *Service) Confirmation(ctx context.Context, accountID, id int64) (Confirmation, error) {
	var c Confirmation
	err := s.db.QueryRow(ctx, `SELECT c.method, c.processor_ref, c.confirmation_url, c.qr_data FROM payment_confirmations c
		JOIN payments p ON p.id = c.payment_id WHERE c.payment_id = ? AND p.account_id = ?`, id, accountID).Scan(&c.Method, &c.Ref, &c.URL, &c.QR)
	if errors.Is(err, sql.ErrNoRows) {
		return c, fmt.Errorf("confirmation of payment %d: %w", id, derrors.NotFound)
	}
	if err != nil {
		return c, fmt.Errorf("confirmation of payment %d: %w", id, err)
	}
	return c, nil
}

// checkEvery is how often one pending payment's state is asked of the
// processor, however often its page polls.
const checkEvery = 3 * time.Second

type checkTimes struct {
	mu   sync.Mutex
	last map[int64]time.Time
}

func (c *checkTimes) due(id int64, now time.Time) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.last == nil {
		c.last = map[int64]time.Time{}
	}
	if t, ok := c.last[id]; ok && now.Sub(t) < checkEvery {
		return false
	}
	// Forget old entries so that the map stays small.
	for k, t := range c.last {
		if now.Sub(t) > time.Hour {
			delete(c.last, k)
		}
	}
	c.last[id] = now
	return true
}

// Refresh returns the account's payment id like Get, first asking the
// processor about a pending one (at most every few seconds), so that the
// page the subscriber comes back to shows the result as soon as the
// processor knows it instead of waiting for its notification. A processor
// that cannot be reached leaves the payment as it is.
func (s *Service) Refresh(ctx context.Context, accountID, id int64) (Payment, error) {
	p, err := s.Get(ctx, accountID, id)
	if err != nil || p.Status != StatusPending {
		return p, err
	}
	proc, ok := s.processors[strings.TrimPrefix(p.Channel, "card:")]
	checker, can := proc.(Checker)
	if !ok || !can || !s.checks.due(id, s.clock.Now()) {
		return p, nil
	}
	c, err := s.Confirmation(ctx, accountID, id)
	if err != nil || c.Ref == "" {
		return p, nil
	}
	cb, err := checker.Check(ctx, c.Ref)
	if err != nil {
		s.log.Warn("payment: asking the processor about a pending payment", "payment", id, "processor", proc.Name(), "err", err)
		return p, nil
	}
	if cb.Outcome == "" {
		return p, nil
	}
	if cb.PaymentID != id {
		s.log.Warn("payment: the processor's payment names another Kabinet payment", "payment", id, "ref", c.Ref, "names", cb.PaymentID)
		return p, nil
	}
	if err := s.ApplyCardCallback(ctx, proc.Name(), cb); err != nil {
		s.log.Warn("payment: applying the processor's answer", "payment", id, "err", err)
		return p, nil
	}
	return s.Get(ctx, accountID, id)
}
