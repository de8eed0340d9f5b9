package notify_test

import (
	"context"
	"crypto/tls"
	"io"
	"log/slog"
	"mime"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/kabinet-billing/kabinet/internal/billing"
	"github.com/kabinet-billing/kabinet/internal/clock"
	"github.com/kabinet-billing/kabinet/internal/config"
	"github.com/kabinet-billing/kabinet/internal/money"
	"github.com/kabinet-billing/kabinet/internal/notify"
	"github.com/kabinet-billing/kabinet/internal/notify/notifytest"
	"github.com/kabinet-billing/kabinet/internal/store"
	"github.com/kabinet-billing/kabinet/internal/store/storetest"
	"github.com/kabinet-billing/kabinet/internal/subscriber"
)

var (
	msk   = billing.DefaultRules().Zone
	quiet = slog.New(slog.DiscardHandler)
)

type env struct {
	db  *store.DB
	clk *clock.Fake
	b   *billing.Biller
	dir *subscriber.Directory
	n   *notify.Notifier
	srv *notifytest.Server
}

func newEnv(t *testing.T, db *store.DB, start time.Time) *env {
	t.Helper()
	ctx := context.Background()
	clk := clock.NewFake(start)
	b := billing.New(db, clk, billing.DefaultRules())
	sealer, _ := subscriber.NewSealer(make([]byte, 32))
	if _, err := billing.AddTariff(ctx, db, billing.Tariff{Code: "fixed", Name: "Фикс", Fee: money.Rub(300), DownKbps: 50000, UpKbps: 50000, Public: true}, start); err != nil {
		t.Fatal(err)
	}
	srv, pool := notifytest.Start(t, true, "kabinet", "mail-secret")
	host, port, _ := net.SplitHostPort(srv.Addr)
	p, _ := strconv.Atoi(port)
	cfg := notify.Config{Host: host, Port: p, Security: "starttls", Username: "kabinet", Password: "mail-secret", From: "noreply@set-region.example"}
	if err := cfg.Check(); err != nil {
		t.Fatal(err)
	}
	sender := &notify.SMTP{Config: cfg, TLS: &tls.Config{RootCAs: pool}}
	n := notify.New(db, clk, sender, b, notify.Options{From: cfg.From, Provider: config.Default().Provider, PortalURL: "https://my.set-region.example", Log: quiet})
	return &env{db: db, clk: clk, b: b, dir: subscriber.New(db, clk, sealer, b), n: n, srv: srv}
}

func (e *env) account(t *testing.T, login, email, lang string) subscriber.Account {
	t.Helper()
	ctx := context.Background()
	a, err := e.dir.Create(ctx, subscriber.NewAccount{Login: login, Password: "secret-pass", Tariff: "fixed", Name: "Иван Петров", Email: email})
	if err != nil {
		t.Fatal(err)
	}
	if lang != "ru" {
		if err := e.dir.UpdateProfile(ctx, a.ID, subscriber.Profile{Email: email, NotifyEmail: email != "", Lang: lang}); err != nil {
			t.Fatal(err)
		}
	}
	return a
}

