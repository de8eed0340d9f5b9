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
	flag.Parse()
	ctx := context.Background()
	if *child != "" {
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
	cmd := exec.Command(self, "-child", dsn, "-target", tdsn)
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	t0 = time.Now()
	check(cmd.Run())
	wall := time.Since(t0)
	ru := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	engine := "sqlite"
	if *pg != "" {
		engine = "postgres"
	}
	fmt.Printf("%s: imported %d subscribers and %d payments in %.1fs (user %.1fs, system %.1fs), peak memory %d MB\n",
		engine, *n, *n**per, wall.Seconds(), time.Duration(ru.Utime.Nano()).Seconds(), time.Duration(ru.Stime.Nano()).Seconds(), ru.Maxrss/1024)

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

func check(err error) {
	if err != nil {
		log.Fatal(strings.ReplaceAll(err.Error(), "\n", "; "))
	}
}
