// Command billing measures `billing run` for many subscribers against the
// plain set-based SQL that writes the same rows, in the same run.
//
//	go run ./bench/billing -n 1000000                 # SQLite
//	go run ./bench/billing -n 1000000 -pg postgres://postgres@127.0.0.1:5432/test
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"time"

	"github.com/kabinet-billing/kabinet/internal/billing"
	"github.com/kabinet-billing/kabinet/internal/clock"
	"github.com/kabinet-billing/kabinet/internal/config"
	"github.com/kabinet-billing/kabinet/internal/ledger"
	"github.com/kabinet-billing/kabinet/internal/money"
	"github.com/kabinet-billing/kabinet/internal/store"
)

func main() {
	config.SetGC() // as every kabinet command runs
	n := flag.Int("n", 100000, "subscribers")
	pg := flag.String("pg", "", "PostgreSQL DSN (a database to fill: its public schema tables are dropped)")
	dir := flag.String("dir", os.TempDir(), "directory for the SQLite files")
	flag.Parse()
	ctx := context.Background()
	zone := billing.DefaultRules().Zone
	created := time.Date(2026, 12, 10, 0, 0, 0, 0, zone)
	at := time.Date(2027, 1, 1, 0, 5, 0, 0, zone)

	open := func(name string) *store.DB {
		dsn := "sqlite:" + filepath.Join(*dir, name+".db")
		if *pg != "" {
			dsn = *pg
			reset(ctx, dsn)
		} else {
			for _, suffix := range []string{"", "-wal", "-shm"} {
				os.Remove(filepath.Join(*dir, name+".db"+suffix))
			}
		}
		db, err := store.Open(ctx, dsn)
		check(err)
		_, err = db.Migrate(ctx)
		check(err)
		return db
	}

	// Kabinet's own run.
	db := open("bench-kabinet")
	t0 := time.Now()
	load(ctx, db, *n, created)
	fmt.Printf("%s: loaded %d subscribers in %.1fs\n", db.Dialect, *n, time.Since(t0).Seconds())
	b := billing.New(db, clock.NewFake(at), billing.DefaultRules())
	t0 = time.Now()
	res, err := b.Run(ctx, at, nil)
	check(err)
	kabinet := time.Since(t0)
	fmt.Printf("%s: kabinet billing run: %d charges, %s in %.2fs\n", db.Dialect, res.Charges, res.Total.Decimal(), kabinet.Seconds())
	problems, err := ledger.Verify(ctx, db)
	check(err)
	fmt.Printf("%s: ledger verify: %d problems\n", db.Dialect, len(problems))
	db.Close()

	// The yardstick: one transaction of plain set-based SQL, same rows.
	db = open("bench-plain")
	load(ctx, db, *n, created)
	t0 = time.Now()
	plain(ctx, db, at)
	yard := time.Since(t0)
	var txns int64
	db.QueryRow(ctx, `SELECT COUNT(*) FROM ledger_txns WHERE period = '2027-01'`).Scan(&txns)
	fmt.Printf("%s: plain set-based SQL: %d charges in %.2fs\n", db.Dialect, txns, yard.Seconds())
	fmt.Printf("%s: ratio %.2fx\n", db.Dialect, kabinet.Seconds()/yard.Seconds())
	db.Close()
}

func check(err error) {
	if err != nil {
		log.Fatal(err)
	}
}

func reset(ctx context.Context, dsn string) {
	db, err := store.Open(ctx, dsn)
	check(err)
	defer db.Close()
	_, err = db.Writer().ExecContext(ctx, "DROP SCHEMA public CASCADE; CREATE SCHEMA public")
	check(err)
}

