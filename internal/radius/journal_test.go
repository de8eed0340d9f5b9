package radius

import (
	"context"
	"errors"
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"layeh.com/radius"

	"github.com/kabinet-billing/kabinet/internal/billing"
	"github.com/kabinet-billing/kabinet/internal/clock"
	"github.com/kabinet-billing/kabinet/internal/money"
	"github.com/kabinet-billing/kabinet/internal/password"
	"github.com/kabinet-billing/kabinet/internal/store/storetest"
	"github.com/kabinet-billing/kabinet/internal/subscriber"
	"github.com/kabinet-billing/kabinet/internal/traffic"
)

func openTestJournal(t *testing.T, dir string, cfg JournalConfig) *Journal {
	t.Helper()
	cfg.Dir, cfg.Logger = dir, quietLog()
	j, err := OpenJournal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { j.Close() })
	return j
}

func appendRecs(t *testing.T, j *Journal, recs ...AcctRecord) {
	t.Helper()
	var b []byte
	for i := range recs {
		b = appendFrame(b, &recs[i])
	}
	if err := j.Append(b, len(recs), nil); err != nil {
		t.Fatal(err)
	}
}

// readAll reads and commits everything the journal holds.
func readAll(t *testing.T, j *Journal) []AcctRecord {
	t.Helper()
	var out []AcctRecord
	for {
		recs, err := j.Read(nil, 3)
		if err != nil {
			t.Fatal(err)
		}
		if len(recs) == 0 {
			return out
		}
		out = append(out, recs...)
		j.Commit()
	}
}

func segments(t *testing.T, dir string) []string {
	t.Helper()
	names, err := filepath.Glob(filepath.Join(dir, "*"+journalSuffix))
	if err != nil {
		t.Fatal(err)
	}
	return names
}

var t0j = time.Date(2025, 3, 10, 12, 0, 0, 123456789, time.UTC)

func journalRec(i int) AcctRecord {
	return AcctRecord{Status: AcctInterim, NASID: 7, NASAddr: nasAddr, SessionID: "s" + string(rune('a'+i%26)),
		Login: "alice", InputOctets: uint64(i) * 1000, OutputOctets: 5 << 32, Time: t0j.Add(time.Duration(i) * time.Second)}
}

func TestJournalRecordRoundTrip(t *testing.T) {
	for _, r := range []AcctRecord{
		{Status: AcctStart, NASID: 1, SessionID: "x", Time: t0j},
		{Status: AcctStop, NASID: 7, NASAddr: nasAddr, NASIdent: "mt1", SessionID: "81e00001", Login: "алиса", NASPort: 15,
			NASPortID: "ether1", FramedIP: netip.MustParseAddr("10.0.0.9"), CallingStationID: "00:11:22:33:44:55",
			InputOctets: 1<<40 + 3, OutputOctets: 7, SessionTime: 3 * time.Hour, TerminateCause: 1, Class: "kabinet:1:0", Time: t0j},
		{Status: AcctOn, NASID: -1, NASAddr: netip.MustParseAddr("2001:db8::1"), Time: t0j},
		{Status: AcctStatus(15), Time: time.Unix(0, 0).UTC()},
	} {
		t.Run(r.Status.String(), func(t *testing.T) {
			b := appendFrame(nil, &r)
			p, size, ok := nextFrame(b)
			if !ok || size != len(b) {
				t.Fatalf("frame not read back: ok %v size %d of %d", ok, size, len(b))
			}
			got, err := decodeRecord(p)
			if err != nil || !reflect.DeepEqual(got, r) {
				t.Fatalf("decoded %+v, %v; want %+v", got, err, r)
			}
		})
	}
}

