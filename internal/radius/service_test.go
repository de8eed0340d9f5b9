package radius

import (
	"context"
	"net/netip"
	"testing"
	"time"

	"layeh.com/radius"
	"layeh.com/radius/rfc2865"
	"layeh.com/radius/vendors/mikrotik"

	"github.com/kabinet-billing/kabinet/internal/billing"
	"github.com/kabinet-billing/kabinet/internal/clock"
	"github.com/kabinet-billing/kabinet/internal/money"
	"github.com/kabinet-billing/kabinet/internal/password"
	"github.com/kabinet-billing/kabinet/internal/store"
	"github.com/kabinet-billing/kabinet/internal/store/storetest"
	"github.com/kabinet-billing/kabinet/internal/subscriber"
	"github.com/kabinet-billing/kabinet/internal/traffic"
)

type svcEnv struct {
	db    *store.DB
	clk   *clock.Fake
	svc   *Service
	subs  *subscriber.Directory
	b     *billing.Biller
	acct  int64
	fake  *fakeNASCoA
	auth  string
	acctA string
}

// newSvcEnv wires the service to a fresh SQLite database with one tariff,
// one subscriber ("alice1" / "secret-pass", 100M) and one NAS on loopback
// whose CoA listener is a fake driven by answer.
func newSvcEnv(t *testing.T, answer func(n int, p *radius.Packet) (radius.Code, uint32, bool)) *svcEnv {
	t.Helper()
	ctx := context.Background()
	db := storetest.SQLite(t)
	clk := clock.NewFake(time.Date(2025, 3, 10, 12, 0, 0, 0, time.UTC))
	b := billing.New(db, clk, billing.DefaultRules())
	sealer, _ := subscriber.NewSealer(make([]byte, 32))
	subs := subscriber.New(db, clk, sealer, b)
	if _, err := billing.AddTariff(ctx, db, billing.Tariff{Code: "home100", Name: "Дом 100", Fee: money.Rub(500),
		DownKbps: 100000, UpKbps: 100000, Public: true}, clk.Now()); err != nil {
		t.Fatal(err)
	}
	a, err := subs.Create(ctx, subscriber.NewAccount{Login: "alice1", Password: "secret-pass", Tariff: "home100",
		PasswordHash: password.Hash("secret-pass")})
	if err != nil {
		t.Fatal(err)
	}
	tr := traffic.New(db, time.UTC)
	svc := NewService(ServiceConfig{
		Server: Config{Clock: clk, Logger: quietLog()},
		CoA:    CoAConfig{Timeout: 30 * time.Millisecond, Attempts: 2},
	}, db, subs, b, tr)
	fake, nas := startFakeNAS(t, answer)
	nas.ID, nas.Secret = 0, testSecret
	if _, err := svc.NAS.Save(ctx, nas); err != nil {
		t.Fatal(err)
	}
	if err := svc.Load(ctx); err != nil {
		t.Fatal(err)
	}
	authConn, acctConn := listenLoopback(t), listenLoopback(t)
	sctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { svc.Server.Serve(sctx, authConn, acctConn); close(done) }()
	t.Cleanup(func() { cancel(); <-done; svc.Wait() })
	return &svcEnv{db: db, clk: clk, svc: svc, subs: subs, b: b, acct: a.ID, fake: fake,
		auth: authConn.LocalAddr().String(), acctA: acctConn.LocalAddr().String()}
}

