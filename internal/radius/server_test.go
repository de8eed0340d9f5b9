package radius

import (
	"context"
	"crypto/md5"
	"encoding/binary"
	"errors"
	"log/slog"
	"net"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"layeh.com/radius"
	"layeh.com/radius/rfc2865"

	"github.com/kabinet-billing/kabinet/internal/clock"
	"github.com/kabinet-billing/kabinet/internal/operator"
	"github.com/kabinet-billing/kabinet/internal/store/storetest"
)

func TestMessageAuthenticator(t *testing.T) {
	t.Run("bad value is dropped", func(t *testing.T) {
		e := newEnv(t, KindMikrotik)
		_, raw := papRequest(t, "alice", "wonder", true)
		raw[len(raw)-1] ^= 1 // any change after signing breaks it
		raw2 := append([]byte(nil), raw...)
		if r := e.auth(t, raw); r != nil {
			t.Fatalf("answered a forged request: %v", r.Code)
		}
		// Signed with another secret.
		p, _ := papRequest(t, "alice", "wonder", false)
		p.Secret = []byte("other")
		b, _ := encodeAccessRequest(p)
		if r := e.auth(t, b); r != nil {
			t.Fatalf("answered a request signed with another secret")
		}
		_ = raw2
	})
	t.Run("two of them are dropped", func(t *testing.T) {
		e := newEnv(t, KindMikrotik)
		_, b := papRequest(t, "alice", "wonder", true)
		b = append(b, append([]byte{maType, 18}, make([]byte, 16)...)...)
		binary.BigEndian.PutUint16(b[2:4], uint16(len(b)))
		if r := e.auth(t, b); r != nil {
			t.Fatal("answered a request with two Message-Authenticators")
		}
	})
	t.Run("required by configuration", func(t *testing.T) {
		e := newEnv(t, KindMikrotik)
		n := e.nas[nasAddr]
		n.AllowUnsigned = false
		e.nas[nasAddr] = n
		_, raw := papRequest(t, "alice", "wonder", false)
		if r := e.auth(t, raw); r != nil {
			t.Fatal("answered a request without Message-Authenticator from a NAS that must send it")
		}
		_, raw = papRequest(t, "alice", "wonder", true)
		if r := e.auth(t, raw); r == nil || r.Code != radius.CodeAccessAccept {
			t.Fatal("signed request not accepted")
		}
	})
	t.Run("required once the NAS has sent one", func(t *testing.T) {
		e := newEnv(t, KindMikrotik)
		_, raw := papRequest(t, "alice", "wonder", false)
		if r := e.auth(t, raw); r == nil {
			t.Fatal("unsigned request from a NAS that never signs must be answered")
		}
		_, raw = papRequest(t, "alice", "wonder", true)
		if r := e.auth(t, raw); r == nil {
			t.Fatal("signed request not answered")
		}
		_, raw = papRequest(t, "alice", "wonder", false)
		if r := e.auth(t, raw); r != nil {
			t.Fatal("unsigned request answered after the NAS started signing (BlastRADIUS downgrade)")
		}
	})
	t.Run("kept for the next start", func(t *testing.T) {
		e := newEnv(t, KindMikrotik)
		keeper := &keepingNASList{fakeNASList: e.nas, kept: make(chan int64, 4)}
		e.srv.nas = keeper
		for range 2 {
			if _, raw := papRequest(t, "alice", "wonder", true); e.auth(t, raw) == nil {
				t.Fatal("signed request not answered")
			}
		}
		select {
		case id := <-keeper.kept:
			if id != 7 {
				t.Fatalf("kept NAS %d, want 7", id)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("the NAS's signing was not kept")
		}
		select {
		case <-keeper.kept:
			t.Error("kept twice")
		case <-time.After(50 * time.Millisecond):
		}
	})
	t.Run("reject is signed too", func(t *testing.T) {
		e := newEnv(t, KindMikrotik)
		_, raw := papRequest(t, "alice", "bad", false)
		r := e.auth(t, raw) // e.auth checks it is first and valid
		if r == nil || r.Code != radius.CodeAccessReject {
			t.Fatal("want Access-Reject")
		}
	})
}

func TestDroppedPackets(t *testing.T) {
	e := newEnv(t, KindMikrotik)
	_, good := papRequest(t, "alice", "wonder", false)
	setLen := func(b []byte, n int) []byte { binary.BigEndian.PutUint16(b[2:4], uint16(n)); return b }
	cp := func() []byte { return append([]byte(nil), good...) }
	tests := []struct {
		name string
		raw  []byte
	}{
		{"empty", nil},
		{"19 octets", cp()[:19]},
		{"length field past the datagram", setLen(cp(), len(good)+10)},
		{"length field below 20", setLen(cp(), 19)},
		{"truncated attribute", setLen(cp()[:len(good)-3], len(good)-3)},
		{"attribute length 0", func() []byte { b := cp(); b[21] = 0; return b }()},
		{"attribute length 1", func() []byte { b := cp(); b[21] = 1; return b }()},
		{"accounting code on auth port", func() []byte { b := cp(); b[0] = byte(radius.CodeAccountingRequest); return b }()},
		{"access-accept sent to us", func() []byte { b := cp(); b[0] = byte(radius.CodeAccessAccept); return b }()},
		{"oversized", make([]byte, 5000)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if b := e.srv.handleAuth(context.Background(), tt.raw, src); b != nil {
				t.Fatalf("answered a malformed packet")
			}
		})
	}
	t.Run("unknown NAS", func(t *testing.T) {
		if b := e.srv.handleAuth(context.Background(), cp(), netip.AddrPortFrom(otherAddr, 1812)); b != nil {
			t.Fatal("answered an unknown NAS")
		}
	})
	if got := e.srv.Stats().AccessAccepts; got != 0 {
		t.Errorf("accepts = %d", got)
	}
	// Trailing bytes beyond the length field are padding (RFC 2865 §3).
	padded := append(cp(), 0, 0, 0)
	if r := e.auth(t, padded); r == nil || r.Code != radius.CodeAccessAccept {
		t.Fatal("padded request not accepted")
	}
}

