package notify_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/kabinet-billing/kabinet/internal/store"
	"github.com/kabinet-billing/kabinet/internal/store/storetest"
	"github.com/kabinet-billing/kabinet/internal/suspension"
)

// TestSuspensionLetters: a voluntary suspension's start, its last day (the
// "ends tomorrow" reminder) and its end each mail the subscriber once, in
// their language, naming the day the line resumes.
func TestSuspensionLetters(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, storetest.SQLite(t), time.Date(2026, 12, 1, 10, 0, 0, 0, msk))
	if _, err := e.n.HandleEvents(ctx); err != nil { // sets the cursor
		t.Fatal(err)
	}
	ru := e.account(t, "ivanov", "ivanov@example.net", "ru")
	e.pay(t, ru.ID, 1000, "r1")
	s := suspension.New(e.db, e.clk, e.b, suspension.DefaultRules())
	if _, err := s.Start(ctx, suspension.Request{AccountID: ru.ID, From: time.Date(2026, 12, 5, 0, 0, 0, 0, msk), Days: 10}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.n.HandleEvents(ctx); err != nil {
		t.Fatal(err)
	}
	e.deliver(t)
	before := len(e.inbox(t))
	for _, at := range []time.Time{
		time.Date(2026, 12, 5, 0, 1, 0, 0, msk),  // starts
		time.Date(2026, 12, 14, 0, 1, 0, 0, msk), // the last frozen day: ends tomorrow
		time.Date(2026, 12, 14, 9, 0, 0, 0, msk), // nothing new
		time.Date(2026, 12, 15, 0, 1, 0, 0, msk), // ends
	} {
		e.clk.Set(at)
		if _, err := s.Tick(ctx, at); err != nil {
			t.Fatal(err)
		}
		if _, err := e.n.HandleEvents(ctx); err != nil {
			t.Fatal(err)
		}
	}
	e.deliver(t)
	got := e.inbox(t)[before:]
	want := []struct{ subject, body string }{
		{"договор приостановлен", "снова заработает 15.12.2026"},
		{"блокировка заканчивается завтра", "снова заработает 15.12.2026"},
		{"договор снова работает", "интернет снова работает"},
	}
	if len(got) != len(want) {
		for _, l := range got {
			t.Logf("%s: %s", l.To, l.Subject)
		}
		t.Fatalf("%d letters, want %d", len(got), len(want))
	}
	for i, w := range want {
		if !strings.Contains(got[i].Subject, w.subject) || !strings.Contains(got[i].Body, w.body) {
			t.Errorf("letter %d: %q\n%s\nwant %q with %q", i, got[i].Subject, got[i].Body, w.subject, w.body)
		}
	}
	var n int
	e.db.QueryRow(ctx, `SELECT COUNT(*) FROM events WHERE kind = ?`, store.EventSuspensionEnding).Scan(&n)
	if n != 1 {
		t.Errorf("%d reminders, want 1", n)
	}
}
