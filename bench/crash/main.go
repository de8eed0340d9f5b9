// Command crash kills kabinet with SIGKILL at random points and checks that
// the money survives: the process dies between any two instructions, so
// only what the database committed counts.
//
//   - billing: `kabinet billing run` over many accounts, killed at random
//     points and re-run until it finishes, month after month; then every
//     account must be charged exactly once per period and the ledger verify.
//   - payments: `kabinet serve` with an OSMP channel and the sandbox card
//     processor; concurrent clients send OSMP pays and signed card callbacks
//     over loopback, the server is killed at random points and restarted;
//     clients repeat what was not answered, as banks and processors do.
//     Then every acknowledged payment (OSMP result 0, callback 200) is
//     present exactly once and the ledger verifies.
//
// SQLite always; PostgreSQL too when KABINET_TEST_POSTGRES names a database
// (each run uses a schema of its own, dropped afterwards), and then:
//
//   - pair: two `kabinet serve` on one PostgreSQL database, started at once
//     with two months due: the months are billed once, by whichever
//     instance takes the advisory lock; every OSMP pay is sent to both
//     instances at the same moment, one instance is killed and restarted
//     halfway, and each pay is credited once. Then a NAS at 127.0.0.1 with
//     both as its accounting servers sends Start, Interim-Updates and Stop
//     for -pair-sessions sessions, alternating between the instances, a
//     third of the packets to both at once, repeating to the other what is
//     not answered; the other instance is killed and restarted halfway.
//     Every acknowledged Stop is in sessions once with its counters, and
//     usage_daily per account is the sum of its sessions' traffic.
//
// Usage:
//
//	go run ./bench/crash                         # 50 kills each, SQLite
//	KABINET_TEST_POSTGRES=postgres://postgres@127.0.0.1:5432/test go run ./bench/crash
//	go run ./bench/crash -kills 10 -accounts 20000 -only billing
package main

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/xml"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	mrand "math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib"

	"github.com/kabinet-billing/kabinet/bench/internal/serve"
	"github.com/kabinet-billing/kabinet/internal/billing"
	"github.com/kabinet-billing/kabinet/internal/money"
	"github.com/kabinet-billing/kabinet/internal/store"
)

var (
	kills       = flag.Int("kills", 50, "SIGKILLs per scenario and database")
	accounts    = flag.Int("accounts", 50000, "accounts billed in the billing scenario")
	payAccounts = flag.Int("pay-accounts", 1000, "accounts paid in the OSMP scenario")
	clients     = flag.Int("clients", 8, "concurrent OSMP clients")
	pairPays    = flag.Int("pair-pays", 1000, "pays sent to both instances in the pair scenario")
	pairSess    = flag.Int("pair-sessions", 1000, "RADIUS sessions accounted through both instances in the pair scenario")
	only        = flag.String("only", "", "run one scenario: billing, payments or pair")
	bin         = flag.String("bin", "", "kabinet binary (default: go build ./cmd/kabinet)")
	seedFlag    = flag.Uint64("seed", 0, "random seed (default: from the clock; printed)")
	keep        = flag.Bool("keep", false, "keep the work directory")
)

var rnd *mrand.Rand

func main() {
	flag.Parse()
	if *seedFlag == 0 {
		*seedFlag = uint64(time.Now().UnixNano())
	}
	rnd = mrand.New(mrand.NewPCG(*seedFlag, 0))
	dir, err := os.MkdirTemp("", "kabinet-crash")
	if err != nil {
		log.Fatal(err)
	}
	if !*keep {
		defer os.RemoveAll(dir)
	} else {
		log.Printf("work directory %s", dir)
	}
	log.SetFlags(log.Ltime)
	log.Printf("seed %d", *seedFlag)
	if *bin == "" {
		*bin = filepath.Join(dir, "kabinet")
		log.Printf("building kabinet")
		if err := serve.Build(*bin); err != nil {
			log.Fatal(err)
		}
	}
	targets := []string{"sqlite"}
	if os.Getenv("KABINET_TEST_POSTGRES") != "" {
		targets = append(targets, "postgres")
	} else {
		log.Printf("PostgreSQL skipped: KABINET_TEST_POSTGRES is not set")
	}
	failed := false
	for _, target := range targets {
		for _, scenario := range []string{"billing", "payments", "pair"} {
			if *only != "" && *only != scenario {
				continue
			}
			if scenario == "pair" && target != "postgres" {
				continue // several instances share PostgreSQL only
			}
			dsn, drop, err := newDatabase(target, filepath.Join(dir, target+"-"+scenario))
			if err != nil {
				log.Fatal(err)
			}
			start := time.Now()
			switch scenario {
			case "billing":
				err = billingCrash(dsn)
			case "payments":
				err = paymentsCrash(dsn, filepath.Join(dir, target+"-"+scenario))
			case "pair":
				err = pairRun(dsn, filepath.Join(dir, target+"-"+scenario))
			}
			drop()
			if err != nil {
				failed = true
				log.Printf("FAIL %s %s: %v", target, scenario, err)
				continue
			}
			log.Printf("PASS %s %s (%.0fs)", target, scenario, time.Since(start).Seconds())
		}
	}
	if failed {
		os.Exit(1)
	}
}