func TestDuplicateAuth(t *testing.T) {
	e := newEnv(t, KindMikrotik)
	_, raw := papRequest(t, "alice", "wonder", true)
	first := e.srv.handleAuth(context.Background(), append([]byte(nil), raw...), src)
	calls := e.dir.calls
	second := e.srv.handleAuth(context.Background(), append([]byte(nil), raw...), src)
	if first == nil || string(first) != string(second) {
		t.Fatal("retransmission not answered with the same bytes")
	}
	if st := e.srv.Stats(); st.AccessAccepts != 1 || st.Duplicates != 1 {
		t.Errorf("stats = %+v, want 1 accept and 1 duplicate", st)
	}
	if e.dir.calls != calls {
		t.Error("duplicate reached the directory")
	}
	// Another source port is another request.
	other := netip.AddrPortFrom(nasAddr, 40001)
	if b := e.srv.handleAuth(context.Background(), append([]byte(nil), raw...), other); b == nil {
		t.Fatal("no answer")
	}
	if st := e.srv.Stats(); st.AccessAccepts != 2 {
		t.Errorf("accepts = %d, want 2", st.AccessAccepts)
	}
	// After the TTL the same bytes are processed again.
	e.clk.Advance(31 * time.Second)
	e.srv.handleAuth(context.Background(), append([]byte(nil), raw...), src)
	if st := e.srv.Stats(); st.AccessAccepts != 3 {
		t.Errorf("accepts = %d, want 3 after the duplicate window", st.AccessAccepts)
	}
	e.srv.dedup.sweep(e.clk.Now().Add(time.Minute))
	if n := e.srv.dedup.len(); n != 0 {
		t.Errorf("dedup holds %d entries after sweep", n)
	}
}

func TestStatusServer(t *testing.T) {
	e := newEnv(t, KindMikrotik)
	p := radius.New(radius.CodeStatusServer, []byte(testSecret))
	if r := e.auth(t, encodeAccess(t, p, false)); r != nil {
		t.Fatal("Status-Server without Message-Authenticator answered")
	}
	p = radius.New(radius.CodeStatusServer, []byte(testSecret))
	if r := e.auth(t, encodeAccess(t, p, true)); r == nil || r.Code != radius.CodeAccessAccept {
		t.Fatal("Status-Server not answered")
	}
}

