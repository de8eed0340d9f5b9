package radius

import (
	"crypto/hmac"
	"crypto/md5"
	"crypto/subtle"
	"errors"
	"fmt"

	"layeh.com/radius"
	"layeh.com/radius/rfc2869"
)

// Message-Authenticator (RFC 3579 §3.2, RFC 5176 §3.5). layeh.com/radius
// neither checks nor signs it; after BlastRADIUS (CVE-2024-3596) a server must
// do both, and must put it first in responses so that a forged prefix cannot
// be chosen to collide the MD5 Response Authenticator.

const maType = byte(rfc2869.MessageAuthenticator_Type) // 80

var errBadMA = errors.New("message-authenticator invalid")

// findMA returns the offset of the Message-Authenticator value in a raw
// packet, -1 if absent. More than one, or one of the wrong length, is an
// error: RFC 3579 allows exactly one of 16 octets.
func findMA(raw []byte) (int, error) {
	off := -1
	for i := 20; i < len(raw); {
		if i+2 > len(raw) {
			return -1, errors.New("truncated attribute")
		}
		l := int(raw[i+1])
		if l < 2 || i+l > len(raw) {
			return -1, errors.New("invalid attribute length")
		}
		if raw[i] == maType {
			if off >= 0 || l != 18 {
				return -1, errBadMA
			}
			off = i + 2
		}
		i += l
	}
	return off, nil
}

// verifyMA checks the Message-Authenticator at off in raw. auth is what the
// Authenticator field must hold during the calculation: the request's own
// for Access-Request, zeros for Accounting/CoA/Disconnect requests, and the
// request's authenticator for responses. raw is modified and restored, so
// the caller's buffer needs no copy.
func verifyMA(raw []byte, off int, auth *[16]byte, secret []byte) bool {
	var got, savedAuth [16]byte
	copy(got[:], raw[off:off+16])
	copy(savedAuth[:], raw[4:20])
	clear(raw[off : off+16])
	if auth != nil {
		copy(raw[4:20], auth[:])
	}
	mac := hmac.New(md5.New, secret)
	mac.Write(raw)
	var sum [16]byte
	mac.Sum(sum[:0])
	copy(raw[off:off+16], got[:])
	copy(raw[4:20], savedAuth[:])
	return subtle.ConstantTimeCompare(sum[:], got[:]) == 1
}

// withMAFirst returns p's attributes with a zeroed Message-Authenticator in
// first position and any other copy removed.
func withMAFirst(p *radius.Packet) {
	attrs := make(radius.Attributes, 0, len(p.Attributes)+1)
	attrs = append(attrs, &radius.AVP{Type: radius.Type(maType), Attribute: make(radius.Attribute, 16)})
	for _, a := range p.Attributes {
		if a.Type != radius.Type(maType) {
			attrs = append(attrs, a)
		}
	}
	p.Attributes = attrs
}

// encodeResponse encodes a response to a request whose authenticator is
// p.Authenticator (as radius.Packet.Response leaves it), signing
// Message-Authenticator first and then the Response Authenticator.
func encodeResponse(p *radius.Packet) ([]byte, error) {
	withMAFirst(p)
	b, err := p.MarshalBinary()
	if err != nil {
		return nil, fmt.Errorf("encode %v: %w", p.Code, err)
	}
	// Attributes start at 20; the first is ours: type, length, value.
	mac := hmac.New(md5.New, p.Secret)
	mac.Write(b) // Authenticator field holds the request authenticator here
	mac.Sum(b[22:22])
	h := md5.New()
	h.Write(b)
	h.Write(p.Secret)
	h.Sum(b[4:4])
	return b, nil
}

// encodeRequest encodes a CoA-Request or Disconnect-Request (or an
// Accounting-Request, for tests and the load generator): Message-Authenticator
// over a zero authenticator, then the Request Authenticator over the result.
func encodeRequest(p *radius.Packet) ([]byte, error) {
	withMAFirst(p)
	p.Authenticator = [16]byte{}
	b, err := p.MarshalBinary()
	if err != nil {
		return nil, fmt.Errorf("encode %v: %w", p.Code, err)
	}
	mac := hmac.New(md5.New, p.Secret)
	mac.Write(b)
	mac.Sum(b[22:22])
	h := md5.New()
	h.Write(b)
	h.Write(p.Secret)
	h.Sum(b[4:4])
	copy(p.Authenticator[:], b[4:20])
	return b, nil
}

// encodeAccessRequest encodes an Access-Request or Status-Server with a
// Message-Authenticator first; p.Authenticator must already be random and
// any User-Password already hidden with it. Used by tests and bench.
func encodeAccessRequest(p *radius.Packet) ([]byte, error) {
	withMAFirst(p)
	b, err := p.MarshalBinary()
	if err != nil {
		return nil, fmt.Errorf("encode %v: %w", p.Code, err)
	}
	mac := hmac.New(md5.New, p.Secret)
	mac.Write(b)
	mac.Sum(b[22:22])
	return b, nil
}

// verifyResponse checks a response to the request req (wire bytes): the
// Response Authenticator always, the Message-Authenticator when present.
func verifyResponse(resp, req, secret []byte) error {
	if !radius.IsAuthenticResponse(resp, req, secret) {
		return errors.New("bad response authenticator")
	}
	off, err := findMA(resp)
	if err != nil {
		return err
	}
	if off >= 0 {
		var auth [16]byte
		copy(auth[:], req[4:20])
		if !verifyMA(resp, off, &auth, secret) {
			return errBadMA
		}
	}
	return nil
}

// requestAuthOK checks the Request Authenticator of an Accounting-,
// CoA- or Disconnect-Request: MD5 over the packet with a zero authenticator.
func requestAuthOK(raw, secret []byte) bool {
	h := md5.New()
	h.Write(raw[:4])
	var zero [16]byte
	h.Write(zero[:])
	h.Write(raw[20:])
	h.Write(secret)
	var sum [16]byte
	h.Sum(sum[:0])
	return subtle.ConstantTimeCompare(sum[:], raw[4:20]) == 1
}
