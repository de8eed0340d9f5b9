package radius

import (
	"bytes"
	"crypto/md5"
	"crypto/subtle"
	"errors"
	"fmt"
	"strings"

	"github.com/kabinet-billing/kabinet/internal/derrors"
	"layeh.com/radius"
	"layeh.com/radius/rfc2759"
	"layeh.com/radius/rfc2865"
	"layeh.com/radius/rfc3079"
	"layeh.com/radius/vendors/microsoft"
)

// Method is how the NAS proved the password.
type Method string

const (
	MethodPAP      Method = "pap"
	MethodCHAP     Method = "chap"
	MethodMSCHAPv1 Method = "mschapv1"
	MethodMSCHAPv2 Method = "mschapv2"
	MethodNone     Method = "none"
)

// rejectReason is logged, never sent: the NAS learns only Access-Reject.
type rejectReason string

const (
	reasonNoLogin      rejectReason = "no such login"
	reasonNoUserName   rejectReason = "no User-Name"
	reasonWrongPass    rejectReason = "wrong password"
	reasonNoCredential rejectReason = "no supported credentials (PAP, CHAP, MS-CHAP, MS-CHAPv2)"
	// The LAN Manager hash behind MS-CHAP's LM-Response is cracked in
	// seconds and is not kept; every client since Windows NT sends the
	// NT-Response too.
	reasonLMOnly      rejectReason = "MS-CHAP LM-Response only (not supported)"
	reasonBadCredAttr rejectReason = "malformed credentials attribute"
	reasonDirectory   rejectReason = "directory unavailable"
)

// lookupRefused is the reason a failed subscriber lookup rejects with, by
// the error's kind: the one place RADIUS meets the error kinds. Nil is "".
func lookupRefused(err error) rejectReason {
	switch {
	case err == nil:
		return ""
	case errors.Is(err, derrors.NotFound):
		return reasonNoLogin
	}
	return reasonDirectory
}

// credentials found in an Access-Request.
type credentials struct {
	method Method
	check  func(password string) bool
	// mschap is set for MS-CHAPv2 so that the Accept can carry
	// MS-CHAP2-Success and the MPPE keys.
	mschap *mschapData
	// mschap1 is set for MS-CHAP (v1): its Accept carries the MPPE keys,
	// its Reject an MS-CHAP-Error.
	mschap1 *mschap1Data
}

type mschap1Data struct {
	ident     byte
	challenge []byte // MS-CHAP-Challenge, 8
	lmOnly    bool   // the client sent only an LM-Response
}

type mschapData struct {
	ident         byte
	authChallenge []byte // MS-CHAP-Challenge, 16
	peerChallenge []byte // 16
	ntResponse    []byte // 24
	userName      []byte
}

// readCredentials decides the method from the attributes present. It
// returns an error for attributes that are present but malformed.
func readCredentials(p *radius.Packet) (credentials, error) {
	if a, ok := p.Lookup(rfc2865.UserPassword_Type); ok {
		pw, err := radius.UserPassword(a, p.Secret, p.Authenticator[:])
		if err != nil {
			return credentials{}, fmt.Errorf("user-password: %w", err)
		}
		return credentials{method: MethodPAP, check: func(want string) bool {
			return subtle.ConstantTimeCompare(pw, []byte(want)) == 1
		}}, nil
	}
	if a, ok := p.Lookup(rfc2865.CHAPPassword_Type); ok {
		if len(a) != 17 {
			return credentials{}, errors.New("chap-password: want 17 octets")
		}
		// RFC 2865 §5.3: the challenge is CHAP-Challenge when present,
		// otherwise the Request Authenticator.
		challenge := p.Authenticator[:]
		if c, ok := p.Lookup(rfc2865.CHAPChallenge_Type); ok {
			if len(c) == 0 {
				return credentials{}, errors.New("chap-challenge: empty")
			}
			challenge = c
		}
		ident, resp := a[0], a[1:]
		return credentials{method: MethodCHAP, check: func(want string) bool {
			h := md5.New()
			h.Write([]byte{ident})
			h.Write([]byte(want))
			h.Write(challenge)
			return subtle.ConstantTimeCompare(h.Sum(nil), resp) == 1
		}}, nil
	}
	resp, respErr := microsoft.MSCHAP2Response_Lookup(p)
	resp1, resp1Err := microsoft.MSCHAPResponse_Lookup(p)
	challenge, chalErr := microsoft.MSCHAPChallenge_Lookup(p)
	if errors.Is(respErr, radius.ErrNoAttribute) && !errors.Is(resp1Err, radius.ErrNoAttribute) {
		return mschap1Credentials(resp1, resp1Err, challenge, chalErr)
	}
	if !errors.Is(respErr, radius.ErrNoAttribute) || !errors.Is(chalErr, radius.ErrNoAttribute) {
		if respErr != nil || chalErr != nil {
			return credentials{}, fmt.Errorf("ms-chapv2: response: %v, challenge: %v", respErr, chalErr)
		}
		if len(challenge) != 16 || len(resp) != 50 {
			return credentials{}, errors.New("ms-chapv2: challenge must be 16 and response 50 octets")
		}
		// RFC 2548 §2.3.2: Ident, Flags, Peer-Challenge(16), Reserved(8),
		// Response(24). RFC 2759 §8.2 hashes the user name without any
		// "DOMAIN\" prefix.
		user := rfc2865.UserName_Get(p)
		if i := bytes.LastIndexByte(user, '\\'); i >= 0 {
			user = user[i+1:]
		}
		m := &mschapData{
			ident:         resp[0],
			authChallenge: challenge,
			peerChallenge: resp[2:18],
			ntResponse:    resp[26:50],
			userName:      user,
		}
		return credentials{method: MethodMSCHAPv2, mschap: m, check: func(want string) bool {
			nt, err := rfc2759.GenerateNTResponse(m.authChallenge, m.peerChallenge, m.userName, []byte(want))
			return err == nil && subtle.ConstantTimeCompare(nt, m.ntResponse) == 1
		}}, nil
	}
	return credentials{method: MethodNone}, nil
}