func TestCacheInvalidate(t *testing.T) {
	e := newEnv(t, KindMikrotik)
	ctx := context.Background()
	calls := e.dir.calls
	_, raw := papRequest(t, "alice", "wonder", false)
	if r := e.auth(t, raw); r.Code != radius.CodeAccessAccept {
		t.Fatal("want accept")
	}
	if e.dir.calls != calls {
		t.Fatal("a cached login reached the directory")
	}
	// A password change is seen right after Invalidate, not before.
	a := alice
	a.Password = "new"
	e.dir.set(a)
	_, raw = papRequest(t, "alice", "new", false)
	if r := e.auth(t, raw); r.Code != radius.CodeAccessReject {
		t.Fatal("cache changed without Invalidate")
	}
	if err := e.srv.subs.Invalidate(ctx, "alice"); err != nil {
		t.Fatal(err)
	}
	_, raw = papRequest(t, "alice", "new", false)
	if r := e.auth(t, raw); r.Code != radius.CodeAccessAccept {
		t.Fatal("new password rejected after Invalidate")
	}
	// An unknown login asks the directory once per negative TTL.
	calls = e.dir.calls
	for range 3 {
		_, raw = papRequest(t, "zed", "z", false)
		e.auth(t, raw)
	}
	if e.dir.calls != calls+1 {
		t.Errorf("unknown login looked up %d times, want 1", e.dir.calls-calls)
	}
	// Creating it and invalidating lets it in at once.
	e.dir.set(Subscriber{AccountID: 10, Login: "zed", Password: "z", Status: StatusActive})
	if err := e.srv.subs.Invalidate(ctx, "zed"); err != nil {
		t.Fatal(err)
	}
	_, raw = papRequest(t, "zed", "z", false)
	if r := e.auth(t, raw); r.Code != radius.CodeAccessAccept {
		t.Fatal("new login rejected after Invalidate")
	}
	// A debt limit on the account applies after InvalidateAccount.
	a.Status, a.Limited, a.DownKbps, a.UpKbps = StatusLimited, true, 128, 128
	e.dir.set(a)
	if err := e.srv.subs.InvalidateAccount(ctx, a.AccountID); err != nil {
		t.Fatal(err)
	}
	if got := e.srv.subs.Account(a.AccountID); len(got) != 1 || !got[0].Limited {
		t.Fatalf("account after invalidate = %+v", got)
	}
	// A directory error on invalidate drops the entry rather than keep it.
	e.dir.err = errors.New("disk on fire")
	if err := e.srv.subs.Invalidate(ctx, "alice"); err == nil {
		t.Fatal("want error")
	}
	_, raw = papRequest(t, "alice", "new", false)
	if r := e.auth(t, raw); r.Code != radius.CodeAccessReject {
		t.Fatal("accepted while the directory is down and the entry stale")
	}
}

// TestEndToEndUDP runs the real sockets once: Serve, an Access-Request and
// an Accounting-Request over loopback.
func TestEndToEndUDP(t *testing.T) {
	e := newEnv(t, KindMikrotik)
	authConn, acctConn := listenLoopback(t), listenLoopback(t)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- e.srv.Serve(ctx, authConn, acctConn) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
	}()

	p := radius.New(radius.CodeAccessRequest, []byte(testSecret))
	rfc2865.UserName_SetString(p, "alice")
	rfc2865.UserPassword_SetString(p, "wonder")
	resp, err := exchangeUDP(authConn.LocalAddr().String(), p)
	if err != nil {
		t.Fatal(err)
	}
	if resp.Code != radius.CodeAccessAccept {
		t.Fatalf("got %v", resp.Code)
	}

	a := acctPacket(AcctStart, "sess-1", nil)
	resp, err = exchangeUDP(acctConn.LocalAddr().String(), a)
	if err != nil {
		t.Fatal(err)
	}
	if resp.Code != radius.CodeAccountingResponse {
		t.Fatalf("got %v", resp.Code)
	}
	if recs := e.sink.records(); len(recs) != 1 || recs[0].SessionID != "sess-1" {
		t.Fatalf("records = %+v", recs)
	}
}

// exchangeUDP is a minimal client: layeh's Exchange neither sends nor
// checks Message-Authenticator, so it is checked here.
func exchangeUDP(addr string, p *radius.Packet) (*radius.Packet, error) {
	var req []byte
	var err error
	switch p.Code {
	case radius.CodeAccessRequest, radius.CodeStatusServer:
		req, err = encodeAccessRequest(p)
	default:
		req, err = encodeRequest(p)
	}
	if err != nil {
		return nil, err
	}
	c, err := net.Dial("udp", addr)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	if _, err := c.Write(req); err != nil {
		return nil, err
	}
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	buf := make([]byte, 4096)
	n, err := c.Read(buf)
	if err != nil {
		return nil, err
	}
	if err := verifyResponse(buf[:n], req, p.Secret); err != nil {
		return nil, err
	}
	return radius.Parse(buf[:n], p.Secret)
}

