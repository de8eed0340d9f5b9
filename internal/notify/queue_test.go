package notify_test

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kabinet-billing/kabinet/internal/billing"
	"github.com/kabinet-billing/kabinet/internal/clock"
	"github.com/kabinet-billing/kabinet/internal/config"
	"github.com/kabinet-billing/kabinet/internal/notify"
	"github.com/kabinet-billing/kabinet/internal/notify/notifytest"
	"github.com/kabinet-billing/kabinet/internal/store"
	"github.com/kabinet-billing/kabinet/internal/store/storetest"
)

// queueEnv is a Notifier with a fake channel "telegram" and no e-mail.
func queueEnv(t *testing.T, db *store.DB, clk *clock.Fake, l notify.Limits, atLeastOnce bool) (*notify.Notifier, *notifytest.Sender) {
	t.Helper()
	n := notify.New(db, clk, nil, billing.New(db, clk, billing.DefaultRules()), notify.Options{Provider: config.Default().Provider, MaxAttempts: 3, Log: quiet})
	s := &notifytest.Sender{}
	n.AddChannel(notify.Channel{Name: notify.ChannelTelegram, Sender: s, Limits: l, AtLeastOnce: atLeastOnce})
	return n, s
}

func queueN(t *testing.T, n *notify.Notifier, db *store.DB, k int, to func(i int) string) {
	t.Helper()
	var msgs []notify.Outgoing
	for i := range k {
		msgs = append(msgs, notify.Outgoing{Channel: notify.ChannelTelegram, Kind: notify.KindBroadcast, To: to(i), Body: fmt.Sprintf("m%03d", i), Key: fmt.Sprintf("t:%d", i)})
	}
	err := db.Write(context.Background(), func(tx *store.Tx) error {
		got, err := n.QueueTx(context.Background(), tx, msgs)
		if err == nil && got != k {
			err = fmt.Errorf("queued %d of %d", got, k)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

func status(t *testing.T, n *notify.Notifier) map[string]int {
	t.Helper()
	q, err := n.Messages(context.Background(), notify.Filter{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]int{}
	for _, m := range q {
		out[m.Status]++
	}
	return out
}

// TestSendOutcomes: what each kind of failure does to a message and to its
// channel, on both engines, with the clock moved instead of slept.
func TestSendOutcomes(t *testing.T) {
	start := time.Date(2027, 3, 10, 12, 0, 0, 0, time.UTC)
	down := errors.New("connection refused")
	tests := []struct {
		name    string
		answers []error
		steps   []time.Duration // clock moves before each Deliver
		want    string          // final status
		sends   int             // messages that reached the fake
		attempt int             // attempts counted
		errHas  string
	}{
		{"sent at once", nil, []time.Duration{0}, notify.StatusSent, 1, 1, ""},
		{"temporary then sent after the backoff", []error{notify.Fail(notify.Temporary, errors.New("451 greylisted"))},
			[]time.Duration{0, 30 * time.Second, 31 * time.Second}, notify.StatusSent, 1, 2, ""},
		{"temporary until max attempts", []error{notify.Fail(notify.Temporary, errors.New("451")), errors.New("plain errors are temporary"), notify.Fail(notify.Temporary, errors.New("451 last"))},
			[]time.Duration{0, time.Minute, 2 * time.Minute, time.Hour}, notify.StatusFailed, 0, 3, "451 last"},
		{"permanent fails at once", []error{notify.Fail(notify.Permanent, errors.New("403 blocked"))}, []time.Duration{0, time.Hour}, notify.StatusFailed, 0, 1, "403 blocked"},
		{"down for a day loses nothing and counts nothing", []error{notify.Fail(notify.Unavailable, down), notify.Fail(notify.Unavailable, down),
			notify.Fail(notify.Unavailable, down), notify.Fail(notify.Unavailable, down), notify.Fail(notify.Unavailable, down)},
			[]time.Duration{0, 10 * time.Minute, 10 * time.Minute, 10 * time.Minute, 24 * time.Hour, 10 * time.Minute}, notify.StatusSent, 1, 1, ""},
		{"429 waits retry_after", []error{notify.RetryLater(errors.New("429"), 7*time.Second)},
			[]time.Duration{0, 6 * time.Second, time.Second}, notify.StatusSent, 1, 1, ""},
	}
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		for i, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				ctx := context.Background()
				clk := clock.NewFake(start)
				n, s := queueEnv(t, db, clk, notify.Limits{}, false)
				s.Answer(tt.answers...)
				var msgs []notify.Outgoing
				msgs = append(msgs, notify.Outgoing{Channel: notify.ChannelTelegram, Kind: notify.KindBroadcast, To: "100", Body: "hi", Key: fmt.Sprintf("outcome:%d", i)})
				if err := db.Write(ctx, func(tx *store.Tx) error { _, err := n.QueueTx(ctx, tx, msgs); return err }); err != nil {
					t.Fatal(err)
				}
				for _, d := range tt.steps {
					clk.Advance(d)
					if _, _, err := n.Deliver(ctx); err != nil {
						t.Fatal(err)
					}
				}
				q, _ := n.Messages(ctx, notify.Filter{Channel: notify.ChannelTelegram, Limit: 1})
				if len(q) != 1 {
					t.Fatalf("queue: %+v", q)
				}
				m := q[0]
				if m.Status != tt.want || len(s.Got()) != tt.sends || m.Attempts != tt.attempt || !strings.Contains(m.LastError, tt.errHas) {
					t.Errorf("status %s, %d sends, %d attempts, error %q; want %s, %d, %d, %q", m.Status, len(s.Got()), m.Attempts, m.LastError, tt.want, tt.sends, tt.attempt, tt.errHas)
				}
			})
		}
	})
}

