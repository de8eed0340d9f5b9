package main

import (
	"bytes"
	"context"
	"crypto/md5"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"log/slog"
	"net"
	"net/url"
	"os"
	"testing"
	"time"

	"layeh.com/radius"
	"layeh.com/radius/rfc2759"
	"layeh.com/radius/rfc2865"
	"layeh.com/radius/rfc2866"
	"layeh.com/radius/vendors/microsoft"

	radiussrv "github.com/kabinet-billing/kabinet/internal/radius"
	"github.com/kabinet-billing/kabinet/internal/store"
	"github.com/kabinet-billing/kabinet/internal/subscriber"
)

// RADIUS never logs a password (right or wrong, PAP, CHAP or MS-CHAPv2), a
// NAS shared secret (the right one or a wrong one a NAS sends with) or a
// sealed password, not even at Debug level. The NAS is added through the
// back office as an operator would; the service is wired as serve wires
// it, with a Debug logger on the same capture.
func TestRADIUSSecretsNotLogged(t *testing.T) {
	const (
		nasSecret      = "Nas-Shared-Secret-8842"
		wrongNASSecret = "Wrong-Nas-Secret-5519"
		wrong          = "Wrong-Radius-Pass-63"
		carolPassword  = "Carol-Radius-Pass-17"
	)
	s := newSecEnv(t, `public_url = "http://kabinet.test"`)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	db := s.app.e.db

	o := s.browser()
	o.get("/admin/login")
	o.post("/admin/login", url.Values{"login": {"op-admin"}, "password": {secOpPassword}})
	o.post("/admin/network/nas", url.Values{"name": {"nas-test"}, "addr": {"127.0.0.1"}, "secret": {nasSecret}, "kind": {"mikrotik"}})

	// carol's sealed password belongs to another login: it cannot be opened,
	// and the server says so in the log.
	if _, err := s.app.subs.Create(ctx, subscriber.NewAccount{Login: "carol", Password: carolPassword, Name: "Абонент carol",
		Tariff: "home", City: "tver", Email: "carol@example.net"}); err != nil {
		t.Fatal(err)
	}
	sealed := map[string]string{}
	var hashes []string
	for _, login := range []string{"alice", "bob", "carol"} {
		var enc, hash string
		if err := db.QueryRow(ctx, `SELECT password_enc, password_hash FROM accounts WHERE login = ?`, login).Scan(&enc, &hash); err != nil {
			t.Fatal(err)
		}
		sealed[login], hashes = enc, append(hashes, hash)
	}
	if err := db.Write(ctx, func(tx *store.Tx) error {
		_, err := tx.Exec(ctx, `UPDATE accounts SET password_enc = ? WHERE login = 'carol'`, sealed["alice"])
		return err
	}); err != nil {
		t.Fatal(err)
	}

	debug := slog.New(slog.NewTextHandler(s.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	slog.SetDefault(debug)
	svc := radiussrv.NewService(radiussrv.ServiceConfig{
		Server: radiussrv.Config{Clock: s.app.e.clock, Logger: debug, Workers: 2}},
		db, s.app.subs, s.app.biller, s.app.traffic)
	if err := svc.Load(ctx); err != nil {
		t.Fatal(err)
	}
	if list, err := svc.NAS.List(ctx); err != nil || len(list) != 1 || list[0].Secret != nasSecret {
		t.Fatalf("the NAS added in the back office: %v, %v", list, err)
	}
	udp := func() *net.UDPConn {
		c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	authConn, acctConn := udp(), udp()
	authAddr, acctAddr := authConn.LocalAddr().String(), acctConn.LocalAddr().String()
	done := make(chan error, 1)
	go func() { done <- svc.Server.Serve(ctx, authConn, acctConn) }()
	defer func() { cancel(); <-done }()

	exchange := func(p *radius.Packet, addr string) *radius.Packet {
		t.Helper()
		c, stop := context.WithTimeout(ctx, 2*time.Second)
		defer stop()
		if string(p.Secret) == wrongNASSecret {
			// The answer (if any) cannot be verified with the wrong secret.
			c, stop = context.WithTimeout(ctx, 300*time.Millisecond)
			defer stop()
		}
		resp, err := radius.Exchange(c, p, addr)
		if err != nil {
			return nil
		}
		return resp
	}
	random := func(n int) []byte { b := make([]byte, n); rand.Read(b); return b }
	request := func(secret, login string) *radius.Packet {
		p := radius.New(radius.CodeAccessRequest, []byte(secret))
		rfc2865.UserName_SetString(p, login)
		return p
	}
	pap := func(secret, login, pw string) *radius.Packet {
		p := request(secret, login)
		rfc2865.UserPassword_SetString(p, pw)
		return p
	}
	chap := func(secret, login, pw string) *radius.Packet {
		p := request(secret, login)
		challenge, ident := random(16), byte(7)
		h := md5.New()
		h.Write([]byte{ident})
		h.Write([]byte(pw))
		h.Write(challenge)
		rfc2865.CHAPChallenge_Set(p, challenge)
		rfc2865.CHAPPassword_Set(p, append([]byte{ident}, h.Sum(nil)...))
		return p
	}
	mschap := func(secret, login, pw string) *radius.Packet {
		p := request(secret, login)
		authC, peerC := random(16), random(16)
		nt, err := rfc2759.GenerateNTResponse(authC, peerC, []byte(login), []byte(pw))
		if err != nil {
			t.Fatal(err)
		}
		resp := make([]byte, 50)
		resp[0] = 9
		copy(resp[2:18], peerC)
		copy(resp[26:], nt)
		microsoft.MSCHAPChallenge_Add(p, authC)
		microsoft.MSCHAP2Response_Add(p, resp)
		return p
	}

	var class []byte
	for _, tc := range []struct {
		name string
		p    *radius.Packet
		want radius.Code // 0: no answer the client can verify
	}{
		{"pap right", pap(nasSecret, "alice", secSubPassword), radius.CodeAccessAccept},
		{"pap wrong", pap(nasSecret, "alice", wrong), radius.CodeAccessReject},
		{"chap right", chap(nasSecret, "alice", secSubPassword), radius.CodeAccessAccept},
		{"chap wrong", chap(nasSecret, "alice", wrong), radius.CodeAccessReject},
		{"ms-chapv2 right", mschap(nasSecret, "bob", secSubPassword), radius.CodeAccessAccept},
		{"ms-chapv2 wrong", mschap(nasSecret, "bob", wrong), radius.CodeAccessReject},
		{"pap unknown login", pap(nasSecret, "nobody", wrong), radius.CodeAccessReject},
		{"pap unopenable password", pap(nasSecret, "carol", carolPassword), radius.CodeAccessReject},
		{"pap wrong NAS secret", pap(wrongNASSecret, "alice", secSubPassword), 0},
		{"chap wrong NAS secret", chap(wrongNASSecret, "alice", secSubPassword), 0},
	} {
		resp := exchange(tc.p, authAddr)
		got := radius.Code(0)
		if resp != nil {
			got = resp.Code
		}
		if got != tc.want {
			t.Errorf("%s: answer %v, want %v", tc.name, got, tc.want)
		}
		if tc.name == "pap right" && resp != nil {
			class = rfc2865.Class_Get(resp)
		}
	}

	acct := func(secret string, status rfc2866.AcctStatusType) *radius.Packet {
		p := radius.New(radius.CodeAccountingRequest, []byte(secret))
		rfc2865.UserName_SetString(p, "alice")
		rfc2866.AcctStatusType_Set(p, status)
		rfc2866.AcctSessionID_SetString(p, "sess-1")
		rfc2865.Class_Set(p, class)
		rfc2865.FramedIPAddress_Set(p, net.IPv4(10, 0, 0, 5))
		rfc2866.AcctInputOctets_Set(p, 1000)
		rfc2866.AcctOutputOctets_Set(p, 2000)
		return p
	}
	for _, st := range []rfc2866.AcctStatusType{rfc2866.AcctStatusType_Value_Start, rfc2866.AcctStatusType_Value_InterimUpdate, rfc2866.AcctStatusType_Value_Stop} {
		if resp := exchange(acct(nasSecret, st), acctAddr); resp == nil || resp.Code != radius.CodeAccountingResponse {
			t.Errorf("accounting %v: %v", st, resp)
		}
	}
	if resp := exchange(acct(wrongNASSecret, rfc2866.AcctStatusType_Value_Start), acctAddr); resp != nil {
		t.Errorf("accounting with a wrong secret was answered: %v", resp.Code)
	}

	logs, err := os.ReadFile(s.logs.Name())
	if err != nil {
		t.Fatal(err)
	}
	// The capture works at Debug and saw every path.
	for _, want := range []string{"radius: access accepted", "radius: access rejected", "wrong password", "no such login",
		"cannot be opened", "radius: packet dropped", "bad Request Authenticator"} {
		if !bytes.Contains(logs, []byte(want)) {
			t.Errorf("the log lacks %q: the capture or the scenario is broken:\n%s", want, logs)
		}
	}
	secrets := []string{secSubPassword, wrong, carolPassword, secOpPassword, nasSecret, wrongNASSecret,
		sealed["alice"], sealed["bob"], sealed["carol"]}
	secrets = append(secrets, hashes...)
	for _, secret := range secrets {
		for _, form := range []string{secret, hex.EncodeToString([]byte(secret)), base64.StdEncoding.EncodeToString([]byte(secret))} {
			if bytes.Contains(logs, []byte(form)) {
				t.Errorf("the log contains the secret %q (as %q):\n%s", secret, form, logs)
			}
		}
	}
}
