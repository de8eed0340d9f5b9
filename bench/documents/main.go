// Command documents measures the monthly documents run: an invoice and an
// act, each with its PDF, for every organisation of a provider with many
// company clients (the aim: 10,000 in under 60 s on SQLite).
//
//	go run ./bench/documents -n 10000                 # SQLite
//	go run ./bench/documents -n 10000 -pg postgres://postgres@127.0.0.1:5432/test
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"time"

	"github.com/kabinet-billing/kabinet/internal/billing"
	"github.com/kabinet-billing/kabinet/internal/clock"
	"github.com/kabinet-billing/kabinet/internal/company"
	"github.com/kabinet-billing/kabinet/internal/config"
	"github.com/kabinet-billing/kabinet/internal/contract"
	"github.com/kabinet-billing/kabinet/internal/documents"
	"github.com/kabinet-billing/kabinet/internal/money"
	"github.com/kabinet-billing/kabinet/internal/store"
	assets "github.com/kabinet-billing/kabinet/web"
)

func main() {
	config.SetGC() // as every kabinet command runs
	n := flag.Int("n", 10000, "organisations (one connection point each; every fifth has two)")
	pg := flag.String("pg", "", "PostgreSQL DSN (a database to fill: its public schema tables are dropped)")
	dir := flag.String("dir", os.TempDir(), "directory for the SQLite file")
	cpuprofile := flag.String("cpuprofile", "", "write the documents run's CPU profile to this file")
	flag.Parse()
	ctx := context.Background()
	zone := billing.DefaultRules().Zone

	dsn := "sqlite:" + filepath.Join(*dir, "bench-documents.db")
	if *pg != "" {
		dsn = *pg
		db, err := store.Open(ctx, dsn)
		check(err)
		_, err = db.Writer().ExecContext(ctx, "DROP SCHEMA public CASCADE; CREATE SCHEMA public")
		check(err)
		db.Close()
	} else {
		for _, s := range []string{"", "-wal", "-shm"} {
			os.Remove(filepath.Join(*dir, "bench-documents.db"+s))
		}
	}
	db, err := store.Open(ctx, dsn)
	check(err)
	defer db.Close()
	_, err = db.Migrate(ctx)
	check(err)

	created := time.Date(2025, 12, 10, 0, 0, 0, 0, zone)
	t0 := time.Now()
	load(ctx, db, *n, created)
	// January is charged on the 1st by the billing run.
	clk := clock.NewFake(time.Date(2026, 1, 1, 0, 5, 0, 0, zone))
	biller := billing.New(db, clk, billing.DefaultRules())
	_, err = biller.Run(ctx, clk.Now(), nil)
	check(err)
	fmt.Printf("%s: loaded and billed January in %.1fs\n", db.Dialect, time.Since(t0).Seconds())

	// The organisations as the run reads them from internal/company.
	companies := documents.Companies{C: company.New(db, clk, biller, nil)}
	t0 = time.Now()
	orgs, err := companies.Organisations(ctx)
	check(err)
	fmt.Printf("%s: listed %d organisations with %d points in %.2fs\n", db.Dialect, len(orgs), points(orgs), time.Since(t0).Seconds())

	fonts, err := contract.LoadFonts(assets.FS)
	check(err)
	s, err := documents.New(db, clk, companies, fonts, documents.Options{Provider: config.Default().Provider.WithDemoDetails(), Zone: zone})
	check(err)

	// On 1 February: January's invoices (late: issued now) and acts.
	clk.Set(time.Date(2026, 2, 1, 9, 0, 0, 0, zone))
	var before runtime.MemStats
	runtime.ReadMemStats(&before)
	if *cpuprofile != "" {
		f, err := os.Create(*cpuprofile)
		check(err)
		check(pprof.StartCPUProfile(f))
	}
	t0 = time.Now()
	res, err := s.Run(ctx, "2026-01")
	check(err)
	took := time.Since(t0)
	pprof.StopCPUProfile()
	var after runtime.MemStats
	runtime.ReadMemStats(&after)
	var bytes, count int64
	check(db.QueryRow(ctx, `SELECT COUNT(*), COALESCE(SUM(LENGTH(pdf)), 0) FROM documents`).Scan(&count, &bytes))
	fmt.Printf("%s: documents run: %d invoices and %d acts with PDFs in %.1fs (%.2f ms a document, %d cores), %d KB of PDF a document on average\n",
		db.Dialect, res.Invoices, res.Closing, took.Seconds(), float64(took.Milliseconds())/float64(max(1, count)), runtime.GOMAXPROCS(0), bytes/max(1, count)/1024)
	fmt.Printf("%s: heap in use %d MB after the run\n", db.Dialect, after.HeapInuse>>20)

	t0 = time.Now()
	again, err := s.Run(ctx, "2026-01")
	check(err)
	fmt.Printf("%s: second run: %d issued, %d existing, in %.2fs\n", db.Dialect, again.Invoices+again.Closing, again.Existing, time.Since(t0).Seconds())
}