// TestRateLimit: Telegram's limits hold on the queue's clock: 30 messages
// a second to different chats, evenly spaced, and one a second to a chat;
// a 429's retry_after stops the channel for that long.
func TestRateLimit(t *testing.T) {
	ctx := context.Background()
	db := storetest.SQLite(t)
	start := time.Date(2027, 3, 10, 12, 0, 0, 0, time.UTC)
	clk := clock.NewFake(start)
	n, s := queueEnv(t, db, clk, notify.TelegramLimits, false)
	var at []time.Time
	s.Before = func(notify.Message) { at = append(at, clk.Now()) }
	// 90 chats, then 5 more messages to chat "7".
	queueN(t, n, db, 95, func(i int) string {
		if i >= 90 {
			return "7"
		}
		return fmt.Sprint(i)
	})
	for range 1000 {
		next, err := n.DeliverChannel(ctx, notify.ChannelTelegram)
		if err != nil {
			t.Fatal(err)
		}
		if next.IsZero() {
			break
		}
		if next.After(clk.Now()) {
			clk.Set(next)
		}
	}
	got := s.Got()
	if len(got) != 95 {
		t.Fatalf("sent %d of 95", len(got))
	}
	// In any second, at most 30.
	for i := range at {
		k := 0
		for j := i; j < len(at) && at[j].Sub(at[i]) < time.Second; j++ {
			k++
		}
		if k > 30 {
			t.Fatalf("%d messages within a second from %v", k, at[i].Sub(start))
		}
	}
	if d := at[89].Sub(at[0]); d < 2900*time.Millisecond || d > 3*time.Second {
		t.Errorf("90 chats took %v, want about 3 s at 30/s", d)
	}
	var chat7 []time.Time
	for i, m := range got {
		if m.To == "7" {
			chat7 = append(chat7, at[i])
		}
	}
	for i := 1; i < len(chat7); i++ {
		if d := chat7[i].Sub(chat7[i-1]); d < time.Second {
			t.Errorf("chat 7 got two messages %v apart", d)
		}
	}
	if len(chat7) != 6 {
		t.Errorf("chat 7 got %d messages, want 6", len(chat7))
	}

	// 429 with retry_after 5: nothing goes for 5 s, then the rest.
	queueN2 := func(from, k int) {
		var msgs []notify.Outgoing
		for i := from; i < from+k; i++ {
			msgs = append(msgs, notify.Outgoing{Channel: notify.ChannelTelegram, Kind: notify.KindBroadcast, To: fmt.Sprint(1000 + i), Body: "x", Key: fmt.Sprintf("b:%d", i)})
		}
		db.Write(ctx, func(tx *store.Tx) error { _, err := n.QueueTx(ctx, tx, msgs); return err })
	}
	clk.Advance(time.Minute)
	queueN2(0, 3)
	s.Answer(notify.RetryLater(errors.New("Too Many Requests: retry after 5"), 5*time.Second))
	before := len(s.Got())
	t0 := clk.Now()
	n.Deliver(ctx)
	clk.Advance(4 * time.Second)
	n.Deliver(ctx)
	if k := len(s.Got()) - before; k != 0 {
		t.Errorf("%d sent within retry_after", k)
	}
	for range 100 {
		next, _ := n.DeliverChannel(ctx, notify.ChannelTelegram)
		if next.IsZero() {
			break
		}
		clk.Set(later(next, clk.Now()))
	}
	if k := len(s.Got()) - before; k != 3 {
		t.Errorf("%d sent after retry_after, want 3", k)
	}
	if first := at[len(at)-3]; first.Sub(t0) < 5*time.Second {
		t.Errorf("first send after the 429 came %v after it", first.Sub(t0))
	}
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// TestCrashWhileSending: a crash between handing a message over and
// recording it (the process dies inside the sender) leaves the row
// "sending"; after the lease, an at-most-once channel marks it interrupted
// and never sends it again, an at-least-once channel sends it once more.
// Everything queued but not yet being sent goes out after the restart,
// exactly once.
func TestCrashWhileSending(t *testing.T) {
	for _, tt := range []struct {
		name        string
		atLeastOnce bool
		wantSends   int // deliveries of the interrupted message
		wantStatus  string
	}{
		{"at most once (telegram, sms)", false, 1, notify.StatusFailed},
		{"at least once (email)", true, 2, notify.StatusSent},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			db := storetest.SQLite(t)
			clk := clock.NewFake(time.Date(2027, 3, 10, 12, 0, 0, 0, time.UTC))
			n, s := queueEnv(t, db, clk, notify.Limits{}, tt.atLeastOnce)
			queueN(t, n, db, 5, func(i int) string { return fmt.Sprint(i) })
			var mu sync.Mutex
			handed := map[string]int{}
			crashed := false
			s.Before = func(m notify.Message) {
				mu.Lock()
				handed[m.Body]++
				crash := m.Body == "m002" && !crashed
				crashed = crashed || crash
				mu.Unlock()
				if crash {
					runtime.Goexit() // the process is gone after the message left
				}
			}
			n.Deliver(ctx)
			if st := status(t, n); st[notify.StatusSending] != 1 {
				t.Fatalf("after the crash: %v, want one sending", st)
			}
			// Restart: a new Notifier on the same database, before and after the lease.
			n2, s2 := queueEnv(t, db, clk, notify.Limits{}, tt.atLeastOnce)
			s2.Before = func(m notify.Message) { mu.Lock(); handed[m.Body]++; mu.Unlock() }
			clk.Advance(time.Minute)
			n2.Deliver(ctx)
			if st := status(t, n2); st[notify.StatusSending] != 1 {
				t.Errorf("within the lease the row must stay sending: %v", st)
			}
			clk.Advance(10 * time.Minute)
			n2.Deliver(ctx)
			for i := range 5 {
				body := fmt.Sprintf("m%03d", i)
				want := 1
				if body == "m002" {
					want = tt.wantSends
				}
				if handed[body] != want {
					t.Errorf("%s handed over %d times, want %d", body, handed[body], want)
				}
			}
			q, _ := n2.Messages(ctx, notify.Filter{})
			for _, m := range q {
				if m.Body == "m002" && (m.Status != tt.wantStatus || (!tt.atLeastOnce && m.LastError != notify.Interrupted)) {
					t.Errorf("the interrupted message: %s %q", m.Status, m.LastError)
				}
			}
		})
	}
}

