package radius

import (
	"context"
	"errors"
	"testing"
	"time"

	"layeh.com/radius"
)

func acctPacket(st AcctStatus, session string, extra func(p *radius.Packet)) *radius.Packet {
	p := radius.New(radius.CodeAccountingRequest, []byte(testSecret))
	p.Add(attrAcctStatusType, radius.NewInteger(uint32(st)))
	if session != "" {
		p.Add(attrAcctSessionID, radius.Attribute(session))
	}
	p.Add(attrUserName, radius.Attribute("alice"))
	if extra != nil {
		extra(p)
	}
	return p
}

// acct runs one request through handleAcct and the writer; it returns the
// answer or nil when none came.
func (e *env) acct(t *testing.T, raw []byte) *radius.Packet {
	t.Helper()
	req := append([]byte(nil), raw...)
	got := make(chan []byte, 1)
	e.srv.handleAcct(context.Background(), raw, src, func(b []byte) { got <- append([]byte(nil), b...) })
	select {
	case b := <-got:
		if err := verifyResponse(b, req, []byte(testSecret)); err != nil {
			t.Fatalf("response not authentic: %v", err)
		}
		p, err := radius.Parse(b, []byte(testSecret))
		if err != nil {
			t.Fatal(err)
		}
		return p
	case <-time.After(200 * time.Millisecond):
		// No answer is the expected outcome for dropped packets; the writer
		// runs in the background, so the wait is for its goroutine, not for
		// the clock.
		return nil
	}
}

