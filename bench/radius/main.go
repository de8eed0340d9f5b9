// Command radius-bench compares Kabinet's RADIUS server with FreeRADIUS on
// this machine: PAP Access-Requests for 10,000 subscribers and Accounting
// Interim-Updates, 64 requests in flight from a closed-loop client, the two
// servers measured alternately in one run (they share the cores with the
// client, so only the ratio means anything).
//
//	go run ./bench/radius                 # both, 10 s per measurement
//	go run ./bench/radius -d 5s -rounds 2
//
// Kabinet runs as a child process (this binary with -serve) so that the
// client's garbage does not count against it; it answers authentication from
// its in-memory cache, as in production, and writes accounting to SQLite
// through internal/traffic, behind the accounting journal as `kabinet serve`
// does (-journal=false: answered after the database commit). After the run
// it stops Kabinet, which applies what its journal still holds, and checks
// that every answered Interim-Update is in the database. FreeRADIUS runs from Debian's package with the
// `files` module holding the same users and `detail` accounting.
package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"log"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime/pprof"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"layeh.com/radius"
	"layeh.com/radius/rfc2865"
	"layeh.com/radius/rfc2866"

	"github.com/kabinet-billing/kabinet/internal/clock"
	"github.com/kabinet-billing/kabinet/internal/config"
	"github.com/kabinet-billing/kabinet/internal/derrors"
	kradius "github.com/kabinet-billing/kabinet/internal/radius"
	"github.com/kabinet-billing/kabinet/internal/store"
	"github.com/kabinet-billing/kabinet/internal/traffic"
)

const secret = "bench-secret-123"

var (
	users    = flag.Int("users", 10000, "subscribers")
	inflight = flag.Int("c", 64, "requests in flight")
	dur      = flag.Duration("d", 10*time.Second, "duration of each measurement")
	rounds   = flag.Int("rounds", 1, "alternating rounds")
	serve    = flag.String("serve", "", "internal: run the Kabinet server on AUTHPORT,ACCTPORT with its database in -dir")
	dir      = flag.String("dir", "", "working directory (default: a temporary one)")
	only     = flag.String("only", "", "kabinet or freeradius: measure one server")
	cpuprof  = flag.String("cpuprofile", "", "write the Kabinet server's CPU profile here")
	kinds    = flag.String("kinds", "auth,acct", "what to measure: auth, acct or both")
	journal  = flag.Bool("journal", true, "Kabinet answers accounting once in its journal (false: after the database commit)")
)

func main() {
	config.SetGC() // as every kabinet command runs
	flag.Parse()
	log.SetFlags(0)
	if *serve != "" {
		if err := runKabinet(*serve, *dir); err != nil {
			log.Fatal(err)
		}
		return
	}
	if err := compare(); err != nil {
		log.Fatal(err)
	}
}

func login(i int) string    { return fmt.Sprintf("user%05d", i) }
func password(i int) string { return fmt.Sprintf("pw-%05d-x", i) }

// --- the Kabinet side ---------------------------------------------------

type benchDir struct{ subs []kradius.Subscriber }

func (d benchDir) Lookup(_ context.Context, l string) (kradius.Subscriber, error) {
	return kradius.Subscriber{}, derrors.NotFound
}
func (d benchDir) LookupAccount(context.Context, int64) ([]kradius.Subscriber, error) {
	return nil, nil
}
func (d benchDir) All(context.Context) ([]kradius.Subscriber, error) { return d.subs, nil }

