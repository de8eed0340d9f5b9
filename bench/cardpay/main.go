// Command cardpay measures card payments confirmed the way YooKassa
// confirms them, end to end through a real `kabinet serve`, and proves they
// survive a SIGKILL of the server in the middle.
//
// It seeds subscribers and n pending card payments (as subscribers pressing
// Pay would leave them), starts a fake YooKassa API and a fake ATOL Online
// (the fiscal data operator) in this process on loopback, and starts
// `kabinet serve` configured with both. Then it sends YooKassa's
// payment.succeeded notifications at -rate per second from -c concurrent
// senders; Kabinet confirms each by asking the fake API for the payment
// (GET /v3/payments/{id}), credits it, queues its 54-FZ receipt in the same
// transaction, and the fiscal worker sends the receipt to the fake ATOL.
// Some notifications are sent twice, as YooKassa repeats them.
//
// When half of the payments are acknowledged the server is killed with
// SIGKILL; at that moment every acknowledged payment must already be in the
// database. The server is restarted, the senders repeat what was not
// answered, and once all are acknowledged the receipts are waited for.
// Then: every payment credited exactly once (payments, ledger, balances),
// exactly one sell receipt per payment, all registered, the fake ATOL saw
// each receipt's external id as one document, and `kabinet ledger verify`.
//
// It prints the rate before the kill and over the whole run, the
// notification latency (p50, p99), the server's CPU time per payment, and
// the counts.
//
//	go run ./bench/cardpay                       # 20,000 payments at 1,000/s
//	go run ./bench/cardpay -n 40000 -rate 2000 -c 128
//	go run ./bench/cardpay -kill=false -cpuprofile serve.pprof   # profile the server (KABINET_CPUPROFILE)
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/time/rate"

	"github.com/kabinet-billing/kabinet/bench/internal/serve"
	"github.com/kabinet-billing/kabinet/internal/fiscal"
	"github.com/kabinet-billing/kabinet/internal/money"
	"github.com/kabinet-billing/kabinet/internal/store"
)

var (
	nPays      = flag.Int("n", 20000, "card payments")
	rateFlag   = flag.Int("rate", 1000, "notifications per second to aim at (0: as fast as the server answers)")
	senders    = flag.Int("c", 64, "concurrent notification senders")
	accounts   = flag.Int("accounts", 2000, "subscriber accounts the payments are spread over")
	dupShare   = flag.Float64("dup", 0.05, "share of notifications sent twice, as YooKassa repeats them")
	kill       = flag.Bool("kill", true, "SIGKILL the server when half the payments are acknowledged, and restart it")
	bin        = flag.String("bin", "", "kabinet binary (default: go build ./cmd/kabinet)")
	dirFlag    = flag.String("dir", "", "work directory (default: a temporary one, removed afterwards)")
	cpuprofile = flag.String("cpuprofile", "", "have the server write a CPU profile here (set KABINET_CPUPROFILE; written on SIGTERM, so use with -kill=false)")
	receiptsBy = flag.Duration("receipts-timeout", 5*time.Minute, "how long to wait for every receipt to be registered")
)

const (
	shopID    = "bench-shop"
	secretKey = "bench-secret-key"
	atolLogin = "bench"
	atolPass  = "bench-pass"
	atolGroup = "bench-group"
)

func main() {
	flag.Parse()
	log.SetFlags(log.Ltime)
	if err := run(); err != nil {
		log.Printf("FAIL: %v", err)
		os.Exit(1)
	}
}

