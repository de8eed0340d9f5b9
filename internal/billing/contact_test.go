package billing_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/kabinet-billing/kabinet/internal/billing"
	"github.com/kabinet-billing/kabinet/internal/clock"
	"github.com/kabinet-billing/kabinet/internal/derrors"
	"github.com/kabinet-billing/kabinet/internal/money"
	"github.com/kabinet-billing/kabinet/internal/store"
	"github.com/kabinet-billing/kabinet/internal/store/storetest"
	"github.com/kabinet-billing/kabinet/internal/subscriber"
)

func TestContactLoginsCount(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		clk := clock.NewFake(time.Date(2027, 3, 10, 9, 0, 0, 0, time.UTC))
		b := billing.New(db, clk, billing.DefaultRules())
		if _, err := billing.AddTariff(ctx, db, billing.Tariff{Code: "t", Name: "T", Fee: money.Rub(1), DownKbps: 1, UpKbps: 1, Public: true}, clk.Now()); err != nil {
			t.Fatal(err)
		}
		sealer, _ := subscriber.NewSealer(make([]byte, 32))
		dir := subscriber.New(db, clk, sealer, b)
		if n, err := billing.CountAccounts(ctx, db); err != nil || n != 0 {
			t.Fatalf("count of none: %d, %v", n, err)
		}
		alice, err := dir.Create(ctx, subscriber.NewAccount{Login: "alice", Password: "secret-pass", Name: "Алиса", Email: "a@example.org", Tariff: "t"})
		if err != nil {
			t.Fatal(err)
		}
		bob, err := dir.Create(ctx, subscriber.NewAccount{Login: "bob", Password: "secret-pass", Tariff: "t"})
		if err != nil {
			t.Fatal(err)
		}
		if n, err := billing.CountAccounts(ctx, db); err != nil || n != 2 {
			t.Errorf("count: %d, %v", n, err)
		}
		for _, c := range []struct {
			id   int64
			want billing.Contact
			err  error
		}{
			{alice.ID, billing.Contact{ID: alice.ID, Login: "alice", ContractNo: alice.ContractNo, Name: "Алиса", Email: "a@example.org",
				Lang: alice.Lang, Status: alice.Status, NotifyEmail: alice.NotifyEmail}, nil},
			{bob.ID + 100, billing.Contact{}, derrors.NotFound},
		} {
			// Inside a write too, as a payment reads it.
			err := db.Write(ctx, func(tx *store.Tx) error {
				got, err := billing.ContactOf(ctx, tx, c.id)
				if c.err == nil && got != c.want {
					t.Errorf("contact %d = %+v, want %+v", c.id, got, c.want)
				}
				return err
			})
			if !errors.Is(err, c.err) {
				t.Errorf("contact %d: %v, want %v", c.id, err, c.err)
			}
		}
		logins, err := billing.Logins(ctx, db, []int64{bob.ID, alice.ID, bob.ID + 100})
		if err != nil || len(logins) != 2 || logins[alice.ID] != "alice" || logins[bob.ID] != "bob" {
			t.Errorf("logins: %v, %v", logins, err)
		}
		if logins, err := billing.Logins(ctx, db, nil); err != nil || len(logins) != 0 {
			t.Errorf("logins of none: %v, %v", logins, err)
		}
	})
}

// The accounts table is billing's and subscriber's; the packages below
// read it directly for the reason given (and the importer writes it), as
// docs/architecture.md says. Any other reaches it through their functions
// (ContactOf, Logins, CountAccounts, subscriber.Directory…).
var accountsReaders = map[string]string{
	"internal/subscriber":      "owner: contracts, credentials, contact, operators' status changes",
	"internal/billing":         "owner: tariff, debt and limit; its monthly run updates them set-based",
	"internal/report":          "read-only aggregates over every table",
	"internal/ledger":          "Verify checks balances against the raw rows",
	"internal/notify":          "the low-balance reminder's candidates: one set-based query with the ledger and the mail queue",
	"internal/payment":         "OSMP and registries find accounts by contract or login in batches, on the bank's request path",
	"internal/traffic":         "login to account inside the accounting transaction, on RADIUS's hot path",
	"internal/importer":        "moving a provider in: bulk inserts in one transaction",
	"internal/autopay":         "the back office's autopay list: each row's login and contract in the one query",
	"internal/company":         "a contract's totals over all its connection points, and the bank import's payer matching, one query each",
	"internal/documents":       "an invoice's lines from every point's tariff and the points' ledger accounts, one query per organisation",
	"internal/store/storetest": "test fixtures",
}

func TestAccountsReadThroughOwners(t *testing.T) {
	sqlRe := regexp.MustCompile(`(?i)\b(FROM|JOIN|UPDATE|INTO)\s+accounts\b`)
	for _, root := range []string{"internal", "cmd"} {
		err := filepath.WalkDir(filepath.Join("..", "..", root), func(path string, d os.DirEntry, err error) error {
			if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
				return err
			}
			b, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			if !sqlRe.Match(b) {
				return nil
			}
			pkg := filepath.ToSlash(filepath.Dir(strings.TrimPrefix(filepath.ToSlash(path), "../../")))
			if _, ok := accountsReaders[pkg]; !ok {
				t.Errorf("%s reads the accounts table: call billing's or subscriber's functions, or say why in docs/architecture.md and here", path)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
}