func runKabinet(ports, wd string) error {
	ctx, cancel := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer cancel()
	var authPort, acctPort int
	if _, err := fmt.Sscanf(ports, "%d,%d", &authPort, &acctPort); err != nil {
		return fmt.Errorf("-serve %q: %w", ports, err)
	}
	db, err := store.Open(ctx, "sqlite:"+filepath.Join(wd, "kabinet.db"))
	if err != nil {
		return err
	}
	defer db.Close()
	if _, err := db.Migrate(ctx); err != nil {
		return err
	}
	if err := seedAccounts(ctx, db); err != nil {
		return err
	}
	nas := kradius.NewNASStore(db, clock.System)
	// The load generator sends unsigned Access-Requests, as it does to
	// FreeRADIUS's stock configuration.
	if _, err := nas.Save(ctx, kradius.NAS{Name: "bench", Addr: netip.MustParseAddr("127.0.0.1"), Secret: secret, Kind: kradius.KindMikrotik,
		AllowUnsigned: true}); err != nil {
		return err
	}
	subs := make([]kradius.Subscriber, *users)
	for i := range subs {
		subs[i] = kradius.Subscriber{AccountID: int64(i + 1), Login: login(i), Password: password(i), Status: kradius.StatusActive, DownKbps: 100000, UpKbps: 100000}
	}
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	cache := kradius.NewCache(benchDir{subs: subs}, clock.System, logger)
	if err := cache.Load(ctx); err != nil {
		return err
	}
	cfg := kradius.Config{Logger: logger}
	var j *kradius.Journal
	if *journal {
		if j, err = kradius.OpenJournal(kradius.JournalConfig{Dir: filepath.Join(wd, "journal"), Logger: logger}); err != nil {
			return err
		}
		defer j.Close()
		// At the end everything is applied, for the parent's check.
		cfg.Journal, cfg.JournalDrain = j, 10*time.Minute
	}
	srv := kradius.NewServer(cfg, cache, nas, kradius.TrafficSink{T: traffic.New(db, time.UTC)})
	// Port 0 picks free ports, told to the parent on the "ready" line:
	// other benchmarks on the machine cannot take them in between.
	var conns [2]*net.UDPConn
	for i, port := range []int{authPort, acctPort} {
		c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: port})
		if err != nil {
			return err
		}
		if err := c.SetReadBuffer(8 << 20); err != nil {
			return err
		}
		conns[i] = c
	}
	if *cpuprof != "" {
		f, err := os.Create(*cpuprof)
		if err != nil {
			return err
		}
		pprof.StartCPUProfile(f)
		defer pprof.StopCPUProfile()
	}
	fmt.Println("ready", conns[0].LocalAddr().String(), conns[1].LocalAddr().String())
	if j != nil {
		// SIGUSR1 (after each accounting measurement): how far the
		// database is behind what was answered, and how long it takes to
		// catch up; the parent waits for it so that the catching up does
		// not take FreeRADIUS's share of the cores.
		usr := make(chan os.Signal, 1)
		signal.Notify(usr, syscall.SIGUSR1)
		go func() {
			for range usr {
				t0, n := time.Now(), j.Backlog()
				for j.Backlog() > 0 && ctx.Err() == nil {
					time.Sleep(10 * time.Millisecond)
				}
				fmt.Printf("%d %.3f\n", n, time.Since(t0).Seconds())
			}
		}()
		stopped := make(chan time.Time, 1)
		go func() {
			<-ctx.Done()
			stopped <- time.Now()
			fmt.Fprintf(os.Stderr, "kabinet: stopping with %d accounting records in the journal not yet in the database (%d bytes)\n", j.Backlog(), j.Bytes())
		}()
		err := srv.Serve(ctx, conns[0], conns[1])
		fmt.Fprintf(os.Stderr, "kabinet: journal applied in %.1f s, %d records left\n", time.Since(<-stopped).Seconds(), j.Backlog())
		return err
	}
	return srv.Serve(ctx, conns[0], conns[1])
}

