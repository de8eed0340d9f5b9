package importer

import (
	"context"
	"crypto/hmac"
	"crypto/md5"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"testing"
	"time"

	"layeh.com/radius"
	"layeh.com/radius/rfc2865"

	"github.com/kabinet-billing/kabinet/internal/importer/importtest"
	kradius "github.com/kabinet-billing/kabinet/internal/radius"
	"github.com/kabinet-billing/kabinet/internal/store/storetest"
	"github.com/kabinet-billing/kabinet/internal/traffic"
)

const nasSecret = "nas-secret"

// TestUbillingRadius: the access router keeps working after the cut-over:
// the imported subscribers pass PAP and CHAP with their Ubilling passwords
// through Kabinet's RADIUS server and get their own address; a blocked one
// does not get in.
func TestUbillingRadius(t *testing.T) {
	dsn, src := importtest.SourceDB(t, "ubilling/stargazer.sql", "ubilling/ubilling.sql")
	ctx := context.Background()
	if err := importtest.FillUbilling(ctx, src, 12, 1); err != nil {
		t.Fatal(err)
	}
	db := storetest.SQLite(t)
	tg := newTarget(t, db)
	o := tg.options(false)
	if _, err := Run(ctx, db, openUbilling(t, dsn), o); err != nil {
		t.Fatal(err)
	}
	svc := kradius.NewService(kradius.ServiceConfig{Server: kradius.Config{Clock: tg.clk, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}},
		db, tg.dir, tg.b, traffic.New(db, time.UTC))
	if _, err := svc.NAS.Save(ctx, kradius.NAS{Name: "nas1", Addr: netip.MustParseAddr("127.0.0.1"), Secret: nasSecret}); err != nil {
		t.Fatal(err)
	}
	if err := svc.Load(ctx); err != nil {
		t.Fatal(err)
	}
	listen := func() *net.UDPConn {
		c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	authConn, acctConn := listen(), listen()
	sctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { svc.Server.Serve(sctx, authConn, acctConn); close(done) }()
	t.Cleanup(func() { cancel(); <-done; svc.Wait() })
	addr := authConn.LocalAddr().String()

	active, blocked := importtest.UbillingUser(1), importtest.UbillingUser(11)
	if active.Down || active.Passive || !blocked.Down {
		t.Fatal("the generator's statuses moved")
	}
	for _, tc := range []struct {
		name  string
		login string
		pw    string
		chap  bool
		want  radius.Code
	}{
		{"PAP", active.Login, active.Password, false, radius.CodeAccessAccept},
		{"PAP wrong password", active.Login, active.Password + "!", false, radius.CodeAccessReject},
		{"CHAP", active.Login, active.Password, true, radius.CodeAccessAccept},
		{"CHAP wrong password", active.Login, "nope", true, radius.CodeAccessReject},
		{"blocked in Ubilling", blocked.Login, blocked.Password, false, radius.CodeAccessReject},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := radius.New(radius.CodeAccessRequest, []byte(nasSecret))
			rfc2865.UserName_SetString(p, tc.login)
			if tc.chap {
				challenge := []byte("0123456789abcdef")
				p.Add(rfc2865.CHAPChallenge_Type, radius.Attribute(challenge))
				h := md5.New()
				h.Write([]byte{7})
				h.Write([]byte(tc.pw))
				h.Write(challenge)
				p.Add(rfc2865.CHAPPassword_Type, radius.Attribute(append([]byte{7}, h.Sum(nil)...)))
			} else {
				rfc2865.UserPassword_SetString(p, tc.pw)
			}
			resp := exchange(t, addr, p)
			if resp.Code != tc.want {
				t.Fatalf("%s: %v, want %v", tc.login, resp.Code, tc.want)
			}
			if resp.Code == radius.CodeAccessAccept {
				if ip := rfc2865.FramedIPAddress_Get(resp); ip.String() != active.IP {
					t.Errorf("Framed-IP-Address %v, want the Ubilling address %s", ip, active.IP)
				}
			}
		})
	}
}

// exchange sends an Access-Request signed with a Message-Authenticator and
// returns the answer.
func exchange(t *testing.T, addr string, p *radius.Packet) *radius.Packet {
	t.Helper()
	p.Add(80, make(radius.Attribute, 16)) // Message-Authenticator, last
	raw, err := p.Encode()
	if err != nil {
		t.Fatal(err)
	}
	mac := hmac.New(md5.New, []byte(nasSecret))
	mac.Write(raw)
	copy(raw[len(raw)-16:], mac.Sum(nil))
	c, err := net.Dial("udp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := c.Write(raw); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 4096)
	n, err := c.Read(buf)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := radius.Parse(buf[:n], []byte(nasSecret))
	if err != nil {
		t.Fatal(err)
	}
	return resp
}
