package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"layeh.com/radius"
	"layeh.com/radius/rfc2865"
	"layeh.com/radius/rfc2866"

	"github.com/kabinet-billing/kabinet/internal/netflow/netflowtest"
	"github.com/kabinet-billing/kabinet/internal/store"
	"github.com/kabinet-billing/kabinet/internal/store/storetest"
	"github.com/kabinet-billing/kabinet/internal/traffic"
)

// freePort finds a free loopback port for network ("tcp" or "udp").
func freePort(t *testing.T, network string) string {
	t.Helper()
	if network == "udp" {
		c, err := net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		return c.LocalAddr().String()
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// SIGTERM in the middle of RADIUS accounting and NetFlow traffic: serve
// stops taking new work, and once it has returned every accounting record
// it answered and every flow it read is in the database.
func TestServeStopsGracefully(t *testing.T) {
	const nasSecret = "shutdown-secret"
	dir := t.TempDir()
	dsn := "sqlite:" + filepath.Join(dir, "k.db")
	httpAddr, authAddr, acctAddr, flowAddr := freePort(t, "tcp"), freePort(t, "udp"), freePort(t, "udp"), freePort(t, "udp")
	cfg := filepath.Join(dir, "kabinet.toml")
	// The collector flushes only at shutdown: every flow's sum is in memory
	// when SIGTERM comes.
	text := fmt.Sprintf(`db = %q
data_dir = %q
shutdown_timeout = "20s"
[provider]
name = "Test"
[radius]
auth_addr = %q
acct_addr = %q
[netflow]
addr = %q
flush_seconds = 3600
`, dsn, dir, authAddr, acctAddr, flowAddr)
	if err := os.WriteFile(cfg, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}

	// alice is online at 10.9.0.5 on the NAS 127.0.0.1.
	ctx := context.Background()
	db, err := store.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	alice := storetest.AddSubscriber(t, db, storetest.Subscriber{Login: "alice", At: now.Add(-24 * time.Hour)})
	if err := db.Write(ctx, func(tx *store.Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO nas (id, name, address, secret, created_at) VALUES (1, 'bras', '127.0.0.1', ?, ?)`, nasSecret, now)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	aliceIP := netip.MustParseAddr("10.9.0.5")
	if err := traffic.New(db, time.UTC).Write(ctx, []traffic.Record{
		{Kind: traffic.Start, NASID: 1, SessionID: "online", AccountID: alice, FramedIP: aliceIP, Time: now.Add(-time.Hour)},
	}); err != nil {
		t.Fatal(err)
	}
	db.Close()

	var stderr syncBuffer
	exited := make(chan int, 1)
	go func() {
		exited <- run([]string{"--config", cfg, "serve", "--addr", httpAddr}, io.Discard, &stderr)
	}()
	get := func(path string) (string, bool) {
		res, err := http.Get("http://" + httpAddr + path)
		if err != nil {
			return "", false
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return string(b), res.StatusCode == http.StatusOK
	}
	waitFor := func(what string, ok func() bool) {
		t.Helper()
		for deadline := time.Now().Add(20 * time.Second); !ok(); time.Sleep(20 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("%s: not within 20 s; serve said:\n%s", what, stderr.String())
			}
		}
	}
	waitFor("serve ready", func() bool { _, ok := get("/healthz"); return ok })

	// Flows: alice uploads to 8.8.8.8, a known number of bytes, all read
	// by the collector (its counter says so) before SIGTERM.
	fc, err := net.Dial("udp", flowAddr)
	if err != nil {
		t.Fatal(err)
	}
	defer fc.Close()
	// The collector starts beside the HTTP listener: it is up once it
	// counts a malformed packet.
	counter := func(re *regexp.Regexp) int {
		body, _ := get("/metrics")
		m := re.FindStringSubmatch(body)
		if m == nil {
			return -1
		}
		var n int
		fmt.Sscan(m[1], &n)
		return n
	}
	malformed := regexp.MustCompile(`(?m)^kabinet_netflow_packets_rejected_total\{reason="malformed"\} (\d+)`)
	read := regexp.MustCompile(`(?m)^kabinet_netflow_packets_total (\d+)`)
	waitFor("the collector listening", func() bool {
		fc.Write([]byte{0}) // refused until it listens
		return counter(malformed) > 0
	})
	base := counter(read)
	const packets = 40
	var flowBytes uint64
	for i := range packets {
		b := uint64(1000 + i)
		flowBytes += b
		pkt := netflowtest.V5([]netflowtest.Rec{{Src: aliceIP, Dst: netip.MustParseAddr("8.8.8.8"), Bytes: b, Packets: 1}}, time.Now(), uint32(i), 0)
		if _, err := fc.Write(pkt); err != nil {
			t.Fatal(err)
		}
	}
	waitFor("the collector reads every flow packet", func() bool { return counter(read) == base+packets })

	// Accounting from four NAS threads; SIGTERM once a few hundred are
	// answered, while they keep coming.
	var (
		mu       sync.Mutex
		answered []string
		seq      atomic.Int64
		stop     atomic.Bool
		senders  sync.WaitGroup
	)
	for range 4 {
		senders.Go(func() {
			for !stop.Load() {
				id := fmt.Sprintf("acct-%d", seq.Add(1))
				p := radius.New(radius.CodeAccountingRequest, []byte(nasSecret))
				rfc2865.UserName_SetString(p, "alice")
				rfc2866.AcctStatusType_Set(p, rfc2866.AcctStatusType_Value_Start)
				rfc2866.AcctSessionID_SetString(p, id)
				rfc2865.FramedIPAddress_Set(p, net.IPv4(10, 9, 1, byte(seq.Load())))
				c, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
				resp, err := radius.Exchange(c, p, acctAddr)
				cancel()
				if err == nil && resp.Code == radius.CodeAccountingResponse {
					mu.Lock()
					answered = append(answered, id)
					mu.Unlock()
				}
			}
		})
	}
	waitFor("accounting answered", func() bool { mu.Lock(); defer mu.Unlock(); return len(answered) >= 300 })
	if err := syscall.Kill(os.Getpid(), syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	var code int
	select {
	case code = <-exited:
	case <-time.After(40 * time.Second):
		t.Fatalf("serve did not stop; it said:\n%s", stderr.String())
	}
	stop.Store(true)
	senders.Wait()
	if code != 0 {
		t.Fatalf("serve exited %d:\n%s", code, stderr.String())
	}

	db, err = store.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	stored := map[string]bool{}
	rows, err := db.Query(ctx, `SELECT session_key FROM sessions`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var k string
		if err := rows.Scan(&k); err != nil {
			t.Fatal(err)
		}
		stored[k] = true
	}
	rows.Close()
	var missing []string
	for _, id := range answered {
		if !stored[id] {
			missing = append(missing, id)
		}
	}
	if len(missing) > 0 {
		t.Errorf("%d of %d answered accounting records are not in the database, e.g. %v", len(missing), len(answered), missing[:min(5, len(missing))])
	}
	var up uint64
	if err := db.QueryRow(ctx, `SELECT COALESCE(SUM(input_octets), 0) FROM usage_class_daily WHERE account_id = ?`, alice).Scan(&up); err != nil {
		t.Fatal(err)
	}
	if up != flowBytes {
		t.Errorf("alice's uploads in the database: %d bytes; the collector read %d", up, flowBytes)
	}
	t.Logf("%d accounting records answered; %d flow bytes", len(answered), flowBytes)
}

// syncBuffer is a bytes.Buffer safe for a writer and a reader on two
// goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return strings.Clone(s.b.String())
}
