package traffic

import (
	"context"
	"fmt"
	"net/netip"
	"testing"
	"time"

	"github.com/kabinet-billing/kabinet/internal/store"
	"github.com/kabinet-billing/kabinet/internal/store/storetest"
)

var t0 = time.Date(2025, 3, 1, 20, 0, 0, 0, time.UTC) // 23:00 in Moscow

// eachDB runs a test on SQLite and, where KABINET_TEST_POSTGRES is set, on
// PostgreSQL: the batched SQL must work on both.
func eachDB(t *testing.T, fn func(t *testing.T, db *store.DB)) {
	for name, open := range map[string]func(testing.TB) *store.DB{"sqlite": storetest.SQLite, "postgres": storetest.Postgres} {
		t.Run(name, func(t *testing.T) { fn(t, seed(t, open(t))) })
	}
}

func seed(t testing.TB, db *store.DB) *store.DB {
	t.Helper()
	ctx := context.Background()
	err := db.Write(ctx, func(tx *store.Tx) error {
		for _, q := range []string{
			`INSERT INTO tariffs (id, code, name, fee, down_kbps, up_kbps, created_at) VALUES (1, 't', 'T', 100, 1000, 1000, '2025-01-01 00:00:00')`,
			`INSERT INTO ledger_accounts (id, code, kind) VALUES (1, 'acct:1', 'subscriber')`,
			`INSERT INTO accounts (id, login, contract_no, contract_date, password_hash, password_enc, tariff_id, ledger_id, created_at, updated_at)
				VALUES (1, 'alice', 'C1', '2025-01-01', 'x', 'x', 1, 1, '2025-01-01 00:00:00', '2025-01-01 00:00:00')`,
			`INSERT INTO nas (id, name, address, secret, kind, created_at) VALUES (7, 'core', '127.0.0.1', 's', 'mikrotik', '2025-01-01 00:00:00')`,
		} {
			if _, err := tx.Exec(ctx, q); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return db
}

func moscow(t *testing.T) *time.Location {
	z, err := time.LoadLocation("Europe/Moscow")
	if err != nil {
		t.Skip("no tzdata: ", err)
	}
	return z
}

func TestSessionLifecycle(t *testing.T) {
	eachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		s := New(db, moscow(t))
		rec := func(k Kind, at time.Duration, in, out uint64) Record {
			return Record{Kind: k, NASID: 7, SessionID: "81e00001", Login: "alice", FramedIP: netip.MustParseAddr("10.0.0.5"),
				CallingStationID: "AA:BB:CC:DD:EE:FF", NASPortID: "ether2", InputOctets: in, OutputOctets: out,
				SessionTime: at, Time: t0.Add(at)}
		}
		// Start, two interims crossing midnight in Moscow, a reordered old
		// interim, a stop and its retransmission.
		batches := [][]Record{
			{rec(Start, 0, 0, 0)},
			{rec(Interim, 30*time.Minute, 1000, 5000), rec(Interim, 90*time.Minute, 3000, 9000)},
			{rec(Interim, 60*time.Minute, 2000, 7000)},
			{rec(Stop, 2*time.Hour, 4000, 10000)},
			{rec(Stop, 2*time.Hour, 4000, 10000)},
		}
		for _, b := range batches {
			if err := s.Write(ctx, b); err != nil {
				t.Fatal(err)
			}
		}
		got, err := s.Sessions(ctx, 1, t0.Add(-time.Hour), t0.Add(24*time.Hour), 10)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 1 {
			t.Fatalf("sessions = %d, want 1", len(got))
		}
		x := got[0]
		if x.Open() || x.InputOctets != 4000 || x.OutputOctets != 10000 || x.NASName != "core" || x.FramedIP.String() != "10.0.0.5" ||
			!x.StartedAt.Equal(t0) || !x.StoppedAt.Equal(t0.Add(2*time.Hour)) || x.SessionTime != 2*time.Hour {
			t.Errorf("session = %+v", x)
		}
		// 23:00–24:00 Moscow is March 1st: the first interim (1000/5000);
		// the rest lands on March 2nd.
		u, err := s.Usage(ctx, 1, "2025-03-01", "2025-03-31")
		if err != nil {
			t.Fatal(err)
		}
		want := []DayUsage{{"2025-03-01", 1000, 5000}, {"2025-03-02", 3000, 5000}}
		if len(u) != 2 || u[0] != want[0] || u[1] != want[1] {
			t.Errorf("usage = %+v, want %+v", u, want)
		}
	})
}

func TestLostStartAndReboot(t *testing.T) {
	eachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		s := New(db, time.UTC)
		// An interim without a Start opens the session from what it says.
		if err := s.Write(ctx, []Record{{Kind: Interim, NASID: 7, SessionID: "a", Login: "alice", InputOctets: 10, OutputOctets: 20,
			SessionTime: time.Minute, Time: t0}}); err != nil {
			t.Fatal(err)
		}
		// Unknown login: kept without an account.
		if err := s.Write(ctx, []Record{{Kind: Start, NASID: 7, SessionID: "b", Login: "ghost", Time: t0}}); err != nil {
			t.Fatal(err)
		}
		open, err := s.OpenSessions(ctx, 0)
		if err != nil || len(open) != 2 {
			t.Fatalf("open = %d, %v", len(open), err)
		}
		// Accounting-On closes them all; the same session id may then start anew.
		if err := s.Write(ctx, []Record{{Kind: NASOn, NASID: 7, Time: t0.Add(time.Hour)},
			{Kind: Start, NASID: 7, SessionID: "a", Login: "alice", Time: t0.Add(time.Hour)}}); err != nil {
			t.Fatal(err)
		}
		open, _ = s.OpenSessions(ctx, 1)
		if len(open) != 1 || !open[0].StartedAt.Equal(t0.Add(time.Hour)) {
			t.Fatalf("open after reboot = %+v", open)
		}
		all, _ := s.Sessions(ctx, 1, t0.Add(-time.Hour), t0.Add(2*time.Hour), 10)
		if len(all) != 2 || all[1].StopCause != CauseNASReboot {
			t.Fatalf("sessions = %+v", all)
		}
		// Stale: not updated for longer than the cut-off.
		n, err := s.CloseStale(ctx, t0.Add(2*time.Hour))
		if err != nil || n != 1 {
			t.Fatalf("closed %d, %v", n, err)
		}
		if open, _ = s.OpenSessions(ctx, 0); len(open) != 0 {
			t.Fatalf("still open: %+v", open)
		}
	})
}

