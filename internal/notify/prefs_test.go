package notify_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/kabinet-billing/kabinet/internal/derrors"
	"github.com/kabinet-billing/kabinet/internal/money"
	"github.com/kabinet-billing/kabinet/internal/notify"
	"github.com/kabinet-billing/kabinet/internal/notify/notifytest"
	"github.com/kabinet-billing/kabinet/internal/operator"
	"github.com/kabinet-billing/kabinet/internal/promise"
	"github.com/kabinet-billing/kabinet/internal/store"
	"github.com/kabinet-billing/kabinet/internal/store/storetest"
	"github.com/kabinet-billing/kabinet/internal/support"
)

func (e *env) telegram(t *testing.T) *notifytest.Sender {
	t.Helper()
	s := &notifytest.Sender{}
	e.n.AddChannel(notify.Channel{Name: notify.ChannelTelegram, Sender: s, Limits: notify.Limits{Window: 1}})
	return s
}

func (e *env) link(t *testing.T, id int64, chat string) {
	t.Helper()
	err := e.db.Write(context.Background(), func(tx *store.Tx) error {
		return notify.LinkTx(context.Background(), tx, id, notify.ChannelTelegram, chat, e.clk.Now())
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestChoicesRouteEvents: every topic goes where the subscriber chose:
// by default to e-mail and to a linked Telegram chat; a channel turned off
// for a topic gets nothing of it; request answers and promises ending
// tomorrow are told too.
func TestChoicesRouteEvents(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		e := newEnv(t, db, time.Date(2027, 3, 10, 12, 0, 0, 0, msk))
		tg := e.telegram(t)
		if _, err := e.n.HandleEvents(ctx); err != nil {
			t.Fatal(err)
		}
		a := e.account(t, "sidorov", "sidorov@example.net", "ru")
		e.link(t, a.ID, "5551")

		p, err := e.n.Prefs(ctx, a.ID)
		if err != nil {
			t.Fatal(err)
		}
		for _, tc := range []struct {
			topic, channel string
			on             bool
		}{
			{notify.TopicPayment, notify.ChannelEmail, true},
			{notify.TopicPayment, notify.ChannelTelegram, true},
			{notify.TopicLimited, notify.ChannelTelegram, true},
		} {
			if p.On(tc.topic, tc.channel) != tc.on {
				t.Errorf("default %s on %s: %v", tc.topic, tc.channel, !tc.on)
			}
		}
		if !p.Reachable[notify.ChannelTelegram] || len(p.Offered) != 2 {
			t.Errorf("offered %v reachable %v", p.Offered, p.Reachable)
		}

		e.pay(t, a.ID, 500, "p1")
		if k, err := e.n.HandleEvents(ctx); err != nil || k != 2 {
			t.Fatalf("payment: %d messages, %v; want e-mail and Telegram", k, err)
		}
		if err := e.n.SetPrefs(ctx, a.ID, map[string]map[string]bool{notify.TopicPayment: {notify.ChannelEmail: false}}); err != nil {
			t.Fatal(err)
		}
		if err := e.n.SetPrefs(ctx, a.ID, map[string]map[string]bool{"weather": {notify.ChannelEmail: false}}); !errors.Is(err, derrors.Invalid) {
			t.Errorf("unknown topic: %v", err)
		}
		e.pay(t, a.ID, 100, "p2")
		if k, _ := e.n.HandleEvents(ctx); k != 1 {
			t.Errorf("payment with e-mail off: %d messages, want Telegram only", k)
		}

		// An operator answers a request.
		sup := support.New(db, e.clk)
		req, err := sup.File(ctx, a.ID, support.KindQuestion, "Нет интернета", "Со вчерашнего дня")
		if err != nil {
			t.Fatal(err)
		}
		if err := sup.Answer(ctx, req.ID, "anna", "Проверили, всё работает", ""); err != nil {
			t.Fatal(err)
		}
		if k, _ := e.n.HandleEvents(ctx); k != 2 {
			t.Errorf("request answered: %d messages, want 2", k)
		}

		if _, _, err := e.n.Deliver(ctx); err != nil {
			t.Fatal(err)
		}
		var texts []string
		for _, m := range tg.Got() {
			if m.To != "5551" {
				t.Errorf("telegram message to %q", m.To)
			}
			texts = append(texts, m.Body)
		}
		want := []string{"зачислено 500,00", "зачислено 100,00", "на заявку № "}
		if len(texts) != len(want) {
			t.Fatalf("telegram got %q", texts)
		}
		for i, w := range want {
			if !strings.Contains(texts[i], w) {
				t.Errorf("telegram message %d %q lacks %q", i, texts[i], w)
			}
		}
		if got := e.inbox(t); len(got) != 2 || !strings.Contains(got[1].Subject, "ответ на обращение") {
			t.Errorf("e-mail: %+v", got)
		}
	})
}

// TestPromiseEndingTomorrow: a day before the promised payment ends the
// subscriber is told, once.
func TestPromiseEndingTomorrow(t *testing.T) {
	ctx := context.Background()
	db := storetest.SQLite(t)
	start := time.Date(2026, 12, 1, 0, 0, 0, 0, msk)
	e := newEnv(t, db, start)
	tg := e.telegram(t)
	a := e.account(t, "debtor", "debtor@example.net", "ru") // 300 charged on creation: a debt
	e.link(t, a.ID, "777")
	jan := time.Date(2027, 1, 1, 0, 5, 0, 0, msk)
	e.clk.Set(jan)
	if _, err := e.b.Run(ctx, jan, nil); err != nil {
		t.Fatal(err)
	}
	ps := promise.New(db, e.clk, e.b, promise.DefaultRules())
	p, err := ps.Take(ctx, promise.Request{AccountID: a.ID, Amount: money.Rub(600), Channel: promise.ChannelPortal})
	if err != nil {
		t.Fatal(err)
	}
	if k, _ := e.n.PromiseReminders(ctx, e.clk.Now()); k != 0 {
		t.Errorf("3 days before: %d", k)
	}
	e.clk.Set(p.EndsAt.Add(-23 * time.Hour))
	if k, err := e.n.PromiseReminders(ctx, e.clk.Now()); err != nil || k != 2 {
		t.Errorf("a day before: %d %v, want e-mail and Telegram", k, err)
	}
	if k, _ := e.n.PromiseReminders(ctx, e.clk.Now().Add(time.Hour)); k != 0 {
		t.Errorf("told twice: %d", k)
	}
	e.n.Deliver(ctx)
	if got := tg.Got(); len(got) != 1 || !strings.Contains(got[0].Body, "обещанный платёж заканчивается") {
		t.Errorf("telegram: %+v", got)
	}
}

// TestBroadcast: an operator's message to a city goes once to each
// subscriber there reachable on the channel; the preview counts them; the
// same broadcast again queues nothing; it is audited.
func TestBroadcast(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		e := newEnv(t, db, time.Date(2027, 3, 10, 12, 0, 0, 0, msk))
		tg := e.telegram(t)
		var ids []int64
		for _, l := range []string{"abon1", "abon2", "abon3"} {
			a := e.account(t, l, l+"@example.net", "ru")
			ids = append(ids, a.ID)
		}
		e.link(t, ids[0], "11")
		e.link(t, ids[1], "12") // a3 has no Telegram
		b := notify.Broadcast{Channel: notify.ChannelTelegram, Audience: notify.Audience{All: true}, Text: "12 марта с 2:00 до 4:00 плановые работы"}
		if k, err := e.n.Preview(ctx, b); err != nil || k != 2 {
			t.Errorf("preview: %d %v", k, err)
		}
		anna := operator.Actor{Login: "anna"}
		res, err := e.n.SendBroadcast(ctx, anna, b)
		if err != nil || res.Queued != 2 || res.Again {
			t.Fatalf("broadcast: %+v %v", res, err)
		}
		again, err := e.n.SendBroadcast(ctx, anna, b)
		if err != nil || again.Queued != 0 || !again.Again || again.ID != res.ID {
			t.Errorf("again: %+v %v", again, err)
		}
		for _, bad := range []notify.Broadcast{
			{Channel: notify.ChannelTelegram, Audience: notify.Audience{All: true}, Text: " "},
			{Channel: "pigeon", Audience: notify.Audience{All: true}, Text: "x"},
			{Channel: notify.ChannelSMS, Audience: notify.Audience{All: true, City: "tver"}, Text: "x"},
		} {
			if _, err := e.n.SendBroadcast(ctx, anna, bad); !errors.Is(err, derrors.Invalid) {
				t.Errorf("%+v: %v", bad, err)
			}
		}
		e.n.Deliver(ctx)
		if got := tg.Got(); len(got) != 2 || !strings.Contains(got[0].Body, "плановые работы") {
			t.Errorf("telegram: %+v", got)
		}
		entries, err := operator.New(db, e.clk).Search(ctx, operator.AuditQuery{})
		if err != nil {
			t.Fatal(err)
		}
		k := 0
		for _, en := range entries {
			if en.Action == "notify.broadcast" {
				k++
			}
		}
		if k != 2 {
			t.Errorf("%d audit entries, want 2", k)
		}
	})
}
