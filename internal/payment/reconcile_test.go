package payment

import (
	"context"
	"errors"
	"fmt"
	"github.com/kabinet-billing/kabinet/internal/store"
	"github.com/kabinet-billing/kabinet/internal/store/storetest"
	"strings"
	"testing"
	"time"
)

func TestImportRegistry(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		svc, _ := testServiceOn(t, db)
		a := addAccount(t, db, "100045", "active")
		b := addAccount(t, db, "100046", "active")
		h, _ := NewOSMPHandler(testOSMPChannels(), svc, nil)
		// Online during the day (bank time is Moscow; the test channel reads UTC).
		osmpGet(t, h, "command=pay&txn_id=1001&txn_date=20261201100000&account=100045&sum=500.00") // listed, same
		osmpGet(t, h, "command=pay&txn_id=1002&txn_date=20261201110000&account=100046&sum=100.00") // listed with another sum
		osmpGet(t, h, "command=pay&txn_id=1009&txn_date=20261201120000&account=100046&sum=7.00")   // not listed
		osmpGet(t, h, "command=pay&txn_id=2000&txn_date=20261202120000&account=100046&sum=9.00")   // another day: not reported

		// The bank writes 1001 with leading zeros here: the same number.
		registry := `txn_id;date;account;sum
	001001;01.12.2026 10:00:00;100045;500,00
	1002;01.12.2026 11:00:00;100046;150,00
	1003;01.12.2026 12:00:00;100046;250,00
	1004;01.12.2026 13:00:00;999999;10,00
	=4;910,00
	`
		var lastDone, lastTotal int
		rep, err := svc.ImportRegistryFile(ctx, "sberbank", strings.NewReader(registry), DefaultRegistryLayout, time.UTC, func(done, total int) { lastDone, lastTotal = done, total })
		if err != nil {
			t.Fatal(err)
		}
		if rep.Matched != 1 || len(rep.Credited) != 1 || rep.Credited[0].TxnID != "1003" || len(rep.Mismatches) != 2 || lastDone != 4 || lastTotal != 4 {
			t.Errorf("report %+v", rep)
		}
		if len(rep.Unlisted) != 1 || rep.Unlisted[0].ExternalID != "1009" {
			t.Errorf("unlisted %+v", rep.Unlisted)
		}
		if got := balance(t, db, b); got != 10000+700+900+25000 {
			t.Errorf("balance b %s", got)
		}
		// Running it again credits nothing more.
		rep, err = svc.ImportRegistryFile(ctx, "sberbank", strings.NewReader(registry), DefaultRegistryLayout, time.UTC, nil)
		if err != nil || rep.Matched != 2 || len(rep.Credited) != 0 {
			t.Errorf("second import %+v %v", rep, err)
		}
		// The bank's late online pay of a line the registry already credited.
		if x := osmpGet(t, h, "command=pay&txn_id=1003&txn_date=20261201120000&account=100046&sum=250.00"); x.Result != 0 {
			t.Errorf("late online pay: %d", x.Result)
		}
		if got := balance(t, db, a); got != 50000 {
			t.Errorf("balance a %s", got)
		}
		if got := balance(t, db, b); got != 10000+700+900+25000 {
			t.Errorf("balance b after the repeats %s", got)
		}
		// A registry whose totals are off credits nothing.
		bad := strings.Replace(registry, "=4;910,00", "=4;900,00", 1)
		bad = strings.Replace(bad, "1003;", "1005;", 1)
		if _, err := svc.ImportRegistryFile(ctx, "sberbank", strings.NewReader(bad), DefaultRegistryLayout, time.UTC, nil); !errors.Is(err, ErrRegistryTotals) {
			t.Errorf("bad totals: %v", err)
		}
		var n int
		db.QueryRow(ctx, `SELECT COUNT(*) FROM payments WHERE external_id = '1005'`).Scan(&n)
		if n != 0 {
			t.Error("a line of a refused registry was credited")
		}
		verifyBooks(t, db)
	})
}

// TestImportLargeRegistry crosses chunk boundaries: 450 lines, 50 of them
// already paid online, one refused in the middle of a chunk.
func TestImportLargeRegistry(t *testing.T) {
	ctx := context.Background()
	svc, db, _ := testService(t)
	acct := addAccount(t, db, "100045", "active")
	h, _ := NewOSMPHandler(testOSMPChannels(), svc, nil)
	var b strings.Builder
	var total int64
	for i := range 450 {
		account := "100045"
		if i == 334 {
			account = "nobody"
		}
		fmt.Fprintf(&b, "%d;01.12.2026 10:00:00;%s;1,%02d\n", 5000+i, account, i%100)
		total += 100 + int64(i%100)
		if i%9 == 0 { // 50 lines: 0, 9, …, 441
			osmpGet(t, h, fmt.Sprintf("command=pay&txn_id=%d&txn_date=20261201100000&account=100045&sum=1.%02d", 5000+i, i%100))
		}
	}
	fmt.Fprintf(&b, "=450;%d,%02d\n", total/100, total%100)
	rep, err := svc.ImportRegistryFile(ctx, "sberbank", strings.NewReader(b.String()), DefaultRegistryLayout, time.UTC, nil)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Matched != 50 || len(rep.Credited) != 399 || len(rep.Mismatches) != 1 || rep.Mismatches[0].Line.TxnID != "5334" {
		t.Fatalf("matched %d, credited %d, mismatches %+v", rep.Matched, len(rep.Credited), rep.Mismatches)
	}
	if got := balance(t, db, acct); int64(got) != total-134 {
		t.Errorf("balance %s, want %d", got, total-134)
	}
	verifyBooks(t, db)
}