func TestStopAndRestartInOneBatch(t *testing.T) {
	eachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		s := New(db, time.UTC)
		if err := s.Write(ctx, []Record{
			{Kind: Start, NASID: 7, SessionID: "x", Login: "alice", Time: t0},
			{Kind: Interim, NASID: 7, SessionID: "x", Login: "alice", InputOctets: 5, Time: t0.Add(time.Minute)},
			{Kind: Stop, NASID: 7, SessionID: "x", Login: "alice", InputOctets: 7, Time: t0.Add(2 * time.Minute)},
			{Kind: Start, NASID: 7, SessionID: "x", Login: "alice", Time: t0.Add(3 * time.Minute)},
			{Kind: Interim, NASID: 7, SessionID: "x", Login: "alice", InputOctets: 1, Time: t0.Add(4 * time.Minute)},
		}); err != nil {
			t.Fatal(err)
		}
		all, _ := s.Sessions(ctx, 1, t0.Add(-time.Hour), t0.Add(time.Hour), 10)
		if len(all) != 2 || !all[0].Open() || all[0].InputOctets != 1 || all[1].Open() || all[1].InputOctets != 7 {
			t.Fatalf("sessions = %+v", all)
		}
		u, _ := s.Usage(ctx, 1, "2025-03-01", "2025-03-01")
		if len(u) != 1 || u[0].InputOctets != 8 {
			t.Fatalf("usage = %+v", u)
		}
	})
}