// TestTwoInstancesClaim: two instances delivering one queue at once (two
// database handles, PostgreSQL with SKIP LOCKED, or one SQLite file) send
// every message exactly once between them.
func TestTwoInstancesClaim(t *testing.T) {
	for _, engine := range []string{"sqlite", "postgres"} {
		t.Run(engine, func(t *testing.T) {
			ctx := context.Background()
			var dsn string
			if engine == "postgres" {
				dsn = storetest.PostgresDSN(t)
			} else {
				dsn = "sqlite:" + t.TempDir() + "/q.db"
			}
			open := func() *store.DB {
				db, err := store.Open(ctx, dsn)
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { db.Close() })
				if _, err := db.Migrate(ctx); err != nil {
					t.Fatal(err)
				}
				return db
			}
			db1, db2 := open(), open()
			clk := clock.NewFake(time.Date(2027, 3, 10, 12, 0, 0, 0, time.UTC))
			a, sa := queueEnv(t, db1, clk, notify.Limits{Window: 4}, false)
			b, sb := queueEnv(t, db2, clk, notify.Limits{Window: 4}, false)
			const total = 300
			queueN(t, a, db1, total, func(i int) string { return fmt.Sprint(i) })
			var wg sync.WaitGroup
			for _, n := range []*notify.Notifier{a, b} {
				wg.Go(func() {
					if _, _, err := n.Deliver(ctx); err != nil {
						t.Error(err)
					}
				})
			}
			wg.Wait()
			seen := map[string]int{}
			for _, m := range append(sa.Got(), sb.Got()...) {
				seen[m.Body]++
			}
			for body, k := range seen {
				if k != 1 {
					t.Errorf("%s sent %d times", body, k)
				}
			}
			if len(seen) != total {
				t.Errorf("%d of %d sent", len(seen), total)
			}
			t.Logf("instance a sent %d, b sent %d", len(sa.Got()), len(sb.Got()))
			if st := status(t, a); st[notify.StatusSent] != total {
				t.Errorf("statuses %v", st)
			}
		})
	}
}

