// Command import measures `kabinet import ubilling`: it generates an
// Ubilling database in the local MariaDB (subscribers with payment
// histories), then imports it into a fresh SQLite file or PostgreSQL schema
// in a child process, and reports the wall time and the child's peak
// memory (its maximum resident set).
//
//	go run ./bench/import -n 100000 -payments 20                  # SQLite
//	go run ./bench/import -n 100000 -payments 20 -keep -pg postgres://postgres@127.0.0.1:5432/test
//
// -keep reuses the generated source database when it has the same size.
// -cpuprofile writes the import's CPU profile. The machine's load and the
// CPU time the import and the MariaDB server spent are printed beside the
// wall time: on a shared machine the wall time says more about the others.
package main

import (
	"context"
	"database/sql"
	"flag"
	"fmt"
	"log"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/pprof"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/go-sql-driver/mysql"

	"github.com/kabinet-billing/kabinet/internal/billing"
	"github.com/kabinet-billing/kabinet/internal/clock"
	"github.com/kabinet-billing/kabinet/internal/config"
	"github.com/kabinet-billing/kabinet/internal/importer"
	"github.com/kabinet-billing/kabinet/internal/importer/importtest"
	"github.com/kabinet-billing/kabinet/internal/ledger"
	"github.com/kabinet-billing/kabinet/internal/store"
	"github.com/kabinet-billing/kabinet/internal/subscriber"
)

func main() {
	config.SetGC() // as every kabinet command runs
	n := flag.Int("n", 1000, "subscribers")
	per := flag.Int("payments", 20, "payments per subscriber")
	pg := flag.String("pg", "", "PostgreSQL DSN to import into (its public schema is dropped first); SQLite in -dir otherwise")
	dir := flag.String("dir", os.TempDir(), "directory for the SQLite file")
	keep := flag.Bool("keep", false, "reuse the generated source database when it already has n subscribers")
	name := flag.String("source", "kbench_ubilling", "name of the generated MariaDB database")
	child := flag.String("child", "", "internal: import from this DSN into -target")
	target := flag.String("target", "", "internal: the Kabinet database DSN")
	only := flag.Bool("generate-only", false, "make the source database and stop (then import it with -keep)")
	cpuprofile := flag.String("cpuprofile", "", "write the import's CPU profile to this file")
	flag.Parse()
	ctx := context.Background()
	if *child != "" {
		if *cpuprofile != "" {
			f, err := os.Create(*cpuprofile)
			check(err)
			check(pprof.StartCPUProfile(f))
			stopProfile = pprof.StopCPUProfile
			defer pprof.StopCPUProfile()
		}
		runImport(ctx, *child, *target)
		return
	}

	dsn := fmt.Sprintf("mysql://root@%s/%s", importtest.MariaAddr, *name)
	t0 := time.Now()
	if generate(ctx, *name, *n, *per, *keep) {
		fmt.Printf("source: generated %d subscribers with %d payments in %.1fs\n", *n, *n**per, time.Since(t0).Seconds())
	} else {
		fmt.Printf("source: reusing %s\n", *name)
	}
	if *only {
		return
	}

	tdsn := *pg
	if tdsn != "" {
		db, err := store.Open(ctx, tdsn)
		check(err)
		_, err = db.Writer().ExecContext(ctx, "DROP SCHEMA public CASCADE; CREATE SCHEMA public")
		check(err)
		db.Close()
	} else {
		path := filepath.Join(*dir, "bench-import.db")
		for _, suffix := range []string{"", "-wal", "-shm"} {
			os.Remove(path + suffix)
		}
		tdsn = "sqlite:" + path
	}
	db, err := store.Open(ctx, tdsn)
	check(err)
	_, err = db.Migrate(ctx)
	check(err)
	db.Close()

	self, err := os.Executable()
	check(err)
	cmd := exec.Command(self, "-child", dsn, "-target", tdsn, "-cpuprofile", *cpuprofile)
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	load0, maria0 := loadavg(), cpuOf("mariadbd", "mysqld")
	pgCPU := func() time.Duration { return 0 }
	if *pg != "" {
		pgCPU = sampleCPU("postgres") // its backends end with their connections: sampled while they live
	}
	t0 = time.Now()
	check(cmd.Run())
	wall := time.Since(t0)
	load1, maria1, pgUsed := loadavg(), cpuOf("mariadbd", "mysqld"), pgCPU()
	ru := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	engine := "sqlite"
	if *pg != "" {
		engine = "postgres"
	}
	rows := *n + *n**per
	fmt.Printf("%s: imported %d subscribers and %d payments in %.1fs (%.0f rows/s; user %.1fs, system %.1fs), peak memory %d MB\n",
		engine, *n, *n**per, wall.Seconds(), float64(rows)/wall.Seconds(), time.Duration(ru.Utime.Nano()).Seconds(), time.Duration(ru.Stime.Nano()).Seconds(), ru.Maxrss/1024)
	fmt.Printf("%s: load average %s before, %s after; CPU of the MariaDB server %.1fs, of PostgreSQL's processes %.1fs (with all their other clients')\n",
		engine, load0, load1, (maria1 - maria0).Seconds(), pgUsed.Seconds())

	db, err = store.Open(ctx, tdsn)
	check(err)
	defer db.Close()
	t0 = time.Now()
	problems, err := ledger.Verify(ctx, db)
	check(err)
	fmt.Printf("%s: ledger verify: %d problems (%.1fs)\n", engine, len(problems), time.Since(t0).Seconds())
}