func startWriter(t *testing.T, e *env) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { e.srv.acctWriter(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
}

func TestAccountingRecords(t *testing.T) {
	e := newEnv(t, KindMikrotik)
	startWriter(t, e)
	p := acctPacket(AcctInterim, "81e00001", func(p *radius.Packet) {
		p.Add(attrAcctInputOctets, radius.NewInteger(5))
		p.Add(attrAcctInputGiga, radius.NewInteger(2))
		p.Add(attrAcctOutputOctets, radius.NewInteger(7))
		p.Add(attrAcctOutputGiga, radius.NewInteger(1))
		p.Add(attrAcctSessionTime, radius.NewInteger(3600))
		p.Add(attrAcctDelayTime, radius.NewInteger(4))
		p.Add(attrFramedIPAddress, radius.Attribute{10, 0, 0, 5})
		p.Add(attrCallingStationID, radius.Attribute("AA:BB:CC:DD:EE:FF"))
		p.Add(attrNASPort, radius.NewInteger(15728650))
		p.Add(attrNASPortID, radius.Attribute("ether2"))
		p.Add(attrClass, radius.Attribute("kabinet:1:0"))
	})
	raw, _ := encodeRequest(p)
	r := e.acct(t, raw)
	if r == nil || r.Code != radius.CodeAccountingResponse {
		t.Fatalf("want Accounting-Response, got %v", r)
	}
	recs := e.sink.records()
	if len(recs) != 1 {
		t.Fatalf("records = %d", len(recs))
	}
	got := recs[0]
	if got.InputOctets != 2<<32+5 || got.OutputOctets != 1<<32+7 {
		t.Errorf("octets in/out = %d/%d", got.InputOctets, got.OutputOctets)
	}
	if got.Status != AcctInterim || got.SessionID != "81e00001" || got.NASID != 7 || got.Login != "alice" ||
		got.FramedIP.String() != "10.0.0.5" || got.CallingStationID != "AA:BB:CC:DD:EE:FF" ||
		got.NASPort != 15728650 || got.NASPortID != "ether2" || got.SessionTime != time.Hour ||
		!got.Time.Equal(t0.Add(-4*time.Second)) || got.Class != "kabinet:1:0" {
		t.Errorf("record = %+v", got)
	}
	if id, lim, ok := ParseClass(got.Class); !ok || id != 1 || lim {
		t.Errorf("ParseClass = %d %v %v", id, lim, ok)
	}

	// The retransmission is answered from the cache and not written again.
	if r := e.acct(t, append([]byte(nil), raw...)); r == nil {
		t.Fatal("retransmission not answered")
	}
	if n := len(e.sink.records()); n != 1 {
		t.Errorf("records after retransmission = %d, want 1", n)
	}
}

func TestAccountingDropped(t *testing.T) {
	e := newEnv(t, KindMikrotik)
	startWriter(t, e)
	wrongSecret := acctPacket(AcctStart, "s", nil)
	wrongSecret.Secret = []byte("nope")
	ws, _ := encodeRequest(wrongSecret)
	noStatus := radius.New(radius.CodeAccountingRequest, []byte(testSecret))
	ns, _ := encodeRequest(noStatus)
	noSession, _ := encodeRequest(acctPacket(AcctStop, "", nil))
	badIP, _ := encodeRequest(acctPacket(AcctStart, "s", func(p *radius.Packet) { p.Add(attrFramedIPAddress, radius.Attribute{1, 2}) }))
	badInt, _ := encodeRequest(acctPacket(AcctStart, "s", func(p *radius.Packet) { p.Add(attrAcctInputOctets, radius.Attribute{1}) }))
	unsigned := acctPacket(AcctStart, "s", nil)
	us, _ := unsigned.MarshalBinary() // random authenticator instead of the MD5
	for name, raw := range map[string][]byte{
		"wrong secret": ws, "no status type": ns, "stop without session id": noSession,
		"bad framed ip": badIP, "bad integer": badInt, "request authenticator not computed": us,
	} {
		t.Run(name, func(t *testing.T) {
			if r := e.acct(t, raw); r != nil {
				t.Fatalf("answered: %v", r.Code)
			}
		})
	}
	if n := len(e.sink.records()); n != 0 {
		t.Errorf("records = %d", n)
	}
}

// While the database is away accounting is held and retried, not lost: the
// NAS is answered once the record is written, and its retransmissions in
// between neither get an early answer nor write the record twice.
func TestAccountingWriteFailure(t *testing.T) {
	e := newEnv(t, KindMikrotik)
	e.srv.cfg.AcctRetry = 5 * time.Millisecond
	e.sink.mu.Lock()
	e.sink.err = errors.New("database is away")
	e.sink.mu.Unlock()
	startWriter(t, e)
	raw, _ := encodeRequest(acctPacket(AcctStop, "s1", nil))
	answered := make(chan []byte, 2)
	e.srv.handleAcct(context.Background(), append([]byte(nil), raw...), src, func(b []byte) { answered <- b })
	if r := e.acct(t, append([]byte(nil), raw...)); r != nil {
		t.Fatal("a retransmission was answered before the record was safe")
	}
	select {
	case <-answered:
		t.Fatal("answered before the record was safe")
	default:
	}
	if st := e.srv.Stats(); !st.AcctBacklog || st.AcctWriteErrors == 0 {
		t.Errorf("stats do not show the backlog: %+v", st)
	}
	e.sink.mu.Lock()
	e.sink.err = nil
	e.sink.mu.Unlock()
	select {
	case <-answered:
	case <-time.After(5 * time.Second):
		t.Fatal("not answered after the database came back")
	}
	if n := len(e.sink.records()); n != 1 {
		t.Errorf("records = %d, want 1", n)
	}
	if st := e.srv.Stats(); st.AcctBacklog {
		t.Error("backlog still reported after recovery")
	}
}

func TestAccountingOnOff(t *testing.T) {
	e := newEnv(t, KindMikrotik)
	startWriter(t, e)
	p := radius.New(radius.CodeAccountingRequest, []byte(testSecret))
	p.Add(attrAcctStatusType, radius.NewInteger(uint32(AcctOn)))
	raw, _ := encodeRequest(p)
	if r := e.acct(t, raw); r == nil {
		t.Fatal("Accounting-On not answered")
	}
	if recs := e.sink.records(); len(recs) != 1 || recs[0].Status != AcctOn || recs[0].NASID != 7 {
		t.Fatalf("records = %+v", recs)
	}
}

func TestAccountingBatches(t *testing.T) {
	e := newEnv(t, KindMikrotik)
	// Queue many before the writer starts: they must go in few batches.
	const n = 300
	answered := make(chan struct{}, n)
	for i := range n {
		raw, _ := encodeRequest(acctPacket(AcctInterim, "s"+string(rune('a'+i%26))+string(rune('0'+i/26)), nil))
		e.srv.handleAcct(context.Background(), raw, src, func([]byte) { answered <- struct{}{} })
	}
	startWriter(t, e)
	for range n {
		select {
		case <-answered:
		case <-time.After(5 * time.Second):
			t.Fatal("not all answered")
		}
	}
	e.sink.mu.Lock()
	defer e.sink.mu.Unlock()
	if e.sink.calls != 1 || len(e.sink.recs) != n {
		t.Errorf("%d records in %d writes, want %d in 1", len(e.sink.recs), e.sink.calls, n)
	}
}

func TestParseClass(t *testing.T) {
	for _, c := range []struct {
		in      string
		id      int64
		limited bool
		ok      bool
	}{
		{"kabinet:42:0", 42, false, true},
		{"kabinet:7:1", 7, true, true},
		{classFor(Subscriber{AccountID: 1 << 40, Limited: true}), 1 << 40, true, true},
		{"kabinet:x:0", 0, false, false},
		{"kabinet:5", 0, false, false},
		{"kabinet:5:", 0, false, false},
		{"other:5:0", 0, false, false},
		{"", 0, false, false},
	} {
		id, lim, ok := ParseClass(c.in)
		if id != c.id || lim != c.limited || ok != c.ok {
			t.Errorf("ParseClass(%q) = %d %v %v, want %d %v %v", c.in, id, lim, ok, c.id, c.limited, c.ok)
		}
	}
}
