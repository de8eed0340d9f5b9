// Command notify measures the notification queue: the "3 days before the
// 1st" reminder run for many subscribers (each with an e-mail and a linked
// Telegram chat), then delivery over Telegram against a fake Bot API on
// loopback that enforces the Bot API's limits (about 30 messages a second,
// one a second per chat) and answers 429 with retry_after beyond them.
// It prints the queueing time, the delivery rate, the 429s and the
// process's resident memory as it goes (VmRSS) and at its peak (VmHWM).
//
//	go run ./bench/notify -n 100000 -for 60s          # SQLite
//	go run ./bench/notify -n 100000 -rate 0 -for 30s  # no rate limit: the queue's own ceiling
//	go run ./bench/notify -pg postgres://postgres@127.0.0.1:5432/test
package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"log"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/kabinet-billing/kabinet/internal/billing"
	"github.com/kabinet-billing/kabinet/internal/clock"
	"github.com/kabinet-billing/kabinet/internal/config"
	"github.com/kabinet-billing/kabinet/internal/money"
	"github.com/kabinet-billing/kabinet/internal/notify"
	"github.com/kabinet-billing/kabinet/internal/notify/notifytest"
	"github.com/kabinet-billing/kabinet/internal/store"
)

func main() {
	config.SetGC() // as every kabinet command runs
	n := flag.Int("n", 100000, "subscribers")
	pg := flag.String("pg", "", "PostgreSQL DSN (a database to fill: its public schema tables are dropped)")
	dir := flag.String("dir", os.TempDir(), "directory for the SQLite file")
	rate := flag.Float64("rate", 30, "Telegram messages a second (the Bot API's limit); 0: no limit, here or in the fake")
	window := flag.Int("window", 8, "sends under way at once")
	dur := flag.Duration("for", time.Minute, "how long to deliver")
	flag.Parse()
	ctx := context.Background()
	zone := billing.DefaultRules().Zone

	dsn := "sqlite:" + filepath.Join(*dir, "bench-notify.db")
	if *pg != "" {
		dsn = *pg
		reset(ctx, dsn)
	} else {
		for _, suffix := range []string{"", "-wal", "-shm"} {
			os.Remove(filepath.Join(*dir, "bench-notify.db"+suffix))
		}
	}
	db, err := store.Open(ctx, dsn)
	check(err)
	defer db.Close()
	_, err = db.Migrate(ctx)
	check(err)
	t0 := time.Now()
	load(ctx, db, *n)
	fmt.Printf("%s: loaded %d subscribers (e-mail and Telegram each) in %.1fs; rss %s\n", db.Dialect, *n, time.Since(t0).Seconds(), rss())

	api, err := notifytest.StartBotAPI("123:bench")
	check(err)
	defer api.Close()
	limits := notify.Limits{PerSecond: *rate, PerRecipient: time.Second, Window: *window}
	if *rate == 0 {
		limits.PerRecipient = 0
	} else {
		api.PerSecond, api.PerChat = int(*rate), time.Second
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError}))
	nt := notify.New(db, clock.System, nil, billing.New(db, clock.System, billing.DefaultRules()),
		notify.Options{Provider: config.Default().Provider, PortalURL: "https://my.example.net", Log: log})
	nt.AddChannel(notify.Channel{Name: notify.ChannelTelegram, Sender: &notifytest.BotSender{URL: api.URL, Token: api.Token}, Limits: limits})

	// The reminder run: three days before the 1st of next month.
	next := billing.PeriodOf(time.Now(), zone).End
	at := next.Add(-72 * time.Hour).Add(time.Hour)
	t0 = time.Now()
	k, err := nt.Reminders(ctx, at)
	check(err)
	took := time.Since(t0)
	fmt.Printf("%s: reminders before %s: %d messages queued in %.2fs (%.0f/s); rss %s\n", db.Dialect, next.In(zone).Format("02.01.2006"), k, took.Seconds(),
		float64(k)/took.Seconds(), rss())
	t0 = time.Now()
	again, err := nt.Reminders(ctx, at)
	check(err)
	fmt.Printf("%s: the same run again: %d queued in %.2fs\n", db.Dialect, again, time.Since(t0).Seconds())

	// Delivery by the running loop, as serve runs it.
	rctx, stop := context.WithTimeout(ctx, *dur)
	done := make(chan struct{})
	go func() { nt.Run(rctx, time.Second); close(done) }()
	start := time.Now()
	tick := time.NewTicker(10 * time.Second)
	last, lastAt := 0, start