// seedAccounts adds the subscribers' accounts, so that accounting writes
// their daily usage as in production, not only the sessions.
func seedAccounts(ctx context.Context, db *store.DB) error {
	return db.Write(ctx, func(tx *store.Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO tariffs (id, code, name, fee, down_kbps, up_kbps, created_at)
			VALUES (1, 'bench', 'Bench', 100, 100000, 100000, '2025-01-01 00:00:00')`); err != nil {
			return err
		}
		for i := range *users {
			id := i + 1
			if _, err := tx.Exec(ctx, `INSERT INTO ledger_accounts (id, code, kind) VALUES (?, ?, 'subscriber')`, id, fmt.Sprintf("acct:%d", id)); err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, `INSERT INTO accounts (id, login, contract_no, contract_date, password_hash, password_enc, tariff_id, ledger_id, created_at, updated_at)
				VALUES (?, ?, ?, '2025-01-01', 'x', 'x', 1, ?, '2025-01-01 00:00:00', '2025-01-01 00:00:00')`, id, login(i), fmt.Sprintf("B%d", id), id); err != nil {
				return err
			}
		}
		return nil
	})
}

// --- FreeRADIUS ----------------------------------------------------------

func freeradiusConf(wd string, authPort, acctPort int) error {
	var list strings.Builder
	for i := range *users {
		fmt.Fprintf(&list, "%s Cleartext-Password := %q\n", login(i), password(i))
	}
	if err := os.WriteFile(filepath.Join(wd, "users"), []byte(list.String()), 0o600); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(wd, "empty"), nil, 0o600); err != nil {
		return err
	}
	conf := fmt.Sprintf(`prefix = /usr
exec_prefix = /usr
sysconfdir = /etc
localstatedir = %[1]s
sbindir = /usr/sbin
logdir = %[1]s
raddbdir = %[1]s
radacctdir = %[1]s
name = freeradius
confdir = %[1]s
modconfdir = %[1]s
run_dir = %[1]s
db_dir = %[1]s
libdir = /usr/lib/freeradius
pidfile = %[1]s/radiusd.pid
max_request_time = 30
cleanup_delay = 5
max_requests = 1048576
hostname_lookups = no
log {
  destination = files
  file = %[1]s/radius.log
}
security {
  allow_core_dumps = no
  reject_delay = 1
}
thread pool {
  start_servers = 5
  max_servers = 32
  min_spare_servers = 3
  max_spare_servers = 10
  max_requests_per_server = 0
}
client bench {
  ipaddr = 127.0.0.1
  secret = %[2]s
}
modules {
  files {
    filename = %[1]s/users
    acctusersfile = %[1]s/empty
    preproxy_usersfile = %[1]s/empty
  }
  pap {
    normalise = yes
  }
  detail {
    filename = %[1]s/detail
    header = "%%t"
    permissions = 0600
  }
}
server default {
  listen {
    type = auth
    ipaddr = 127.0.0.1
    port = %[3]d
    recv_buff = 8388608
  }
  listen {
    type = acct
    ipaddr = 127.0.0.1
    port = %[4]d
    recv_buff = 8388608
  }
  authorize {
    files
    pap
  }
  authenticate {
    Auth-Type PAP {
      pap
    }
  }
  accounting {
    detail
  }
}
`, wd, secret, authPort, acctPort)
	if err := os.WriteFile(filepath.Join(wd, "radiusd.conf"), []byte(conf), 0o600); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(wd, "dictionary"), []byte("$INCLUDE /usr/share/freeradius/dictionary\n"), 0o600)
}

// --- load -----------------------------------------------------------------

type result struct {
	ok, lost int64
	lat      []time.Duration
	elapsed  time.Duration
}

func (r result) String() string {
	if len(r.lat) == 0 {
		return "no answers"
	}
	slices.Sort(r.lat)
	p := func(q float64) time.Duration { return r.lat[min(len(r.lat)-1, int(q*float64(len(r.lat))))] }
	return fmt.Sprintf("%8.0f req/s  p50 %6.2f ms  p99 %6.2f ms  lost %d",
		float64(r.ok)/r.elapsed.Seconds(), ms(p(0.50)), ms(p(0.99)), r.lost)
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// load runs a closed loop: each of c workers has its own socket and one
// request outstanding; a request unanswered in 2 s counts as lost.
//
// For accounting, seen (when not nil) keeps per user the highest counter
// the server has answered.
func load(addr string, acct bool, d time.Duration, seen []atomic.Uint32) result {
	var (
		mu    sync.Mutex
		total result
		stop  atomic.Bool
		wg    sync.WaitGroup
	)
	start := time.Now()
	for w := range *inflight {
		wg.Go(func() {
			conn, err := net.Dial("udp", addr)
			if err != nil {
				log.Fatal(err)
			}
			defer conn.Close()
			var local result
			buf := make([]byte, 4096)
			var counter uint32
			for i := w; !stop.Load(); i += *inflight {
				u := i % *users
				var p *radius.Packet
				if acct {
					counter += 1000
					p = radius.New(radius.CodeAccountingRequest, []byte(secret))
					rfc2866.AcctStatusType_Set(p, rfc2866.AcctStatusType_Value_InterimUpdate)
					rfc2866.AcctSessionID_SetString(p, fmt.Sprintf("s-%d", u))
					rfc2865.UserName_SetString(p, login(u))
					// The Class of the Access-Accept, echoed as a NAS does.
					rfc2865.Class_SetString(p, fmt.Sprintf("kabinet:%d:0", u+1))
					rfc2866.AcctInputOctets_Set(p, rfc2866.AcctInputOctets(counter))
					rfc2866.AcctOutputOctets_Set(p, rfc2866.AcctOutputOctets(counter*3))
					rfc2866.AcctSessionTime_Set(p, rfc2866.AcctSessionTime(counter/1000))
					rfc2865.NASIPAddress_Set(p, net.IPv4(127, 0, 0, 1))
				} else {
					p = radius.New(radius.CodeAccessRequest, []byte(secret))
					rfc2865.UserName_SetString(p, login(u))
					rfc2865.UserPassword_SetString(p, password(u))
					rfc2865.NASIPAddress_Set(p, net.IPv4(127, 0, 0, 1))
				}
				req, err := p.Encode()
				if err != nil {
					log.Fatal(err)
				}
				t0 := time.Now()
				conn.Write(req)
				conn.SetReadDeadline(t0.Add(2 * time.Second))
				for {
					n, err := conn.Read(buf)
					if err != nil {
						local.lost++
						break
					}
					if n < 20 || buf[1] != req[1] {
						continue // a late answer to an earlier, lost request
					}
					if !radius.IsAuthenticResponse(buf[:n], req, []byte(secret)) {
						log.Fatalf("unauthentic answer from %s", addr)
					}
					if !acct && radius.Code(buf[0]) != radius.CodeAccessAccept {
						log.Fatalf("%s rejected %s: the benchmark must use valid credentials", addr, login(u))
					}
					local.ok++
					local.lat = append(local.lat, time.Since(t0))
					if acct && seen != nil {
						for old := seen[u].Load(); counter > old && !seen[u].CompareAndSwap(old, counter); old = seen[u].Load() {
						}
					}
					break
				}
			}
			mu.Lock()
			total.ok += local.ok
			total.lost += local.lost
			total.lat = append(total.lat, local.lat...)
			mu.Unlock()
		})
	}
	time.Sleep(d)
	stop.Store(true)
	total.elapsed = time.Since(start)
	wg.Wait()
	return total
}

// cpuTime is the user and system CPU time a process has used so far, from
// /proc (zero elsewhere): the servers' cost per request is comparable even
// when the load generator's share of the cores varies between runs.
func cpuTime(pid int) time.Duration {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	// The fields after the parenthesised command name; utime and stime are
	// the 14th and 15th of the whole line, in clock ticks (100 Hz on Linux).
	i := strings.LastIndexByte(string(b), ')')
	if i < 0 {
		return 0
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 13 {
		return 0
	}
	var ut, st int64
	fmt.Sscan(f[11], &ut)
	fmt.Sscan(f[12], &st)
	return time.Duration(ut+st) * 10 * time.Millisecond
}

func freePort() int {
	c, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	return c.LocalAddr().(*net.UDPAddr).Port
}

func waitReady(addr string) error {
	// Status-Server is not enabled on the stock FreeRADIUS listener, so an
	// Access-Request for the first user is the probe.
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		p := radius.New(radius.CodeAccessRequest, []byte(secret))
		rfc2865.UserName_SetString(p, login(0))
		rfc2865.UserPassword_SetString(p, password(0))
		ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
		_, err := radius.Exchange(ctx, p, addr)
		cancel()
		if err == nil {
			return nil
		}
	}
	return errors.New(addr + " did not answer")
}

func compare() error {
	wd := *dir
	if wd == "" {
		var err error
		if wd, err = os.MkdirTemp("", "radius-bench-"); err != nil {
			return err
		}
		defer os.RemoveAll(wd)
	}
	type target struct {
		name, auth, acct string
		pid              int
		stop             func() // nil: stopped by a deferred call
		out              *bufio.Reader
	}
	var seen []atomic.Uint32 // Kabinet's answered interim counters by user
	var targets []target

	if *only == "" || *only == "kabinet" {
		self, err := os.Executable()
		if err != nil {
			return err
		}
		kdir := filepath.Join(wd, "kabinet")
		os.MkdirAll(kdir, 0o700)
		cmd := exec.Command(self, "-serve", "0,0", "-dir", kdir, "-users", fmt.Sprint(*users), "-cpuprofile", *cpuprof)
		cmd.Stderr = os.Stderr
		out, err := cmd.StdoutPipe()
		if err != nil {
			return err
		}
		if err := cmd.Start(); err != nil {
			return err
		}
		var once sync.Once
		stop := func() { once.Do(func() { cmd.Process.Signal(syscall.SIGTERM); cmd.Wait() }) }
		defer stop()
		var auth, acct string
		rd := bufio.NewReader(out)
		if _, err := fmt.Fscanf(rd, "ready %s %s\n", &auth, &acct); err != nil {
			return fmt.Errorf("kabinet did not start: %w", err)
		}
		targets = append(targets, target{"kabinet", auth, acct, cmd.Process.Pid, stop, rd})
		seen = make([]atomic.Uint32, *users)
	}
	if *only == "" || *only == "freeradius" {
		bin, err := exec.LookPath("freeradius")
		if err != nil {
			log.Printf("freeradius not installed (apt-get install freeradius): measuring Kabinet alone")
		} else {
			fa, fc := freePort(), freePort()
			fdir := filepath.Join(wd, "freeradius")
			os.MkdirAll(fdir, 0o700)
			if err := freeradiusConf(fdir, fa, fc); err != nil {
				return err
			}
			cmd := exec.Command(bin, "-f", "-d", fdir)
			cmd.Stderr = os.Stderr
			if err := cmd.Start(); err != nil {
				return err
			}
			defer func() { cmd.Process.Kill(); cmd.Wait() }()
			targets = append(targets, target{"freeradius", fmt.Sprintf("127.0.0.1:%d", fa), fmt.Sprintf("127.0.0.1:%d", fc), cmd.Process.Pid, nil, nil})
		}
	}
	for _, t := range targets {
		if err := waitReady(t.auth); err != nil {
			return fmt.Errorf("%s: %w", t.name, err)
		}
	}
	fmt.Printf("%d users, %d in flight, %v per measurement\n", *users, *inflight, *dur)
	for r := range *rounds {
		for kind := range strings.SplitSeq(*kinds, ",") {
			for _, t := range targets {
				addr := t.auth
				if kind == "acct" {
					addr = t.acct
				}
				var track []atomic.Uint32
				if t.name == "kabinet" {
					track = seen
				}
				load(addr, kind == "acct", time.Second, track) // warm-up
				cpu0 := cpuTime(t.pid)
				res := load(addr, kind == "acct", *dur, track)
				// With the journal, Kabinet's database may still be behind
				// what it answered: the catching up counts in its CPU and
				// in the rate at which accounting reaches the database.
				var behind int64
				var catchUp float64
				if t.name == "kabinet" && kind == "acct" && *journal {
					syscall.Kill(t.pid, syscall.SIGUSR1)
					line, err := t.out.ReadString('\n')
					if err != nil {
						return fmt.Errorf("kabinet: %w", err)
					}
					fmt.Sscanf(line, "%d %f", &behind, &catchUp)
				}
				cpu := cpuTime(t.pid) - cpu0
				fmt.Printf("round %d  %-4s  %-10s  %s  server CPU %5.1f µs/req\n", r+1, kind, t.name, res, float64(cpu/time.Microsecond)/float64(max(res.ok, 1)))
				if behind > 0 || catchUp > 0 {
					fmt.Printf("         journal: %d records not in the database at the end, all in %.2f s later: %.0f req/s into the database\n",
						behind, catchUp, float64(res.ok)/(res.elapsed.Seconds()+catchUp))
				}
			}
		}
	}
	for _, t := range targets {
		if t.name == "kabinet" && strings.Contains(*kinds, "acct") {
			t.stop()
			return checkInterims(filepath.Join(wd, "kabinet", "kabinet.db"), seen)
		}
	}
	return nil
}

// checkInterims reports whether the database holds, for every session, at
// least the highest counter Kabinet answered: an answered Interim-Update
// that never reached the database fails it.
func checkInterims(path string, seen []atomic.Uint32) error {
	ctx := context.Background()
	db, err := store.Open(ctx, "sqlite:"+path)
	if err != nil {
		return err
	}
	defer db.Close()
	rows, err := db.Query(ctx, `SELECT session_key, MAX(input_octets) FROM sessions GROUP BY session_key`)
	if err != nil {
		return err
	}
	defer rows.Close()
	inDB := map[string]int64{}
	for rows.Next() {
		var k string
		var v int64
		if err := rows.Scan(&k, &v); err != nil {
			return err
		}
		inDB[k] = v
	}
	if err := rows.Err(); err != nil {
		return err
	}
	checked, missing := 0, 0
	for u := range seen {
		want := int64(seen[u].Load())
		if want == 0 {
			continue
		}
		checked++
		if inDB[fmt.Sprintf("s-%d", u)] < want {
			missing++
		}
	}
	if missing > 0 {
		return fmt.Errorf("check: %d of %d sessions lack an answered Interim-Update in the database", missing, checked)
	}
	fmt.Printf("check: all %d sessions hold the last answered Interim-Update in the database\n", checked)
	return nil
}
