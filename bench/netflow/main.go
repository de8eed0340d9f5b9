// Command netflow-bench measures how many NetFlow records per second Kabinet's
// collector decodes, attributes to subscribers and classes, and stores in
// SQLite: pre-built export packets (NetFlow v5, v9 and IPFIX, a third each)
// for 10,000 subscribers online, fed to the collector either directly or
// over loopback UDP, with the aggregator flushing to the database every
// second as in production.
//
//	go run ./bench/netflow                 # 10 s, direct
//	go run ./bench/netflow -udp -d 5s      # through the socket (drops count as lost)
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"math/rand/v2"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"time"

	"github.com/kabinet-billing/kabinet/internal/clock"
	"github.com/kabinet-billing/kabinet/internal/config"
	"github.com/kabinet-billing/kabinet/internal/ledger"
	"github.com/kabinet-billing/kabinet/internal/netflow"
	"github.com/kabinet-billing/kabinet/internal/netflow/netflowtest"
	"github.com/kabinet-billing/kabinet/internal/store"
	"github.com/kabinet-billing/kabinet/internal/traffic"
)

var (
	users   = flag.Int("users", 10000, "subscribers online")
	dur     = flag.Duration("d", 10*time.Second, "duration")
	every   = flag.Duration("flush", time.Second, "aggregator flush interval")
	udp     = flag.Bool("udp", false, "send over loopback UDP instead of calling the collector")
	cpuprof = flag.String("cpuprofile", "", "write a CPU profile here")
)

func main() {
	config.SetGC() // as every kabinet command runs
	flag.Parse()
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "flow-bench")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	db, err := store.Open(ctx, "sqlite:"+filepath.Join(dir, "k.db"))
	if err != nil {
		log.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Migrate(ctx); err != nil {
		log.Fatal(err)
	}
	now := time.Now()
	addrs := setup(ctx, db, *users, now)
	tr := traffic.New(db, time.UTC)
	res := netflow.NewSessionResolver(tr, clock.System)
	if err := res.Refresh(ctx); err != nil {
		log.Fatal(err)
	}
	agg := netflow.NewAggregator(db, res, nil, time.UTC)
	if err := agg.ReloadClasses(ctx); err != nil {
		log.Fatal(err)
	}
	col := netflow.NewCollector(agg)
	packets, perPacket := build(addrs, now)
	fmt.Printf("%d subscribers online, %d packets built (%.1f records each), flush every %s, GOMAXPROCS=%d\n",
		len(addrs), len(packets), perPacket, *every, runtime.GOMAXPROCS(0))

	if *cpuprof != "" {
		f, err := os.Create(*cpuprof)
		if err != nil {
			log.Fatal(err)
		}
		pprof.StartCPUProfile(f)
		defer pprof.StopCPUProfile()
	}
	rctx, cancel := context.WithCancel(ctx)
	flushed := make(chan struct{})
	go func() {
		agg.Run(rctx, *every, func(err error) { log.Print(err) })
		close(flushed)
	}()
	start := time.Now()
	var sent int
	if *udp {
		sent = viaUDP(rctx, col, packets, *dur)
	} else {
		buf := make([]byte, 0, 65535)
		for i := 0; time.Since(start) < *dur; i++ {
			p := packets[i%len(packets)]
			buf = append(buf[:0], p...) // the collector may rewrite a header field
			col.Handle(netip.MustParseAddr("192.0.2.1"), buf)
			sent++
		}
	}
	cancel()
	<-flushed // includes the final flush: everything counted is stored
	el := time.Since(start)
	st, cs := agg.Stats(), col.Stats()
	var stored int64
	db.QueryRow(ctx, `SELECT COALESCE(SUM(flows), 0) FROM usage_class_daily`).Scan(&stored)
	fmt.Printf("packets sent %d, received %d (bad %d, no template %d)\n", sent, cs.Packets, cs.Bad, cs.NoTemplate)
	fmt.Printf("flows %d in %.2fs: %.0f flows/s decoded, attributed and stored\n", st.Flows, el.Seconds(), float64(st.Flows)/el.Seconds())
	fmt.Printf("attributed %d, unattributed %d; %d flushes wrote %d rows; flow-sides in the database %d\n",
		st.Attributed, st.Unattributed, st.Flushes, st.Rows, stored)
}