func (e *svcEnv) pap(t *testing.T, login, pw string) *radius.Packet {
	t.Helper()
	p := radius.New(radius.CodeAccessRequest, []byte(testSecret))
	rfc2865.UserName_SetString(p, login)
	rfc2865.UserPassword_SetString(p, pw)
	resp, err := exchangeUDP(e.auth, p)
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

// drainEvents handles what the database published so far, as the event
// loop of Run would, and waits for the CoA it started.
func (e *svcEnv) drainEvents(t *testing.T) {
	t.Helper()
	for {
		select {
		case ev := <-e.svc.events:
			e.svc.HandleEvent(context.Background(), ev)
		default:
			e.svc.Wait()
			return
		}
	}
}

func (e *svcEnv) setStatus(t *testing.T, status, kind string) {
	t.Helper()
	ctx := context.Background()
	// What billing does when debt becomes overdue (or is paid): the status
	// and an event in one transaction.
	err := e.db.Write(ctx, func(tx *store.Tx) error {
		if _, err := tx.Exec(ctx, `UPDATE accounts SET status = ? WHERE id = ?`, status, e.acct); err != nil {
			return err
		}
		return tx.Emit(ctx, store.Event{Kind: kind, AccountID: e.acct, At: e.clk.Now()})
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestServiceAuthAccountingAndCoA(t *testing.T) {
	ctx := context.Background()
	e := newSvcEnv(t, func(_ int, p *radius.Packet) (radius.Code, uint32, bool) {
		if p.Code == radius.CodeDisconnectRequest {
			return radius.CodeDisconnectACK, 0, true
		}
		return radius.CodeCoAACK, 0, true
	})

	r := e.pap(t, "alice1", "secret-pass")
	if r.Code != radius.CodeAccessAccept || mikrotik.MikrotikRateLimit_GetString(r) != "100M/100M" {
		t.Fatalf("accept = %v, rate %q", r.Code, mikrotik.MikrotikRateLimit_GetString(r))
	}
	class := rfc2865.Class_GetString(r)
	if r := e.pap(t, "alice1", "wrong"); r.Code != radius.CodeAccessReject {
		t.Fatal("wrong password accepted")
	}

	// Start and an interim, echoing the Class.
	for _, st := range []AcctStatus{AcctStart, AcctInterim} {
		p := acctPacket(st, "81e00001", func(p *radius.Packet) {
			p.Set(attrUserName, radius.Attribute("alice1"))
			p.Add(attrClass, radius.Attribute(class))
			p.Add(attrFramedIPAddress, radius.Attribute{10, 0, 0, 9})
			if st == AcctInterim {
				p.Add(attrAcctInputOctets, radius.NewInteger(1000))
				p.Add(attrAcctOutputOctets, radius.NewInteger(2000))
			}
		})
		resp, err := exchangeUDP(e.acctA, p)
		if err != nil || resp.Code != radius.CodeAccountingResponse {
			t.Fatalf("accounting %v: %v %v", st, resp, err)
		}
	}
	open, err := e.svc.Traffic.OpenSessions(ctx, e.acct)
	if err != nil || len(open) != 1 || open[0].OutputOctets != 2000 || open[0].FramedIP.String() != "10.0.0.9" {
		t.Fatalf("open sessions = %+v, %v", open, err)
	}

	// Debt overdue: the cache follows the event and the NAS gets a CoA
	// with the limit rate and the walled garden.
	e.drainEvents(t) // account.created etc.
	before := len(e.fake.received())
	e.setStatus(t, "limited", store.EventAccountLimited)
	e.drainEvents(t)
	got := e.fake.received()[before:]
	if len(got) != 1 || got[0].Code != radius.CodeCoARequest {
		t.Fatalf("NAS received %d packets after the limit", len(got))
	}
	if rl, al := mikrotik.MikrotikRateLimit_GetString(got[0]), mikrotik.MikrotikAddressList_GetString(got[0]); rl != "128k/128k" || al != "debtors" {
		t.Errorf("CoA rate %q list %q", rl, al)
	}
	if string(got[0].Get(attrAcctSessionID)) != "81e00001" {
		t.Error("CoA does not name the session")
	}
	if r := e.pap(t, "alice1", "secret-pass"); mikrotik.MikrotikAddressList_GetString(r) != "debtors" {
		t.Error("new login after the limit is not in the walled garden")
	}

	// Blocked by an operator: disconnected, and refused afterwards.
	e.setStatus(t, "blocked", store.EventAccountStatus)
	e.drainEvents(t)
	got = e.fake.received()
	if got[len(got)-1].Code != radius.CodeDisconnectRequest {
		t.Errorf("blocked account's session got %v, want Disconnect-Request", got[len(got)-1].Code)
	}
	if r := e.pap(t, "alice1", "secret-pass"); r.Code != radius.CodeAccessReject {
		t.Error("blocked account accepted")
	}

	// The operator's button.
	res, err := e.svc.DisconnectSession(ctx, open[0].ID, "test")
	if err != nil || !res.OK {
		t.Fatalf("DisconnectSession = %+v, %v", res, err)
	}
	log, err := e.svc.CoALog(ctx, false, 10)
	if err != nil || len(log) != 3 || log[0].Reason != "test" || !log[0].OK || log[2].Reason != store.EventAccountLimited {
		t.Fatalf("CoA log = %+v, %v", log, err)
	}

	// Usage landed on the day.
	u, err := e.svc.Traffic.Usage(ctx, e.acct, "2025-03-10", "2025-03-10")
	if err != nil || len(u) != 1 || u[0].OutputOctets != 2000 {
		t.Fatalf("usage = %+v, %v", u, err)
	}

	// No interims for long: the session is closed as stale.
	e.clk.Advance(time.Hour)
	if n, err := e.svc.CloseStale(ctx); err != nil || n != 1 {
		t.Fatalf("CloseStale = %d, %v", n, err)
	}
}

func TestServiceCoAFailureIsLogged(t *testing.T) {
	ctx := context.Background()
	e := newSvcEnv(t, func(_ int, p *radius.Packet) (radius.Code, uint32, bool) {
		return 0, 0, false // the NAS never answers
	})
	p := acctPacket(AcctStart, "s1", func(p *radius.Packet) { p.Set(attrUserName, radius.Attribute("alice1")) })
	if _, err := exchangeUDP(e.acctA, p); err != nil {
		t.Fatal(err)
	}
	e.drainEvents(t)
	e.setStatus(t, "limited", store.EventAccountLimited)
	e.drainEvents(t)
	failed, err := e.svc.CoALog(ctx, true, 10)
	if err != nil || len(failed) != 1 || failed[0].Attempts != 2 || failed[0].Login != "alice1" || failed[0].NASName != "fake" {
		t.Fatalf("failures = %+v, %v", failed, err)
	}
	if len(e.svc.CoA.Failures()) != 1 {
		t.Error("in-memory failures missing")
	}
}

func TestNASStore(t *testing.T) {
	for name, open := range map[string]func(testing.TB) *store.DB{"sqlite": storetest.SQLite, "postgres": storetest.Postgres} {
		t.Run(name, func(t *testing.T) { testNASStore(t, open(t)) })
	}
}

func testNASStore(t *testing.T, db *store.DB) {
	ctx := context.Background()
	n := NewNASStore(db, nil)
	x, err := n.Save(ctx, NAS{Name: "core-1", Addr: mustAddr("::ffff:192.0.2.1"), Secret: "long-enough", Kind: KindCisco, AllowUnsigned: true})
	if err != nil {
		t.Fatal(err)
	}
	if got, err := n.LookupNAS(mustAddr("192.0.2.1")); err != nil || got.ID != x.ID || got.Kind != KindCisco || got.CoAPort != 3799 {
		t.Fatalf("lookup = %+v, %v", got, err)
	}
	for _, bad := range []NAS{
		{Name: "short", Addr: mustAddr("192.0.2.2"), Secret: "short"},
		{Name: "kind", Addr: mustAddr("192.0.2.3"), Secret: "long-enough", Kind: "nokia"},
		{Name: "core-1", Addr: mustAddr("192.0.2.4"), Secret: "long-enough"},
	} {
		if _, err := n.Save(ctx, bad); err == nil {
			t.Errorf("saved invalid %+v", bad)
		}
	}
	if err := n.RequireMessageAuthenticator(ctx, x.ID); err != nil {
		t.Fatal(err)
	}
	if got, _ := n.LookupNAS(mustAddr("192.0.2.1")); got.AllowUnsigned {
		t.Error("Message-Authenticator not required after RequireMessageAuthenticator")
	}
	if list, err := NewNASStore(db, nil).List(ctx); err != nil || len(list) != 1 || list[0].AllowUnsigned {
		t.Errorf("not kept in the database: %+v %v", list, err)
	}
	if err := n.Delete(ctx, x.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := n.LookupNAS(mustAddr("192.0.2.1")); err == nil {
		t.Error("deleted NAS still answers")
	}
}

func mustAddr(s string) netip.Addr { return netip.MustParseAddr(s).Unmap() }