func run() error {
	ctx := context.Background()
	dir := *dirFlag
	if dir == "" {
		d, err := os.MkdirTemp("", "kabinet-cardpay")
		if err != nil {
			return err
		}
		defer os.RemoveAll(d)
		dir = d
	}
	if *bin == "" {
		*bin = filepath.Join(dir, "kabinet")
		log.Printf("building kabinet")
		if err := serve.Build(*bin); err != nil {
			return err
		}
	}
	dsn := "sqlite:" + filepath.Join(dir, "kabinet.db")
	t0 := time.Now()
	pays, err := seed(ctx, dsn, *accounts, *nPays)
	if err != nil {
		return err
	}
	log.Printf("seeded %d accounts and %d pending card payments in %.1fs", *accounts, len(pays), time.Since(t0).Seconds())

	yk := newFakeYooKassa(pays)
	ykURL, stopYK, err := serveLoopback(yk)
	if err != nil {
		return err
	}
	defer stopYK()
	atol := &fiscal.Sandbox{Login: atolLogin, Password: atolPass, GroupCode: atolGroup}
	atolURL, stopATOL, err := serveLoopback(atol)
	if err != nil {
		return err
	}
	defer stopATOL()
	atol.CheckBase = atolURL

	addr, err := serve.FreeAddr()
	if err != nil {
		return err
	}
	cfg := filepath.Join(dir, "kabinet.toml")
	conf := fmt.Sprintf(`db = %q
data_dir = %q

[provider]
name = "Cardpay bench"

[radius]
disabled = true

[mail]
disabled = true

[payment]
default_processor = "yookassa"

[[payment.processors]]
kind = "yookassa"
shop_id = %q
secret_key = %q
api_url = %q
notify_from = ["127.0.0.1", "::1"]

[fiscal]
operator = "atol"
api_url = %q
login = %q
password = %q
group_code = %q
`, dsn, dir, shopID, secretKey, ykURL+"/v3", atolURL+"/possystem/v5", atolLogin, atolPass, atolGroup)
	if err := os.WriteFile(cfg, []byte(conf), 0o600); err != nil {
		return err
	}
	logf, err := os.Create(filepath.Join(dir, "serve.log"))
	if err != nil {
		return err
	}
	defer logf.Close()

	base := "http://" + addr
	var env []string
	if *cpuprofile != "" {
		env = append(env, "KABINET_CPUPROFILE="+*cpuprofile)
	}
	srv, err := serve.Start(*bin, cfg, addr, logf, env...)
	if err != nil {
		return err
	}
	d := &driver{base: base, pays: pays, acked: make([]atomic.Bool, len(pays))}
	for i := range pays {
		d.queue = append(d.queue, i)
	}
	// The senders take from the queue; what fails goes back to it.
	var limiter *rate.Limiter
	if *rateFlag > 0 {
		limiter = rate.NewLimiter(rate.Limit(*rateFlag), max(*rateFlag/20, 1))
	}
	sctx, stopSenders := context.WithCancel(ctx)
	defer stopSenders()
	var wg sync.WaitGroup
	start := time.Now()
	for range *senders {
		wg.Go(func() { d.send(sctx, limiter) })
	}

	var cpu time.Duration // the server processes' CPU time
	var killAt time.Time
	var ackedAtKill, unansweredAtKill int
	var latBeforeKill []time.Duration
	if *kill {
		for d.ackedCount() < len(pays)/2 {
			time.Sleep(5 * time.Millisecond)
		}
		srv.Kill()
		killAt = time.Now()
		cpu += srv.CPU()
		d.mu.Lock()
		latBeforeKill = slices.Clone(d.lat)
		d.mu.Unlock()
		acked := d.ackedSet()
		ackedAtKill = len(acked)
		unansweredAtKill = int(d.inflight.Load())
		// The server is dead: nothing more is acknowledged until it is
		// back, so the books must already hold every acknowledged payment.
		if err := checkAtKill(ctx, dsn, pays, acked); err != nil {
			return err
		}
		log.Printf("killed with SIGKILL after %.1fs: %d payments acknowledged, all of them in the database; %d notifications were in flight",
			killAt.Sub(start).Seconds(), ackedAtKill, unansweredAtKill)
		if srv, err = serve.Start(*bin, cfg, addr, logf, env...); err != nil {
			return err
		}
		log.Printf("restarted in %.1fs", time.Since(killAt).Seconds())
	}
	for d.ackedCount() < len(pays) {
		time.Sleep(10 * time.Millisecond)
	}
	allAcked := time.Now()
	stopSenders()
	wg.Wait()
	elapsed := allAcked.Sub(start)

	// The receipts: every payment's, registered at the fake ATOL.
	receiptsDone, err := waitReceipts(ctx, dsn, len(pays), *receiptsBy)
	if err != nil {
		return err
	}
	if err := srv.Stop(); err != nil {
		return fmt.Errorf("kabinet serve exited: %v (log %s)", err, logf.Name())
	}
	cpu += srv.CPU()

	d.mu.Lock()
	lat := d.lat
	d.mu.Unlock()
	log.Printf("RESULT %d card payments confirmed by notification in %.1fs: %.0f/s over the whole run (the kill and restart included)",
		len(pays), elapsed.Seconds(), float64(len(pays))/elapsed.Seconds())
	if *kill {
		log.Printf("RESULT before the kill: %d in %.1fs = %.0f/s; notification latency p50 %s, p99 %s",
			ackedAtKill, killAt.Sub(start).Seconds(), float64(ackedAtKill)/killAt.Sub(start).Seconds(),
			pct(latBeforeKill, 50), pct(latBeforeKill, 99))
	}
	log.Printf("RESULT notification latency over the run: p50 %s, p99 %s, max %s (%d answered requests, %d repeats of an answered one, %d failed while the server was down)",
		pct(lat, 50), pct(lat, 99), pct(lat, 100), len(lat), d.dups.Load(), d.failed.Load())
	log.Printf("RESULT receipts: all %d registered %.1fs after the last payment was acknowledged", len(pays), receiptsDone.Sub(allAcked).Seconds())
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	self := time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	log.Printf("RESULT server CPU %.1fs = %.2f ms per payment (receipts and letters included); this process (senders, fake YooKassa and ATOL) %.2f ms per payment; %d CPUs, load average %s",
		cpu.Seconds(), cpu.Seconds()*1000/float64(len(pays)), self.Seconds()*1000/float64(len(pays)), runtime.NumCPU(), loadavg())

	if err := verify(ctx, dsn, pays, atol); err != nil {
		return err
	}
	out, err := exec.Command(*bin, "--db", dsn, "ledger", "verify").CombinedOutput()
	if err != nil {
		return fmt.Errorf("kabinet ledger verify: %v\n%s", err, out)
	}
	log.Printf("ledger verify: %s", strings.TrimSpace(string(out)))
	log.Printf("PASS")
	return nil
}