func (e *env) pay(t *testing.T, id int64, rub int64, ext string) {
	t.Helper()
	err := e.db.Write(context.Background(), func(tx *store.Tx) error {
		_, err := e.b.Credit(context.Background(), tx, id, "cash", ext, money.Rub(rub), "", e.clk.Now())
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

// letter is a received message, decoded as a mail client would.
type letter struct {
	To, Subject, Body string
	TLS               bool
}

func (e *env) inbox(t *testing.T) []letter {
	t.Helper()
	var out []letter
	for _, r := range e.srv.Messages() {
		m, err := mail.ReadMessage(strings.NewReader(r.Data))
		if err != nil {
			t.Fatalf("unreadable message: %v\n%s", err, r.Data)
		}
		subj, err := new(mime.WordDecoder).DecodeHeader(m.Header.Get("Subject"))
		if err != nil {
			t.Fatal(err)
		}
		body, err := io.ReadAll(quotedprintable.NewReader(m.Body))
		if err != nil {
			t.Fatal(err)
		}
		if r.Auth != "kabinet" {
			t.Errorf("message delivered without authentication")
		}
		out = append(out, letter{To: strings.Join(r.To, ","), Subject: subj, Body: strings.ReplaceAll(string(body), "\r\n", "\n"), TLS: r.TLS})
	}
	return out
}

func (e *env) deliver(t *testing.T) (int, int) {
	t.Helper()
	sent, failed, err := e.n.Deliver(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return sent, failed
}

func TestLettersForEvents(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) { testLettersForEvents(t, db) })
}

func testLettersForEvents(t *testing.T, db *store.DB) {
	ctx := context.Background()
	e := newEnv(t, db, time.Date(2026, 12, 1, 0, 0, 0, 0, msk))
	// First read sets the cursor: nothing from before mail was set up.
	if n, err := e.n.HandleEvents(ctx); err != nil || n != 0 {
		t.Fatalf("first read: %d %v", n, err)
	}
	ru := e.account(t, "ivanov", "ivanov@example.net", "ru") // 300 charged: debt from Dec 1
	en := e.account(t, "smith", "smith@example.net", "en")
	quiet := e.account(t, "quiet", "", "ru") // no e-mail: no letters

	// January 1st: charged again, debts a month old: all three limited.
	jan := time.Date(2027, 1, 1, 0, 5, 0, 0, msk)
	e.clk.Set(jan)
	if _, err := e.b.Run(ctx, jan, nil); err != nil {
		t.Fatal(err)
	}
	if n, err := e.n.HandleEvents(ctx); err != nil || n != 2 {
		t.Fatalf("after the run: %d letters, %v; want 2", n, err)
	}
	e.pay(t, ru.ID, 700, "r1") // clears the debt: unlimited + payment
	e.pay(t, en.ID, 100, "e1") // still in debt: payment only
	e.pay(t, quiet.ID, 1000, "q1")
	n, err := e.n.HandleEvents(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if n != 3 { // unlimited, payment ×2; the quiet one has no e-mail
		t.Errorf("queued %d letters, want 3", n)
	}
	if again, _ := e.n.HandleEvents(ctx); again != 0 {
		t.Errorf("second read queued %d letters again", again)
	}
	if sent, failed := e.deliver(t); failed != 0 || sent != 5 {
		t.Errorf("delivered %d, failed %d, want 5 sent", sent, failed)
	}
	got := e.inbox(t)
	tests := []struct {
		to, subject string
		body        []string
	}{
		{"ivanov@example.net", "скорость ограничена", []string{"Здравствуйте, Иван Петров!", "задолженность 600,00\u00a0₽", "до 128 кбит/с"}},
		{"smith@example.net", "speed limited", []string{"Hello Иван Петров,", "debt of ₽600.00", "128 kbit/s"}},
		{"ivanov@example.net", "ограничение снято", []string{"Баланс: 100,00\u00a0₽"}},
		{"ivanov@example.net", "платёж 700,00\u00a0₽ зачислен", []string{"зачислено 700,00\u00a0₽"}},
		{"smith@example.net", "payment of ₽100.00 received", []string{"Balance: −₽500.00"}},
	}
	if len(got) != len(tests) {
		for _, l := range got {
			t.Logf("%s: %s", l.To, l.Subject)
		}
		t.Fatalf("got %d letters, want %d", len(got), len(tests))
	}
	for i, tt := range tests {
		l := got[i]
		if l.To != tt.to || !strings.Contains(l.Subject, tt.subject) || !l.TLS {
			t.Errorf("letter %d: to %s subject %q tls %v; want %s %q over TLS", i, l.To, l.Subject, l.TLS, tt.to, tt.subject)
		}
		for _, s := range tt.body {
			if !strings.Contains(l.Body, s) {
				t.Errorf("letter %d (%s) lacks %q:\n%s", i, l.Subject, s, l.Body)
			}
		}
	}
}

func TestRetriesWithBackoff(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) { testRetriesWithBackoff(t, db) })
}

func testRetriesWithBackoff(t *testing.T, db *store.DB) {
	ctx := context.Background()
	e := newEnv(t, db, time.Date(2027, 3, 10, 12, 0, 0, 0, msk))
	e.srv.FailTimes(2)
	_, err := e.n.Enqueue(ctx, notify.Mail{Kind: notify.KindCredentials, To: "new@example.net", Lang: "ru",
		Letter: notify.Letter{Name: "Анна", Login: "anna", ContractNo: "2027-000001", Password: "Kp7xWm2q"}})
	if err != nil {
		t.Fatal(err)
	}
	steps := []struct {
		advance      time.Duration
		sent, failed int
	}{
		{0, 0, 1},                // 451
		{30 * time.Second, 0, 0}, // not due: the first backoff is a minute
		{31 * time.Second, 0, 1}, // 451 again; next wait two minutes
		{time.Minute, 0, 0},
		{time.Minute, 1, 0},
		{time.Hour, 0, 0}, // sent once, never again
	}
	for i, s := range steps {
		e.clk.Advance(s.advance)
		if sent, failed := e.deliver(t); sent != s.sent || failed != s.failed {
			t.Errorf("step %d: sent %d failed %d, want %d %d", i, sent, failed, s.sent, s.failed)
		}
	}
	got := e.inbox(t)
	if len(got) != 1 || !strings.Contains(got[0].Subject, "данные для входа") || !strings.Contains(got[0].Body, "Пароль: Kp7xWm2q") {
		t.Fatalf("inbox: %+v", got)
	}
	q, err := e.n.List(ctx, 0, "", 10)
	if err != nil || len(q) != 1 || q[0].Status != "sent" || q[0].Attempts != 3 {
		t.Errorf("queue: %+v %v", q, err)
	}
}

// TestNothingLostWhileServerDown: a mail server that refuses connections
// is an outage, not the letter's fault: the letter waits, its attempts not
// counted, however long, and leaves once a server answers.
func TestNothingLostWhileServerDown(t *testing.T) {
	ctx := context.Background()
	db := storetest.SQLite(t)
	clk := clock.NewFake(time.Date(2027, 3, 10, 12, 0, 0, 0, time.UTC))
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	addr := ln.Addr().(*net.TCPAddr)
	ln.Close() // nothing listens: connection refused
	b := billing.New(db, clk, billing.DefaultRules())
	n := notify.New(db, clk, &notify.SMTP{Config: notify.Config{Host: "127.0.0.1", Port: addr.Port, Security: "none"}}, b,
		notify.Options{From: "noreply@example.net", MaxAttempts: 3, Log: quiet})
	if _, err := n.Enqueue(ctx, notify.Mail{Kind: notify.KindPasswordReset, To: "x@example.net", Lang: "en", Letter: notify.Letter{Login: "x", Password: "p"}}); err != nil {
		t.Fatal(err)
	}
	for range 10 {
		n.Deliver(ctx)
		clk.Advance(3 * time.Hour)
	}
	q, _ := n.List(ctx, 0, "", 10)
	if len(q) != 1 || q[0].Status != "queued" || q[0].Attempts != 0 || !strings.Contains(q[0].LastError, "refused") {
		t.Fatalf("queue after 30 hours of outage: %+v", q)
	}
	if !strings.Contains(q[0].Subject, "your new password") {
		t.Errorf("subject %q", q[0].Subject)
	}
	// The server is back (the restarted instance is told where).
	srv, _ := notifytest.Start(t, false, "", "")
	host, port, _ := net.SplitHostPort(srv.Addr)
	p, _ := strconv.Atoi(port)
	n = notify.New(db, clk, &notify.SMTP{Config: notify.Config{Host: host, Port: p, Security: "none"}}, b, notify.Options{From: "noreply@example.net", Log: quiet})
	if sent, _, err := n.Deliver(ctx); err != nil || sent != 1 || len(srv.Messages()) != 1 {
		t.Errorf("after the outage: sent %d, %v; %d arrived", sent, err, len(srv.Messages()))
	}
}

func TestLowBalanceReminder(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) { testLowBalanceReminder(t, db) })
}