// newDatabase makes an empty database: a SQLite file in dir, or a fresh
// schema on KABINET_TEST_POSTGRES.
func newDatabase(target, dir string) (dsn string, drop func(), err error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", nil, err
	}
	if target == "sqlite" {
		return "sqlite:" + filepath.Join(dir, "kabinet.db"), func() {}, nil
	}
	base := os.Getenv("KABINET_TEST_POSTGRES")
	var b [6]byte
	rand.Read(b[:])
	schema := "crash_" + hex.EncodeToString(b[:])
	admin, err := sql.Open("pgx", base)
	if err != nil {
		return "", nil, err
	}
	if _, err := admin.Exec("CREATE SCHEMA " + schema); err != nil {
		admin.Close()
		return "", nil, fmt.Errorf("create schema on %s: %w", base, err)
	}
	u, err := url.Parse(base)
	if err != nil {
		return "", nil, err
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String(), func() {
		admin.Exec("DROP SCHEMA " + schema + " CASCADE")
		admin.Close()
	}, nil
}

// migrated is when the accounts of the billing scenario were created; the
// runs bill the months after it with explicit --at.
var migrated = time.Date(2026, 12, 10, 0, 0, 0, 0, billing.DefaultRules().Zone)

const (
	fee   = 60000 // kopecks: the tariff
	tvFee = 19900 // every tenth account has TV
)

// seed fills n accounts in set-based statements (as a migration from another
// billing would), created at created, and marks that month as billed there.
func seed(ctx context.Context, dsn string, n int, created time.Time) error {
	db, err := store.Open(ctx, dsn)
	if err != nil {
		return err
	}
	defer db.Close()
	if _, err := db.Migrate(ctx); err != nil {
		return err
	}
	period := billing.PeriodOf(created, billing.DefaultRules().Zone).Key
	created = created.UTC()
	return db.Write(ctx, func(tx *store.Tx) error {
		stmts := []struct {
			q    string
			args []any
		}{
			{`INSERT INTO tariffs (code, name, fee, down_kbps, up_kbps, public, archived, prorate, created_at) VALUES ('home', 'Home', ?, 100000, 100000, ?, ?, ?, ?)`,
				[]any{fee, true, false, true, created}},
			{`INSERT INTO packages (code, kind, name, price, pricing, created_at) VALUES ('tv', 'tv', 'TV', ?, 'monthly', ?)`, []any{tvFee, created}},
			{fmt.Sprintf(`WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < %d)
				INSERT INTO ledger_accounts (code, kind, balance) SELECT 'subscriber:u' || i, 'subscriber', 0 FROM s`, n), nil},
			{`INSERT INTO accounts (login, contract_no, contract_date, password_hash, password_enc, tariff_id, status, ledger_id, created_at, updated_at)
				SELECT substr(code, 12), 'C-' || id, '2026-12-10', 'x', 'x', (SELECT id FROM tariffs WHERE code = 'home'), 'active', id, ?::timestamptz, ?::timestamptz
				FROM ledger_accounts WHERE kind = 'subscriber'`, []any{created, created}},
			{`INSERT INTO billing_runs (at, period, started_at, finished_at) VALUES (?, ?, ?, ?)`, []any{created, period, created, created}},
			{`INSERT INTO subscriptions (account_id, package_id, started_at) SELECT id, (SELECT id FROM packages WHERE code = 'tv'), created_at FROM accounts WHERE id % 10 = 0`, nil},
		}
		for _, s := range stmts {
			if _, err := tx.Exec(ctx, s.q, s.args...); err != nil {
				return fmt.Errorf("seed: %w", err)
			}
		}
		return nil
	})
}

