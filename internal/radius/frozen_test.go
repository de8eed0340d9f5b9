package radius

import (
	"testing"

	"layeh.com/radius"
	"layeh.com/radius/rfc2865"
	"layeh.com/radius/vendors/mikrotik"

	"github.com/kabinet-billing/kabinet/internal/store"
)

// TestFrozenAnswer: a line frozen by a voluntary suspension is rejected by
// default, and with [suspension] radius naming an address list it is
// admitted into that list (the NAS redirects it to the portal), at the
// rate billing gives it; a blocked line is rejected either way.
func TestFrozenAnswer(t *testing.T) {
	frozen := Subscriber{AccountID: 9, Login: "frank", Password: "away", Status: StatusFrozen, DownKbps: 128, UpKbps: 128}
	for _, c := range []struct {
		name, list, login, pass string
		want                    radius.Code
		addrList                string
	}{
		{name: "frozen, reject", login: "frank", pass: "away", want: radius.CodeAccessReject},
		{name: "frozen, redirect", list: "vacation", login: "frank", pass: "away", want: radius.CodeAccessAccept, addrList: "vacation"},
		{name: "frozen, redirect, wrong password", list: "vacation", login: "frank", pass: "nope", want: radius.CodeAccessReject},
		{name: "blocked, redirect set", list: "vacation", login: "carol", pass: "pw", want: radius.CodeAccessReject},
		{name: "limited keeps the debtors' list", list: "vacation", login: "bob", pass: "builder", want: radius.CodeAccessAccept, addrList: "debtors"},
	} {
		t.Run(c.name, func(t *testing.T) {
			e := newEnv(t, KindMikrotik)
			e.srv.cfg.Reply.FrozenList = c.list
			e.dir.set(frozen)
			if err := e.srv.subs.Load(t.Context()); err != nil {
				t.Fatal(err)
			}
			_, raw := papRequest(t, c.login, c.pass, false)
			resp := e.auth(t, raw)
			if resp == nil || resp.Code != c.want {
				t.Fatalf("answer %v, want %v", resp, c.want)
			}
			if c.want != radius.CodeAccessAccept {
				return
			}
			if got := mikrotik.MikrotikAddressList_GetString(resp); got != c.addrList {
				t.Errorf("Mikrotik-Address-List = %q, want %q", got, c.addrList)
			}
		})
	}
}

// TestServiceFrozenCoA: when a voluntary suspension freezes the account
// (account.status), its live session is disconnected, or, with a redirect
// list, moved into that list at the limit rate by CoA; a new login is
// answered the same way.
func TestServiceFrozenCoA(t *testing.T) {
	for _, c := range []struct {
		name, list string
		want       radius.Code
	}{
		{"reject", "", radius.CodeDisconnectRequest},
		{"redirect", "vacation", radius.CodeCoARequest},
	} {
		t.Run(c.name, func(t *testing.T) {
			e := newSvcEnv(t, func(_ int, p *radius.Packet) (radius.Code, uint32, bool) {
				if p.Code == radius.CodeDisconnectRequest {
					return radius.CodeDisconnectACK, 0, true
				}
				return radius.CodeCoAACK, 0, true
			})
			e.svc.cfg.Server.Reply.FrozenList = c.list
			e.svc.Server.cfg.Reply.FrozenList = c.list
			e.svc.CoA.cfg.Reply.FrozenList = c.list
			r := e.pap(t, "alice1", "secret-pass")
			p := acctPacket(AcctStart, "81e00002", func(p *radius.Packet) {
				p.Set(attrUserName, radius.Attribute("alice1"))
				p.Add(attrClass, radius.Attribute(rfc2865.Class_GetString(r)))
			})
			if resp, err := exchangeUDP(e.acctA, p); err != nil || resp.Code != radius.CodeAccountingResponse {
				t.Fatalf("accounting start: %v %v", resp, err)
			}
			e.drainEvents(t)
			before := len(e.fake.received())
			e.setStatus(t, "frozen", store.EventAccountStatus)
			e.drainEvents(t)
			got := e.fake.received()[before:]
			if len(got) != 1 || got[0].Code != c.want {
				t.Fatalf("NAS received %d packets, want one %v", len(got), c.want)
			}
			if c.list != "" {
				if rl, al := mikrotik.MikrotikRateLimit_GetString(got[0]), mikrotik.MikrotikAddressList_GetString(got[0]); rl != "128k/128k" || al != c.list {
					t.Errorf("CoA rate %q list %q, want 128k/128k %s", rl, al, c.list)
				}
			}
			r = e.pap(t, "alice1", "secret-pass")
			if c.list == "" && r.Code != radius.CodeAccessReject || c.list != "" && mikrotik.MikrotikAddressList_GetString(r) != c.list {
				t.Errorf("new login while frozen: %v, list %q", r.Code, mikrotik.MikrotikAddressList_GetString(r))
			}
		})
	}
}