// pay is one card payment: Kabinet's id, YooKassa's id, the amount.
type pay struct {
	id     int64
	ref    string
	amount money.Amount
}

// seed creates the accounts and the pending payments in set-based
// statements, as the crash benchmark does.
func seed(ctx context.Context, dsn string, nAccounts, n int) ([]pay, error) {
	db, err := store.Open(ctx, dsn)
	if err != nil {
		return nil, err
	}
	defer db.Close()
	if _, err := db.Migrate(ctx); err != nil {
		return nil, err
	}
	now := time.Now().UTC()
	err = db.Write(ctx, func(tx *store.Tx) error {
		for _, s := range []struct {
			q    string
			args []any
		}{
			{`INSERT INTO tariffs (code, name, fee, down_kbps, up_kbps, public, archived, prorate, created_at) VALUES ('home', 'Home', 60000, 100000, 100000, ?, ?, ?, ?)`,
				[]any{true, false, true, now}},
			{fmt.Sprintf(`WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < %d)
				INSERT INTO ledger_accounts (code, kind, balance) SELECT 'subscriber:u' || i, 'subscriber', 0 FROM s`, nAccounts), nil},
			{`INSERT INTO accounts (login, contract_no, contract_date, password_hash, password_enc, tariff_id, status, ledger_id, email, created_at, updated_at)
				SELECT substr(code, 12), 'C-' || id, '2026-12-01', 'x', 'x', (SELECT id FROM tariffs WHERE code = 'home'), 'active', id,
				substr(code, 12) || '@example.net', ?, ? FROM ledger_accounts WHERE kind = 'subscriber'`, []any{now, now}},
			// This month counts as billed, so that the server's scheduler
			// charges nothing and balances are the payments alone.
			{`INSERT INTO billing_runs (at, period, started_at, finished_at) VALUES (?, ?, ?, ?)`,
				[]any{now, now.In(moscow()).Format("2006-01"), now, now}},
			{fmt.Sprintf(`WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < %d)
				INSERT INTO payments (channel, account_id, amount, status, source, created_at, updated_at)
				SELECT 'card:yookassa', (SELECT MIN(id) FROM accounts) + i %% %d, 10000 + (i * 7919) %% 500000, 'pending', 'online', ?, ? FROM s`,
				n, nAccounts), []any{now, now}},
		} {
			if _, err := tx.Exec(ctx, s.q, s.args...); err != nil {
				return fmt.Errorf("seed: %w", err)
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	rows, err := db.Query(ctx, `SELECT id, amount FROM payments WHERE channel = 'card:yookassa' ORDER BY id`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []pay
	for rows.Next() {
		var p pay
		if err := rows.Scan(&p.id, &p.amount); err != nil {
			return nil, err
		}
		// YooKassa's ids look like UUIDs.
		p.ref = fmt.Sprintf("2f%06x-000f-5000-8000-%012x", p.id&0xffffff, p.id)
		out = append(out, p)
	}
	return out, rows.Err()
}

func moscow() *time.Location {
	l, err := time.LoadLocation("Europe/Moscow")
	if err != nil {
		return time.FixedZone("MSK", 3*3600)
	}
	return l
}

// fakeYooKassa answers GET /v3/payments/{id} for the seeded payments, all
// succeeded, as YooKassa's API documents the payment object; other
// requests and wrong credentials are refused as YooKassa refuses them.
type fakeYooKassa struct {
	byRef map[string]pay
	gets  atomic.Int64
}

func newFakeYooKassa(pays []pay) *fakeYooKassa {
	f := &fakeYooKassa{byRef: make(map[string]pay, len(pays))}
	for _, p := range pays {
		f.byRef[p.ref] = p
	}
	return f
}

func (f *fakeYooKassa) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	if u, pw, ok := r.BasicAuth(); !ok || u != shopID || pw != secretKey {
		w.WriteHeader(http.StatusUnauthorized)
		io.WriteString(w, `{"type":"error","code":"invalid_credentials","description":"Basic authentication failed"}`)
		return
	}
	ref, ok := strings.CutPrefix(r.URL.Path, "/v3/payments/")
	p, known := f.byRef[ref]
	if r.Method != http.MethodGet || !ok || !known {
		w.WriteHeader(http.StatusNotFound)
		io.WriteString(w, `{"type":"error","code":"not_found","description":"Payment not found"}`)
		return
	}
	f.gets.Add(1)
	json.NewEncoder(w).Encode(map[string]any{
		"id": p.ref, "status": "succeeded", "paid": true, "test": true, "refundable": true,
		"amount":         map[string]string{"value": p.amount.Decimal(), "currency": "RUB"},
		"income_amount":  map[string]string{"value": p.amount.Decimal(), "currency": "RUB"},
		"captured_at":    time.Now().UTC().Format("2006-01-02T15:04:05.000Z"),
		"created_at":     time.Now().UTC().Format("2006-01-02T15:04:05.000Z"),
		"description":    "Оплата услуг связи",
		"metadata":       map[string]string{"kabinet_payment_id": strconv.FormatInt(p.id, 10)},
		"payment_method": map[string]any{"type": "bank_card", "id": p.ref, "saved": false, "card": map[string]string{"last4": "4242", "expiry_month": "12", "expiry_year": "2030", "card_type": "Visa"}},
	})
}

// driver sends the notifications and keeps what was acknowledged.
type driver struct {
	base  string
	pays  []pay
	acked []atomic.Bool

	mu       sync.Mutex
	queue    []int // indexes of payments to notify (again)
	lat      []time.Duration
	nAcked   int
	inflight atomic.Int64
	dups     atomic.Int64
	failed   atomic.Int64
}

func (d *driver) take() (int, bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if len(d.queue) == 0 {
		return 0, false
	}
	i := d.queue[0]
	d.queue = d.queue[1:]
	return i, true
}

func (d *driver) ackedCount() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.nAcked
}

func (d *driver) ackedSet() map[int]bool {
	out := map[int]bool{}
	for i := range d.acked {
		if d.acked[i].Load() {
			out[i] = true
		}
	}
	return out
}

func (d *driver) send(ctx context.Context, limiter *rate.Limiter) {
	c := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 4}}
	for ctx.Err() == nil {
		i, ok := d.take()
		if !ok {
			time.Sleep(5 * time.Millisecond)
			continue
		}
		if limiter != nil && limiter.Wait(ctx) != nil {
			return
		}
		p := d.pays[i]
		body, _ := json.Marshal(map[string]any{"type": "notification", "event": "payment.succeeded",
			"object": map[string]any{"id": p.ref, "status": "succeeded", "paid": true,
				"amount": map[string]string{"value": p.amount.Decimal(), "currency": "RUB"}}})
		times := 1
		if float64(p.id%1000) < *dupShare*1000 {
			times = 2 // YooKassa repeats a notification it thinks was not taken
		}
		for t := range times {
			d.inflight.Add(1)
			t0 := time.Now()
			status, err := post(ctx, c, d.base+"/pay/card/yookassa/callback", body)
			took := time.Since(t0)
			d.inflight.Add(-1)
			if err != nil || status != http.StatusOK {
				if ctx.Err() != nil {
					return
				}
				d.failed.Add(1)
				if status >= 400 && status < 500 {
					log.Printf("notification of payment %d refused with HTTP %d: a bug", p.id, status)
				}
				d.mu.Lock()
				if !d.acked[i].Load() {
					d.queue = append(d.queue, i) // repeated later, as YooKassa does
				}
				d.mu.Unlock()
				time.Sleep(50 * time.Millisecond) // the server is down: wait a little
				break
			}
			d.mu.Lock()
			d.lat = append(d.lat, took)
			if t > 0 {
				d.dups.Add(1)
			}
			if !d.acked[i].Swap(true) {
				d.nAcked++
			}
			d.mu.Unlock()
		}
	}
}

func post(ctx context.Context, c *http.Client, url string, body []byte) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.Do(req)
	if err != nil {
		return 0, err
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode, nil
}

func pct(ds []time.Duration, p int) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	i := min(len(s)*p/100, len(s)-1)
	return s[i].Round(100 * time.Microsecond)
}