// billingCrash runs `billing run` for month after month, killing it after a
// random delay within the time a whole run takes, until it has been killed
// *kills times; then it lets the current month finish and checks.
func billingCrash(dsn string) error {
	ctx := context.Background()
	t0 := time.Now()
	if err := seed(ctx, dsn, *accounts, migrated); err != nil {
		return err
	}
	log.Printf("billing: seeded %d accounts in %.1fs", *accounts, time.Since(t0).Seconds())
	zone := billing.DefaultRules().Zone
	month := time.Date(2027, 1, 1, 0, 5, 0, 0, zone)
	// The first two months run whole: the time of a whole run is the span
	// the kills are spread over (a little beyond it, so that some land in
	// the last statements or just after the exit). The first month is
	// cheaper than the later ones, whose tables and indexes are bigger.
	var est time.Duration
	var res runResult
	for range 2 {
		var err error
		res, err = runKilled(*bin, 0, "--db", dsn, "billing", "run", "--at", month.Format(time.RFC3339))
		if err != nil {
			return err
		}
		est = res.elapsed
		month = month.AddDate(0, 1, 0)
	}
	nKills, runs, finished := 0, 2, 2
	var partial []int64 // charges of the month found after each kill
	for nKills < *kills {
		runs++
		delay := time.Duration(rnd.Int64N(int64(est * 11 / 10)))
		res, err := runKilled(*bin, delay, "--db", dsn, "billing", "run", "--at", month.Format(time.RFC3339))
		if err != nil {
			return err
		}
		if !res.killed {
			finished++
			// A moving average, not the maximum: the machine's load varies,
			// and a span much longer than a run lets most runs finish.
			est = (est + res.elapsed) / 2
			month = month.AddDate(0, 1, 0)
			continue
		}
		nKills++
		n, err := chargesFor(ctx, dsn, billing.PeriodOf(month, zone).Key)
		if err != nil {
			return err
		}
		partial = append(partial, n)
		if nKills%10 == 0 {
			log.Printf("billing: %d kills, at %s", nKills, billing.PeriodOf(month, zone).Key)
		}
	}
	// Finish the month the last kill interrupted.
	res, err := runKilled(*bin, 0, "--db", dsn, "billing", "run", "--at", month.Format(time.RFC3339))
	if err != nil {
		return err
	}
	runs++
	// The months billed: 2027-01 up to the one the last run covered.
	last := billing.PeriodOf(month, zone)
	months := (last.Start.Year()-2027)*12 + int(last.Start.Month())
	mid, none, full := 0, 0, 0
	for _, n := range partial {
		switch {
		case n == 0:
			none++
		case n >= int64(*accounts+*accounts/10):
			full++
		default:
			mid++
		}
	}
	log.Printf("billing: %d kills in %d runs (%d whole runs; a whole run of %d accounts about %.1fs, in transactions of %d accounts)",
		nKills, runs, finished, *accounts, est.Seconds(), billing.New(nil, nil, billing.Rules{}).ChunkSize)
	log.Printf("billing: the kills left the month with no charges yet %d times, part-charged %d times, fully charged (killed in limits or the finish) %d times",
		none, mid, full)
	if err := checkBilling(ctx, dsn, *accounts, months); err != nil {
		return err
	}
	log.Printf("billing: %d months × %d accounts: every account charged exactly once per period; balances equal the fees", months, *accounts)
	return ledgerVerify(dsn)
}

type runResult struct {
	killed  bool
	elapsed time.Duration
}

// runKilled runs the binary and SIGKILLs it after delay (0: never). An exit
// before the kill must be a success.
func runKilled(bin string, delay time.Duration, args ...string) (runResult, error) {
	cmd := exec.Command(bin, args...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return runResult{}, err
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	var timer <-chan time.Time
	if delay > 0 {
		timer = time.After(delay)
	}
	select {
	case err := <-done:
		if err != nil {
			return runResult{}, fmt.Errorf("kabinet %s: %v\n%s", strings.Join(args, " "), err, out.String())
		}
		return runResult{elapsed: time.Since(start)}, nil
	case <-timer:
		cmd.Process.Signal(syscall.SIGKILL)
		err := <-done
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
				return runResult{killed: true, elapsed: time.Since(start)}, nil
			}
		}
		if err != nil {
			return runResult{}, fmt.Errorf("kabinet %s: %v\n%s", strings.Join(args, " "), err, out.String())
		}
		return runResult{elapsed: time.Since(start)}, nil // finished just before the kill
	}
}

func chargesFor(ctx context.Context, dsn, period string) (int64, error) {
	db, err := store.Open(ctx, dsn)
	if err != nil {
		return 0, err
	}
	defer db.Close()
	var n int64
	err = db.QueryRow(ctx, `SELECT COUNT(*) FROM ledger_txns WHERE kind = 'charge' AND period = ?`, period).Scan(&n)
	return n, err
}