// Two instances on one PostgreSQL write the same records at once when a NAS
// repeats them to its backup server while the first still writes: the
// session must be opened once and its bytes counted once.
func TestConcurrentWritersCountOnce(t *testing.T) {
	eachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		s := New(db, time.UTC)
		const writers = 8
		var in, out uint64
		for step := 0; step < 12; step++ {
			kind := Interim
			switch step {
			case 0:
				kind = Start
			case 11:
				kind = Stop
			default:
				in, out = in+1000*uint64(step), out+3000*uint64(step)
			}
			rec := Record{Kind: kind, NASID: 7, SessionID: "dup", Login: "alice", InputOctets: in, OutputOctets: out,
				SessionTime: time.Duration(step) * time.Minute, Time: t0.Add(time.Duration(step) * time.Minute)}
			errs := make(chan error, writers)
			start := make(chan struct{})
			for range writers {
				go func() {
					<-start
					errs <- s.Write(ctx, []Record{rec})
				}()
			}
			close(start)
			for range writers {
				if err := <-errs; err != nil {
					t.Fatalf("step %d: %v", step, err)
				}
			}
		}
		all, err := s.Sessions(ctx, 1, t0.Add(-time.Hour), t0.Add(time.Hour), 10)
		if err != nil {
			t.Fatal(err)
		}
		if len(all) != 1 || all[0].Open() || all[0].InputOctets != int64(in) || all[0].OutputOctets != int64(out) {
			t.Fatalf("sessions = %+v, want one stopped with %d/%d", all, in, out)
		}
		u, _ := s.Usage(ctx, 1, "2025-03-01", "2025-03-01")
		if len(u) != 1 || u[0].InputOctets != int64(in) || u[0].OutputOctets != int64(out) {
			t.Fatalf("usage = %+v, want %d/%d", u, in, out)
		}
	})
}

// A Start or Interim of a stopped session arriving after its Stop (repeated
// to another instance, or held while the database was away) must not open
// a second session and count the bytes again.
func TestLateRecordAfterStop(t *testing.T) {
	eachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		s := New(db, time.UTC)
		rec := func(k Kind, min int, in uint64) Record {
			return Record{Kind: k, NASID: 7, SessionID: "late", Login: "alice", InputOctets: in, OutputOctets: 2 * in,
				SessionTime: time.Duration(min) * time.Minute, Time: t0.Add(time.Duration(min) * time.Minute)}
		}
		for _, b := range [][]Record{
			{rec(Start, 0, 0)}, {rec(Interim, 5, 100)}, {rec(Stop, 10, 300)},
			// Late, each in a batch of its own and together.
			{rec(Interim, 5, 100)}, {rec(Start, 0, 0)}, {rec(Start, 0, 0), rec(Interim, 5, 100)},
			// Received late with no Acct-Delay-Time: the arrival time is
			// after the Stop, the session began long before it.
			{{Kind: Interim, NASID: 7, SessionID: "late", Login: "alice", InputOctets: 100, OutputOctets: 200,
				SessionTime: 5 * time.Minute, Time: t0.Add(11 * time.Minute)}},
		} {
			if err := s.Write(ctx, b); err != nil {
				t.Fatal(err)
			}
		}
		all, _ := s.Sessions(ctx, 1, t0.Add(-time.Hour), t0.Add(time.Hour), 10)
		if len(all) != 1 || all[0].Open() || all[0].InputOctets != 300 {
			t.Fatalf("sessions = %+v, want the one stopped", all)
		}
		u, _ := s.Usage(ctx, 1, "2025-03-01", "2025-03-01")
		if len(u) != 1 || u[0].InputOctets != 300 || u[0].OutputOctets != 600 {
			t.Fatalf("usage = %+v, want 300/600", u)
		}
		// The NAS reuses the key for a session that begins after the Stop.
		if err := s.Write(ctx, []Record{rec(Start, 20, 0), {Kind: Interim, NASID: 7, SessionID: "late", Login: "alice",
			InputOctets: 50, OutputOctets: 50, SessionTime: 5 * time.Minute, Time: t0.Add(25 * time.Minute)}}); err != nil {
			t.Fatal(err)
		}
		all, _ = s.Sessions(ctx, 1, t0.Add(-time.Hour), t0.Add(time.Hour), 10)
		if len(all) != 2 || !all[0].Open() || all[0].InputOctets != 50 {
			t.Fatalf("sessions after the key's reuse = %+v", all)
		}
	})
}