var _ = slices.Contains[[]string]

// TestQueuePage: the back office's page of the queue counts every message
// of its filter (not only the newest thousand), sorts by a whitelisted
// column with id breaking ties, and pages from an offset, on each database.
func TestQueuePage(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		n, _ := queueEnv(t, db, clock.NewFake(time.Date(2027, 3, 10, 12, 0, 0, 0, time.UTC)), notify.Limits{}, false)
		var msgs []notify.Outgoing
		for i := 1; i <= 1200; i++ {
			msgs = append(msgs, notify.Outgoing{Channel: notify.ChannelTelegram, Kind: notify.KindBroadcast, To: fmt.Sprintf("u%04d", 1201-i), Body: "hi", Key: fmt.Sprintf("page:%d", i)})
		}
		if err := db.Write(ctx, func(tx *store.Tx) error { _, err := n.QueueTx(ctx, tx, msgs); return err }); err != nil {
			t.Fatal(err)
		}
		for _, tc := range []struct {
			f           notify.Filter
			total, rows int
			first, last string
		}{
			{notify.Filter{Channel: notify.ChannelTelegram, Desc: true}, 1200, 50, "u0001", "u0050"},
			{notify.Filter{Channel: notify.ChannelTelegram, Desc: true, Offset: 1150, Limit: 100}, 1200, 50, "u1151", "u1200"},
			{notify.Filter{Sort: "to", Offset: 1150, Limit: 100}, 1200, 50, "u1151", "u1200"},
			{notify.Filter{Sort: "no such column; DROP TABLE notifications", Limit: 10}, 1200, 10, "u1200", "u1191"},
			{notify.Filter{Channel: notify.ChannelTelegram, Status: notify.StatusSent}, 0, 0, "", ""},
		} {
			q, total, err := n.Page(ctx, tc.f)
			if err != nil || total != tc.total || len(q) != tc.rows || (tc.rows > 0 && (q[0].To != tc.first || q[len(q)-1].To != tc.last)) {
				t.Errorf("%+v: %d rows of %d, %v", tc.f, len(q), total, err)
			}
		}
	})
}
