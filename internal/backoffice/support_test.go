package backoffice_test

import (
	"context"
	"errors"
	"testing"

	"github.com/kabinet-billing/kabinet/internal/backoffice"
	"github.com/kabinet-billing/kabinet/internal/derrors"
	"github.com/kabinet-billing/kabinet/internal/operator"
	"github.com/kabinet-billing/kabinet/internal/store"
	"github.com/kabinet-billing/kabinet/internal/store/storetest"
	"github.com/kabinet-billing/kabinet/internal/subscriber"
	"github.com/kabinet-billing/kabinet/internal/support"
)

// Each support action an operator takes commits with its audit entry: with
// the audit log gone the action fails and changes nothing; a cashier may
// take none of them.
func TestSupportActionsAudited(t *testing.T) {
	ctx := context.Background()
	db := storetest.SQLite(t)
	e := newEnv(t, db)
	a, err := e.o.Dir.Create(ctx, subscriber.NewAccount{Login: "ivanov", Password: "secret123", Name: "Иванов", City: "tver", Tariff: "home"})
	if err != nil {
		t.Fatal(err)
	}
	sup := support.New(db, e.clk)
	req, err := sup.File(ctx, a.ID, support.KindFault, "Нет связи", "С утра")
	if err != nil {
		t.Fatal(err)
	}
	app, err := sup.Apply(ctx, support.Application{Name: "Анна", Phone: "+7 900 000-00-00"})
	if err != nil {
		t.Fatal(err)
	}
	type state struct {
		status, assignee, app string
		messages, chat        int
	}
	read := func() state {
		r, err := sup.Request(ctx, req.ID)
		if err != nil {
			t.Fatal(err)
		}
		who, _ := sup.Assignee(ctx, req.ID)
		apps, _ := sup.Applications(ctx, "", 10)
		chat, _ := sup.Chat(ctx, a.ID, 0)
		return state{status: r.Status, assignee: who, app: apps[0].Status, messages: len(r.Messages), chat: len(chat)}
	}
	actions := []struct {
		name   string
		action string
		do     func(w backoffice.Who) error
		want   state
	}{
		{"assign", "support.assign", func(w backoffice.Who) error { return e.o.AssignRequest(ctx, w, req.ID, true) },
			state{status: support.StatusNew, assignee: "support1", app: "new", messages: 1}},
		{"answer", "support.answer", func(w backoffice.Who) error {
			return e.o.AnswerRequest(ctx, w, req.ID, "Перезагрузите роутер", "")
		},
			state{status: support.StatusAnswered, assignee: "support1", app: "new", messages: 2}},
		{"application", "application.status", func(w backoffice.Who) error {
			return e.o.SetApplicationStatus(ctx, w, app.ID, "called", "перезвонить")
		},
			state{status: support.StatusAnswered, assignee: "support1", app: "called", messages: 2}},
		{"chat", "support.chat", func(w backoffice.Who) error {
			_, err := e.o.RespondChat(ctx, w, a.ID, "Чем помочь?")
			return err
		},
			state{status: support.StatusAnswered, assignee: "support1", app: "called", messages: 2, chat: 1}},
	}
	for _, c := range actions {
		if err := c.do(e.roles[operator.RoleCashier]); !errors.Is(err, derrors.Forbidden) {
			t.Errorf("cashier %s: %v, want forbidden", c.name, err)
		}
		if err := c.do(e.roles[operator.RoleSupport]); err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if got := read(); got != c.want {
			t.Errorf("after %s: %+v, want %+v", c.name, got, c.want)
		}
		if got := e.audit(t, operator.AuditQuery{Action: c.action}); len(got) != 1 || got[0].OperatorLogin != "support1" {
			t.Errorf("%s: audit %+v", c.name, got)
		}
	}
	if got := e.audit(t, operator.AuditQuery{Action: "support.answer"}); len(got) == 1 &&
		(string(got[0].BeforeJSON()) != `{"status":"new"}` || string(got[0].AfterJSON()) != `{"status":"answered"}`) {
		t.Errorf("answer entry: %s → %s", got[0].BeforeJSON(), got[0].AfterJSON())
	}

	if err := db.Write(ctx, func(tx *store.Tx) error {
		_, err := tx.Exec(ctx, `ALTER TABLE audit_log RENAME TO audit_log_gone`)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	before := read()
	for _, c := range actions {
		if err := c.do(e.roles[operator.RoleSupport]); err == nil {
			t.Errorf("%s succeeded without its audit entry", c.name)
		}
	}
	sw := e.roles[operator.RoleSupport]
	if err := e.o.AssignRequest(ctx, sw, req.ID, false); err == nil {
		t.Error("unassign succeeded without its audit entry")
	}
	if got := read(); got != before {
		t.Errorf("changes stayed without their audit entries: %+v, was %+v", got, before)
	}
}