// Records come back in order across segments; a finished segment is
// deleted once committed, and an idle drained journal leaves no file with
// records in it.
func TestJournalAppendReadRotateDelete(t *testing.T) {
	dir := t.TempDir()
	j := openTestJournal(t, dir, JournalConfig{SegmentBytes: 300})
	if _, err := OpenJournal(JournalConfig{Dir: dir, Logger: quietLog()}); err == nil {
		t.Fatal("a second process opened the same journal")
	}
	var want []AcctRecord
	for i := range 20 {
		r := journalRec(i)
		want = append(want, r)
		appendRecs(t, j, r)
	}
	if n := len(segments(t, dir)); n < 3 {
		t.Fatalf("%d segments, want several at 300 bytes each", n)
	}
	if j.Backlog() != 20 {
		t.Errorf("backlog = %d, want 20", j.Backlog())
	}
	got := readAll(t, j)
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("read %d records, want %d in order", len(got), len(want))
	}
	if j.Backlog() != 0 {
		t.Errorf("backlog = %d after commit", j.Backlog())
	}
	if n := len(segments(t, dir)); n != 1 {
		t.Errorf("%d segments after commit, want the current one", n)
	}
	if err := j.RotateIfDrained(); err != nil {
		t.Fatal(err)
	}
	if n, b := len(segments(t, dir)), j.Bytes(); n != 1 || b != 0 {
		t.Errorf("after rotation: %d segments, %d bytes; want one empty", n, b)
	}
	// Appends go on in the new segment.
	appendRecs(t, j, journalRec(21))
	if got := readAll(t, j); len(got) != 1 || got[0].InputOctets != 21000 {
		t.Errorf("after rotation read %+v", got)
	}
}

// A crash in the middle of a write leaves a torn last frame: it is skipped
// at the next start and the records before it are applied.
func TestJournalTornTail(t *testing.T) {
	for _, c := range []struct {
		name string
		cut  func(b []byte) []byte
	}{
		{"header cut", func(b []byte) []byte { return b[:len(b)-lastFrameLen(b)+3] }},
		{"payload cut", func(b []byte) []byte { return b[:len(b)-5] }},
		{"checksum wrong", func(b []byte) []byte { b[len(b)-1] ^= 0xff; return b }},
		{"garbage length", func(b []byte) []byte { return append(b, 0xff, 0xff, 0xff, 0x7f, 1, 2, 3, 4, 5) }},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			j := openTestJournal(t, dir, JournalConfig{})
			for i := range 3 {
				appendRecs(t, j, journalRec(i))
			}
			j.Close()
			name := segments(t, dir)[0]
			b, err := os.ReadFile(name)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(name, c.cut(b), 0o600); err != nil {
				t.Fatal(err)
			}
			j = openTestJournal(t, dir, JournalConfig{})
			want := 2
			if c.name == "garbage length" {
				want = 3
			}
			if j.Backlog() != int64(want) {
				t.Errorf("backlog = %d, want %d", j.Backlog(), want)
			}
			got := readAll(t, j)
			if len(got) != want || got[0].InputOctets != 0 || got[1].InputOctets != 1000 {
				t.Fatalf("read %+v, want the first %d records", got, want)
			}
			if n := len(segments(t, dir)); n != 1 {
				t.Errorf("%d segments, want the leftover deleted", n)
			}
		})
	}
}

func lastFrameLen(b []byte) int {
	off, last := 0, 0
	for off < len(b) {
		_, size, ok := nextFrame(b[off:])
		if !ok {
			break
		}
		last = size
		off += size
	}
	return last
}

// A full journal makes the appender wait; it gives up when told (the NAS
// retransmits) and goes on once the reader frees a segment.
func TestJournalFull(t *testing.T) {
	dir := t.TempDir()
	j := openTestJournal(t, dir, JournalConfig{MaxBytes: 400, SegmentBytes: 150})
	n := 0
	for j.Bytes() < 350 {
		appendRecs(t, j, journalRec(n))
		n++
	}
	stop := make(chan struct{})
	close(stop)
	b := appendFrame(nil, &AcctRecord{Status: AcctInterim, SessionID: "late", Time: t0j})
	if err := j.Append(b, 1, stop); !errors.Is(err, errJournalFull) {
		t.Fatalf("append to a full journal: %v", err)
	}
	done := make(chan error, 1)
	go func() { done <- j.Append(b, 1, nil) }()
	select {
	case err := <-done:
		t.Fatalf("append did not wait for space: %v", err)
	case <-time.After(50 * time.Millisecond):
	}
	// Reading frees segments; the waiting append lands meanwhile or after.
	got := readAll(t, j)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	got = append(got, readAll(t, j)...)
	if len(got) != n+1 || got[n].SessionID != "late" {
		t.Errorf("read %d records (last %q), want %d and the late one last", len(got), got[len(got)-1].SessionID, n+1)
	}
}

