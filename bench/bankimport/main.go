// Command bankimport measures importing a 1C bank statement of company
// clients' transfers: n payment orders from orgs organisations (matched by
// INN, a tenth naming no one and left to sort), then the same file again
// (every line already imported).
//
//	go run ./bench/bankimport -n 50000                 # SQLite
//	go run ./bench/bankimport -n 50000 -pg postgres://postgres@127.0.0.1:5432/test
package main

import (
	"bytes"
	"context"
	"database/sql"
	"flag"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib"

	"github.com/kabinet-billing/kabinet/internal/billing"
	"github.com/kabinet-billing/kabinet/internal/clock"
	"github.com/kabinet-billing/kabinet/internal/company"
	"github.com/kabinet-billing/kabinet/internal/config"
	"github.com/kabinet-billing/kabinet/internal/ledger"
	"github.com/kabinet-billing/kabinet/internal/money"
	"github.com/kabinet-billing/kabinet/internal/operator"
	"github.com/kabinet-billing/kabinet/internal/store"
)

const ours = "40702810938000000001"

func main() {
	config.SetGC()
	n := flag.Int("n", 50000, "payment orders in the statement")
	orgs := flag.Int("orgs", 2000, "organisations")
	pg := flag.String("pg", "", "PostgreSQL DSN (a database to fill: its public schema is dropped)")
	dir := flag.String("dir", os.TempDir(), "directory for the SQLite file")
	flag.Parse()
	ctx := context.Background()
	zone := billing.DefaultRules().Zone
	now := time.Date(2027, 1, 20, 12, 0, 0, 0, zone)

	dsn := "sqlite:" + filepath.Join(*dir, "bench-bankimport.db")
	if *pg != "" {
		dsn = *pg
		reset(*pg)
	} else {
		for _, s := range []string{"", "-wal", "-shm"} {
			os.Remove(filepath.Join(*dir, "bench-bankimport.db"+s))
		}
	}
	db, err := store.Open(ctx, dsn)
	check(err)
	defer db.Close()
	_, err = db.Migrate(ctx)
	check(err)
	clk := clock.NewFake(now)
	svc := company.New(db, clk, billing.New(db, clk, billing.DefaultRules()), nil)
	cli := operator.Actor{Login: "bench"}

	t0 := time.Now()
	inns := make([]string, *orgs)
	for i := range inns {
		inns[i] = inn10(100000000 + i)
		_, err := svc.Create(ctx, cli, company.Details{FullName: "ООО «Организация " + strconv.Itoa(i) + "»", INN: inns[i], KPP: "695001001"})
		check(err)
	}
	fmt.Printf("%s: %d organisations in %.1fs\n", db.Dialect, *orgs, time.Since(t0).Seconds())

	docs := make([]company.BankDocument, *n)
	for i := range docs {
		d := company.BankDocument{Number: strconv.Itoa(i + 1), Date: "2027-01-19", Amount: money.Amount(100000 + i%5000*100),
			PayerAccount: fmt.Sprintf("40702810%012d", i%*orgs), PayerBIK: "044525225", RecipientAccount: ours, Received: "2027-01-19",
			Purpose: "Оплата услуг связи по счёту № СЧ-2027-" + fmt.Sprintf("%06d", i) + " за январь 2027 г. В т.ч. НДС 22%"}
		if i%10 == 9 {
			d.PayerName, d.PayerAccount = "Иванов Иван Иванович", fmt.Sprintf("40817810%012d", i)
		} else {
			d.PayerINN, d.PayerKPP, d.PayerName = inns[i%*orgs], "695001001", "ООО «Организация "+strconv.Itoa(i%*orgs)+"»"
		}
		docs[i] = d
	}
	var file bytes.Buffer
	check(company.Write1C(&file, ours, now.AddDate(0, 0, -1), now, docs))
	fmt.Printf("statement: %d payment orders, %.1f MB in CP1251\n", *n, float64(file.Len())/(1<<20))

	var ms runtime.MemStats
	t0 = time.Now()
	rep, err := svc.ImportStatement(ctx, cli, "bench.txt", bytes.NewReader(file.Bytes()), nil)
	check(err)
	took := time.Since(t0)
	runtime.ReadMemStats(&ms)
	fmt.Printf("import: %.1fs (%.0f payments/s): credited %d (%s), to sort %d, heap in use %d MB\n",
		took.Seconds(), float64(*n)/took.Seconds(), rep.Credited, rep.CreditedAmount.Decimal(), rep.Unsorted, ms.HeapInuse>>20)
	t0 = time.Now()
	again, err := svc.ImportStatement(ctx, cli, "bench.txt", bytes.NewReader(file.Bytes()), nil)
	check(err)
	fmt.Printf("the same file again: %.1fs: credited %d, already imported %d\n", time.Since(t0).Seconds(), again.Credited, again.Duplicates)
	probs, err := ledger.Verify(ctx, db)
	check(err)
	fmt.Printf("ledger verify: %d problems\n", len(probs))
}

// inn10 makes a valid 10-digit INN from a 9-digit base.
func inn10(base int) string {
	s := strconv.Itoa(base)
	w := []int{2, 4, 10, 3, 5, 9, 4, 6, 8}
	sum := 0
	for i, k := range w {
		sum += int(s[i]-'0') * k
	}
	return s + strconv.Itoa(sum%11%10)
}

func reset(dsn string) {
	db, err := sql.Open("pgx", dsn)
	check(err)
	defer db.Close()
	_, err = db.Exec(`DROP SCHEMA public CASCADE; CREATE SCHEMA public`)
	check(err)
}

func check(err error) {
	if err != nil {
		log.Fatal(err)
	}
}