// A Store remembers the open sessions it wrote; when the row has changed
// behind its back (another instance, CloseStale, an operator), the batch is
// written from what the database says, and bytes are counted once.
func TestRememberedSessionChangedElsewhere(t *testing.T) {
	eachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		a, b := New(db, time.UTC), New(db, time.UTC) // two instances
		id := "m"
		rec := func(k Kind, min int, in uint64) Record {
			return Record{Kind: k, NASID: 7, SessionID: id, Login: "alice", InputOctets: in, OutputOctets: 2 * in,
				SessionTime: time.Duration(min) * time.Minute, Time: t0.Add(time.Duration(min) * time.Minute)}
		}
		write := func(s *Store, r ...Record) {
			t.Helper()
			if err := s.Write(ctx, r); err != nil {
				t.Fatal(err)
			}
		}
		write(a, rec(Start, 0, 0))
		write(a, rec(Interim, 1, 100))
		// The NAS fails over to b, then back to a, which remembers 100.
		write(b, rec(Interim, 2, 300))
		write(a, rec(Interim, 3, 600))
		all, _ := a.Sessions(ctx, 1, t0.Add(-time.Hour), t0.Add(time.Hour), 10)
		if len(all) != 1 || all[0].InputOctets != 600 || !all[0].Open() {
			t.Fatalf("sessions = %+v", all)
		}
		u, _ := a.Usage(ctx, 1, "2025-03-01", "2025-03-01")
		if len(u) != 1 || u[0].InputOctets != 600 || u[0].OutputOctets != 1200 {
			t.Fatalf("usage = %+v, want 600/1200", u)
		}
		// b closes it as stale (its own memory forgets it); a still
		// remembers it open: a late interim must not reopen or recount.
		if n, err := b.CloseStale(ctx, t0.Add(time.Hour)); err != nil || n != 1 {
			t.Fatalf("CloseStale = %d, %v", n, err)
		}
		write(a, rec(Interim, 4, 700))
		all, _ = a.Sessions(ctx, 1, t0.Add(-time.Hour), t0.Add(time.Hour), 10)
		if len(all) != 1 || all[0].Open() || all[0].InputOctets != 600 {
			t.Fatalf("sessions after stale close = %+v", all)
		}
		u, _ = a.Usage(ctx, 1, "2025-03-01", "2025-03-01")
		if len(u) != 1 || u[0].InputOctets != 600 {
			t.Fatalf("usage after stale close = %+v, want 600", u)
		}
		// Closed by CloseStale of the same Store: forgotten at once.
		id = "n"
		write(a, rec(Start, 10, 0), rec(Interim, 11, 50))
		if n, err := a.CloseStale(ctx, t0.Add(time.Hour)); err != nil || n != 1 {
			t.Fatalf("CloseStale = %d, %v", n, err)
		}
		a.openMu.Lock()
		left := len(a.open)
		a.openMu.Unlock()
		if left != 0 {
			t.Errorf("%d sessions still remembered after CloseStale", left)
		}
	})
}