// checkAtKill: every payment acknowledged before the kill is credited.
func checkAtKill(ctx context.Context, dsn string, pays []pay, acked map[int]bool) error {
	db, err := store.Open(ctx, dsn)
	if err != nil {
		return err
	}
	defer db.Close()
	credited := map[int64]bool{}
	rows, err := db.Query(ctx, `SELECT id FROM payments WHERE channel = 'card:yookassa' AND status = 'succeeded' AND ledger_txn_id IS NOT NULL`)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return err
		}
		credited[id] = true
	}
	missing := 0
	for i := range acked {
		if !credited[pays[i].id] {
			missing++
		}
	}
	if missing > 0 {
		return fmt.Errorf("%d acknowledged payments missing from the database after the kill", missing)
	}
	return rows.Err()
}

// waitReceipts waits until n receipts are registered.
func waitReceipts(ctx context.Context, dsn string, n int, timeout time.Duration) (time.Time, error) {
	db, err := store.Open(ctx, dsn)
	if err != nil {
		return time.Time{}, err
	}
	defer db.Close()
	deadline := time.Now().Add(timeout)
	for {
		var done, all int
		if err := db.QueryRow(ctx, `SELECT COUNT(*), COALESCE(SUM(CASE WHEN status = 'done' THEN 1 ELSE 0 END), 0) FROM fiscal_receipts`).Scan(&all, &done); err != nil {
			return time.Time{}, err
		}
		if done >= n {
			return time.Now(), nil
		}
		if time.Now().After(deadline) {
			return time.Time{}, fmt.Errorf("%d of %d receipts registered (%d queued) after %s", done, n, all, timeout)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// verify checks the books and the receipts against what was paid.
func verify(ctx context.Context, dsn string, pays []pay, atol *fiscal.Sandbox) error {
	db, err := store.Open(ctx, dsn)
	if err != nil {
		return err
	}
	defer db.Close()
	want := map[int64]pay{}
	for _, p := range pays {
		want[p.id] = p
	}
	var n, ledgerN, receipts, receiptsDone, distinctTxn, ledgerDups int
	q := func(dst *int, query string, args ...any) error {
		if err := db.QueryRow(ctx, query, args...).Scan(dst); err != nil {
			return fmt.Errorf("%s: %w", query, err)
		}
		return nil
	}
	for _, c := range []struct {
		dst   *int
		query string
	}{
		{&n, `SELECT COUNT(*) FROM payments WHERE channel = 'card:yookassa' AND status = 'succeeded' AND ledger_txn_id IS NOT NULL`},
		{&ledgerN, `SELECT COUNT(*) FROM ledger_txns WHERE kind = 'payment'`},
		{&ledgerDups, `SELECT COUNT(*) FROM (SELECT ledger_txn_id FROM payments WHERE ledger_txn_id IS NOT NULL GROUP BY ledger_txn_id HAVING COUNT(*) > 1) d`},
		{&receipts, `SELECT COUNT(*) FROM fiscal_receipts WHERE kind = 'sell'`},
		{&receiptsDone, `SELECT COUNT(*) FROM fiscal_receipts WHERE kind = 'sell' AND status = 'done' AND fn_number <> '' AND fiscal_document_attribute <> ''`},
		{&distinctTxn, `SELECT COUNT(DISTINCT r.ledger_txn_id) FROM fiscal_receipts r JOIN payments p ON p.ledger_txn_id = r.ledger_txn_id`},
	} {
		if err := q(c.dst, c.query); err != nil {
			return err
		}
	}
	log.Printf("counts: %d payments succeeded with a ledger transaction, %d payment transactions in the ledger, %d sell receipts (%d registered with ФН/ФП, %d distinct payments)",
		n, ledgerN, receipts, receiptsDone, distinctTxn)
	switch {
	case n != len(pays):
		return fmt.Errorf("%d payments credited, want %d", n, len(pays))
	case ledgerN != len(pays):
		return fmt.Errorf("%d payment transactions in the ledger, want %d", ledgerN, len(pays))
	case ledgerDups != 0:
		return fmt.Errorf("%d ledger transactions belong to more than one payment", ledgerDups)
	case receipts != len(pays) || receiptsDone != len(pays) || distinctTxn != len(pays):
		return fmt.Errorf("receipts: %d, %d registered, for %d payments; want one registered per payment (%d)", receipts, receiptsDone, distinctTxn, len(pays))
	}
	// Each payment's amount, and each account's balance equal to its payments.
	rows, err := db.Query(ctx, `SELECT id, amount FROM payments WHERE channel = 'card:yookassa'`)
	if err != nil {
		return err
	}
	for rows.Next() {
		var id int64
		var a money.Amount
		if err := rows.Scan(&id, &a); err != nil {
			rows.Close()
			return err
		}
		if want[id].amount != a {
			rows.Close()
			return fmt.Errorf("payment %d: %s, want %s", id, a, want[id].amount)
		}
	}
	rows.Close()
	var wrong int
	if err := q(&wrong, `SELECT COUNT(*) FROM accounts a JOIN ledger_accounts l ON l.id = a.ledger_id
		LEFT JOIN (SELECT account_id, SUM(amount) AS s FROM payments WHERE status = 'succeeded' GROUP BY account_id) p ON p.account_id = a.id
		WHERE l.balance <> COALESCE(p.s, 0)`); err != nil {
		return err
	}
	if wrong > 0 {
		return fmt.Errorf("%d accounts have a balance other than the sum of their payments", wrong)
	}
	// The fake ATOL: one document per receipt's external id, and those are
	// exactly the receipts Kabinet holds.
	docs := atol.Docs()
	accepted, requests, tokens := atol.Counts()
	rows, err = db.Query(ctx, `SELECT external_id FROM fiscal_receipts`)
	if err != nil {
		return err
	}
	defer rows.Close()
	ours := 0
	for rows.Next() {
		var ext string
		if err := rows.Scan(&ext); err != nil {
			return err
		}
		ours++
		if docs[ext] != fiscal.KindSell {
			return fmt.Errorf("receipt %s: the fiscal data operator has no sell document for it", ext)
		}
	}
	if err := rows.Err(); err != nil {
		return err
	}
	log.Printf("fake ATOL: %d documents for %d external ids (%d register requests: %d repeats answered with the first document; %d tokens)",
		accepted, len(docs), requests, requests-accepted, tokens)
	if accepted != len(pays) || len(docs) != len(pays) || ours != len(pays) {
		return fmt.Errorf("the fiscal data operator holds %d documents for %d external ids; Kabinet %d receipts; want %d each",
			accepted, len(docs), ours, len(pays))
	}
	log.Printf("every payment credited once with its amount; balances equal the payments; one receipt per payment, registered once at the operator")
	return nil
}

func serveLoopback(h http.Handler) (string, func(), error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	return "http://" + ln.Addr().String(), func() { srv.Close() }, nil
}

func loadavg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
}