// runImport is the measured part, alone in its process.
func runImport(ctx context.Context, src, target string) {
	db, err := store.Open(ctx, target)
	check(err)
	defer db.Close()
	check(db.SetWriterCache(ctx, 8192)) // as kabinet import does
	rules := billing.DefaultRules()
	at := time.Date(2026, 12, 10, 3, 0, 0, 0, rules.Zone)
	sealer, err := subscriber.NewSealer(make([]byte, 32))
	check(err)
	s, err := importer.OpenUbilling(ctx, src, rules.Zone)
	check(err)
	defer s.Close()
	start, last := time.Now(), ""
	progress := func(kind string, n int64) {
		if kind != last {
			fmt.Printf("  %5.1fs %s\n", time.Since(start).Seconds(), kind)
			last = kind
		}
	}
	rep, err := importer.Run(ctx, db, s, importer.Options{At: at, Sealer: sealer, Biller: billing.New(db, clock.NewFake(at), rules), Progress: progress})
	fmt.Printf("  %5.1fs committed\n", time.Since(start).Seconds())
	if err != nil {
		rep.Print(os.Stderr)
	}
	check(err)
	fmt.Printf("report: tariffs %d, subscribers %d, payments %d, problems %d\n", rep.Tariffs.New, rep.Subscribers.New, rep.Payments.New, rep.ProblemCount)
}

// generate makes the source database unless -keep finds it made; it tells
// whether it generated.
func generate(ctx context.Context, name string, n, per int, keep bool) bool {
	root := mariaDB("")
	defer root.Close()
	if keep {
		var users, payments int
		if err := root.QueryRowContext(ctx, fmt.Sprintf("SELECT (SELECT COUNT(*) FROM %s.users), (SELECT COUNT(*) FROM %s.payments)", name, name)).Scan(&users, &payments); err == nil && users == n && payments == n*per {
			return false
		}
	}
	_, err := root.ExecContext(ctx, "DROP DATABASE IF EXISTS "+name)
	check(err)
	_, err = root.ExecContext(ctx, "CREATE DATABASE "+name+" CHARACTER SET utf8mb4")
	check(err)
	db := mariaDB(name)
	defer db.Close()
	db.SetMaxOpenConns(1)
	check(importtest.LoadSchema(db, "ubilling/stargazer.sql", "ubilling/ubilling.sql"))
	_, err = db.ExecContext(ctx, "SET SESSION sql_mode = ''")
	check(err)
	check(importtest.FillUbilling(ctx, db, n, per))
	return true
}

func mariaDB(name string) *sql.DB {
	c := mysql.NewConfig()
	c.Net, c.Addr, c.User, c.DBName = "tcp", importtest.MariaAddr, "root", name
	c.MultiStatements = true
	c.Apply(mysql.Charset("utf8mb4", ""))
	conn, err := mysql.NewConnector(c)
	check(err)
	return sql.OpenDB(conn)
}

// loadavg is the machine's 1, 5 and 15 minute load averages.
func loadavg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	f := strings.Fields(string(b))
	return strings.Join(f[:min(3, len(f))], " ")
}

// sampleCPU samples, every two seconds until stopped, the CPU time of the
// processes of the given name, each from when it was first seen (or
// started), and returns the stop, which tells their sum.
func sampleCPU(name string) func() time.Duration {
	first, last := map[int]int64{}, map[int]int64{}
	for pid, t := range cpuTicks(name) {
		first[pid] = t
	}
	stop := make(chan struct{})
	done := make(chan time.Duration)
	go func() {
		tick := time.NewTicker(2 * time.Second)
		defer tick.Stop()
		for {
			for pid, t := range cpuTicks(name) {
				last[pid] = t
			}
			select {
			case <-stop:
				var sum int64
				for pid, t := range last {
					sum += t - first[pid]
				}
				done <- time.Duration(sum) * time.Second / 100
				return
			case <-tick.C:
			}
		}
	}()
	return func() time.Duration { close(stop); return <-done }
}

// cpuOf is the CPU time (user and system) spent so far by the processes of
// the given names.
func cpuOf(names ...string) time.Duration {
	var ticks int64
	for _, n := range names {
		for _, t := range cpuTicks(n) {
			ticks += t
		}
	}
	return time.Duration(ticks) * time.Second / 100 // USER_HZ is 100 on Linux
}

// cpuTicks is the CPU time (user and system, in clock ticks) of each
// process of the given name.
func cpuTicks(name string) map[int]int64 {
	out := map[int]int64{}
	procs, _ := filepath.Glob("/proc/[0-9]*/stat")
	for _, p := range procs {
		b, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		s := string(b)
		open, end := strings.IndexByte(s, '('), strings.LastIndexByte(s, ')')
		if open < 0 || end < open {
			continue
		}
		if s[open+1:end] != name {
			continue
		}
		// After the name: state is field 3; utime and stime are 14 and 15.
		f := strings.Fields(s[end+1:])
		if len(f) < 13 {
			continue
		}
		pid, _ := strconv.Atoi(filepath.Base(filepath.Dir(p)))
		u, _ := strconv.ParseInt(f[11], 10, 64)
		st, _ := strconv.ParseInt(f[12], 10, 64)
		out[pid] = u + st
	}
	return out
}

// stopProfile ends the CPU profile before a failure exits.
var stopProfile = func() {}

func check(err error) {
	if err != nil {
		stopProfile()
		log.Fatal(strings.ReplaceAll(err.Error(), "\n", "; "))
	}
}
