package radius

import (
	"context"
	"testing"

	"layeh.com/radius"
	"layeh.com/radius/vendors/microsoft"
)

// FuzzPacket feeds arbitrary datagrams from a known NAS to both handlers:
// nothing may panic, and the auth handler may only answer with a packet
// that verifies.
func FuzzPacket(f *testing.F) {
	_, pap := papRequest(f, "alice", "wonder", true)
	f.Add(pap)
	f.Add(chapRequest(f, "alice", "wonder", true))
	p := radius.New(radius.CodeAccessRequest, []byte(testSecret))
	p.Add(attrUserName, radius.Attribute("User"))
	microsoft.MSCHAPChallenge_Add(p, make([]byte, 16))
	microsoft.MSCHAP2Response_Add(p, make([]byte, 50))
	f.Add(encodeAccess(f, p, true))
	acct, _ := encodeRequest(acctPacket(AcctInterim, "s", func(p *radius.Packet) {
		p.Add(attrAcctInputOctets, radius.NewInteger(5))
		p.Add(attrFramedIPAddress, radius.Attribute{10, 0, 0, 1})
	}))
	f.Add(acct)
	f.Add([]byte{1, 0, 0, 20, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0})

	e := newEnv(f, KindMikrotik)
	e.srv.sink = &fakeSink{}
	f.Fuzz(func(t *testing.T, raw []byte) {
		req := append([]byte(nil), raw...)
		if b := e.srv.handleAuth(context.Background(), raw, src); b != nil {
			if err := verifyResponse(b, req, []byte(testSecret)); err != nil {
				t.Fatalf("unauthentic answer: %v", err)
			}
		}
		// Accounting: decode path only (the writer is not running, so
		// queueing is bounded by using a fresh dedup per input).
		if pk, raw2, nas := e.srv.parse(append([]byte(nil), req...), src); pk != nil {
			_, _ = findMA(raw2)
			_, _ = decodeAcct(pk, nas, t0)
		}
		_, _ = readCredentialsSafe(raw)
	})
}

// readCredentialsSafe parses with the test secret and reads credentials, as
// the auth path does, for inputs that parse.
func readCredentialsSafe(raw []byte) (credentials, error) {
	p, err := radius.Parse(raw, []byte(testSecret))
	if err != nil {
		return credentials{}, err
	}
	c, err := readCredentials(p)
	if err == nil && c.check != nil {
		c.check("x")
	}
	return c, err
}
