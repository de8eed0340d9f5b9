package statement_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kabinet-billing/kabinet/internal/billing"
	"github.com/kabinet-billing/kabinet/internal/clock"
	"github.com/kabinet-billing/kabinet/internal/config"
	"github.com/kabinet-billing/kabinet/internal/contract"
	"github.com/kabinet-billing/kabinet/internal/ledger"
	"github.com/kabinet-billing/kabinet/internal/money"
	"github.com/kabinet-billing/kabinet/internal/statement"
	"github.com/kabinet-billing/kabinet/internal/store"
	"github.com/kabinet-billing/kabinet/internal/store/storetest"
	"github.com/kabinet-billing/kabinet/internal/subscriber"
	assets "github.com/kabinet-billing/kabinet/web"
)

// words translates an id to itself; the channels it knows are "cash".
type words struct{}

func (words) T(lang, id string, _ map[string]any) string { return lang + ":" + id }
func (words) Has(id string) bool                         { return id == "channel.cash" }

// tenYears makes an account with ten years of history: a charge every day
// and a payment every month, 2026 to 2035.
func tenYears(t testing.TB, db *store.DB) (*statement.Service, subscriber.Account, *time.Location, int) {
	t.Helper()
	ctx := context.Background()
	msk, _ := time.LoadLocation("Europe/Moscow")
	clk := clock.NewFake(time.Date(2036, 1, 15, 9, 0, 0, 0, time.UTC))
	b := billing.New(db, clk, billing.DefaultRules())
	if _, err := billing.AddTariff(ctx, db, billing.Tariff{Code: "home", Name: "Дом 100", NameEn: "Home 100", Fee: money.Rub(300), DownKbps: 100000, UpKbps: 100000, Public: true}, clk.Now()); err != nil {
		t.Fatal(err)
	}
	sealer, _ := subscriber.NewSealer(make([]byte, 32))
	dir := subscriber.New(db, clk, sealer, b)
	a, err := dir.Create(ctx, subscriber.NewAccount{Login: "old", Password: "secret-pass", Tariff: "home", Name: "Старожил", CreatedAt: time.Date(2025, 12, 31, 9, 0, 0, 0, time.UTC)})
	if err != nil {
		t.Fatal(err)
	}
	var txns []ledger.Txn
	err = db.Write(ctx, func(tx *store.Tx) error {
		cash, err := ledger.Account(ctx, tx, ledger.CashCode("cash"), ledger.KindCash)
		if err != nil {
			return err
		}
		rev, err := ledger.Account(ctx, tx, ledger.RevenueCode("tariff"), ledger.KindRevenue)
		if err != nil {
			return err
		}
		for d := time.Date(2026, 1, 1, 0, 0, 0, 0, msk); d.Year() < 2036; d = d.AddDate(0, 0, 1) {
			if d.Day() == 1 {
				txns = append(txns, ledger.Txn{Key: "pay:" + d.Format(time.DateOnly), Kind: ledger.TxnPayment, AccountID: a.ID, Amount: money.Rub(310),
					Service: "cash", EffectiveAt: d.Add(time.Hour),
					Postings: []ledger.Posting{{LedgerAccountID: a.LedgerID, Amount: money.Rub(310)}, {LedgerAccountID: cash, Amount: -money.Rub(310)}}})
			}
			txns = append(txns, ledger.Txn{Key: "day:" + d.Format(time.DateOnly), Kind: ledger.TxnCharge, AccountID: a.ID, Amount: -money.Rub(10),
				Service: "home", Period: d.Format("2006-01"), EffectiveAt: d,
				Postings: []ledger.Posting{{LedgerAccountID: a.LedgerID, Amount: -money.Rub(10)}, {LedgerAccountID: rev, Amount: money.Rub(10)}}})
		}
		_, _, err = ledger.PostMany(ctx, tx, txns, clk.Now())
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	fonts, err := contract.LoadFonts(assets.FS)
	if err != nil {
		t.Fatal(err)
	}
	return statement.New(db, clk, msk, config.Default().Provider, fonts, words{}), a, msk, len(txns)
}

// A statement read page by page is the statement read whole, with the same
// running balances, oldest first; the balance history is the same newest
// first, and ends at the account's balance.
func TestPagesOfLongHistory(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		svc, a, msk, posted := tenYears(t, db)
		p := statement.Period{From: time.Date(2026, 1, 1, 0, 0, 0, 0, msk), To: time.Date(2035, 12, 31, 0, 0, 0, 0, msk)}
		whole, err := svc.For(ctx, "ru", a, p, ledger.Page{})
		if err != nil {
			t.Fatal(err)
		}
		if whole.Count != posted || len(whole.Lines) != posted {
			t.Fatalf("%d lines (count %d), want %d", len(whole.Lines), whole.Count, posted)
		}
		bal, err := ledger.Balance(ctx, db, a.LedgerID)
		if err != nil {
			t.Fatal(err)
		}
		if whole.Closing != bal || whole.Opening+whole.Credits+whole.Debits != bal {
			t.Fatalf("closing %s, opening %s, credits %s, debits %s; balance %s", whole.Closing, whole.Opening, whole.Credits, whole.Debits, bal)
		}
		for i, l := range whole.Lines {
			prev := whole.Opening
			if i > 0 {
				prev = whole.Lines[i-1].Balance
			}
			if l.Balance != prev+l.Amount {
				t.Fatalf("line %d: balance %s after %s + %s", i, l.Balance, prev, l.Amount)
			}
		}
		if l := whole.Lines[0]; l.Description != "ru:ledger.kind.charge: Дом 100 (2026-01)" {
			t.Errorf("charge reads %q", l.Description)
		}
		if l := whole.Lines[1]; l.Description != "ru:ledger.kind.payment: ru:channel.cash" {
			t.Errorf("payment reads %q", l.Description)
		}
		key := func(l statement.Line) string { return fmt.Sprint(l.TxnID, " ", l.Balance) }
		pages := func(pg ledger.Page, read func(ledger.Page) (statement.Statement, error)) []string {
			var out []string
			for {
				st, err := read(pg)
				if err != nil {
					t.Fatal(err)
				}
				for _, l := range st.Lines {
					out = append(out, key(l))
				}
				if !st.More() {
					return out
				}
				pg.Offset += pg.Limit
			}
		}
		want := make([]string, len(whole.Lines))
		for i, l := range whole.Lines {
			want[i] = key(l)
		}
		got := pages(ledger.Page{Limit: 100}, func(pg ledger.Page) (statement.Statement, error) { return svc.For(ctx, "ru", a, p, pg) })
		if !slices.Equal(got, want) {
			t.Fatalf("pages of the statement differ from the whole: %d lines, want %d", len(got), len(want))
		}
		got = pages(ledger.Page{Limit: 50}, func(pg ledger.Page) (statement.Statement, error) { return svc.History(ctx, "en", a, pg) })
		slices.Reverse(want)
		// ... and, oldest, the first month's fee charged at signing in 2025.
		if len(got) != len(want)+1 || !slices.Equal(got[:len(want)], want) {
			t.Fatalf("pages of the history differ from the statement newest first: %d lines, want %d; %q", len(got), len(want), got[len(want):])
		}
		// The last page of ten years comes as quickly as a page can.
		start := time.Now()
		st, err := svc.History(ctx, "ru", a, ledger.Page{Offset: posted - 9, Limit: 50}) // ten with the 2025 charge
		if err != nil || len(st.Lines) != 10 || st.More() {
			t.Fatalf("last page: %d lines, more %v, %v", len(st.Lines), st.More(), err)
		}
		t.Logf("%d lines; the last page of the history in %s", posted, time.Since(start))
	})
}

