package traffic

import (
	"context"
	"fmt"
	"syscall"
	"testing"
	"time"

	"github.com/kabinet-billing/kabinet/internal/store"
	"github.com/kabinet-billing/kabinet/internal/store/storetest"
)

// seedAccounts adds accounts 2..n+1 with logins user00000… next to seed's.
func seedAccounts(b testing.TB, db *store.DB, n int) {
	b.Helper()
	ctx := context.Background()
	err := db.Write(ctx, func(tx *store.Tx) error {
		for i := range n {
			id := i + 2
			if _, err := tx.Exec(ctx, `INSERT INTO ledger_accounts (id, code, kind) VALUES (?, ?, 'subscriber')`, id, fmt.Sprintf("acct:%d", id)); err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, `INSERT INTO accounts (id, login, contract_no, contract_date, password_hash, password_enc, tariff_id, ledger_id, created_at, updated_at)
				VALUES (?, ?, ?, '2025-01-01', 'x', 'x', 1, ?, '2025-01-01 00:00:00', '2025-01-01 00:00:00')`, id, fmt.Sprintf("user%05d", i), fmt.Sprintf("C%d", id), id); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
}

// BenchmarkWriteInterims writes Interim-Updates of 10,000 open sessions in
// batches of 1 to 512 (64 requests in flight give batches of about 30),
// in an order that scatters a batch's rows over the table as a NAS's
// interims do.
func BenchmarkWriteInterims(b *testing.B) {
	for _, size := range []int{1, 27, 64, 512} {
		b.Run(fmt.Sprint(size), func(b *testing.B) {
			const users = 10000
			db := seed(b, storetest.SQLite(b))
			seedAccounts(b, db, users)
			s := New(db, time.UTC)
			ctx := context.Background()
			rec := func(u int, k Kind, step int) Record {
				return Record{Kind: k, NASID: 7, SessionID: fmt.Sprintf("s-%d", u), AccountID: int64(u + 2), Login: fmt.Sprintf("user%05d", u),
					InputOctets: uint64(step) * 1000, OutputOctets: uint64(step) * 3000, SessionTime: time.Duration(step) * time.Second,
					Time: t0.Add(time.Duration(step) * time.Second)}
			}
			batch := make([]Record, 0, size)
			for u := range users {
				batch = append(batch, rec(u, Start, 0))
				if len(batch) == size {
					if err := s.Write(ctx, batch); err != nil {
						b.Fatal(err)
					}
					batch = batch[:0]
				}
			}
			if err := s.Write(ctx, batch); err != nil {
				b.Fatal(err)
			}
			u, step := 0, 1
			cpu0 := cpuTime()
			b.ResetTimer()
			for b.Loop() {
				batch = batch[:0]
				for range size {
					batch = append(batch, rec(u, Interim, step))
					// 7919 is prime to users: every session once a round.
					if u = (u + 7919) % users; u == 0 {
						step++
					}
				}
				if err := s.Write(ctx, batch); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*size), "ns/record")
			// CPU time is steadier than wall time on a shared machine.
			b.ReportMetric(float64((cpuTime()-cpu0).Nanoseconds())/float64(b.N*size), "cpu-ns/record")
		})
	}
}

// cpuTime is the user and system CPU time of this process so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkWriteStarts opens sessions in batches of 32, as after a NAS
// reboot or at the first interims of sessions whose Start was lost.
func BenchmarkWriteStarts(b *testing.B) {
	const size = 32
	db := seed(b, storetest.SQLite(b))
	seedAccounts(b, db, 10000)
	s := New(db, time.UTC)
	ctx := context.Background()
	batch := make([]Record, 0, size)
	n := 0
	cpu0 := cpuTime()
	for b.Loop() {
		batch = batch[:0]
		for range size {
			u := n % 10000
			batch = append(batch, Record{Kind: Interim, NASID: 7, SessionID: fmt.Sprintf("s-%d", n), AccountID: int64(u + 2), Login: fmt.Sprintf("user%05d", u),
				InputOctets: 1000, OutputOctets: 3000, SessionTime: time.Minute, Time: t0.Add(time.Duration(n) * time.Millisecond)})
			n++
		}
		if err := s.Write(ctx, batch); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64((cpuTime()-cpu0).Nanoseconds())/float64(b.N*size), "cpu-ns/record")
}
