package payment

import (
	"context"
	"fmt"
	"strings"

	"github.com/kabinet-billing/kabinet/internal/money"
	"github.com/kabinet-billing/kabinet/internal/store"
)

// ManualIn is a payment recorded by hand or by an operator's script
// (`kabinet payment add`) on any channel: the channel's own id of the
// payment makes a repeat harmless.
type ManualIn struct {
	Channel    string
	ExternalID string
	AccountID  int64
	Amount     money.Amount
	Operator   string
	Memo       string
}

// Record credits a manually recorded payment once. duplicate is true when
// (channel, external id) was applied before; the first payment is returned
// and nothing moves. The same id with another account or amount is refused.
func (s *Service) Record(ctx context.Context, in ManualIn) (p Payment, duplicate bool, err error) {
	in.Channel, in.ExternalID = strings.TrimSpace(in.Channel), strings.TrimSpace(in.ExternalID)
	switch {
	case in.Amount <= 0:
		return Payment{}, false, fmt.Errorf("payment of %s: %w", in.Amount, ErrBadAmount)
	case in.Channel == "" || in.ExternalID == "":
		return Payment{}, false, fmt.Errorf("payment: channel and external id are required")
	case strings.TrimSpace(in.Operator) == "":
		return Payment{}, false, fmt.Errorf("payment: %w", ErrOperatorRequired)
	}
	now := s.clock.Now()
	p = Payment{Channel: in.Channel, ExternalID: in.ExternalID, AccountID: in.AccountID, Amount: in.Amount,
		Status: StatusSucceeded, Source: SourceCashier, Operator: in.Operator, Memo: in.Memo, PaidAt: now, CreatedAt: now}
	err = s.db.Write(ctx, func(tx *store.Tx) error {
		var credited bool
		p, credited, err = s.recordOnce(ctx, tx, p, now)
		duplicate = !credited
		return err
	})
	if err != nil {
		return Payment{}, false, err
	}
	return p, duplicate, nil
}