func checkBilling(ctx context.Context, dsn string, n, months int) error {
	db, err := store.Open(ctx, dsn)
	if err != nil {
		return err
	}
	defer db.Close()
	var dups int64
	if err := db.QueryRow(ctx, `SELECT COUNT(*) FROM (SELECT account_id, service, period FROM ledger_txns WHERE kind = 'charge'
		GROUP BY account_id, service, period HAVING COUNT(*) > 1) d`).Scan(&dups); err != nil {
		return err
	}
	if dups > 0 {
		return fmt.Errorf("%d (account, service, period) charged more than once", dups)
	}
	rows, err := db.Query(ctx, `SELECT period, service, COUNT(*) FROM ledger_txns WHERE kind = 'charge' GROUP BY period, service ORDER BY period, service`)
	if err != nil {
		return err
	}
	got := map[string]int64{}
	for rows.Next() {
		var period, service string
		var c int64
		if err := rows.Scan(&period, &service, &c); err != nil {
			rows.Close()
			return err
		}
		got[period+" "+service] = c
	}
	rows.Close()
	zone := billing.DefaultRules().Zone
	p := billing.PeriodOf(time.Date(2027, 1, 1, 12, 0, 0, 0, zone), zone)
	for i := 0; i < months; i++ {
		if c := got[p.Key+" home"]; c != int64(n) {
			return fmt.Errorf("period %s: %d tariff charges, want %d", p.Key, c, n)
		}
		if c := got[p.Key+" tv"]; c != int64(n/10) {
			return fmt.Errorf("period %s: %d TV charges, want %d", p.Key, c, n/10)
		}
		delete(got, p.Key+" home")
		delete(got, p.Key+" tv")
		p = p.Next()
	}
	if len(got) > 0 {
		return fmt.Errorf("charges outside the billed months: %v", got)
	}
	var unfinished int64
	if err := db.QueryRow(ctx, `SELECT COUNT(DISTINCT period) FROM billing_runs WHERE period NOT IN (SELECT period FROM billing_runs WHERE finished_at IS NOT NULL)`).Scan(&unfinished); err != nil {
		return err
	}
	if unfinished > 0 {
		return fmt.Errorf("%d periods have no finished run", unfinished)
	}
	// The strongest check: each balance is exactly its fees for the months.
	var wrong int64
	if err := db.QueryRow(ctx, `SELECT COUNT(*) FROM accounts a JOIN ledger_accounts l ON l.id = a.ledger_id
		WHERE l.balance <> -(?::bigint + CASE WHEN a.id % 10 = 0 THEN ?::bigint ELSE 0 END)`, int64(fee*months), int64(tvFee*months)).Scan(&wrong); err != nil {
		return err
	}
	if wrong > 0 {
		return fmt.Errorf("%d accounts have a balance other than their fees for %d months", wrong, months)
	}
	return nil
}

func ledgerVerify(dsn string) error {
	out, err := exec.Command(*bin, "--db", dsn, "ledger", "verify").CombinedOutput()
	if err != nil {
		return fmt.Errorf("kabinet ledger verify: %v\n%s", err, out)
	}
	log.Printf("ledger verify: %s", strings.TrimSpace(string(out)))
	return nil
}

// pay is one payment as the bank or the card processor knows it: an OSMP
// pay, or a processor's callback for a card payment Kabinet started.
type pay struct {
	txn     string // OSMP txn_id or the processor's transaction id
	account string
	sum     money.Amount
	card    int64 // the card payment's id; 0 for OSMP
	attempt int
}

// bank is the client side of the OSMP scenario: it hands out new payments
// and repeats those not answered with a final result.
type bank struct {
	mu       sync.Mutex
	next     int
	stop     bool // no new payments: drain the retries
	retry    []pay
	inFlight int
	acked    map[string]pay
	sent     map[string]pay
	refused  map[string]int // final result other than 0: a bug in this test
	attempts int
	repeats  int   // answers to a payment sent more than once
	cards    []pay // pending card payments not yet called back
}

func (b *bank) take() (pay, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.retry) > 0 {
		p := b.retry[len(b.retry)-1]
		b.retry = b.retry[:len(b.retry)-1]
		b.inFlight++
		return p, true
	}
	if b.stop {
		return pay{}, false
	}
	if len(b.cards) > 0 && rnd.IntN(3) == 0 {
		p := b.cards[len(b.cards)-1]
		b.cards = b.cards[:len(b.cards)-1]
		b.sent[p.txn] = p
		b.inFlight++
		return p, true
	}
	b.next++
	p := pay{txn: strconv.Itoa(1000000 + b.next), account: "u" + strconv.Itoa(1+rnd.IntN(*payAccounts)), sum: money.Amount(100 + rnd.Int64N(500000))}
	b.sent[p.txn] = p
	b.inFlight++
	return p, true
}

func (b *bank) done(p pay, result int, err error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.inFlight--
	b.attempts++
	switch {
	case err != nil && result == 300:
		b.refused[p.txn] = result
	case err == nil && result == 0:
		if p.attempt > 0 {
			b.repeats++
		}
		b.acked[p.txn] = p
	case err == nil && result != 1 && result != 90 && result != 243:
		b.refused[p.txn] = result
	default:
		p.attempt++
		b.retry = append(b.retry, p)
	}
}

func (b *bank) idle() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.stop && b.inFlight == 0 && len(b.retry) == 0
}

type osmpXML struct {
	Result int    `xml:"result"`
	PrvTxn string `xml:"prv_txn"`
}

// cardSecret signs the sandbox processor's callbacks.
const cardSecret = "crash-sandbox-secret"

// sendPay sends p and returns the OSMP result (0 for an accepted card
// callback), or an error when there was no answer to trust.
func sendPay(ctx context.Context, c *http.Client, base string, p pay) (int, error) {
	if p.card != 0 {
		return sendCallback(ctx, c, base, p)
	}
	q := url.Values{"command": {"pay"}, "txn_id": {p.txn}, "account": {p.account}, "sum": {p.sum.Decimal()},
		"txn_date": {time.Now().UTC().Format("20060102150405")}}
	req, err := http.NewRequestWithContext(ctx, "GET", base+"/pay/osmp?"+q.Encode(), nil)
	if err != nil {
		return 0, err
	}
	req.SetBasicAuth("crashbank", "crash-secret")
	resp, err := c.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, err
	}
	if resp.StatusCode != 200 {
		return 0, fmt.Errorf("HTTP %d: %s", resp.StatusCode, body)
	}
	var x osmpXML
	if err := xml.Unmarshal(body, &x); err != nil {
		return 0, fmt.Errorf("answer %q: %w", body, err)
	}
	return x.Result, nil
}

