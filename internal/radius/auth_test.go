package radius

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/hex"
	"strings"
	"testing"

	"layeh.com/radius"
	"layeh.com/radius/rfc2759"
	"layeh.com/radius/rfc2865"
	"layeh.com/radius/rfc3079"
	"layeh.com/radius/vendors/microsoft"
	"layeh.com/radius/vendors/mikrotik"
	"layeh.com/radius/vendors/wispr"
)

func unhex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// RFC 2759 §9.2 and RFC 3079 §3.5.3 worked example.
const (
	rfcAuthChallenge = "5B5D7C7D7B3F2F3E3C2C602132262628"
	rfcPeerChallenge = "21402324255E262A28295F2B3A337C7E"
	rfcNTResponse    = "82309ECD8D708B5EA08FAA3981CD83544233114A3D85D6DF"
	rfcAuthResponse  = "S=407A5589115FD0D6209F510FE9C04566932CDA56"
	rfcMasterKey     = "FDECE3717A8C838CB388E527AE3CDD31"
	rfcSendKey128    = "8B7CDC149B993A1BA118CB153F56DCCB"
)

func TestRFC2759Vectors(t *testing.T) {
	authC, peerC := unhex(t, rfcAuthChallenge), unhex(t, rfcPeerChallenge)
	nt, err := rfc2759.GenerateNTResponse(authC, peerC, []byte("User"), []byte("clientPass"))
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.ToUpper(hex.EncodeToString(nt)); got != rfcNTResponse {
		t.Errorf("NT-Response = %s, want %s", got, rfcNTResponse)
	}
	ar, err := rfc2759.GenerateAuthenticatorResponse(authC, peerC, nt, []byte("User"), []byte("clientPass"))
	if err != nil {
		t.Fatal(err)
	}
	if ar != rfcAuthResponse {
		t.Errorf("AuthenticatorResponse = %s, want %s", ar, rfcAuthResponse)
	}
	pwHash := rfc2759.NTPasswordHash(must(rfc2759.ToUTF16([]byte("clientPass"))))
	if got := strings.ToUpper(hex.EncodeToString(pwHash)); got != "44EBBA8D5312B8D611474411F56989AE" {
		t.Errorf("PasswordHash = %s", got)
	}
	master := rfc3079.GetMasterKey(rfc2759.NTPasswordHash(pwHash), nt)
	if got := strings.ToUpper(hex.EncodeToString(master)); got != rfcMasterKey {
		t.Errorf("MasterKey = %s, want %s", got, rfcMasterKey)
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

func mschapRequest(t testing.TB, login string, ident byte, authC, peerC, nt []byte) []byte {
	t.Helper()
	p := radius.New(radius.CodeAccessRequest, []byte(testSecret))
	p.Add(attrUserName, radius.Attribute(login))
	resp := make([]byte, 50)
	resp[0] = ident
	copy(resp[2:18], peerC)
	copy(resp[26:50], nt)
	if err := microsoft.MSCHAPChallenge_Add(p, authC); err != nil {
		t.Fatal(err)
	}
	if err := microsoft.MSCHAP2Response_Add(p, resp); err != nil {
		t.Fatal(err)
	}
	return encodeAccess(t, p, true)
}

func TestMSCHAPv2RFCExample(t *testing.T) {
	e := newEnv(t, KindMikrotik)
	authC, peerC, nt := unhex(t, rfcAuthChallenge), unhex(t, rfcPeerChallenge), unhex(t, rfcNTResponse)
	raw := mschapRequest(t, "User", 0x11, authC, peerC, nt)
	req, _ := radius.Parse(raw, []byte(testSecret))
	resp := e.auth(t, raw)
	if resp == nil || resp.Code != radius.CodeAccessAccept {
		t.Fatalf("want Access-Accept, got %v", resp)
	}
	success := microsoft.MSCHAP2Success_Get(resp)
	if want := append([]byte{0x11}, rfcAuthResponse...); !bytes.Equal(success, want) {
		t.Errorf("MS-CHAP2-Success = %q, want %q", success, want)
	}
	// The keys are hidden with the request authenticator (RFC 2548 §2.4).
	send := microsoft.MSMPPESendKey_Get(resp, req)
	recv := microsoft.MSMPPERecvKey_Get(resp, req)
	if len(send) < 16 || len(recv) < 16 {
		t.Fatalf("MPPE keys missing: send %x recv %x", send, recv)
	}
	// RFC 3079 §3.5.3 gives the 128-bit start key for the direction the
	// client sends in, which is the server's receive key.
	if got := strings.ToUpper(hex.EncodeToString(recv[:16])); got != rfcSendKey128 && strings.ToUpper(hex.EncodeToString(send[:16])) != rfcSendKey128 {
		t.Errorf("neither MPPE key matches RFC 3079: send %x recv %x", send[:16], recv[:16])
	}

	// The same exchange with the wrong password is rejected.
	bad := mschapRequest(t, "User", 0x11, authC, peerC, must(rfc2759.GenerateNTResponse(authC, peerC, []byte("User"), []byte("guess"))))
	if r := e.auth(t, bad); r == nil || r.Code != radius.CodeAccessReject {
		t.Fatalf("wrong password: want Access-Reject, got %v", r)
	}
	// A domain prefix is not part of the challenge hash (RFC 2759 §8.2).
	e.dir.set(Subscriber{AccountID: 9, Login: `CORP\User`, Password: "clientPass", Status: StatusActive})
	if r := e.auth(t, mschapRequest(t, `CORP\User`, 1, authC, peerC, nt)); r == nil || r.Code != radius.CodeAccessAccept {
		t.Fatalf("domain user: want Access-Accept, got %v", r)
	}
}

func chapRequest(t testing.TB, login, password string, withChallenge bool) []byte {
	t.Helper()
	p := radius.New(radius.CodeAccessRequest, []byte(testSecret))
	p.Add(attrUserName, radius.Attribute(login))
	challenge := p.Authenticator[:]
	if withChallenge {
		challenge = []byte("0123456789abcdef01")
		p.Add(rfc2865.CHAPChallenge_Type, radius.Attribute(challenge))
	}
	h := md5.New()
	h.Write([]byte{42})
	h.Write([]byte(password))
	h.Write(challenge)
	p.Add(rfc2865.CHAPPassword_Type, radius.Attribute(append([]byte{42}, h.Sum(nil)...)))
	return encodeAccess(t, p, false)
}

func TestAuthenticate(t *testing.T) {
	tests := []struct {
		name string
		raw  func(t testing.TB) []byte
		want radius.Code
	}{
		{"pap ok", func(t testing.TB) []byte { _, b := papRequest(t, "alice", "wonder", false); return b }, radius.CodeAccessAccept},
		{"pap with message-authenticator", func(t testing.TB) []byte { _, b := papRequest(t, "alice", "wonder", true); return b }, radius.CodeAccessAccept},
		{"pap long password", func(t testing.TB) []byte {
			e := strings.Repeat("x", 40)
			_, b := papRequest(t, "alice", e, false)
			return b
		}, radius.CodeAccessReject},
		{"pap wrong password", func(t testing.TB) []byte { _, b := papRequest(t, "alice", "wonderx", false); return b }, radius.CodeAccessReject},
		{"pap prefix of password", func(t testing.TB) []byte { _, b := papRequest(t, "alice", "wonde", false); return b }, radius.CodeAccessReject},
		{"no such login", func(t testing.TB) []byte { _, b := papRequest(t, "mallory", "x", false); return b }, radius.CodeAccessReject},
		{"blocked", func(t testing.TB) []byte { _, b := papRequest(t, "carol", "pw", false); return b }, radius.CodeAccessReject},
		{"limited is admitted", func(t testing.TB) []byte { _, b := papRequest(t, "bob", "builder", false); return b }, radius.CodeAccessAccept},
		{"chap with authenticator", func(t testing.TB) []byte { return chapRequest(t, "alice", "wonder", false) }, radius.CodeAccessAccept},
		{"chap with challenge", func(t testing.TB) []byte { return chapRequest(t, "alice", "wonder", true) }, radius.CodeAccessAccept},
		{"chap wrong", func(t testing.TB) []byte { return chapRequest(t, "alice", "nope", true) }, radius.CodeAccessReject},
		{"no credentials", func(t testing.TB) []byte {
			p := radius.New(radius.CodeAccessRequest, []byte(testSecret))
			p.Add(attrUserName, radius.Attribute("alice"))
			return encodeAccess(t, p, false)
		}, radius.CodeAccessReject},
		{"no user name", func(t testing.TB) []byte { _, b := papRequest(t, "", "wonder", false); return b }, radius.CodeAccessReject},
		{"chap password short", func(t testing.TB) []byte {
			p := radius.New(radius.CodeAccessRequest, []byte(testSecret))
			p.Add(attrUserName, radius.Attribute("alice"))
			p.Add(rfc2865.CHAPPassword_Type, radius.Attribute("short"))
			return encodeAccess(t, p, false)
		}, radius.CodeAccessReject},
		{"ms-chapv2 response without challenge", func(t testing.TB) []byte {
			p := radius.New(radius.CodeAccessRequest, []byte(testSecret))
			p.Add(attrUserName, radius.Attribute("alice"))
			microsoft.MSCHAP2Response_Add(p, make([]byte, 50))
			return encodeAccess(t, p, false)
		}, radius.CodeAccessReject},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, KindMikrotik)
			resp := e.auth(t, tt.raw(t))
			if resp == nil {
				t.Fatal("no response")
			}
			if resp.Code != tt.want {
				t.Fatalf("got %v, want %v", resp.Code, tt.want)
			}
			if tt.want == radius.CodeAccessReject && len(resp.Attributes) != 1 {
				t.Errorf("Access-Reject carries %d attributes, want only Message-Authenticator", len(resp.Attributes))
			}
		})
	}
}

