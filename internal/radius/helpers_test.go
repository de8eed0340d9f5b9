package radius

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"sync"
	"testing"
	"time"

	"layeh.com/radius"

	"github.com/kabinet-billing/kabinet/internal/clock"
	"github.com/kabinet-billing/kabinet/internal/derrors"
)

const testSecret = "s3cret-shared"

var (
	nasAddr   = netip.MustParseAddr("127.0.0.1")
	otherAddr = netip.MustParseAddr("192.0.2.99")
	t0        = time.Date(2025, 3, 1, 10, 0, 0, 0, time.UTC)
)

type fakeDir struct {
	mu    sync.Mutex
	subs  map[string]Subscriber
	calls int
	err   error
}

func newFakeDir(subs ...Subscriber) *fakeDir {
	d := &fakeDir{subs: map[string]Subscriber{}}
	for _, s := range subs {
		d.subs[s.Login] = s
	}
	return d
}

func (d *fakeDir) set(s Subscriber) {
	d.mu.Lock()
	d.subs[s.Login] = s
	d.mu.Unlock()
}

func (d *fakeDir) Lookup(_ context.Context, login string) (Subscriber, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.calls++
	if d.err != nil {
		return Subscriber{}, d.err
	}
	s, ok := d.subs[login]
	if !ok {
		return Subscriber{}, derrors.NotFound
	}
	return s, nil
}

func (d *fakeDir) LookupAccount(_ context.Context, id int64) ([]Subscriber, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.calls++
	var out []Subscriber
	for _, s := range d.subs {
		if s.AccountID == id {
			out = append(out, s)
		}
	}
	return out, nil
}

func (d *fakeDir) All(context.Context) ([]Subscriber, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	var out []Subscriber
	for _, s := range d.subs {
		out = append(out, s)
	}
	return out, nil
}

type fakeNASList map[netip.Addr]NAS

func (l fakeNASList) LookupNAS(a netip.Addr) (NAS, error) {
	n, ok := l[a]
	if !ok {
		return NAS{}, derrors.NotFound
	}
	return n, nil
}

type fakeSink struct {
	mu    sync.Mutex
	recs  []AcctRecord
	calls int
	err   error
	got   chan struct{}
}

func (s *fakeSink) WriteAccounting(_ context.Context, recs []AcctRecord) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls++
	if s.err != nil {
		return s.err
	}
	s.recs = append(s.recs, recs...)
	if s.got != nil {
		s.got <- struct{}{}
	}
	return nil
}

func (s *fakeSink) records() []AcctRecord {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]AcctRecord(nil), s.recs...)
}

func quietLog() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

var (
	alice = Subscriber{AccountID: 1, Login: "alice", Password: "wonder", Status: StatusActive, DownKbps: 100000, UpKbps: 50000}
	bob   = Subscriber{AccountID: 2, Login: "bob", Password: "builder", Status: StatusLimited, Limited: true, DownKbps: 128, UpKbps: 128}
	carol = Subscriber{AccountID: 3, Login: "carol", Password: "pw", Status: StatusBlocked, DownKbps: 1000, UpKbps: 1000}
	dave  = Subscriber{AccountID: 4, Login: "dave", Password: "static", Status: StatusActive, DownKbps: 20000, UpKbps: 20000,
		StaticIP: netip.MustParseAddr("203.0.113.7"), SessionTimeout: 24 * time.Hour}
	// RFC 2759 §9.2 user.
	rfcUser = Subscriber{AccountID: 5, Login: "User", Password: "clientPass", Status: StatusActive, DownKbps: 1000, UpKbps: 1000}
)

type env struct {
	srv  *Server
	dir  *fakeDir
	nas  fakeNASList
	sink *fakeSink
	clk  *clock.Fake
}

// newEnv builds a server without sockets: tests call handleAuth/handleAcct
// directly, which is what the read loops do.
func newEnv(t testing.TB, kind NASKind) *env {
	t.Helper()
	dir := newFakeDir(alice, bob, carol, dave, rfcUser)
	clk := clock.NewFake(t0)
	cache := NewCache(dir, clk, quietLog())
	if err := cache.Load(context.Background()); err != nil {
		t.Fatal(err)
	}
	// Allowed to send unsigned requests, as most of these tests do; the
	// default (signatures required) has tests of its own.
	nas := fakeNASList{nasAddr: {ID: 7, Name: "nas1", Addr: nasAddr, Secret: testSecret, Kind: kind, AllowUnsigned: true}}
	sink := &fakeSink{}
	srv := NewServer(Config{Clock: clk, Logger: quietLog(), InterimInterval: 300 * time.Second}, cache, nas, sink)
	return &env{srv: srv, dir: dir, nas: nas, sink: sink, clk: clk}
}

var src = netip.AddrPortFrom(nasAddr, 40000)

// auth sends raw to the auth handler and parses the answer (nil if none).
func (e *env) auth(t testing.TB, raw []byte) *radius.Packet {
	t.Helper()
	req := append([]byte(nil), raw...)
	b := e.srv.handleAuth(context.Background(), raw, src)
	if b == nil {
		return nil
	}
	if err := verifyResponse(b, req, []byte(testSecret)); err != nil {
		t.Fatalf("response not authentic: %v", err)
	}
	if b[20] != maType {
		t.Fatalf("first attribute is %d, want Message-Authenticator", b[20])
	}
	p, err := radius.Parse(b, []byte(testSecret))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func papRequest(t testing.TB, login, password string, withMA bool) (*radius.Packet, []byte) {
	t.Helper()
	p := radius.New(radius.CodeAccessRequest, []byte(testSecret))
	p.Add(attrUserName, radius.Attribute(login))
	pw, err := radius.NewUserPassword([]byte(password), p.Secret, p.Authenticator[:])
	if err != nil {
		t.Fatal(err)
	}
	p.Add(2, pw)
	return p, encodeAccess(t, p, withMA)
}

func encodeAccess(t testing.TB, p *radius.Packet, withMA bool) []byte {
	t.Helper()
	var b []byte
	var err error
	if withMA {
		b, err = encodeAccessRequest(p)
	} else {
		b, err = p.Encode()
	}
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// listenLoopback opens a UDP socket on 127.0.0.1 with a random port.
func listenLoopback(t testing.TB) *net.UDPConn {
	t.Helper()
	c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	return c
}