loop:
	for {
		select {
		case <-done:
			break loop
		case now := <-tick.C:
			sent := len(api.Sent())
			fmt.Printf("  %4.0fs: %6d delivered, %5.1f/s over the last 10 s, %d answered 429; rss %s\n", now.Sub(start).Seconds(), sent,
				float64(sent-last)/now.Sub(lastAt).Seconds(), api.TooMany(), rss())
			last, lastAt = sent, now
		}
	}
	stop()
	el := time.Since(start)
	sent := len(api.Sent())
	counts, err := nt.Counts(ctx)
	check(err)
	fmt.Printf("%s: delivered %d in %.1fs: %.1f messages/s (limit %.0f/s), %d answered 429; queue %v; peak rss %s\n", db.Dialect, sent, el.Seconds(),
		float64(sent)/el.Seconds(), *rate, api.TooMany(), counts[notify.ChannelTelegram], peak())
	dup := map[string]int{}
	for _, d := range api.Sent() {
		dup[d.ChatID]++
	}
	for chat, k := range dup {
		if k > 1 {
			fmt.Printf("DUPLICATE: chat %s got %d messages\n", chat, k)
		}
	}
}

func check(err error) {
	if err != nil {
		log.Fatal(err)
	}
}

func reset(ctx context.Context, dsn string) {
	db, err := store.Open(ctx, dsn)
	check(err)
	defer db.Close()
	_, err = db.Writer().ExecContext(ctx, "DROP SCHEMA public CASCADE; CREATE SCHEMA public")
	check(err)
}

// load fills the catalogue and n accounts with set-based statements, as a
// bulk migration would: each with a zero balance (the 600 ₽ fee of the
// 1st is not covered), an e-mail and a linked Telegram chat.
func load(ctx context.Context, db *store.DB, n int) {
	created := time.Now().Add(-30 * 24 * time.Hour).UTC()
	check(db.Write(ctx, func(tx *store.Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO tariffs (code, name, fee, down_kbps, up_kbps, public, archived, prorate, created_at) VALUES ('home', 'Home', ?, 100000, 100000, ?, ?, ?, ?)`,
			int64(money.Rub(600)), true, false, true, created); err != nil {
			return err
		}
		series := fmt.Sprintf(`WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < %d)`, n)
		if _, err := tx.Exec(ctx, series+` INSERT INTO ledger_accounts (code, kind, balance) SELECT 'subscriber:u' || i, 'subscriber', 0 FROM s`); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO accounts (login, contract_no, contract_date, password_hash, password_enc, tariff_id, status, ledger_id, email, name, created_at, updated_at)
			SELECT substr(code, 12), 'C-' || id, '2026-12-10', 'x', 'x', (SELECT id FROM tariffs WHERE code = 'home'), 'active', id, substr(code, 12) || '@example.net', 'Абонент ' || id, ?::timestamptz, ?::timestamptz
			FROM ledger_accounts WHERE kind = 'subscriber'`, created, created); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `INSERT INTO notify_addresses (account_id, channel, address, created_at) SELECT id, 'telegram', CAST(100000000 + id AS TEXT), ?::timestamptz FROM accounts`, created)
		return err
	}))
	if db.Dialect == store.Postgres {
		_, err := db.Writer().ExecContext(ctx, "ANALYZE")
		check(err)
	}
}

func status(key string) string {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return "?"
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		if v, ok := strings.CutPrefix(s.Text(), key+":"); ok {
			return strings.TrimSpace(v)
		}
	}
	return "?"
}

func rss() string  { return status("VmRSS") }
func peak() string { return status("VmHWM") }