// mschap1Credentials reads MS-CHAP (v1, RFC 2433) from MS-CHAP-Response
// and an 8-octet MS-CHAP-Challenge (RFC 2548 §2.1.3, §2.3.1).
func mschap1Credentials(resp []byte, respErr error, challenge []byte, chalErr error) (credentials, error) {
	if respErr != nil || chalErr != nil {
		return credentials{}, fmt.Errorf("ms-chap: response: %v, challenge: %v", respErr, chalErr)
	}
	if len(challenge) != 8 {
		return credentials{}, errors.New("ms-chap: challenge must be 8 octets")
	}
	// Ident, Flags, LM-Response(24), NT-Response(24); Flags bit 0 says
	// whether the NT-Response is to be used.
	m := &mschap1Data{ident: resp[0], challenge: challenge, lmOnly: resp[1]&1 == 0}
	ntResponse := resp[26:50]
	return credentials{method: MethodMSCHAPv1, mschap1: m, check: func(want string) bool {
		if m.lmOnly {
			return false
		}
		u, err := rfc2759.ToUTF16([]byte(want))
		if err != nil {
			return false
		}
		nt := rfc2759.ChallengeResponse(m.challenge, rfc2759.NTPasswordHash(u))
		return subtle.ConstantTimeCompare(nt, ntResponse) == 1
	}}, nil
}

// addMSCHAP1Keys adds the MPPE keys of MS-CHAP (v1) to an Access-Accept:
// MS-CHAP-MPPE-Keys is the LM key (zeros: the LM hash is not kept) and the
// NT key, hidden like User-Password with the request authenticator. The NT
// key is the hash of the NT password hash, as FreeRADIUS sends and the
// NAS (pppd, accel-ppp) expect, although RFC 2548 §2.4.1 names the hash
// itself.
func addMSCHAP1Keys(resp *radius.Packet, password string) error {
	u, err := rfc2759.ToUTF16([]byte(password))
	if err != nil {
		return fmt.Errorf("ms-chap keys: %w", err)
	}
	keys := make([]byte, 24)
	copy(keys[8:], rfc2759.NTPasswordHash(rfc2759.NTPasswordHash(u)))
	for _, err := range []error{
		microsoft.MSCHAPMPPEKeys_Add(resp, keys),
		microsoft.MSMPPEEncryptionPolicy_Add(resp, microsoft.MSMPPEEncryptionPolicy_Value_EncryptionAllowed),
		microsoft.MSMPPEEncryptionTypes_Add(resp, microsoft.MSMPPEEncryptionTypes_Value_RC440or128BitAllowed),
	} {
		if err != nil {
			return fmt.Errorf("ms-chap reply attributes: %w", err)
		}
	}
	return nil
}

// MS-CHAP failure codes (RFC 2433 §"Failure packet"): the client shows
// them to the user.
const (
	mschapErrAuthFailure     = 691
	mschapErrAccountDisabled = 647
)

// addMSCHAP1Error adds MS-CHAP-Error (RFC 2548 §2.1.5) to an
// Access-Reject: the ident, then "E=code R=0" (no retry within the same
// attempt: the client dials again).
func addMSCHAP1Error(resp *radius.Packet, m *mschap1Data, code int) error {
	v := append([]byte{m.ident}, fmt.Sprintf("E=%d R=0", code)...)
	if err := microsoft.MSCHAPError_Add(resp, v); err != nil {
		return fmt.Errorf("ms-chap error: %w", err)
	}
	return nil
}

// addMSCHAPSuccess adds MS-CHAP2-Success and the MPPE keys (RFC 2548,
// RFC 3079) to an Access-Accept; the NAS needs them to finish the PPP
// handshake and to start encryption. resp must carry the request's
// authenticator, which hides the keys.
func addMSCHAPSuccess(resp *radius.Packet, m *mschapData, password string) error {
	pw := []byte(password)
	authResp, err := rfc2759.GenerateAuthenticatorResponse(m.authChallenge, m.peerChallenge, m.ntResponse, m.userName, pw)
	if err != nil {
		return fmt.Errorf("ms-chapv2 authenticator response: %w", err)
	}
	recvKey, err := rfc3079.MakeKey(m.ntResponse, pw, false)
	if err != nil {
		return fmt.Errorf("mppe recv key: %w", err)
	}
	sendKey, err := rfc3079.MakeKey(m.ntResponse, pw, true)
	if err != nil {
		return fmt.Errorf("mppe send key: %w", err)
	}
	success := append([]byte{m.ident}, authResp...)
	for _, err := range []error{
		microsoft.MSCHAP2Success_Add(resp, success),
		microsoft.MSMPPERecvKey_Add(resp, recvKey),
		microsoft.MSMPPESendKey_Add(resp, sendKey),
		microsoft.MSMPPEEncryptionPolicy_Add(resp, microsoft.MSMPPEEncryptionPolicy_Value_EncryptionAllowed),
		microsoft.MSMPPEEncryptionTypes_Add(resp, microsoft.MSMPPEEncryptionTypes_Value_RC440or128BitAllowed),
	} {
		if err != nil {
			return fmt.Errorf("ms-chapv2 reply attributes: %w", err)
		}
	}
	return nil
}

// userName returns User-Name as the login, exactly as sent apart from
// surrounding spaces: logins are matched case-sensitively, as stored.
func userName(p *radius.Packet) string {
	return strings.TrimSpace(rfc2865.UserName_GetString(p))
}