// sendCallback posts the sandbox processor's "paid" callback, signed as
// internal/payment's sandbox checks it: hex HMAC-SHA256 of the fields
// joined by "|", the saved card's four among them (empty: no card saved).
func sendCallback(ctx context.Context, c *http.Client, base string, p pay) (int, error) {
	f := url.Values{"payment_id": {strconv.FormatInt(p.card, 10)}, "transaction_id": {p.txn}, "type": {"paid"},
		"amount": {p.sum.Decimal()}, "currency": {"RUB"}, "decline_code": {""}}
	m := hmac.New(sha256.New, []byte(cardSecret))
	for i, k := range []string{"payment_id", "transaction_id", "type", "amount", "currency", "decline_code",
		"method_token", "method_masked", "method_expiry", "method_title"} {
		if i > 0 {
			m.Write([]byte{'|'})
		}
		m.Write([]byte(f.Get(k)))
	}
	f.Set("sign", hex.EncodeToString(m.Sum(nil)))
	req, err := http.NewRequestWithContext(ctx, "POST", base+"/pay/card/sandbox/callback", strings.NewReader(f.Encode()))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := c.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	switch {
	case resp.StatusCode == 200:
		return 0, nil
	case resp.StatusCode >= 500:
		return 1, nil // temporary: the processor repeats it
	}
	return 300, fmt.Errorf("callback %s: HTTP %d: %s", p.txn, resp.StatusCode, body)
}

func paymentsCrash(dsn, dir string) error {
	ctx := context.Background()
	// This month counts as billed, so that the scheduler of `kabinet serve`
	// charges nothing and balances are the payments alone.
	if err := seed(ctx, dsn, *payAccounts, time.Now()); err != nil {
		return err
	}
	addr, err := serve.FreeAddr()
	if err != nil {
		return err
	}
	cfg := filepath.Join(dir, "kabinet.toml")
	conf := fmt.Sprintf(`db = %q
data_dir = %q

[provider]
name = "Crash test"

[radius]
disabled = true

[payment]
allow_sandbox = true

[[payment.processors]]
kind = "sandbox"
secret = %q

[[payment.osmp]]
name = "crashbank"
login = "crashbank"
password = "crash-secret"
allow = ["127.0.0.1", "::1"]
`, dsn, dir, cardSecret)
	if err := os.WriteFile(cfg, []byte(conf), 0o600); err != nil {
		return err
	}
	logf, err := os.Create(filepath.Join(dir, "serve.log"))
	if err != nil {
		return err
	}
	defer logf.Close()

	cards, err := seedCards(ctx, dsn, *payAccounts*10)
	if err != nil {
		return err
	}
	b := &bank{acked: map[string]pay{}, sent: map[string]pay{}, refused: map[string]int{}, cards: cards}
	base := "http://" + addr
	cctx, stopClients := context.WithCancel(ctx)
	var wg sync.WaitGroup
	for i := 0; i < *clients; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := &http.Client{Timeout: 20 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 2}}
			for cctx.Err() == nil {
				p, ok := b.take()
				if !ok {
					if b.idle() {
						return
					}
					time.Sleep(10 * time.Millisecond)
					continue
				}
				res, err := sendPay(cctx, c, base, p)
				b.done(p, res, err)
				if err != nil {
					// The server is down: a bank waits before repeating.
					time.Sleep(20 * time.Millisecond)
				}
			}
		}()
	}

	t0 := time.Now()
	var lost []int // acknowledged payments missing right after a kill
	// Payments sent but not answered when the server died, and those of
	// them it had committed: their repeats must not count twice.
	var inFlight, committedUnanswered int
	srv, err := serve.Start(*bin, cfg, addr, logf)
	if err != nil {
		stopClients()
		return err
	}
	for k := 0; k < *kills; k++ {
		time.Sleep(time.Duration(100+rnd.IntN(1400)) * time.Millisecond)
		srv.Kill()
		// The server is dead: nothing is acknowledged until the restart, so
		// the books can be compared with what the bank was told.
		acked, unanswered := b.snapshot()
		missing, committed, err := compareAtKill(ctx, dsn, acked, unanswered)
		if err != nil {
			stopClients()
			return err
		}
		lost = append(lost, missing)
		inFlight += len(unanswered)
		committedUnanswered += committed
		if srv, err = serve.Start(*bin, cfg, addr, logf); err != nil {
			stopClients()
			return err
		}
	}
	b.mu.Lock()
	b.stop = true
	b.mu.Unlock()
	drainBy := time.Now().Add(2 * time.Minute)
	for !b.idle() && time.Now().Before(drainBy) {
		time.Sleep(50 * time.Millisecond)
	}
	stopClients()
	wg.Wait()
	elapsed := time.Since(t0)
	srv.Stop()

	b.mu.Lock()
	defer b.mu.Unlock()
	log.Printf("payments: %d kills in %.0fs; %d payments sent in %d requests by %d clients, %d acknowledged (%.0f/s including restarts)",
		*kills, elapsed.Seconds(), len(b.sent), b.attempts, *clients, len(b.acked), float64(len(b.acked))/elapsed.Seconds())
	nCards := 0
	for _, p := range b.acked {
		if p.card != 0 {
			nCards++
		}
	}
	log.Printf("payments: of the acknowledged, %d OSMP pays and %d card callbacks", len(b.acked)-nCards, nCards)
	log.Printf("payments: at the kills %d payments were unanswered, %d of them already committed (answer lost); %d payments acknowledged only on a repeat",
		inFlight, committedUnanswered, b.repeats)
	for _, m := range lost {
		if m > 0 {
			return fmt.Errorf("acknowledged payments missing after a restart: %v", lost)
		}
	}
	if len(b.refused) > 0 {
		return fmt.Errorf("%d payments refused with a final result: %v", len(b.refused), b.refused)
	}
	if len(b.acked) != len(b.sent) {
		return fmt.Errorf("%d of %d payments never acknowledged", len(b.sent)-len(b.acked), len(b.sent))
	}
	if err := checkPayments(ctx, dsn, b.acked); err != nil {
		return err
	}
	if err := checkPaidBalances(ctx, dsn); err != nil {
		return err
	}
	log.Printf("payments: every acknowledged payment present exactly once with its amount, also right after each of the %d restarts; balances equal the payments", *kills)
	return ledgerVerify(dsn)
}