func testLowBalanceReminder(t *testing.T, db *store.DB) {
	ctx := context.Background()
	e := newEnv(t, db, time.Date(2027, 1, 10, 12, 0, 0, 0, msk))
	poor := e.account(t, "poor", "poor@example.net", "ru")
	rich := e.account(t, "rich", "rich@example.net", "ru")
	e.pay(t, poor.ID, 400, "p") // 100 left, 300 due on Feb 1
	e.pay(t, rich.ID, 1000, "r")
	e.clk.Set(time.Date(2027, 1, 20, 12, 0, 0, 0, msk))
	if k, err := e.n.Reminders(ctx, e.clk.Now()); err != nil || k != 0 {
		t.Errorf("12 days before: %d %v", k, err)
	}
	e.clk.Set(time.Date(2027, 1, 29, 12, 0, 0, 0, msk))
	if k, err := e.n.Reminders(ctx, e.clk.Now()); err != nil || k != 1 {
		t.Errorf("3 days before: %d %v, want 1", k, err)
	}
	if k, _ := e.n.Reminders(ctx, e.clk.Now().Add(time.Hour)); k != 0 {
		t.Errorf("reminded twice: %d", k)
	}
	e.deliver(t)
	got := e.inbox(t)
	if len(got) != 1 || got[0].To != "poor@example.net" || !strings.Contains(got[0].Subject, "до 01.02.2027") || !strings.Contains(got[0].Body, "внести 200,00\u00a0₽") {
		t.Errorf("inbox: %+v", got)
	}
}

