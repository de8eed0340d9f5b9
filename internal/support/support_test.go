package support_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/kabinet-billing/kabinet/internal/billing"
	"github.com/kabinet-billing/kabinet/internal/clock"
	"github.com/kabinet-billing/kabinet/internal/derrors"
	"github.com/kabinet-billing/kabinet/internal/money"
	"github.com/kabinet-billing/kabinet/internal/password"
	"github.com/kabinet-billing/kabinet/internal/store"
	"github.com/kabinet-billing/kabinet/internal/store/storetest"
	"github.com/kabinet-billing/kabinet/internal/subscriber"
	"github.com/kabinet-billing/kabinet/internal/support"
)

func TestRequestsChatApplications(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		clk := clock.NewFake(time.Date(2026, 3, 15, 9, 0, 0, 0, time.UTC))
		b := billing.New(db, clk, billing.DefaultRules())
		if _, err := billing.AddTariff(ctx, db, billing.Tariff{Code: "t", Name: "T", Fee: money.Rub(1), DownKbps: 1, UpKbps: 1, Public: true}, clk.Now()); err != nil {
			t.Fatal(err)
		}
		sealer, _ := subscriber.NewSealer(make([]byte, 32))
		dir := subscriber.New(db, clk, sealer, b)
		hash := password.Hash("secret-pass")
		var ids []int64
		for _, l := range []string{"alice", "bob"} {
			a, err := dir.Create(ctx, subscriber.NewAccount{Login: l, Password: "secret-pass", PasswordHash: hash, Tariff: "t"})
			if err != nil {
				t.Fatal(err)
			}
			ids = append(ids, a.ID)
		}
		s := support.New(db, clk)
		for _, bad := range []struct{ kind, subject, body string }{{"nope", "s", "b"}, {"fault", "", "b"}, {"fault", "s", " "}, {"fault", "s", strings.Repeat("я", support.MaxBody+1)}} {
			if _, err := s.File(ctx, ids[0], bad.kind, bad.subject, bad.body); !errors.Is(err, derrors.Invalid) {
				t.Errorf("%+v: %v", bad, err)
			}
		}
		r, err := s.File(ctx, ids[0], "fault", "Нет связи", "С утра")
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range []struct {
			name   string
			lookup func() (support.Request, error)
			found  bool
		}{
			{"alice her own", func() (support.Request, error) { return s.RequestOf(ctx, ids[0], r.ID) }, true},
			{"bob alice's", func() (support.Request, error) { return s.RequestOf(ctx, ids[1], r.ID) }, false},
			{"account 0 (no back door)", func() (support.Request, error) { return s.RequestOf(ctx, 0, r.ID) }, false},
			{"the back office", func() (support.Request, error) { return s.Request(ctx, r.ID) }, true},
			{"the back office, a missing one", func() (support.Request, error) { return s.Request(ctx, r.ID+100) }, false},
		} {
			got, err := c.lookup()
			if c.found && (err != nil || got.ID != r.ID || len(got.Messages) != 1) || !c.found && !errors.Is(err, derrors.NotFound) {
				t.Errorf("%s: %+v, %v", c.name, got, err)
			}
		}
		if err := s.Reply(ctx, ids[1], r.ID, "hi"); !errors.Is(err, derrors.NotFound) {
			t.Errorf("bob replies to alice's request: %v", err)
		}
		clk.Advance(time.Hour)
		if err := s.Answer(ctx, r.ID, "oper", "Едем", ""); err != nil {
			t.Fatal(err)
		}
		got, _ := s.RequestOf(ctx, ids[0], r.ID)
		if got.Status != support.StatusAnswered || len(got.Messages) != 2 || !got.Messages[1].FromOperator() {
			t.Fatalf("after answer: %+v", got)
		}
		s.Answer(ctx, r.ID, "oper", "Закрыто", support.StatusClosed)
		if err := s.Reply(ctx, ids[0], r.ID, "ещё"); !errors.Is(err, derrors.NotFound) {
			t.Errorf("reply to a closed request: %v", err)
		}
		m1, _ := s.Say(ctx, ids[0], "Привет")
		s.Respond(ctx, ids[0], "oper", "Здравствуйте")
		s.Say(ctx, ids[1], "Боб")
		all, _ := s.Chat(ctx, ids[0], 0)
		after, _ := s.Chat(ctx, ids[0], m1.ID)
		if len(all) != 2 || len(after) != 1 || after[0].Body != "Здравствуйте" {
			t.Fatalf("chat: %+v / %+v", all, after)
		}
		a, err := s.Apply(ctx, support.Application{Name: "Иван", Phone: "+7 900 1"})
		if err != nil {
			t.Fatal(err)
		}
		if err := s.SetApplicationStatus(ctx, a.ID, "called", "oper"); err != nil {
			t.Fatal(err)
		}
		list, _ := s.Applications(ctx, "called", 0)
		if len(list) != 1 || list[0].Name != "Иван" {
			t.Fatalf("applications: %+v", list)
		}
		if _, err := s.Apply(ctx, support.Application{Name: "x"}); !errors.Is(err, derrors.Invalid) {
			t.Error("an application without a phone was accepted")
		}
	})
}
