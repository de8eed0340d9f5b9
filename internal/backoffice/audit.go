package backoffice

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/kabinet-billing/kabinet/internal/derrors"
	"github.com/kabinet-billing/kabinet/internal/operator"
	"github.com/kabinet-billing/kabinet/internal/store"
)

// ErrNotAudited means the action took effect but its audit entry could not
// be written even after retries. The entry is in the error log in full; the
// operator is told, so it is never lost silently.
var ErrNotAudited error = derrors.New(derrors.Unavailable, "not_audited", "done, but the audit entry was not written")

// audited runs fn and writes the entry it returns in the same transaction:
// the change and its audit entry commit together or not at all. Use it
// wherever the capability offers a Tx variant.
func (o *Office) audited(ctx context.Context, w Who, fn func(tx *store.Tx) (operator.Entry, error)) error {
	return o.DB.Write(ctx, func(tx *store.Tx) error {
		e, err := fn(tx)
		if err != nil {
			return err
		}
		return operator.Audit(ctx, tx, o.Clock.Now(), w.Actor(), e)
	})
}

// Record writes the audit entry of an action whose capability committed in
// a transaction of its own (payments, contracts, resets). The action has
// already happened, so the entry must outlive the request: it is written
// without the request's cancellation (an operator closing the tab must not
// drop it) and retried; if it still fails, it is logged in full at error
// level and ErrNotAudited is returned for the operator to see.
func (o *Office) Record(ctx context.Context, w Who, e operator.Entry) error {
	ctx = context.WithoutCancel(ctx)
	var err error
	for attempt := 0; attempt < 3; attempt++ {
		if attempt > 0 {
			time.Sleep(time.Duration(attempt) * 100 * time.Millisecond)
		}
		tctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		err = o.Operators.Record(tctx, w.Actor(), e)
		cancel()
		if err == nil {
			return nil
		}
	}
	log := o.Log
	if log == nil {
		log = slog.Default()
	}
	log.Error("audit entry lost: the action took effect", "operator", w.Op.Login, "address", w.Address, "action", e.Action, "object", e.Object,
		"before", e.BeforeJSON(), "after", e.AfterJSON(), "note", e.Note, "err", err)
	return fmt.Errorf("%s %s: %w: %v", e.Action, e.Object, ErrNotAudited, err)
}

// Disconnected records an operator's disconnect of a session, refused
// (failure set) or not: the operator did try. A Disconnect-Request is a
// packet, not a database change, so the entry follows it as Record writes.
func (o *Office) Disconnected(ctx context.Context, w Who, sessionID int64, note string, failure error) error {
	e := operator.Entry{Action: "network.disconnect", Object: fmt.Sprintf("session:%d", sessionID), Note: note}
	if failure != nil {
		e.After = map[string]string{"error": failure.Error()}
	}
	return o.Record(ctx, w, e)
}
