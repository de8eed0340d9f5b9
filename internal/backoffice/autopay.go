package backoffice

import (
	"context"
	"fmt"
	"strings"

	"github.com/kabinet-billing/kabinet/internal/autopay"
	"github.com/kabinet-billing/kabinet/internal/derrors"
	"github.com/kabinet-billing/kabinet/internal/operator"
	"github.com/kabinet-billing/kabinet/internal/store"
)

// ErrAutopayOff means autopay is not wired in this Kabinet.
var ErrAutopayOff = derrors.New(derrors.NotFound, "autopay_unavailable", "autopay is not available")

// Autopays lists the subscribers' autopay: who has it on, on which card,
// and how the latest charge went; state "on", "off" or "" for both.
func (o *Office) Autopays(ctx context.Context, state string) ([]autopay.Row, error) {
	if o.Autopay == nil {
		return nil, nil
	}
	return o.Autopay.List(ctx, autopay.Filter{State: state})
}

// DisableAutopay turns a subscriber's autopay off at an operator's decision
// (a complaint, a disputed charge), with a note; the change, its event for
// the subscriber's history and the audit entry commit together.
func (o *Office) DisableAutopay(ctx context.Context, w Who, accountID int64, note string) error {
	if err := w.must(operator.EditSubscribers); err != nil {
		return err
	}
	if o.Autopay == nil {
		return ErrAutopayOff
	}
	if strings.TrimSpace(note) == "" {
		return fmt.Errorf("autopay of account %d: %w", accountID, ErrNoteRequired)
	}
	return o.audited(ctx, w, func(tx *store.Tx) (operator.Entry, error) {
		before, err := o.Autopay.DisableTx(ctx, tx, accountID, w.Op.Login)
		if err != nil {
			return operator.Entry{}, err
		}
		return operator.Entry{Action: "autopay.disable", Object: accountObject(accountID),
			Before: map[string]any{"enabled": before.Enabled, "rule": string(before.Rule), "card": before.Method.Label()},
			After:  map[string]any{"enabled": false}, Note: strings.TrimSpace(note)}, nil
	})
}
