package netflow

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/kabinet-billing/kabinet/internal/clock"
	"github.com/kabinet-billing/kabinet/internal/netflow/netflowtest"
	"github.com/kabinet-billing/kabinet/internal/store"
	"github.com/kabinet-billing/kabinet/internal/store/storetest"
	"github.com/kabinet-billing/kabinet/internal/traffic"
)

// 00:30 on 1 December in Moscow, still 30 November in UTC: the day must be
// the provider's.
var exportAt = time.Date(2026, 11, 30, 21, 30, 0, 0, time.UTC)

const day = "2026-12-01"

var (
	aliceIP  = netip.MustParseAddr("10.1.0.5")
	bobIP    = netip.MustParseAddr("10.1.0.6")
	bobIP6   = netip.MustParseAddr("2001:db8:1::6")
	google   = netip.MustParseAddr("8.8.8.8")
	exchange = netip.MustParseAddr("195.208.1.1")
	ourCDN   = netip.MustParseAddr("192.0.2.10")
	ix6      = netip.MustParseAddr("2001:7f8:20::1")
)

func moscow(t testing.TB) *time.Location {
	z, err := time.LoadLocation("Europe/Moscow")
	if err != nil {
		t.Skip("no tzdata: ", err)
	}
	return z
}

func testDB(t testing.TB) *store.DB {
	t.Helper()
	ctx := context.Background()
	db, err := store.Open(ctx, "sqlite:"+filepath.Join(t.TempDir(), "k.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if _, err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	return db
}

func addAccount(t testing.TB, db *store.DB, login string) int64 {
	return storetest.AddSubscriber(t, db, storetest.Subscriber{Login: login, At: exportAt})
}

// env is a database with alice and bob online (RADIUS sessions), the
// classes "local" (our network and the subscriber pool) and "city" (the
// city exchange), and an aggregator on a session resolver.
type env struct {
	db         *store.DB
	alice, bob int64
	agg        *Aggregator
	col        *Collector
}

func newEnv(t testing.TB) *env { return newEnvOn(t, testDB(t)) }

func newEnvOn(t testing.TB, db *store.DB) *env {
	t.Helper()
	ctx := context.Background()
	e := &env{db: db, alice: addAccount(t, db, "alice"), bob: addAccount(t, db, "bob")}
	if err := db.Write(ctx, func(tx *store.Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO nas (id, name, address, secret, created_at) VALUES (1, 'bras', '127.0.0.1', 's', ?)`, exportAt)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	tr := traffic.New(db, moscow(t))
	start := exportAt.Add(-2 * time.Hour)
	if err := tr.Write(ctx, []traffic.Record{
		{Kind: traffic.Start, NASID: 1, SessionID: "a1", AccountID: e.alice, FramedIP: aliceIP, Time: start},
		{Kind: traffic.Start, NASID: 1, SessionID: "b1", AccountID: e.bob, FramedIP: bobIP, Time: start},
		{Kind: traffic.Start, NASID: 1, SessionID: "b6", AccountID: e.bob, FramedIP: bobIP6, Time: start},
	}); err != nil {
		t.Fatal(err)
	}
	for _, c := range []Class{
		{Code: "local", Name: "Сеть провайдера", NameEn: "Provider network", Prefixes: mustPrefixes("192.0.2.0/24, 10.1.0.0/16"), Position: 1},
		{Code: "city", Name: "Городской обмен", NameEn: "City exchange", Prefixes: mustPrefixes("195.208.0.0/16 2001:7f8:20::/48"), Position: 2},
	} {
		if err := SaveClass(ctx, db, c); err != nil {
			t.Fatal(err)
		}
	}
	res := NewSessionResolver(tr, clock.NewFake(exportAt))
	if err := res.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	e.agg = NewAggregator(db, res, nil, moscow(t))
	if err := e.agg.ReloadClasses(ctx); err != nil {
		t.Fatal(err)
	}
	e.col = NewCollector(e.agg)
	e.col.Now = func() time.Time { return exportAt }
	return e
}

func mustPrefixes(s string) []netip.Prefix {
	p, err := ParsePrefixes(s)
	if err != nil {
		panic(err)
	}
	return p
}

// sample is the traffic every format carries.
var sample = []netflowtest.Rec{
	{Src: aliceIP, Dst: google, Bytes: 1000, Packets: 10},                                              // alice upload, internet
	{Src: google, Dst: aliceIP, Bytes: 50000, Packets: 40},                                             // alice download, internet
	{Src: exchange, Dst: aliceIP, Bytes: 7000, Packets: 7},                                             // alice download, city
	{Src: aliceIP, Dst: ourCDN, Bytes: 300, Packets: 3},                                                // alice upload, local
	{Src: aliceIP, Dst: bobIP, Bytes: 400, Packets: 4},                                                 // both: local
	{Src: netip.MustParseAddr("1.1.1.1"), Dst: netip.MustParseAddr("9.9.9.9"), Bytes: 999, Packets: 1}, // nobody's
}

var sample6 = []netflowtest.Rec{
	{Src: ix6, Dst: bobIP6, Bytes: 6000, Packets: 6},                                // bob download, city
	{Src: bobIP6, Dst: netip.MustParseAddr("2a00:1450::1"), Bytes: 600, Packets: 6}, // bob upload, internet
}

type row struct {
	acct    int64
	class   string
	in, out int64
}

func rows(t testing.TB, db *store.DB, accts ...int64) []row {
	t.Helper()
	var out []row
	for _, a := range accts {
		us, err := Usage(context.Background(), db, a, day, day)
		if err != nil {
			t.Fatal(err)
		}
		for _, u := range us {
			if u.Day != day {
				t.Errorf("day %s, want %s", u.Day, day)
			}
			out = append(out, row{a, u.Class, u.InputOctets, u.OutputOctets})
		}
	}
	sort.Slice(out, func(i, j int) bool { return fmt.Sprint(out[i]) < fmt.Sprint(out[j]) })
	return out
}

func want(e *env, scale int64, v6 bool) []row {
	w := []row{
		{e.alice, "internet", 1000 * scale, 50000 * scale},
		{e.alice, "city", 0, 7000 * scale},
		{e.alice, "local", 700 * scale, 0},
		{e.bob, "local", 0, 400 * scale},
	}
	if v6 {
		w = append(w, row{e.bob, "city", 0, 6000 * scale}, row{e.bob, "internet", 600 * scale, 0})
	}
	sort.Slice(w, func(i, j int) bool { return fmt.Sprint(w[i]) < fmt.Sprint(w[j]) })
	return w
}

func TestFormats(t *testing.T) {
	all := append(append([]netflowtest.Rec{}, sample...), sample6...)
	for _, tc := range []struct {
		name    string
		packets [][]byte
		scale   int64
		v6      bool
	}{
		{"v5", [][]byte{netflowtest.V5(sample, exportAt, 1, 0)}, 1, false},
		{"v5 sampled 1:10", [][]byte{netflowtest.V5(sample, exportAt, 1, 0x4000|10)}, 10, false},
		{"v9", [][]byte{netflowtest.V9(all, exportAt, 1, true)}, 1, true},
		{"v9 data before template", [][]byte{netflowtest.V9(all, exportAt, 1, false), netflowtest.V9(nil, exportAt, 2, true), netflowtest.V9(all, exportAt, 3, false)}, 1, true},
		{"ipfix", [][]byte{netflowtest.IPFIX(all, exportAt, 1, true)}, 1, true},
		{"ipfix split", [][]byte{netflowtest.IPFIX(sample, exportAt, 1, true), netflowtest.IPFIX(sample6, exportAt, 2, false)}, 1, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			storetest.Each(t, func(t *testing.T, db *store.DB) {
				e := newEnvOn(t, db)
				for _, p := range tc.packets {
					if err := e.col.Handle(netip.MustParseAddr("127.0.0.1"), p); err != nil {
						t.Fatal(err)
					}
				}
				if _, err := e.agg.Flush(context.Background()); err != nil {
					t.Fatal(err)
				}
				got, w := rows(t, e.db, e.alice, e.bob), want(e, tc.scale, tc.v6)
				if fmt.Sprint(got) != fmt.Sprint(w) {
					t.Errorf("got  %v\nwant %v", got, w)
				}
				st := e.agg.Stats()
				if st.Unattributed != 1 {
					t.Errorf("stats %+v: want the one foreign flow unattributed", st)
				}
			})
		})
	}
}

// TestBatchedWrites checks that sums accumulate across flushes and that a
// flush writes one row per subscriber, class and day, not one per flow.
func TestBatchedWrites(t *testing.T) {
	storetest.Each(t, testBatchedWrites)
}

func testBatchedWrites(t *testing.T, db *store.DB) {
	e := newEnvOn(t, db)
	ctx := context.Background()
	for i := range 100 {
		if err := e.col.Handle(netip.MustParseAddr("127.0.0.1"), netflowtest.V5(sample, exportAt, uint32(i), 0)); err != nil {
			t.Fatal(err)
		}
	}
	n, err := e.agg.Flush(ctx)
	if err != nil || n != 4 {
		t.Fatalf("flush wrote %d rows (%v), want 4 for 500 attributed flows", n, err)
	}
	e.col.Handle(netip.MustParseAddr("127.0.0.1"), netflowtest.V5(sample, exportAt, 200, 0))
	if _, err := e.agg.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if n, _ := e.agg.Flush(ctx); n != 0 {
		t.Errorf("empty flush wrote %d rows", n)
	}
	got, w := rows(t, e.db, e.alice, e.bob), want(e, 101, false)
	if fmt.Sprint(got) != fmt.Sprint(w) {
		t.Errorf("got  %v\nwant %v", got, w)
	}
}

func TestBadPackets(t *testing.T) {
	e := newEnv(t)
	for _, p := range [][]byte{nil, {0}, {0, 7, 1, 2}, netflowtest.V5(sample, exportAt, 1, 0)[:30], {0, 9, 0, 1, 0, 0}} {
		if err := e.col.Handle(netip.MustParseAddr("127.0.0.1"), p); err == nil && len(p) < 6 {
			t.Errorf("%x accepted", p)
		}
	}
	if e.agg.Pending() != 0 {
		t.Errorf("garbage produced %d sums", e.agg.Pending())
	}
}

func TestClassifier(t *testing.T) {
	c := NewClassifier([]Class{
		{Code: "local", Prefixes: mustPrefixes("10.0.0.0/8 2001:db8::/32")},
		{Code: "dc", Prefixes: mustPrefixes("10.20.0.0/16")},
		{Code: "host", Prefixes: mustPrefixes("10.20.30.40")},
	})
	for _, tc := range []struct{ addr, want string }{
		{"10.1.2.3", "local"},
		{"10.20.1.1", "dc"},
		{"10.20.30.40", "host"},
		{"8.8.8.8", DefaultClass},
		{"2001:db8::1", "local"},
		{"2001:db9::1", DefaultClass},
		{"::ffff:10.20.1.1", "dc"},
	} {
		if got := c.Code(c.Class(netip.MustParseAddr(tc.addr))); got != tc.want {
			t.Errorf("%s: %s, want %s", tc.addr, got, tc.want)
		}
	}
	if _, err := ParsePrefixes("10.0.0.0/8, nonsense"); err == nil {
		t.Error("nonsense prefix accepted")
	}
}

func TestSessionResolver(t *testing.T) {
	t0 := exportAt
	leases := fakeLeases{
		{Addr: aliceIP, AccountID: 1, From: t0.Add(-3 * time.Hour), Until: t0.Add(-time.Hour)},
		{Addr: aliceIP, AccountID: 2, From: t0.Add(-50 * time.Minute)},
		{Addr: bobIP, AccountID: 3, From: t0.Add(-time.Hour)},
	}
	r := NewSessionResolver(leases, clock.NewFake(t0))
	if r.Account(aliceIP, t0) != 0 {
		t.Error("answers before the first refresh")
	}
	if err := r.Refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		addr netip.Addr
		at   time.Time
		want int64
	}{
		{aliceIP, t0.Add(-2 * time.Hour), 1},           // the earlier holder
		{aliceIP, t0, 2},                               // the current one
		{aliceIP, t0.Add(-time.Hour + time.Minute), 1}, // the earlier one within the slack
		{aliceIP, t0.Add(-4 * time.Hour), 0},           // before anyone
		{bobIP, t0, 3},
		{netip.MustParseAddr("::ffff:10.1.0.6"), t0, 3},
		{google, t0, 0},
	} {
		if got := r.Account(tc.addr, tc.at); got != tc.want {
			t.Errorf("%s at %s: %d, want %d", tc.addr, tc.at.Sub(t0), got, tc.want)
		}
	}
}

type fakeLeases []traffic.AddressLease

func (f fakeLeases) AddressLeases(context.Context, time.Time) ([]traffic.AddressLease, error) {
	return f, nil
}

// TestUDP sends packets to the collector's socket.
func TestUDP(t *testing.T) {
	e := newEnv(t)
	ctx, cancel := context.WithCancel(context.Background())
	conn, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- e.col.Serve(ctx, conn) }()
	c, err := net.Dial("udp", conn.LocalAddr().String())
	if err != nil {
		t.Fatal(err)
	}
	c.Write(netflowtest.IPFIX(append(append([]netflowtest.Rec{}, sample...), sample6...), exportAt, 1, true))
	waitFor(t, func() bool { return e.col.Stats().Packets == 1 })
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	e.agg.Flush(context.Background())
	if got, w := rows(t, e.db, e.alice, e.bob), want(e, 1, true); fmt.Sprint(got) != fmt.Sprint(w) {
		t.Errorf("got  %v\nwant %v", got, w)
	}
}

// waitFor polls a condition another goroutine makes true (a UDP packet
// crossing the loopback), with a deadline; it measures nothing about time.
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("timed out")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestSoftflowd runs Debian's softflowd over a pcap the test makes and
// checks what it exports, in v5, v9 and IPFIX.
func TestSoftflowd(t *testing.T) {
	bin, err := exec.LookPath("softflowd")
	if err != nil {
		for _, p := range []string{"/usr/sbin/softflowd"} {
			if _, err := os.Stat(p); err == nil {
				bin = p
			}
		}
	}
	if bin == "" {
		t.Skip("softflowd test skipped: softflowd is not installed (apt-get install -y softflowd)")
	}
	// Ten packets each way between alice and Google, five from the city
	// exchange: softflowd makes three flows of them.
	var pkts []netflowtest.Rec
	for range 10 {
		pkts = append(pkts, netflowtest.Rec{Src: aliceIP, Dst: google, Bytes: 100}, netflowtest.Rec{Src: google, Dst: aliceIP, Bytes: 1000})
	}
	for range 5 {
		pkts = append(pkts, netflowtest.Rec{Src: exchange, Dst: aliceIP, Bytes: 500})
	}
	dir := t.TempDir()
	pcap := filepath.Join(dir, "in.pcap")
	if err := os.WriteFile(pcap, netflowtest.Pcap(pkts, exportAt), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, v := range []string{"5", "9", "10"} {
		t.Run("v"+v, func(t *testing.T) {
			e := newEnv(t)
			conn, err := net.ListenPacket("udp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan error, 1)
			go func() { done <- e.col.Serve(ctx, conn) }()
			// -D keeps softflowd in the foreground and makes it export every
			// flow and exit when the file ends. softflowd 1.1.0 never exits
			// with -c given, so the control socket stays at its default.
			sctx, scancel := context.WithTimeout(ctx, 30*time.Second)
			defer scancel()
			cmd := exec.CommandContext(sctx, bin, "-r", pcap, "-n", conn.LocalAddr().String(), "-v", v, "-D", "-a",
				"-p", filepath.Join(dir, "sf"+v+".pid"))
			var out strings.Builder
			cmd.Stdout, cmd.Stderr = &out, &out
			if err := cmd.Run(); err != nil {
				cancel()
				t.Fatalf("softflowd: %v\n%s", err, out.String())
			}
			waitFor(t, func() bool { return e.agg.Stats().Attributed >= 3 })
			cancel()
			<-done
			e.agg.Flush(context.Background())
			got := rows(t, e.db, e.alice)
			w := []row{{e.alice, "city", 0, 2500}, {e.alice, "internet", 1000, 10000}}
			if fmt.Sprint(got) != fmt.Sprint(w) {
				t.Errorf("got  %v\nwant %v\nsoftflowd said: %s", got, w, strings.TrimSpace(out.String()))
			}
		})
	}
}

// TestRun starts the whole collector as serve does: a packet waiting in
// the socket is read, attributed and written by the periodic flush.
func TestRun(t *testing.T) {
	e := newEnv(t)
	conn, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	c, err := net.Dial("udp", conn.LocalAddr().String())
	if err != nil {
		t.Fatal(err)
	}
	all := append(append([]netflowtest.Rec{}, sample...), sample6...)
	c.Write(netflowtest.IPFIX(all, exportAt, 1, true)) // queued in the socket until Run reads it
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	observed := make(chan func() RunStats, 1)
	go func() {
		done <- Run(ctx, e.db, traffic.New(e.db, moscow(t)), clock.NewFake(exportAt),
			Options{Conn: conn, Zone: moscow(t), FlushEvery: 10 * time.Millisecond, Observe: func(f func() RunStats) { observed <- f }})
	}()
	var n int64
	waitFor(t, func() bool {
		e.db.QueryRow(context.Background(), `SELECT COALESCE(SUM(output_octets), 0) FROM usage_class_daily WHERE account_id = ?`, e.alice).Scan(&n)
		return n > 0
	})
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if n != 57000 {
		t.Errorf("alice's download: %d, want 57000", n)
	} // The counters serve exports to Prometheus.
	st := (<-observed)()
	if st.Collector.Packets != 1 || st.Collector.Bad != 0 || st.Aggregator.Flows != uint64(len(all)) || st.Aggregator.Attributed == 0 || st.Aggregator.Flushes == 0 {
		t.Errorf("stats: %+v", st)
	}
}