// seedCards starts n card payments, as subscribers pressing Pay would:
// pending rows awaiting the processor's callback.
func seedCards(ctx context.Context, dsn string, n int) ([]pay, error) {
	db, err := store.Open(ctx, dsn)
	if err != nil {
		return nil, err
	}
	defer db.Close()
	now := time.Now().UTC()
	err = db.Write(ctx, func(tx *store.Tx) error {
		_, err := tx.Exec(ctx, fmt.Sprintf(`WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < %d)
			INSERT INTO payments (channel, account_id, amount, status, source, created_at, updated_at)
			SELECT 'card:sandbox', (SELECT MIN(id) FROM accounts) + i %% %d, 1000 + (i * 7919) %% 500000, 'pending', 'online', ?::timestamptz, ?::timestamptz FROM s`,
			n, *payAccounts), now, now)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("seed card payments: %w", err)
	}
	rows, err := db.Query(ctx, `SELECT id, amount FROM payments WHERE channel = 'card:sandbox' ORDER BY id DESC`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []pay
	for rows.Next() {
		var id, amt int64
		if err := rows.Scan(&id, &amt); err != nil {
			return nil, err
		}
		out = append(out, pay{txn: "T" + strconv.FormatInt(id, 10), sum: money.Amount(amt), card: id})
	}
	return out, rows.Err()
}

// snapshot returns the acknowledged payments and those sent but not
// acknowledged.
func (b *bank) snapshot() (acked, unanswered map[string]pay) {
	b.mu.Lock()
	defer b.mu.Unlock()
	acked, unanswered = make(map[string]pay, len(b.acked)), map[string]pay{}
	for k, v := range b.sent {
		if _, ok := b.acked[k]; ok {
			acked[k] = v
		} else {
			unanswered[k] = v
		}
	}
	return acked, unanswered
}

func loadPayments(ctx context.Context, db *store.DB) (map[string]money.Amount, error) {
	// Card payments are keyed by the processor's transaction id too, which
	// the callback records on the payment.
	rows, err := db.Query(ctx, `SELECT external_id, amount FROM payments WHERE channel IN ('osmp:crashbank', 'card:sandbox')
		AND status = 'succeeded' AND ledger_txn_id IS NOT NULL`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]money.Amount{}
	for rows.Next() {
		var id string
		var amt int64
		if err := rows.Scan(&id, &amt); err != nil {
			return nil, err
		}
		if _, dup := out[id]; dup {
			return nil, fmt.Errorf("payment %s recorded twice", id)
		}
		out[id] = money.Amount(amt)
	}
	return out, rows.Err()
}

// compareAtKill counts the acknowledged payments missing from the books and
// the unanswered ones present in them.
func compareAtKill(ctx context.Context, dsn string, acked, unanswered map[string]pay) (missing, committed int, err error) {
	db, err := store.Open(ctx, dsn)
	if err != nil {
		return 0, 0, err
	}
	defer db.Close()
	got, err := loadPayments(ctx, db)
	if err != nil {
		return 0, 0, err
	}
	for id := range acked {
		if _, ok := got[id]; !ok {
			missing++
		}
	}
	for id := range unanswered {
		if _, ok := got[id]; ok {
			committed++
		}
	}
	return missing, committed, nil
}

func checkPayments(ctx context.Context, dsn string, acked map[string]pay) error {
	db, err := store.Open(ctx, dsn)
	if err != nil {
		return err
	}
	defer db.Close()
	got, err := loadPayments(ctx, db)
	if err != nil {
		return err
	}
	var total, cardsPaid int64
	if err := db.QueryRow(ctx, `SELECT COUNT(*) FROM payments WHERE channel = 'osmp:crashbank'`).Scan(&total); err != nil {
		return err
	}
	if err := db.QueryRow(ctx, `SELECT COUNT(*) FROM payments WHERE channel = 'card:sandbox' AND status <> 'pending'`).Scan(&cardsPaid); err != nil {
		return err
	}
	if total+cardsPaid != int64(len(got)) {
		return fmt.Errorf("%d OSMP and %d settled card payment rows, %d of them succeeded and posted", total, cardsPaid, len(got))
	}
	for id, p := range acked {
		if p.card != 0 && id != "T"+strconv.FormatInt(p.card, 10) {
			return fmt.Errorf("card payment %d acknowledged as %s", p.card, id)
		}
	}
	for id, p := range acked {
		amt, ok := got[id]
		switch {
		case !ok:
			return fmt.Errorf("acknowledged payment %s is missing", id)
		case amt != p.sum:
			return fmt.Errorf("payment %s recorded as %s, sent %s", id, amt.Decimal(), p.sum.Decimal())
		}
	}
	if len(got) != len(acked) {
		return fmt.Errorf("%d payments recorded, %d acknowledged", len(got), len(acked))
	}
	return nil
}

// checkPaidBalances: with no charges, each balance is its payments.
func checkPaidBalances(ctx context.Context, dsn string) error {
	db, err := store.Open(ctx, dsn)
	if err != nil {
		return err
	}
	defer db.Close()
	var wrong int64
	if err := db.QueryRow(ctx, `SELECT COUNT(*) FROM accounts a JOIN ledger_accounts l ON l.id = a.ledger_id
		LEFT JOIN (SELECT account_id, SUM(amount) AS s FROM payments WHERE status = 'succeeded' GROUP BY account_id) p ON p.account_id = a.id
		WHERE l.balance <> COALESCE(p.s, 0)`).Scan(&wrong); err != nil {
		return err
	}
	if wrong > 0 {
		return fmt.Errorf("%d accounts have a balance other than the sum of their payments", wrong)
	}
	return nil
}

// pairRun starts two `kabinet serve` on one PostgreSQL database, with two
// months due for billing at start and one instance killed and restarted
// in the middle: the months are billed once (one finished run each, every
// account charged once), and every OSMP pay, sent to both instances at
// once, is credited once.
func pairRun(dsn, dir string) error {
	ctx := context.Background()
	zone := billing.DefaultRules().Zone
	now := time.Now().In(zone)
	// Created three months ago: the two months after the one billed
	// "elsewhere" are due when the instances start.
	created := time.Date(now.Year(), now.Month()-2, 1, 12, 0, 0, 0, zone)
	if err := seed(ctx, dsn, *payAccounts, created); err != nil {
		return err
	}
	if err := addNAS(ctx, dsn); err != nil {
		return err
	}
	key := make([]byte, 32)
	rand.Read(key)
	var addrs, cfgs, acct []string
	for i := range 2 {
		addr, err := serve.FreeAddr()
		if err != nil {
			return err
		}
		authAddr, err := freeUDPAddr()
		if err != nil {
			return err
		}
		acctAddr, err := freeUDPAddr()
		if err != nil {
			return err
		}
		cfg := filepath.Join(dir, fmt.Sprintf("kabinet-%d.toml", i))
		// One secret_key for both: either instance must read the RADIUS
		// copies of passwords the other wrote.
		conf := fmt.Sprintf(`db = %q
data_dir = %q
secret_key = %q

[provider]
name = "Crash test"

[radius]
auth_addr = %q
acct_addr = %q

[[payment.osmp]]
name = "crashbank"
login = "crashbank"
password = "crash-secret"
allow = ["127.0.0.1", "::1"]
`, dsn, dir, hex.EncodeToString(key), authAddr, acctAddr)
		if err := os.WriteFile(cfg, []byte(conf), 0o600); err != nil {
			return err
		}
		addrs, cfgs, acct = append(addrs, addr), append(cfgs, cfg), append(acct, acctAddr)
	}
	logf, err := os.Create(filepath.Join(dir, "serve.log"))
	if err != nil {
		return err
	}
	defer logf.Close()
	// Both at once, so that both schedulers reach for the billing lock.
	servers := make([]*serve.Server, 2)
	errs := make(chan error, 2)
	for i := range 2 {
		go func() {
			var err error
			servers[i], err = serve.Start(*bin, cfgs[i], addrs[i], logf)
			errs <- err
		}()
	}
	for range 2 {
		if err := <-errs; err != nil {
			return err
		}
	}

	// Every pay goes to both instances at the same moment, as a bank that
	// timed out on one and repeated to the other.
	n := *pairPays
	var mu sync.Mutex
	acked := map[string]pay{}
	var dupAnswers int
	c := &http.Client{Timeout: 20 * time.Second}
	sem := make(chan struct{}, *clients)
	var wg sync.WaitGroup
	t0 := time.Now()
	for i := range n {
		if i == n/2 {
			// One instance dies mid-stream; its pays are repeated to it
			// after the restart, and the other keeps answering.
			wg.Wait()
			servers[0].Kill()
			if servers[0], err = serve.Start(*bin, cfgs[0], addrs[0], logf); err != nil {
				return err
			}
		}
		p := pay{txn: strconv.Itoa(5000000 + i), account: "u" + strconv.Itoa(1+rnd.IntN(*payAccounts)), sum: money.Amount(100 + rnd.Int64N(500000))}
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			var inner sync.WaitGroup
			results := make([]int, 2)
			for j := range 2 {
				inner.Add(1)
				go func() {
					defer inner.Done()
					results[j] = -1
					for attempt := 0; attempt < 50; attempt++ {
						res, err := sendPay(ctx, c, "http://"+addrs[j], p)
						if err == nil && res == 0 {
							results[j] = 0
							return
						}
						if err == nil && res != 1 && res != 90 && res != 243 {
							results[j] = res
							return
						}
						time.Sleep(50 * time.Millisecond)
					}
				}()
			}
			inner.Wait()
			mu.Lock()
			defer mu.Unlock()
			if results[0] == 0 && results[1] == 0 {
				dupAnswers++
			}
			if results[0] == 0 || results[1] == 0 {
				acked[p.txn] = p
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(t0)
	// Then accounting through both, the other instance killed halfway.
	radiusErr := radiusPhase(ctx, dsn, acct, servers, cfgs, addrs, logf, *pairSess)
	for _, s := range servers {
		s.Stop()
	}
	log.Printf("pair: %d pays, each sent to both instances at once (one instance killed and restarted halfway): %d acknowledged, %d by both, in %.1fs",
		n, len(acked), dupAnswers, elapsed.Seconds())
	if len(acked) != n {
		return fmt.Errorf("%d of %d pays never acknowledged", n-len(acked), n)
	}
	if err := checkPayments(ctx, dsn, acked); err != nil {
		return err
	}
	db, err := store.Open(ctx, dsn)
	if err != nil {
		return err
	}
	defer db.Close()
	rows, err := db.Query(ctx, `SELECT period, COUNT(*), COUNT(finished_at) FROM billing_runs GROUP BY period ORDER BY period`)
	if err != nil {
		return err
	}
	var runs []string
	for rows.Next() {
		var period string
		var started, finished int
		if err := rows.Scan(&period, &started, &finished); err != nil {
			rows.Close()
			return err
		}
		runs = append(runs, fmt.Sprintf("%s: %d started, %d finished", period, started, finished))
		if started != 1 || finished != 1 {
			rows.Close()
			return fmt.Errorf("billing period %s run %d times (%d finished): want once", period, started, finished)
		}
	}
	rows.Close()
	var dups, charged int64
	if err := db.QueryRow(ctx, `SELECT COUNT(*) FROM (SELECT account_id, service, period FROM ledger_txns WHERE kind = 'charge'
		GROUP BY account_id, service, period HAVING COUNT(*) > 1) d`).Scan(&dups); err != nil {
		return err
	}
	if err := db.QueryRow(ctx, `SELECT COUNT(*) FROM ledger_txns WHERE kind = 'charge' AND service = 'home'`).Scan(&charged); err != nil {
		return err
	}
	if dups > 0 || charged != int64(2**payAccounts) {
		return fmt.Errorf("charges: %d tariff charges for %d accounts over 2 months, %d doubled", charged, *payAccounts, dups)
	}
	var wrong int64
	if err := db.QueryRow(ctx, `SELECT COUNT(*) FROM accounts a JOIN ledger_accounts l ON l.id = a.ledger_id
		LEFT JOIN (SELECT account_id, SUM(amount) AS s FROM payments WHERE status = 'succeeded' GROUP BY account_id) p ON p.account_id = a.id
		WHERE l.balance <> COALESCE(p.s, 0) - 2 * (?::bigint + CASE WHEN a.id % 10 = 0 THEN ?::bigint ELSE 0 END)`, int64(fee), int64(tvFee)).Scan(&wrong); err != nil {
		return err
	}
	if wrong > 0 {
		return fmt.Errorf("%d accounts have a balance other than their payments less two months of fees", wrong)
	}
	log.Printf("pair: billing runs %v; every account charged once per month; every pay credited once; balances exact", runs)
	if err := ledgerVerify(dsn); err != nil {
		return err
	}
	if radiusErr != nil {
		return fmt.Errorf("accounting: %w", radiusErr)
	}
	return nil
}