// Batches of sizes that are not powers of two, with stops and restarts,
// written through the padded statements, count what they should.
func TestPaddedBatches(t *testing.T) {
	eachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		s := New(db, time.UTC)
		const n = 37
		var batch []Record
		for i := range n {
			batch = append(batch, Record{Kind: Start, NASID: 7, SessionID: fmt.Sprint("p", i), AccountID: 1, Time: t0})
		}
		if err := s.Write(ctx, batch); err != nil {
			t.Fatal(err)
		}
		for step := 1; step <= 3; step++ {
			batch = batch[:0]
			for i := range n - step {
				k := Interim
				if step == 3 && i%2 == 0 {
					k = Stop
				}
				batch = append(batch, Record{Kind: k, NASID: 7, SessionID: fmt.Sprint("p", i), AccountID: 1,
					InputOctets: uint64(10 * step), OutputOctets: uint64(step), Time: t0.Add(time.Duration(step) * time.Minute)})
			}
			if err := s.Write(ctx, batch); err != nil {
				t.Fatal(err)
			}
		}
		// Sessions 0…33 reached 30 bytes in, 35 reached 10, 34 reached 20.
		u, _ := s.Usage(ctx, 1, "2025-03-01", "2025-03-01")
		if want := int64(34*30 + 20 + 10); len(u) != 1 || u[0].InputOctets != want {
			t.Fatalf("usage = %+v, want %d in", u, want)
		}
		open, _ := s.OpenSessions(ctx, 1)
		if len(open) != n-17 {
			t.Fatalf("open = %d, want %d", len(open), n-17)
		}
	})
}

// The accounting journal may apply a run of records again after a crash
// (committed, not yet deleted), in the same or other batches, by a store
// that remembers nothing: the sessions and usage stay as after the first.
func TestWriteAgainIsIdempotent(t *testing.T) {
	at := func(m int) time.Time { return t0.Add(time.Duration(m) * time.Minute) }
	r := func(k Kind, key string, m int, in, out uint64, secs int) Record {
		return Record{Kind: k, NASID: 7, SessionID: key, AccountID: 1, Login: "alice", InputOctets: in, OutputOctets: out,
			SessionTime: time.Duration(secs) * time.Minute, Time: at(m)}
	}
	recs := []Record{
		r(Start, "a", 0, 0, 0, 0),
		r(Interim, "a", 5, 100, 1000, 5),
		r(Start, "b", 6, 0, 0, 0),
		r(Interim, "b", 7, 10, 10, 1),
		r(Stop, "a", 11, 300, 3000, 11),
		{Kind: NASOn, NASID: 7, Time: at(12)}, // closes "b"
		r(Start, "a", 13, 0, 0, 0),            // the key reused after the reboot
		r(Interim, "a", 15, 50, 500, 2),
	}
	for _, c := range []struct {
		name  string
		split []int // batch boundaries of each pass
	}{
		{"one batch", []int{len(recs)}},
		{"record by record", []int{1, 2, 3, 4, 5, 6, 7, 8}},
		{"cut after the reboot", []int{6, len(recs)}},
	} {
		t.Run(c.name, func(t *testing.T) {
			eachDB(t, func(t *testing.T, db *store.DB) {
				ctx := context.Background()
				state := func() string {
					var s string
					if err := db.QueryRow(ctx, `SELECT (SELECT COUNT(*) FROM sessions) || ' ' || (SELECT COUNT(*) FROM sessions WHERE stopped_at IS NULL) || ' ' ||
						(SELECT SUM(input_octets) FROM sessions) || ' ' || (SELECT SUM(input_octets) || '/' || SUM(output_octets) FROM usage_daily)`).Scan(&s); err != nil {
						t.Fatal(err)
					}
					return s
				}
				var first string
				for pass := range 2 {
					s := New(db, time.UTC) // a new process remembers nothing
					from := 0
					for _, to := range c.split {
						if err := s.Write(ctx, recs[from:to]); err != nil {
							t.Fatal(err)
						}
						from = to
					}
					if pass == 0 {
						first = state()
						if first != "3 1 360 360/3510" {
							t.Fatalf("first pass: %s", first)
						}
					} else if got := state(); got != first {
						t.Errorf("written again: %s, want %s", got, first)
					}
				}
			})
		})
	}
}