// startJournal runs the server's accounting writer and journal applier.
func startJournal(t *testing.T, e *env, dir string) *Journal {
	t.Helper()
	j := openTestJournal(t, dir, JournalConfig{})
	e.srv.cfg.Journal = j
	e.srv.cfg.JournalIdle = time.Millisecond
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{}, 2)
	go func() { e.srv.acctWriter(ctx); done <- struct{}{} }()
	go func() { e.srv.applyJournal(ctx); done <- struct{}{} }()
	t.Cleanup(func() { cancel(); <-done; <-done })
	return j
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("timed out waiting for " + what)
		}
		time.Sleep(time.Millisecond)
	}
}

// The NAS is answered once the record is in the journal, while the
// database is away; the record is applied once it returns, and
// retransmissions are answered from the reply cache meanwhile.
func TestAccountingJournalDatabaseAway(t *testing.T) {
	e := newEnv(t, KindMikrotik)
	e.srv.cfg.AcctRetry = 5 * time.Millisecond
	e.sink.mu.Lock()
	e.sink.err = errors.New("database is away")
	e.sink.mu.Unlock()
	dir := t.TempDir()
	j := startJournal(t, e, dir)

	raw, _ := encodeRequest(acctPacket(AcctInterim, "s1", func(p *radius.Packet) {
		p.Add(attrAcctInputOctets, radius.NewInteger(4242))
	}))
	answered := make(chan []byte, 1)
	e.srv.handleAcct(context.Background(), append([]byte(nil), raw...), src, func(b []byte) {
		// The record must be in the journal file before the answer leaves.
		inFile := 0
		for _, name := range segments(t, dir) {
			_, n, _ := scanSegment(name)
			inFile += n
		}
		if inFile != 1 {
			t.Errorf("answered with %d records in the journal, want 1", inFile)
		}
		answered <- b
	})
	select {
	case <-answered:
	case <-time.After(5 * time.Second):
		t.Fatal("not answered while the database is away")
	}
	if r := e.acct(t, append([]byte(nil), raw...)); r == nil || r.Code != radius.CodeAccountingResponse {
		t.Fatal("a retransmission was not answered from the reply cache")
	}
	waitFor(t, "write errors", func() bool { return e.srv.Stats().AcctWriteErrors > 0 })
	if st := e.srv.Stats(); st.AcctQueued != 1 || !st.AcctBacklog {
		t.Errorf("stats while the database is away: %+v", st)
	}
	e.sink.mu.Lock()
	e.sink.err = nil
	e.sink.mu.Unlock()
	waitFor(t, "the record in the database", func() bool { return len(e.sink.records()) == 1 })
	if r := e.sink.records()[0]; r.InputOctets != 4242 || r.SessionID != "s1" {
		t.Errorf("applied %+v", r)
	}
	waitFor(t, "the backlog to clear", func() bool { st := e.srv.Stats(); return st.AcctQueued == 0 && !st.AcctBacklog })
	if j.Backlog() != 0 {
		t.Errorf("journal backlog %d", j.Backlog())
	}
}