func TestEveryTemplateRenders(t *testing.T) {
	for _, kind := range notify.Kinds {
		for _, lang := range notify.Langs {
			subj, body, err := notify.Render(kind, lang, notify.Letter{Provider: config.Default().Provider, Name: "N", Login: "l", Password: "p", Amount: "1"})
			if err != nil || subj == "" || body == "" || strings.Contains(body, "<no value>") {
				t.Errorf("%s.%s: %q %v\n%s", kind, lang, subj, err, body)
			}
		}
	}
}

func TestRejectedAddressFailsAtOnce(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, storetest.SQLite(t), time.Date(2027, 3, 10, 12, 0, 0, 0, msk))
	e.srv.Reject("gone@example.net")
	for _, to := range []string{"gone@example.net", "here@example.net"} {
		if _, err := e.n.Enqueue(ctx, notify.Mail{Kind: notify.KindPasswordReset, To: to, Lang: "ru", Letter: notify.Letter{Login: "x", Password: "p"}}); err != nil {
			t.Fatal(err)
		}
	}
	// The 550 is final for that letter and does not hold up the next one.
	if sent, failed := e.deliver(t); sent != 1 || failed != 1 {
		t.Errorf("sent %d failed %d, want 1 and 1", sent, failed)
	}
	q, _ := e.n.List(ctx, 0, "failed", 10)
	if len(q) != 1 || q[0].To != "gone@example.net" || q[0].Attempts != 1 || !strings.Contains(q[0].LastError, "550") {
		t.Errorf("failed letters: %+v", q)
	}
	if got := e.inbox(t); len(got) != 1 || got[0].To != "here@example.net" {
		t.Errorf("inbox: %+v", got)
	}
}

// TestStartMailsOnEvents runs the production loop: a committed payment wakes
// it and the letter arrives without anyone calling Pump.
func TestStartMailsOnEvents(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	e := newEnv(t, storetest.SQLite(t), time.Date(2027, 3, 10, 12, 0, 0, 0, msk))
	a := e.account(t, "petrov", "petrov@example.net", "ru")
	if _, err := e.n.HandleEvents(ctx); err != nil { // sets the cursor
		t.Fatal(err)
	}
	e.n.Start(ctx, time.Hour)
	e.pay(t, a.ID, 500, "p1")
	deadline := time.Now().Add(10 * time.Second)
	for len(e.srv.Messages()) == 0 && time.Now().Before(deadline) {
		runtime.Gosched()
		time.Sleep(10 * time.Millisecond) // waiting for another goroutine's network I/O, not for a rule of time
	}
	got := e.inbox(t)
	if len(got) != 1 || !strings.Contains(got[0].Subject, "платёж 500,00") {
		t.Fatalf("inbox: %+v", got)
	}
}