// The CSV has every line of the period whatever the page, and the PDF is one.
func TestFiles(t *testing.T) {
	db := storetest.SQLite(t)
	ctx := context.Background()
	svc, a, msk, _ := tenYears(t, db)
	p := statement.Period{From: time.Date(2030, 2, 1, 0, 0, 0, 0, msk), To: time.Date(2030, 2, 28, 0, 0, 0, 0, msk)}
	f, err := svc.File(ctx, "ru", a, p, "csv")
	if err != nil {
		t.Fatal(err)
	}
	if lines := strings.Count(string(f.Body), "ru:ledger.kind."); lines != 29 || f.Name != "statement-"+a.ContractNo+"-2030-02-01-2030-02-28.csv" {
		t.Errorf("%s: %d lines, want 29 (28 days and a payment)", f.Name, lines)
	}
	if f, err = svc.File(ctx, "en", a, p, "pdf"); err != nil || !strings.HasPrefix(string(f.Body), "%PDF") || f.ContentType != "application/pdf" {
		t.Errorf("pdf: %q %v", f.ContentType, err)
	}
	if _, err := svc.File(ctx, "en", a, p, "xls"); err == nil {
		t.Error("xls made")
	}
}

// BenchmarkHistoryLastPage reads the oldest page of ten years' balance
// history (3,772 lines), the one that costs most.
func BenchmarkHistoryLastPage(b *testing.B) {
	db := storetest.SQLite(b)
	svc, a, _, posted := tenYears(b, db)
	ctx := context.Background()
	for b.Loop() {
		if _, err := svc.History(ctx, "ru", a, ledger.Page{Offset: posted - 49, Limit: 50}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkHistoryFirstPage reads the newest page of the same history.
func BenchmarkHistoryFirstPage(b *testing.B) {
	db := storetest.SQLite(b)
	svc, a, _, _ := tenYears(b, db)
	ctx := context.Background()
	for b.Loop() {
		if _, err := svc.History(ctx, "ru", a, ledger.Page{Limit: 50}); err != nil {
			b.Fatal(err)
		}
	}
}