func points(orgs []documents.Party) int {
	n := 0
	for _, o := range orgs {
		n += len(o.Points)
	}
	return n
}

func check(err error) {
	if err != nil {
		log.Fatal(err)
	}
}

// load makes a business tariff, a static IP package, n organisations and
// their points' accounts with set-based statements, as a bulk migration
// would.
func load(ctx context.Context, db *store.DB, n int, created time.Time) {
	check(db.Write(ctx, func(tx *store.Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO tariffs (code, name, fee, down_kbps, up_kbps, public, archived, prorate, created_at) VALUES ('biz100', 'Бизнес 100', ?, 100000, 100000, ?, ?, ?, ?)`,
			int64(money.Rub(1200)), true, false, false, created.UTC()); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO packages (code, kind, name, price, pricing, created_at) VALUES ('ip', 'static_ip', 'Статический IP', ?, 'monthly', ?)`, int64(money.Rub(150)), created.UTC()); err != nil {
			return err
		}
		pts := n + n/5
		series := fmt.Sprintf(`WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < %d)`, pts)
		if _, err := tx.Exec(ctx, series+` INSERT INTO ledger_accounts (code, kind, balance) SELECT 'subscriber:org' || i, 'subscriber', 0 FROM s`); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO accounts (login, contract_no, contract_date, address, password_hash, password_enc, tariff_id, status, ledger_id, created_at, updated_at)
			SELECT substr(code, 12), 'C-' || id, '2025-12-10', 'г. Тверь, ул. Советская, д. ' || id, 'x', 'x', (SELECT id FROM tariffs WHERE code = 'biz100'), 'active', id, ?::timestamptz, ?::timestamptz
			FROM ledger_accounts WHERE kind = 'subscriber'`, created.UTC(), created.UTC()); err != nil {
			return err
		}
		// Every third point has a static IP.
		_, err := tx.Exec(ctx, `INSERT INTO subscriptions (account_id, package_id, started_at) SELECT id, (SELECT id FROM packages WHERE code = 'ip'), created_at FROM accounts WHERE id % 3 = 0`)
		if err != nil {
			return err
		}
		// The organisations, as internal/company keeps them: accounts are
		// their points in order, every fifth organisation has two.
		series = fmt.Sprintf(`WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < %d)`, n)
		if _, err := tx.Exec(ctx, series+` INSERT INTO ledger_accounts (code, kind, balance) SELECT 'company:' || i, 'company', 0 FROM s`); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, series+` INSERT INTO organisations (id, kind, full_name, short_name, search, inn, kpp, legal_address, director, contract_no, contract_date, ledger_id, created_at, updated_at)
			SELECT i, 'legal', 'Общество с ограниченной ответственностью «Клиент ' || i || '»', 'ООО «Клиент ' || i || '»', 'ооо «клиент ' || i || '»',
				'69' || substr('0000000' || i, -8, 8), '695001001', '170100, г. Тверь, ул. Новоторжская, д. 1', 'Иванов И. И.', 'Ю-' || substr('0000' || i, -5, 5), '2025-12-01',
				(SELECT id FROM ledger_accounts WHERE code = 'company:' || i), ?::timestamptz, ?::timestamptz FROM s`, created.UTC(), created.UTC()); err != nil {
			return err
		}
		rows, err := tx.Query(ctx, `SELECT id FROM accounts ORDER BY id`)
		if err != nil {
			return err
		}
		var ids []int64
		for rows.Next() {
			var id int64
			if err := rows.Scan(&id); err != nil {
				return err
			}
			ids = append(ids, id)
		}
		rows.Close()
		next := 0
		for i := range n {
			points := 1
			if i%5 == 0 {
				points = 2
			}
			for ; points > 0 && next < len(ids); points-- {
				if _, err := tx.Exec(ctx, `INSERT INTO company_points (account_id, organisation_id, label, added_at) VALUES (?, ?, '', ?)`, ids[next], i+1, created.UTC()); err != nil {
					return err
				}
				next++
			}
		}
		return rows.Err()
	}))
	if db.Dialect == store.Postgres {
		_, err := db.Writer().ExecContext(ctx, "ANALYZE")
		check(err)
	}
}