// load fills the catalogue and n accounts with one set-based statement each,
// as a bulk migration from another billing would.
func load(ctx context.Context, db *store.DB, n int, created time.Time) {
	check(db.Write(ctx, func(tx *store.Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO tariffs (code, name, fee, down_kbps, up_kbps, public, archived, prorate, created_at) VALUES ('home', 'Home', ?, 100000, 100000, ?, ?, ?, ?)`,
			int64(money.Rub(600)), true, false, true, created.UTC()); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO packages (code, kind, name, price, pricing, created_at) VALUES ('tv', 'tv', 'TV', ?, 'monthly', ?)`, int64(money.Rub(199)), created.UTC()); err != nil {
			return err
		}
		series := fmt.Sprintf(`WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < %d)`, n)
		if _, err := tx.Exec(ctx, series+` INSERT INTO ledger_accounts (code, kind, balance) SELECT 'subscriber:u' || i, 'subscriber', 0 FROM s`); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO accounts (login, contract_no, contract_date, password_hash, password_enc, tariff_id, status, ledger_id, created_at, updated_at)
			SELECT substr(code, 12), 'C-' || id, '2026-12-10', 'x', 'x', (SELECT id FROM tariffs WHERE code = 'home'), 'active', id, ?::timestamptz, ?::timestamptz
			FROM ledger_accounts WHERE kind = 'subscriber'`, created.UTC(), created.UTC()); err != nil {
			return err
		}
		// December was billed by the system this base came from.
		if _, err := tx.Exec(ctx, `INSERT INTO billing_runs (at, period, started_at, finished_at) VALUES (?, '2026-12', ?, ?)`, created.UTC(), created.UTC(), created.UTC()); err != nil {
			return err
		}
		// Every tenth subscriber has TV.
		_, err := tx.Exec(ctx, `INSERT INTO subscriptions (account_id, package_id, started_at) SELECT id, (SELECT id FROM packages WHERE code = 'tv'), created_at FROM accounts WHERE id % 10 = 0`)
		return err
	}))
	if db.Dialect == store.Postgres {
		_, err := db.Writer().ExecContext(ctx, "ANALYZE")
		check(err)
	}
}

// plain writes the January charges, their postings and balances with the
// least SQL that does it: no chunks, no keys checked, no debt or limits.
func plain(ctx context.Context, db *store.DB, at time.Time) {
	start := billing.PeriodOf(at, billing.DefaultRules().Zone).Start.UTC()
	check(db.Write(ctx, func(tx *store.Tx) error {
		rev, err := ledger.Account(ctx, tx, "revenue:tariff", ledger.KindRevenue)
		if err != nil {
			return err
		}
		revTV, err := ledger.Account(ctx, tx, "revenue:tv", ledger.KindRevenue)
		if err != nil {
			return err
		}
		stmts := []struct {
			q    string
			args []any
		}{
			{`INSERT INTO ledger_txns (key, kind, account_id, amount, service, period, effective_at, created_at, batch)
				SELECT 'fee:' || a.id || ':tariff:2027-01', 'charge', a.id, -t.fee, t.code, '2027-01', ?::timestamptz, ?::timestamptz, 1
				FROM accounts a JOIN tariffs t ON t.id = a.tariff_id`, []any{start, start}},
			{`INSERT INTO ledger_txns (key, kind, account_id, amount, service, period, effective_at, created_at, batch)
				SELECT 'fee:' || s.account_id || ':pkg:' || s.id || ':2027-01', 'charge', s.account_id, -k.price, k.code, '2027-01', ?::timestamptz, ?::timestamptz, 2
				FROM subscriptions s JOIN packages k ON k.id = s.package_id`, []any{start, start}},
			{`INSERT INTO postings (txn_id, ledger_account_id, amount) SELECT t.id, a.ledger_id, t.amount FROM ledger_txns t JOIN accounts a ON a.id = t.account_id WHERE t.batch IN (1, 2)`, nil},
			{`INSERT INTO postings (txn_id, ledger_account_id, amount) SELECT t.id, ?::bigint, -t.amount FROM ledger_txns t WHERE t.batch = 1`, []any{rev}},
			{`INSERT INTO postings (txn_id, ledger_account_id, amount) SELECT t.id, ?::bigint, -t.amount FROM ledger_txns t WHERE t.batch = 2`, []any{revTV}},
			{`UPDATE ledger_accounts SET balance = ledger_accounts.balance + d.s FROM (SELECT p.ledger_account_id AS lid, SUM(p.amount) AS s FROM postings p GROUP BY p.ledger_account_id) AS d WHERE ledger_accounts.id = d.lid`, nil},
		}
		for _, s := range stmts {
			if _, err := tx.Exec(ctx, s.q, s.args...); err != nil {
				return fmt.Errorf("%s: %w", s.q[:40], err)
			}
		}
		return nil
	}))
}
