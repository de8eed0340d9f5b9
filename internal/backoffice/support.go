package backoffice

import (
	"context"
	"fmt"
	"strings"

	"github.com/kabinet-billing/kabinet/internal/operator"
	"github.com/kabinet-billing/kabinet/internal/store"
	"github.com/kabinet-billing/kabinet/internal/support"
)

func requestObject(id int64) string { return fmt.Sprintf("request:%d", id) }

// AnswerRequest adds the operator's answer to a subscriber's request and
// sets its status (answered when status is empty).
func (o *Office) AnswerRequest(ctx context.Context, w Who, id int64, body, status string) error {
	if err := w.must(operator.Support); err != nil {
		return err
	}
	return o.audited(ctx, w, func(tx *store.Tx) (operator.Entry, error) {
		before, after, err := support.Answer(ctx, tx, o.Clock.Now(), id, w.Op.Login, body, status)
		return operator.Entry{Action: "support.answer", Object: requestObject(id),
			Before: map[string]string{"status": before}, After: map[string]string{"status": after}}, err
	})
}

// AssignRequest makes the operator handle a request (take true) or leaves
// it to nobody (take false).
func (o *Office) AssignRequest(ctx context.Context, w Who, id int64, take bool) error {
	if err := w.must(operator.Support); err != nil {
		return err
	}
	who := ""
	if take {
		who = strings.TrimSpace(w.Op.Login)
	}
	return o.audited(ctx, w, func(tx *store.Tx) (operator.Entry, error) {
		before, err := support.Assign(ctx, tx, o.Clock.Now(), id, who)
		return operator.Entry{Action: "support.assign", Object: requestObject(id),
			Before: map[string]string{"assignee": before}, After: map[string]string{"assignee": who}}, err
	})
}

// SetApplicationStatus records what the operator did with a visitor's
// application (called, contracted, rejected…).
func (o *Office) SetApplicationStatus(ctx context.Context, w Who, id int64, status, note string) error {
	if err := w.must(operator.Support); err != nil {
		return err
	}
	return o.audited(ctx, w, func(tx *store.Tx) (operator.Entry, error) {
		return operator.Entry{Action: "application.status", Object: fmt.Sprintf("application:%d", id),
			After: map[string]string{"status": status}, Note: note}, support.SetApplicationStatus(ctx, tx, o.Clock.Now(), id, status, w.Op.Login)
	})
}

// RespondChat adds the consultant's message to the account's chat.
func (o *Office) RespondChat(ctx context.Context, w Who, accountID int64, body string) (m support.Message, err error) {
	if err := w.must(operator.Support); err != nil {
		return m, err
	}
	err = o.audited(ctx, w, func(tx *store.Tx) (operator.Entry, error) {
		m, err = support.Respond(ctx, tx, o.Clock.Now(), accountID, w.Op.Login, body)
		return operator.Entry{Action: "support.chat", Object: accountObject(accountID), After: map[string]int64{"message": m.ID}}, err
	})
	return m, err
}