// setup makes n subscribers with an open session each, on 10.0.0.0/8.
func setup(ctx context.Context, db *store.DB, n int, now time.Time) []netip.Addr {
	addrs := make([]netip.Addr, n)
	err := db.Write(ctx, func(tx *store.Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO tariffs (id, code, name, fee, down_kbps, up_kbps, created_at) VALUES (1, 'base', 'Base', 50000, 100000, 100000, ?)`, now); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO nas (id, name, address, secret, created_at) VALUES (1, 'bras', '192.0.2.1', 's', ?)`, now); err != nil {
			return err
		}
		for i := range n {
			lid, err := ledger.Account(ctx, tx, fmt.Sprintf("subscriber:b%d", i), ledger.KindSubscriber)
			if err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, `INSERT INTO accounts (id, login, contract_no, contract_date, password_hash, password_enc, tariff_id, status, ledger_id, created_at, updated_at)
				VALUES (?, ?, ?, '2026-01-01', 'x', 'x', 1, 'active', ?, ?, ?)`, i+1, fmt.Sprintf("b%d", i), fmt.Sprintf("B%d", i), lid, now, now); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		log.Fatal(err)
	}
	var recs []traffic.Record
	for i := range n {
		addrs[i] = netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)})
		recs = append(recs, traffic.Record{Kind: traffic.Start, NASID: 1, SessionID: fmt.Sprint(i), AccountID: int64(i + 1), FramedIP: addrs[i], Time: now.Add(-time.Hour)})
	}
	if err := traffic.New(db, time.UTC).Write(ctx, recs); err != nil {
		log.Fatal(err)
	}
	for _, c := range []netflow.Class{
		{Code: "local", Name: "Сеть провайдера", NameEn: "Provider network", Prefixes: prefixes("192.0.2.0/24 10.0.0.0/8"), Position: 1},
		{Code: "city", Name: "Городской обмен", NameEn: "City exchange", Prefixes: prefixes("195.208.0.0/16 194.190.0.0/16 2001:7f8:20::/48"), Position: 2},
	} {
		if err := netflow.SaveClass(ctx, db, c); err != nil {
			log.Fatal(err)
		}
	}
	return addrs
}

func prefixes(s string) []netip.Prefix {
	p, err := netflow.ParsePrefixes(s)
	if err != nil {
		log.Fatal(err)
	}
	return p
}

// build makes 3,000 packets, a third per format: each record is a
// subscriber talking to a remote that is 10% local, 20% city exchange and
// 70% internet, half the records downloads.
func build(addrs []netip.Addr, at time.Time) ([][]byte, float64) {
	r := rand.New(rand.NewPCG(1, 2))
	remote := func() netip.Addr {
		switch x := r.IntN(10); {
		case x == 0:
			return netip.AddrFrom4([4]byte{192, 0, 2, byte(r.IntN(256))})
		case x < 3:
			return netip.AddrFrom4([4]byte{195, 208, byte(r.IntN(256)), byte(r.IntN(256))})
		}
		return netip.AddrFrom4([4]byte{byte(20 + r.IntN(150)), byte(r.IntN(256)), byte(r.IntN(256)), byte(r.IntN(256))})
	}
	recs := func(n int) []netflowtest.Rec {
		out := make([]netflowtest.Rec, n)
		for i := range out {
			s, d := addrs[r.IntN(len(addrs))], remote()
			if r.IntN(2) == 0 {
				s, d = d, s
			}
			out[i] = netflowtest.Rec{Src: s, Dst: d, Bytes: uint64(64 + r.IntN(1_000_000)), Packets: uint64(1 + r.IntN(1000))}
		}
		return out
	}
	var out [][]byte
	total := 0
	for i := range 1000 {
		a, b, c := recs(30), recs(28), recs(28) // what fits a 1500-byte MTU
		out = append(out, netflowtest.V5(a, at, uint32(i), 0), netflowtest.V9(b, at, uint32(i), i%20 == 0), netflowtest.IPFIX(c, at, uint32(i), i%20 == 0))
		total += 86
	}
	return out, float64(total) / float64(len(out))
}

// viaUDP sends the packets to the collector's socket as fast as it takes
// them, pausing when the socket buffer is close to full.
func viaUDP(ctx context.Context, col *netflow.Collector, packets [][]byte, d time.Duration) int {
	conn, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	if uc, ok := conn.(*net.UDPConn); ok {
		uc.SetReadBuffer(8 << 20)
	}
	go col.Serve(ctx, conn)
	c, err := net.Dial("udp", conn.LocalAddr().String())
	if err != nil {
		log.Fatal(err)
	}
	start := time.Now()
	sent := 0
	for time.Since(start) < d {
		c.Write(packets[sent%len(packets)])
		sent++
		// Keep at most a few hundred packets in flight: a benchmark of
		// the kernel dropping datagrams measures nothing about Kabinet.
		for sent-int(col.Stats().Packets) > 500 {
			runtime.Gosched()
		}
	}
	for int(col.Stats().Packets) < sent && time.Since(start) < d+2*time.Second {
		runtime.Gosched()
	}
	return sent
}