// keepingNASList records what the server asks it to keep.
type keepingNASList struct {
	fakeNASList
	kept chan int64
}

func (l *keepingNASList) RequireMessageAuthenticator(_ context.Context, id int64) error {
	l.kept <- id
	return nil
}

// syncLog collects log output written from the server's goroutines.
type syncLog struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *syncLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *syncLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestSigningByDefault: a NAS saved with the defaults gets no answer to an
// unsigned Access-Request, so CHAP made with any shared secret (which CHAP
// itself never proves) is not accepted from it; one the operator allows to
// go unsigned is answered, its first unsigned request is logged once, and
// after it signs, it is required to sign again with no restart needed for
// the operator to allow it once more.
func TestSigningByDefault(t *testing.T) {
	ctx := context.Background()
	db := storetest.SQLite(t)
	nas := NewNASStore(db, nil)
	x, err := nas.Save(ctx, NAS{Name: "bras-1", Addr: nasAddr, Secret: testSecret})
	if err != nil {
		t.Fatal(err)
	}
	dir := newFakeDir(alice)
	cache := NewCache(dir, clock.NewFake(t0), quietLog())
	if err := cache.Load(ctx); err != nil {
		t.Fatal(err)
	}
	logs := &syncLog{}
	srv := NewServer(Config{Clock: clock.NewFake(t0), Logger: slog.New(slog.NewTextHandler(logs, nil))}, cache, nas, &fakeSink{})
	e := &env{srv: srv, dir: dir}
	chapWith := func(secret string, signed bool) []byte {
		p := radius.New(radius.CodeAccessRequest, []byte(secret))
		p.Add(attrUserName, radius.Attribute("alice"))
		h := md5.New()
		h.Write([]byte{42})
		h.Write([]byte("wonder"))
		h.Write(p.Authenticator[:])
		p.Add(rfc2865.CHAPPassword_Type, radius.Attribute(append([]byte{42}, h.Sum(nil)...)))
		return encodeAccess(t, p, signed)
	}
	for _, secret := range []string{"wrong-secret", testSecret} {
		if b := srv.handleAuth(ctx, chapWith(secret, false), src); b != nil {
			t.Fatalf("unsigned CHAP with secret %q answered from a NAS with the default settings", secret)
		}
	}
	if r := e.auth(t, chapWith(testSecret, true)); r == nil || r.Code != radius.CodeAccessAccept {
		t.Fatalf("signed CHAP: %v", r)
	}

	anna := operator.Actor{Login: "anna"}
	if err := nas.SetAllowUnsigned(ctx, x.ID, true, anna); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if r := e.auth(t, chapWith(testSecret, false)); r == nil || r.Code != radius.CodeAccessAccept {
			t.Fatalf("unsigned CHAP from a NAS allowed to send it: %v", r)
		}
	}
	if n := strings.Count(logs.String(), "without Message-Authenticator"); n != 1 {
		t.Errorf("the unsigned requests were logged %d times, want once:\n%s", n, logs.String())
	}

	// It signs: kept (in the background), and unsigned requests are dropped.
	if r := e.auth(t, chapWith(testSecret, true)); r == nil {
		t.Fatal("signed CHAP not answered")
	}
	deadline := time.Now().Add(5 * time.Second)
	for got, _ := nas.LookupNAS(nasAddr); got.AllowUnsigned; got, _ = nas.LookupNAS(nasAddr) {
		if time.Now().After(deadline) {
			t.Fatal("signing was not kept")
		}
		time.Sleep(5 * time.Millisecond) // waiting for the server's goroutine, not a clock
	}
	if b := srv.handleAuth(ctx, chapWith(testSecret, false), src); b != nil {
		t.Fatal("unsigned request answered after the NAS signed")
	}
	// The operator allows it again: that holds at once.
	if err := nas.SetAllowUnsigned(ctx, x.ID, true, anna); err != nil {
		t.Fatal(err)
	}
	deadline = time.Now().Add(5 * time.Second)
	for srv.handleAuth(ctx, chapWith(testSecret, false), src) == nil {
		if time.Now().After(deadline) {
			t.Fatal("allowing unsigned requests again needed a restart")
		}
		time.Sleep(5 * time.Millisecond) // the keeper's goroutine forgets the address after its write
	}
}
