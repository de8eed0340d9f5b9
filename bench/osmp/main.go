// Command osmp measures the OSMP pay endpoint the way a bank drives it: pay
// requests with unique txn_ids over HTTP from concurrent clients, each
// durably credited on SQLite before it is answered. It prints payments per
// second and latency percentiles, then checks that the books balance.
//
//	go run ./bench/osmp -n 20000 -c 32
package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"flag"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"runtime/pprof"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/kabinet-billing/kabinet/internal/billing"
	"github.com/kabinet-billing/kabinet/internal/clock"
	"github.com/kabinet-billing/kabinet/internal/config"
	"github.com/kabinet-billing/kabinet/internal/ledger"
	"github.com/kabinet-billing/kabinet/internal/payment"
	"github.com/kabinet-billing/kabinet/internal/store"
	"github.com/kabinet-billing/kabinet/internal/subscriber"
)

func main() {
	config.SetGC() // as every kabinet command runs
	n := flag.Int("n", 20000, "pay requests in total")
	c := flag.Int("c", 32, "concurrent clients")
	accounts := flag.Int("accounts", 1000, "subscriber accounts to pay")
	dir := flag.String("dir", "", "directory for the database (default: a temporary one)")
	bonusBP := flag.Int64("bonus-bp", 100, "bonus points per payment in basis points (the config default: 100 = 1%)")
	cpuprofile := flag.String("cpuprofile", "", "write a CPU profile of the run to this file")
	flag.Parse()
	if *cpuprofile != "" {
		f, err := os.Create(*cpuprofile)
		if err != nil {
			log.Fatal(err)
		}
		pprof.StartCPUProfile(f)
		defer pprof.StopCPUProfile()
	}
	if err := run(*n, *c, *accounts, *bonusBP, *dir); err != nil {
		log.Print(err)
		pprof.StopCPUProfile()
		os.Exit(1)
	}
}

func run(n, clients, accounts int, bonusBP int64, dir string) error {
	ctx := context.Background()
	if dir == "" {
		d, err := os.MkdirTemp("", "kabinet-bench-osmp")
		if err != nil {
			return err
		}
		defer os.RemoveAll(d)
		dir = d
	}
	db, err := store.Open(ctx, "sqlite:"+filepath.Join(dir, "bench.db"))
	if err != nil {
		return err
	}
	defer db.Close()
	if _, err := db.Migrate(ctx); err != nil {
		return err
	}
	clk := clock.System
	biller := billing.New(db, clk, billing.DefaultRules())
	if _, err := billing.AddTariff(ctx, db, billing.Tariff{Code: "bench", Name: "Bench", Fee: 50000, DownKbps: 100000, UpKbps: 100000, Public: true}, clk.Now()); err != nil {
		return err
	}
	sealer, err := subscriber.NewSealer(make([]byte, 32))
	if err != nil {
		return err
	}
	dirs := subscriber.New(db, clk, sealer, biller)
	contracts := make([]string, accounts)
	for i := range accounts {
		a, err := dirs.Create(ctx, subscriber.NewAccount{Login: fmt.Sprintf("bench%05d", i), Password: "benchbench", PasswordHash: "x", Tariff: "bench"})
		if err != nil {
			return err
		}
		contracts[i] = a.ContractNo
	}

	svc := payment.NewService(db, clk, biller, nil, payment.Options{BonusPercentBP: bonusBP, Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	ch := payment.OSMPChannel{Name: "sberbank", Login: "sber", Password: "pw", Allow: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}}
	h, err := payment.NewOSMPHandler([]payment.OSMPChannel{ch}, svc, nil)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: h}
	go srv.Serve(ln)
	defer srv.Close()
	// Each client keeps one connection and speaks plain HTTP/1.1 over it:
	// the load generator shares the two cores with the server, so it stays
	// as light as wrk (no transport goroutines, no XML decoder).
	auth := "Basic " + base64.StdEncoding.EncodeToString([]byte("sber:pw"))
	var next, failed atomic.Int64
	lat := make([][]time.Duration, clients)
	var wg sync.WaitGroup
	start := time.Now()
	for w := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			conn, err := net.Dial("tcp", ln.Addr().String())
			if err != nil {
				failed.Add(int64(n))
				return
			}
			defer conn.Close()
			br, bw := bufio.NewReader(conn), bufio.NewWriter(conn)
			for {
				i := next.Add(1)
				if i > int64(n) {
					return
				}
				t0 := time.Now()
				fmt.Fprintf(bw, "GET /pay/osmp?command=pay&txn_id=%d&txn_date=20261201120000&account=%s&sum=100.00 HTTP/1.1\r\nHost: bench\r\nAuthorization: %s\r\n\r\n",
					1000000+i, contracts[int(i)%accounts], auth)
				if err := bw.Flush(); err != nil {
					failed.Add(1)
					return
				}
				resp, err := http.ReadResponse(br, nil)
				if err != nil {
					failed.Add(1)
					return
				}
				body, err := io.ReadAll(resp.Body)
				resp.Body.Close()
				lat[w] = append(lat[w], time.Since(t0))
				if err != nil || resp.StatusCode != http.StatusOK || !bytes.Contains(body, []byte("<result>0</result>")) {
					failed.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	var all []time.Duration
	for _, l := range lat {
		all = append(all, l...)
	}
	slices.Sort(all)
	pct := func(p float64) time.Duration { return all[int(float64(len(all)-1)*p)] }
	fmt.Printf("OSMP pay, SQLite (WAL, synchronous=FULL), %d clients, %d unique txn_ids, %d accounts, bonus %d bp\n", clients, n, accounts, bonusBP)
	fmt.Printf("  %.0f payments/s  (%d in %s, %d failed)\n", float64(n)/elapsed.Seconds(), n, elapsed.Round(time.Millisecond), failed.Load())
	fmt.Printf("  latency p50 %s  p90 %s  p99 %s  max %s\n", pct(0.5).Round(time.Microsecond), pct(0.9).Round(time.Microsecond), pct(0.99).Round(time.Microsecond), all[len(all)-1].Round(time.Microsecond))

	var paid int64
	if err := db.QueryRow(ctx, `SELECT COUNT(*) FROM payments`).Scan(&paid); err != nil {
		return err
	}
	problems, err := ledger.Verify(ctx, db)
	if err != nil {
		return err
	}
	fmt.Printf("  check: %d payments recorded, %d ledger problems\n", paid, len(problems))
	if paid != int64(n)-failed.Load() || len(problems) > 0 || failed.Load() > 0 {
		return fmt.Errorf("the books do not add up")
	}
	return nil
}