func vendorValues(p *radius.Packet, vendor uint32, typ byte) []string {
	var out []string
	for _, avp := range p.Attributes {
		if avp.Type != rfc2865.VendorSpecific_Type {
			continue
		}
		id, v, err := radius.VendorSpecific(avp.Attribute)
		if err != nil || id != vendor || len(v) < 2 || v[0] != typ {
			continue
		}
		out = append(out, string(v[2:v[1]]))
	}
	return out
}

func TestAcceptAttributesPerKind(t *testing.T) {
	tests := []struct {
		kind  NASKind
		login string
		pass  string
		check func(t *testing.T, p *radius.Packet)
	}{
		{KindMikrotik, "alice", "wonder", func(t *testing.T, p *radius.Packet) {
			if got := mikrotik.MikrotikRateLimit_GetString(p); got != "50M/100M" {
				t.Errorf("Mikrotik-Rate-Limit = %q, want upload/download 50M/100M", got)
			}
			if got := mikrotik.MikrotikAddressList_GetString(p); got != "" {
				t.Errorf("active subscriber in address list %q", got)
			}
		}},
		{KindMikrotik, "bob", "builder", func(t *testing.T, p *radius.Packet) {
			if got := mikrotik.MikrotikRateLimit_GetString(p); got != "128k/128k" {
				t.Errorf("Mikrotik-Rate-Limit = %q, want 128k/128k", got)
			}
			if got := mikrotik.MikrotikAddressList_GetString(p); got != "debtors" {
				t.Errorf("Mikrotik-Address-List = %q, want debtors", got)
			}
			if got := rfc2865.Class_GetString(p); got != "kabinet:2:1" {
				t.Errorf("Class = %q", got)
			}
		}},
		{KindCisco, "alice", "wonder", func(t *testing.T, p *radius.Packet) {
			got := strings.Join(vendorValues(p, vendorCisco, 1), ",")
			if got != "subscriber:sub-qos-policy-in=kabinet-up-50000k,subscriber:sub-qos-policy-out=kabinet-down-100000k" {
				t.Errorf("Cisco-AVPair = %s", got)
			}
		}},
		{KindCisco, "bob", "builder", func(t *testing.T, p *radius.Packet) {
			if got := strings.Join(vendorValues(p, vendorCisco, 1), ","); !strings.Contains(got, "=debtors") {
				t.Errorf("limited Cisco-AVPair = %s", got)
			}
		}},
		{KindJuniper, "alice", "wonder", func(t *testing.T, p *radius.Packet) {
			if got := vendorValues(p, vendorUnisphere, 65); len(got) != 1 || got[0] != "\x01kabinet-rate(100000000,50000000)" {
				t.Errorf("ERX-Service-Activate = %q", got)
			}
		}},
		{KindAccel, "alice", "wonder", func(t *testing.T, p *radius.Packet) {
			if got := rfc2865.FilterID_GetString(p); got != "100000/50000" {
				t.Errorf("Filter-Id = %q, want down/up kbit/s", got)
			}
		}},
		{KindGeneric, "alice", "wonder", func(t *testing.T, p *radius.Packet) {
			if up, down := wispr.WISPrBandwidthMaxUp_Get(p), wispr.WISPrBandwidthMaxDown_Get(p); up != 50000000 || down != 100000000 {
				t.Errorf("WISPr up/down = %d/%d", up, down)
			}
		}},
		{KindMikrotik, "dave", "static", func(t *testing.T, p *radius.Packet) {
			if ip := rfc2865.FramedIPAddress_Get(p); ip.String() != "203.0.113.7" {
				t.Errorf("Framed-IP-Address = %v", ip)
			}
			if st := rfc2865.SessionTimeout_Get(p); st != 86400 {
				t.Errorf("Session-Timeout = %d", st)
			}
			if v, _ := radius.Integer(p.Get(85)); v != 300 {
				t.Errorf("Acct-Interim-Interval = %d", v)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(string(tt.kind)+"/"+tt.login, func(t *testing.T) {
			e := newEnv(t, tt.kind)
			_, raw := papRequest(t, tt.login, tt.pass, true)
			resp := e.auth(t, raw)
			if resp == nil || resp.Code != radius.CodeAccessAccept {
				t.Fatalf("want Access-Accept, got %v", resp)
			}
			tt.check(t, resp)
		})
	}
}

// RFC 2433 Appendix B.2 worked example (password "MyPw").
const (
	rfc2433Challenge  = "102DB5DF085D3041"
	rfc2433NTHash     = "FC156AF7EDCD6C0EDDE3337D427F4EAC"
	rfc2433NTResponse = "4E9D3C8F9CFD385D5BF4D3246791956CA4C351AB409A3D61"
)

func TestRFC2433Vectors(t *testing.T) {
	u := must(rfc2759.ToUTF16([]byte("MyPw")))
	if got := strings.ToUpper(hex.EncodeToString(u)); got != "4D00790050007700" {
		t.Errorf("Unicode password = %s", got)
	}
	h := rfc2759.NTPasswordHash(u)
	if got := strings.ToUpper(hex.EncodeToString(h)); got != rfc2433NTHash {
		t.Errorf("PasswordHash = %s, want %s", got, rfc2433NTHash)
	}
	if got := strings.ToUpper(hex.EncodeToString(rfc2759.ChallengeResponse(unhex(t, rfc2433Challenge), h))); got != rfc2433NTResponse {
		t.Errorf("NT-Response = %s, want %s", got, rfc2433NTResponse)
	}
}

// mschap1Request builds an MS-CHAP (v1) Access-Request; flags 1 means the
// NT-Response is to be used, 0 that only the LM-Response is.
func mschap1Request(t testing.TB, login string, ident, flags byte, challenge, nt []byte) []byte {
	t.Helper()
	p := radius.New(radius.CodeAccessRequest, []byte(testSecret))
	p.Add(attrUserName, radius.Attribute(login))
	resp := make([]byte, 50)
	resp[0], resp[1] = ident, flags
	copy(resp[26:50], nt)
	if err := microsoft.MSCHAPChallenge_Add(p, challenge); err != nil {
		t.Fatal(err)
	}
	if err := microsoft.MSCHAPResponse_Add(p, resp); err != nil {
		t.Fatal(err)
	}
	return encodeAccess(t, p, true)
}

func TestMSCHAPv1(t *testing.T) {
	challenge, nt := unhex(t, rfc2433Challenge), unhex(t, rfc2433NTResponse)
	mypw := Subscriber{AccountID: 11, Login: "mypw", Password: "MyPw", Status: StatusActive, DownKbps: 1000, UpKbps: 1000}
	blocked := Subscriber{AccountID: 12, Login: "blocked", Password: "MyPw", Status: StatusBlocked}
	wrong := rfc2759.ChallengeResponse(challenge, rfc2759.NTPasswordHash(must(rfc2759.ToUTF16([]byte("guess")))))
	tests := []struct {
		name  string
		raw   func(t testing.TB) []byte
		want  radius.Code
		error string // MS-CHAP-Error after the ident
	}{
		{"rfc 2433 example", func(t testing.TB) []byte { return mschap1Request(t, "mypw", 7, 1, challenge, nt) }, radius.CodeAccessAccept, ""},
		{"wrong password", func(t testing.TB) []byte { return mschap1Request(t, "mypw", 7, 1, challenge, wrong) }, radius.CodeAccessReject, "E=691 R=0"},
		{"no such login", func(t testing.TB) []byte { return mschap1Request(t, "nobody", 7, 1, challenge, nt) }, radius.CodeAccessReject, "E=691 R=0"},
		{"account blocked", func(t testing.TB) []byte { return mschap1Request(t, "blocked", 7, 1, challenge, nt) }, radius.CodeAccessReject, "E=647 R=0"},
		// The right NT-Response, but flagged as LM-only: the LM hash is not kept.
		{"lm response only", func(t testing.TB) []byte { return mschap1Request(t, "mypw", 7, 0, challenge, nt) }, radius.CodeAccessReject, "E=691 R=0"},
		{"v2-sized challenge", func(t testing.TB) []byte { return mschap1Request(t, "mypw", 7, 1, make([]byte, 16), nt) }, radius.CodeAccessReject, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, KindAccel)
			e.dir.set(mypw)
			e.dir.set(blocked)
			if err := e.srv.subs.Load(context.Background()); err != nil {
				t.Fatal(err)
			}
			raw := tt.raw(t)
			req, _ := radius.Parse(raw, []byte(testSecret))
			resp := e.auth(t, raw)
			if resp == nil || resp.Code != tt.want {
				t.Fatalf("got %v, want %v", resp, tt.want)
			}
			if got := microsoft.MSCHAPError_Get(resp); tt.error != "" && string(got) != "\x07"+tt.error {
				t.Errorf("MS-CHAP-Error = %q, want ident 7 and %q", got, tt.error)
			} else if tt.error == "" && got != nil {
				t.Errorf("unexpected MS-CHAP-Error %q", got)
			}
			if tt.want != radius.CodeAccessAccept {
				return
			}
			// The keys are hidden like User-Password with the request
			// authenticator: 8 octets of LM key (none), then the NT key.
			a, ok := vendorAttr(resp, 311, 12)
			if !ok {
				t.Fatal("no MS-CHAP-MPPE-Keys")
			}
			keys := unhide(a, []byte(testSecret), req.Authenticator[:])
			hashHash := rfc2759.NTPasswordHash(unhex(t, rfc2433NTHash))
			if len(keys) < 24 || !bytes.Equal(keys[:8], make([]byte, 8)) || !bytes.Equal(keys[8:24], hashHash) {
				t.Errorf("MS-CHAP-MPPE-Keys = %x, want 8 zero octets and %x", keys, hashHash)
			}
			if microsoft.MSMPPEEncryptionTypes_Get(resp) == 0 {
				t.Error("no MS-MPPE-Encryption-Types")
			}
			if got := rfc2865.FilterID_GetString(resp); got != "1000/1000" {
				t.Errorf("Filter-Id = %q: speed attributes missing", got)
			}
		})
	}
}

// vendorAttr returns the raw value of a vendor sub-attribute.
func vendorAttr(p *radius.Packet, vendor uint32, typ byte) (radius.Attribute, bool) {
	for _, avp := range p.Attributes {
		if avp.Type != rfc2865.VendorSpecific_Type {
			continue
		}
		id, v, err := radius.VendorSpecific(avp.Attribute)
		if err == nil && id == vendor && len(v) >= 2 && v[0] == typ {
			return radius.Attribute(v[2:v[1]]), true
		}
	}
	return nil, false
}

// unhide reverses User-Password hiding (RFC 2865 §5.2) without cutting at
// the first zero octet, as radius.UserPassword does.
func unhide(a, secret, auth []byte) []byte {
	out := make([]byte, 0, len(a))
	prev := auth
	for i := 0; i+16 <= len(a); i += 16 {
		h := md5.Sum(append(append([]byte(nil), secret...), prev...))
		for j := range 16 {
			out = append(out, a[i+j]^h[j])
		}
		prev = a[i : i+16]
	}
	return out
}
