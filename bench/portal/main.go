// Command portal measures the subscriber portal's home page for a logged-in
// subscriber with many accounts in the database, under wrk, against a
// hello-world Go handler measured in the same run on the same machine.
//
//	go run ./bench/portal -n 100000 -c 64 -d 15s
//
// On a machine shared with other work the load changes from one run to the
// next: -rounds 5 alternates the two five times and reports the median
// ratio with the lowest and highest. CPU/request is the server's CPU time
// per request, steadier than requests/s there: comparing it between a
// build with a speed-up and one without is how the speed-ups' comments
// were measured. It needs wrk (Debian package "wrk") on PATH.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime/pprof"
	"slices"
	"strings"
	"time"

	"github.com/kabinet-billing/kabinet/internal/billing"
	"github.com/kabinet-billing/kabinet/internal/clock"
	"github.com/kabinet-billing/kabinet/internal/config"
	"github.com/kabinet-billing/kabinet/internal/content"
	"github.com/kabinet-billing/kabinet/internal/money"
	pwhash "github.com/kabinet-billing/kabinet/internal/password"
	"github.com/kabinet-billing/kabinet/internal/store"
	"github.com/kabinet-billing/kabinet/internal/subscriber"
	"github.com/kabinet-billing/kabinet/internal/web"
)

const password = "bench-password"

func main() {
	config.SetGC() // as every kabinet command runs
	n := flag.Int("n", 100000, "subscriber accounts in the database")
	conns := flag.Int("c", 64, "wrk connections")
	dur := flag.String("d", "15s", "wrk duration per target")
	dir := flag.String("dir", os.TempDir(), "directory for the SQLite file")
	cpuprofile := flag.String("cpuprofile", "", "write a CPU profile of the server during the first portal run to this file")
	memprofile := flag.String("memprofile", "", "write an allocation profile of the whole run to this file")
	rounds := flag.Int("rounds", 1, "measure hello world and the portal this many times each, alternating, and report the median ratio: on a shared machine the load changes between runs")
	flag.Parse()
	if _, err := exec.LookPath("wrk"); err != nil {
		log.Fatal("wrk is not installed (apt-get install wrk)")
	}
	ctx := context.Background()
	path := filepath.Join(*dir, "bench-portal.db")
	for _, s := range []string{"", "-wal", "-shm"} {
		os.Remove(path + s)
	}
	db, err := store.Open(ctx, "sqlite:"+path)
	check(err)
	_, err = db.Migrate(ctx)
	check(err)
	t0 := time.Now()
	load(ctx, db, *n)
	fmt.Printf("loaded %d accounts in %.1fs\n", *n, time.Since(t0).Seconds())

	cfg := config.Default()
	b := billing.New(db, clock.System, billing.DefaultRules())
	sealer, _ := subscriber.NewSealer(make([]byte, 32))
	dir2 := subscriber.New(db, clock.System, sealer, b)
	srv, err := web.New(web.Deps{DB: db, Config: cfg, Biller: b, Subscribers: dir2})
	check(err)
	portalURL := serve(srv.Handler())
	helloURL := serve(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		io.WriteString(w, "Hello, World!")
	}))

	// Log in as a subscriber in the middle of the table.
	login := fmt.Sprintf("u%d", *n/2)
	cookie := loginCookie(portalURL, login)
	check(verifyHome(portalURL, cookie))

	fmt.Printf("wrk -t 2 -c %d -d %s against both, on this machine\n", *conns, *dur)
	var ratios []float64
	fmt.Printf("%-5s %-24s %12s %10s %14s\n", "round", "target", "requests/s", "p99", "CPU/request")
	for i := 1; i <= *rounds; i++ {
		hello := runWrk(helloURL+"/", "", *conns, *dur)
		var prof *os.File
		if *cpuprofile != "" && i == 1 {
			var err error
			prof, err = os.Create(*cpuprofile)
			check(err)
			check(pprof.StartCPUProfile(prof))
		}
		home := runWrk(portalURL+"/", cookie, *conns, *dur)
		if prof != nil {
			pprof.StopCPUProfile()
			check(prof.Close())
		}
		fmt.Printf("%-5d %-24s %12.0f %10s %14s\n", i, "hello world", hello.rps, hello.p99, hello.cpu)
		fmt.Printf("%-5d %-24s %12.0f %10s %14s\n", i, "portal home (logged in)", home.rps, home.p99, home.cpu)
		ratios = append(ratios, home.rps/hello.rps)
	}
	if *memprofile != "" {
		f, err := os.Create(*memprofile)
		check(err)
		check(pprof.Lookup("allocs").WriteTo(f, 0))
		check(f.Close())
	}
	slices.Sort(ratios)
	fmt.Printf("portal/hello = %.0f%%", 100*ratios[len(ratios)/2])
	if len(ratios) > 1 {
		fmt.Printf(" (median of %d; lowest %.0f%%, highest %.0f%%)", len(ratios), 100*ratios[0], 100*ratios[len(ratios)-1])
	}
	fmt.Println()
}

func serve(h http.Handler) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	check(err)
	go http.Serve(ln, h)
	return "http://" + ln.Addr().String()
}

