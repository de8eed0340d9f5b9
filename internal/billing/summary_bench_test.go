package billing_test

import (
	"context"
	"testing"
	"time"

	"github.com/kabinet-billing/kabinet/internal/store/storetest"
)

// BenchmarkBrief is the home page's one query on SQLite: an account with a
// tariff and a package, read by two goroutines at once as a loaded portal
// reads it.
func BenchmarkBrief(b *testing.B) {
	db := storetest.SQLite(b)
	ctx := context.Background()
	e := newEnv(b, db, time.Date(2026, 3, 15, 12, 0, 0, 0, msk))
	id := e.account(b, "petrov", "home100")
	e.pay(b, id, 2000, "p1")
	if _, err := e.b.Connect(ctx, id, "tv"); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			s, err := e.b.Brief(ctx, id)
			if err != nil || len(s.Packages) != 1 {
				b.Fatal(s.Packages, err)
			}
		}
	})
}