// A crash leaves records in the journal that never reached the database:
// the next start applies them once; applied again (a crash after the
// commit, before the segment was deleted) they change nothing.
func TestJournalCrashReplay(t *testing.T) {
	ctx := context.Background()
	db := storetest.SQLite(t)
	clk := clock.NewFake(t0j)
	b := billing.New(db, clk, billing.DefaultRules())
	sealer, _ := subscriber.NewSealer(make([]byte, 32))
	subs := subscriber.New(db, clk, sealer, b)
	if _, err := billing.AddTariff(ctx, db, billing.Tariff{Code: "home100", Name: "Дом 100", Fee: money.Rub(500),
		DownKbps: 100000, UpKbps: 100000, Public: true}, clk.Now()); err != nil {
		t.Fatal(err)
	}
	for _, login := range []string{"alice", "bob"} {
		if _, err := subs.Create(ctx, subscriber.NewAccount{Login: login, Password: "secret-pass", Tariff: "home100",
			PasswordHash: password.Hash("secret-pass")}); err != nil {
			t.Fatal(err)
		}
	}
	nas, err := NewNASStore(db, clk).Save(ctx, NAS{Name: "nas1", Addr: nasAddr, Secret: testSecret, Kind: KindMikrotik})
	if err != nil {
		t.Fatal(err)
	}
	at := func(m int) time.Time { return t0j.Add(time.Duration(m) * time.Minute) }
	recs := []AcctRecord{
		{Status: AcctStart, NASID: nas.ID, SessionID: "a", Login: "alice", Time: at(0)},
		{Status: AcctInterim, NASID: nas.ID, SessionID: "a", Login: "alice", InputOctets: 100, OutputOctets: 1000, SessionTime: 5 * time.Minute, Time: at(5)},
		{Status: AcctStart, NASID: nas.ID, SessionID: "b", Login: "bob", Time: at(6)},
		{Status: AcctInterim, NASID: nas.ID, SessionID: "a", Login: "alice", InputOctets: 200, OutputOctets: 2000, SessionTime: 10 * time.Minute, Time: at(10)},
		{Status: AcctStop, NASID: nas.ID, SessionID: "a", Login: "alice", InputOctets: 300, OutputOctets: 3000, SessionTime: 11 * time.Minute, TerminateCause: 1, Time: at(11)},
		// The NAS reboots; "b" closes, and "a" is reused by a new session.
		{Status: AcctOn, NASID: nas.ID, Time: at(12)},
		{Status: AcctStart, NASID: nas.ID, SessionID: "a", Login: "alice", Time: at(13)},
		{Status: AcctInterim, NASID: nas.ID, SessionID: "a", Login: "alice", InputOctets: 50, OutputOctets: 500, SessionTime: 2 * time.Minute, Time: at(15)},
	}
	dir := t.TempDir()
	j := openTestJournal(t, dir, JournalConfig{})
	appendRecs(t, j, recs[:4]...)
	appendRecs(t, j, recs[4:]...)
	j.Close() // the crash: nothing applied

	copies := map[string][]byte{}
	for _, name := range segments(t, dir) {
		b, _ := os.ReadFile(name)
		copies[name] = b
	}
	replay := func() {
		t.Helper()
		// A new process: nothing remembered of the open sessions.
		sink := TrafficSink{T: traffic.New(db, time.UTC)}
		srv := NewServer(Config{Logger: quietLog(), AcctBatchMax: 3}, nil, nil, sink)
		j := openTestJournal(t, dir, JournalConfig{})
		srv.cfg.Journal = j
		cctx, cancel := context.WithCancel(ctx)
		done := make(chan struct{})
		go func() { srv.applyJournal(cctx); close(done) }()
		waitFor(t, "the replay", func() bool { return j.Backlog() == 0 })
		cancel()
		<-done
		j.Close()
	}
	type state struct {
		Sessions string
		Usage    string
	}
	read := func() state {
		t.Helper()
		var s state
		rows, err := db.Query(ctx, `SELECT session_key || ':' || input_octets || ':' || output_octets || ':' || (stopped_at IS NULL) || ':' || stop_cause FROM sessions ORDER BY id`)
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var v string
			rows.Scan(&v)
			s.Sessions += v + " "
		}
		rows.Close()
		if err := db.QueryRow(ctx, `SELECT COALESCE(SUM(input_octets), 0) || '/' || COALESCE(SUM(output_octets), 0) FROM usage_daily`).Scan(&s.Usage); err != nil {
			t.Fatal(err)
		}
		return s
	}

	replay()
	first := read()
	want := state{Sessions: "a:300:3000:0:user-request b:0:0:0:nas-reboot a:50:500:1: ", Usage: "350/3500"}
	if first != want {
		t.Fatalf("after replay %+v, want %+v", first, want)
	}
	if n := len(segments(t, dir)); n != 1 {
		t.Errorf("%d segments after replay, want only the new one", n)
	}
	// The crash came after the commit, before the segments were deleted.
	for name, b := range copies {
		if err := os.WriteFile(name, b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	replay()
	if again := read(); again != first {
		t.Errorf("replayed twice:\n got %+v\nwant %+v", again, first)
	}
}