// load writes n accounts with set-based SQL (one password hash for all:
// the hash carries its own salt), a catalogue, some news and, for every
// account, the first month's charge and a payment so that the home page has
// a real balance to show.
func load(ctx context.Context, db *store.DB, n int) {
	now := time.Now()
	hash := pwhash.Hash(password)
	check(db.Write(ctx, func(tx *store.Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO cities (code, name) VALUES ('tver', 'Тверь')`); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO tariffs (code, name, fee, down_kbps, up_kbps, public, archived, prorate, created_at) VALUES ('home', 'Домашний 100', ?, 100000, 100000, ?, ?, ?, ?)`,
			int64(money.Rub(600)), true, false, true, now.UTC()); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO packages (code, kind, name, price, pricing, created_at) VALUES ('tv', 'tv', 'ТВ', ?, 'monthly', ?)`, int64(money.Rub(199)), now.UTC()); err != nil {
			return err
		}
		series := fmt.Sprintf(`WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < %d)`, n)
		if _, err := tx.Exec(ctx, series+` INSERT INTO ledger_accounts (code, kind, balance) SELECT 'subscriber:u' || i, 'subscriber', 40100 FROM s`); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO accounts (login, contract_no, contract_date, password_hash, password_enc, tariff_id, city_id, status, ledger_id, created_at, updated_at)
			SELECT substr(code, 12), 'C-' || id, '2026-01-10', ?, 'x', (SELECT id FROM tariffs WHERE code = 'home'), (SELECT id FROM cities), 'active', id, ?, ?
			FROM ledger_accounts WHERE kind = 'subscriber'`, hash, now.UTC(), now.UTC()); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO subscriptions (account_id, package_id, started_at) SELECT id, (SELECT id FROM packages WHERE code = 'tv'), created_at FROM accounts WHERE id % 10 = 0`); err != nil {
			return err
		}
		// Two movements per account, matching the balance above.
		if _, err := tx.Exec(ctx, `INSERT INTO ledger_txns (key, kind, account_id, amount, service, period, effective_at, created_at)
			SELECT 'pay:' || id, 'payment', id, 100000, 'cash', '', ?, ? FROM accounts`, now.Add(-48*time.Hour).UTC(), now.UTC()); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `INSERT INTO ledger_txns (key, kind, account_id, amount, service, period, effective_at, created_at)
			SELECT 'fee:' || id, 'charge', id, -59900, 'home', '', ?, ? FROM accounts`, now.Add(-24*time.Hour).UTC(), now.UTC())
		return err
	}))
	for i, title := range []string{"Новый тариф", "Плановые работы", "Скидка на ТВ"} {
		_, err := content.Add(ctx, db, content.Item{Kind: content.KindNews, Title: title, Body: "Текст новости номер " + fmt.Sprint(i), PublishedAt: now.Add(-time.Duration(i+1) * time.Hour)}, now)
		check(err)
	}
}

var csrfRe = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

func loginCookie(base, login string) string {
	jar := map[string]string{}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	do := func(req *http.Request) string {
		var parts []string
		for k, v := range jar {
			parts = append(parts, k+"="+v)
		}
		req.Header.Set("Cookie", strings.Join(parts, "; "))
		res, err := client.Do(req)
		check(err)
		defer res.Body.Close()
		for _, c := range res.Cookies() {
			jar[c.Name] = c.Value
		}
		body, _ := io.ReadAll(res.Body)
		return string(body)
	}
	req, _ := http.NewRequest("GET", base+"/login", nil)
	m := csrfRe.FindStringSubmatch(do(req))
	if m == nil {
		log.Fatal("no form token on the login page")
	}
	form := url.Values{"login": {login}, "password": {password}, "csrf": {m[1]}}
	req, _ = http.NewRequest("POST", base+"/login", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	do(req)
	// One page view so that the session holds its form token and later
	// views only read it.
	req, _ = http.NewRequest("GET", base+"/", nil)
	do(req)
	return "kabinet_session=" + jar["kabinet_session"]
}

func verifyHome(base, cookie string) error {
	req, _ := http.NewRequest("GET", base+"/", nil)
	req.Header.Set("Cookie", cookie)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode != 200 || !strings.Contains(string(b), `data-testid="balance"`) {
		return fmt.Errorf("home page for the bench session: %d", res.StatusCode)
	}
	// net/http sends a response in one write only when it fits its 4 KiB
	// buffer with the headers.
	var head strings.Builder
	res.Header.Write(&head)
	fmt.Printf("home page: %d bytes of HTML, %d with the status line and headers\n", len(b), len(b)+len("HTTP/1.1 200 OK\r\n\r\n")+head.Len())
	return nil
}

// result is one wrk run. cpu is this process's (the servers') CPU time
// per request: on a machine shared with other work it is steadier than
// requests/s, which follow the CPU the others leave.
type result struct {
	rps float64
	p99 string
	cpu time.Duration
}

var requestsRe = regexp.MustCompile(`(\d+) requests in`)

var (
	rpsRe = regexp.MustCompile(`Requests/sec:\s+([0-9.]+)`)
	p99Re = regexp.MustCompile(`\s99%\s+(\S+)`)
)

func runWrk(target, cookie string, conns int, dur string) result {
	args := []string{"-t", "2", "-c", fmt.Sprint(conns), "-d", dur, "--latency"}
	if cookie != "" {
		args = append(args, "-H", "Cookie: "+cookie)
	}
	cpu0 := cpuTime()
	out, err := exec.Command("wrk", append(args, target)...).CombinedOutput()
	cpu := cpuTime() - cpu0
	if err != nil {
		log.Fatalf("wrk: %v\n%s", err, out)
	}
	var r result
	if m := rpsRe.FindSubmatch(out); m != nil {
		fmt.Sscan(string(m[1]), &r.rps)
	}
	if m := requestsRe.FindSubmatch(out); m != nil {
		var n int64
		fmt.Sscan(string(m[1]), &n)
		if n > 0 {
			r.cpu = (cpu / time.Duration(n)).Round(100 * time.Nanosecond)
		}
	}
	if m := p99Re.FindSubmatch(out); m != nil {
		r.p99 = string(m[1])
	}
	if strings.Contains(string(out), "Non-2xx") {
		log.Fatalf("wrk saw errors:\n%s", out)
	}
	return r
}

func check(err error) {
	if err != nil {
		log.Fatal(err)
	}
}
