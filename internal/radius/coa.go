package radius

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"strconv"
	"sync"
	"time"

	"layeh.com/radius"
	"layeh.com/radius/rfc2865"

	"github.com/kabinet-billing/kabinet/internal/clock"
)

// CoAConfig tunes the Change-of-Authorization client; zero values default.
type CoAConfig struct {
	// Timeout is the wait for the first answer; each retry doubles it.
	// Default 1 s.
	Timeout time.Duration
	// Attempts is the number of transmissions. Default 3.
	Attempts int
	Reply    ReplyOptions
	Clock    clock.Clock
	Logger   *slog.Logger
	// OnResult, if set, sees every result (e.g. to store failures for the
	// operators); it must not block for long.
	OnResult func(CoAResult)
	// KeepFailures is how many recent failures Failures returns. Default 200.
	KeepFailures int
}

// SessionRef identifies a live session at its NAS.
type SessionRef struct {
	NAS       NAS
	SessionID string // Acct-Session-Id
	Login     string
	FramedIP  netip.Addr
	// AccountID and Reason are for the CoA log: whose line and why.
	AccountID int64
	Reason    string
}

// CoAAction is what was asked of the NAS.
type CoAAction string

const (
	ActionCoA        CoAAction = "coa"
	ActionDisconnect CoAAction = "disconnect"
)

// Error-Cause values (RFC 5176 §3.5) worth naming.
const (
	ErrorCauseSessionNotFound = 503
	ErrorCauseUnsupported     = 405 // Unsupported Service
)

// CoAResult is the outcome of one CoA or Disconnect, retries included.
type CoAResult struct {
	Session SessionRef
	Action  CoAAction
	OK      bool // ACK received
	NAK     bool // NAK received
	// ErrorCause is the NAK's Error-Cause, 0 when absent.
	ErrorCause uint32
	Attempts   int
	// Err describes a failure: timeout, NAK, a network error.
	Err error
	// FellBack is set on a Disconnect sent because the CoA was refused.
	FellBack bool
	At       time.Time
}

// Gone reports whether the NAS said it has no such session; nothing is left
// to change then.
func (r CoAResult) Gone() bool { return r.ErrorCause == ErrorCauseSessionNotFound }

// CoAClient sends CoA-Request and Disconnect-Request to NAS (RFC 5176).
type CoAClient struct {
	cfg CoAConfig
	log *slog.Logger

	mu       sync.Mutex
	failures []CoAResult // ring, newest last
}

// NewCoAClient returns a client.
func NewCoAClient(cfg CoAConfig) *CoAClient {
	if cfg.Timeout == 0 {
		cfg.Timeout = time.Second
	}
	if cfg.Attempts == 0 {
		cfg.Attempts = 3
	}
	if cfg.Clock == nil {
		cfg.Clock = clock.System
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.KeepFailures == 0 {
		cfg.KeepFailures = 200
	}
	return &CoAClient{cfg: cfg, log: cfg.Logger}
}

// Failures returns recent failed CoA/Disconnect results, newest first.
func (c *CoAClient) Failures() []CoAResult {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]CoAResult, len(c.failures))
	for i, r := range c.failures {
		out[len(out)-1-i] = r
	}
	return out
}

func (c *CoAClient) report(r CoAResult) CoAResult {
	r.At = c.cfg.Clock.Now()
	if !r.OK && !r.Gone() {
		c.mu.Lock()
		c.failures = append(c.failures, r)
		if len(c.failures) > c.cfg.KeepFailures {
			c.failures = c.failures[len(c.failures)-c.cfg.KeepFailures:]
		}
		c.mu.Unlock()
		c.log.Warn("radius: "+string(r.Action)+" failed", "nas", r.Session.NAS.Name, "session", r.Session.SessionID,
			"login", r.Session.Login, "attempts", r.Attempts, "error_cause", r.ErrorCause, "err", r.Err)
	} else {
		c.log.Info("radius: "+string(r.Action)+" done", "nas", r.Session.NAS.Name, "session", r.Session.SessionID,
			"login", r.Session.Login, "ok", r.OK, "error_cause", r.ErrorCause)
	}
	if c.cfg.OnResult != nil {
		c.cfg.OnResult(r)
	}
	return r
}

// Update tells the NAS the subscriber's new speed and walled-garden state
// for a live session. A NAS kind that cannot change a live session
// (generic), or a NAK other than "session not found", gets a Disconnect
// instead: the subscriber reconnects and is admitted with the new state.
func (c *CoAClient) Update(ctx context.Context, ref SessionRef, sub Subscriber) CoAResult {
	if ref.NAS.Kind == KindGeneric {
		r := c.disconnect(ctx, ref)
		r.FellBack = true
		return c.report(r)
	}
	p := radius.New(radius.CodeCoARequest, []byte(ref.NAS.Secret))
	identify(p, ref)
	p.Attributes = append(p.Attributes, speedAttributes(ref.NAS.Kind, sub, c.cfg.Reply)...)
	if sub.SessionTimeout > 0 {
		p.Add(rfc2865.SessionTimeout_Type, radius.NewInteger(uint32(sub.SessionTimeout.Seconds())))
	}
	r := c.exchange(ctx, ref, p, ActionCoA)
	if r.OK || r.Gone() || !r.NAK {
		// ACK, no session, or no answer at all (a Disconnect would not be
		// heard either).
		return c.report(r)
	}
	c.report(r)
	d := c.disconnect(ctx, ref)
	d.FellBack = true
	return c.report(d)
}

// Disconnect ends a session (the operator's button, or a blocked account).
func (c *CoAClient) Disconnect(ctx context.Context, ref SessionRef) CoAResult {
	return c.report(c.disconnect(ctx, ref))
}

func (c *CoAClient) disconnect(ctx context.Context, ref SessionRef) CoAResult {
	p := radius.New(radius.CodeDisconnectRequest, []byte(ref.NAS.Secret))
	identify(p, ref)
	return c.exchange(ctx, ref, p, ActionDisconnect)
}

// identify adds the session identification attributes (RFC 5176 §3).
func identify(p *radius.Packet, ref SessionRef) {
	if ref.SessionID != "" {
		p.Add(attrAcctSessionID, radius.Attribute(ref.SessionID))
	}
	if ref.Login != "" {
		p.Add(attrUserName, radius.Attribute(ref.Login))
	}
	if ref.FramedIP.Is4() {
		ip := ref.FramedIP.As4()
		p.Add(attrFramedIPAddress, radius.Attribute(ip[:]))
	}
}

const attrErrorCause = 101

// exchange sends p and waits for a matching, authentic answer, retrying
// with a doubling timeout. Retransmissions reuse the identifier and
// authenticator so that the NAS can recognise them as such.
func (c *CoAClient) exchange(ctx context.Context, ref SessionRef, p *radius.Packet, action CoAAction) CoAResult {
	res := CoAResult{Session: ref, Action: action}
	port := ref.NAS.CoAPort
	if port == 0 {
		port = 3799
	}
	var idb [1]byte
	_, _ = rand.Read(idb[:])
	p.Identifier = idb[0]
	req, err := encodeRequest(p)
	if err != nil {
		res.Err = err
		return res
	}
	conn, err := net.DialUDP("udp", nil, net.UDPAddrFromAddrPort(netip.AddrPortFrom(ref.NAS.Addr, uint16(port))))
	if err != nil {
		res.Err = fmt.Errorf("dial %s: %w", ref.NAS.Addr, err)
		return res
	}
	defer conn.Close()
	stop := context.AfterFunc(ctx, func() { conn.SetReadDeadline(time.Unix(1, 0)) })
	defer stop()

	ack, nak := radius.CodeCoAACK, radius.CodeCoANAK
	if action == ActionDisconnect {
		ack, nak = radius.CodeDisconnectACK, radius.CodeDisconnectNAK
	}
	buf := make([]byte, radius.MaxPacketLength)
	timeout := c.cfg.Timeout
	for res.Attempts < c.cfg.Attempts {
		if ctx.Err() != nil {
			res.Err = ctx.Err()
			return res
		}
		res.Attempts++
		if _, err := conn.Write(req); err != nil {
			res.Err = fmt.Errorf("send to %s: %w", ref.NAS.Addr, err)
			return res
		}
		deadline := time.Now().Add(timeout)
		timeout *= 2
		conn.SetReadDeadline(deadline)
		for {
			n, err := conn.Read(buf)
			if err != nil {
				var ne net.Error
				if errors.As(err, &ne) && ne.Timeout() {
					res.Err = fmt.Errorf("no answer from %s after %d attempts", ref.NAS.Addr, res.Attempts)
					break
				}
				// ICMP port unreachable surfaces here: the NAS has no
				// CoA listener; another attempt will not help.
				res.Err = fmt.Errorf("receive from %s: %w", ref.NAS.Addr, err)
				return res
			}
			b := buf[:n]
			if n < 20 || b[1] != p.Identifier {
				continue
			}
			if err := verifyResponse(b, req, p.Secret); err != nil {
				c.log.Warn("radius: unauthentic CoA answer ignored", "nas", ref.NAS.Name, "err", err)
				continue
			}
			resp, err := radius.Parse(b, p.Secret)
			if err != nil {
				continue
			}
			switch resp.Code {
			case ack:
				res.OK, res.Err = true, nil
			case nak:
				res.NAK = true
				if v, ok, _ := u32(resp, attrErrorCause); ok {
					res.ErrorCause = v
				}
				res.Err = fmt.Errorf("%s refused by %s: Error-Cause %s", action, ref.NAS.Addr, errorCauseName(res.ErrorCause))
			default:
				continue
			}
			return res
		}
	}
	return res
}

func errorCauseName(v uint32) string {
	names := map[uint32]string{
		201: "Residual Session Context Removed", 401: "Unsupported Attribute",
		402: "Missing Attribute", 403: "NAS Identification Mismatch", 404: "Invalid Request",
		405: "Unsupported Service", 406: "Unsupported Extension", 407: "Invalid Attribute Value",
		501: "Administratively Prohibited", 502: "Request Not Routable (Proxy)",
		503: "Session Context Not Found", 504: "Session Context Not Removable",
		505: "Other Proxy Processing Error", 506: "Resources Unavailable", 507: "Request Initiated",
		508: "Multiple Session Selection Unsupported",
	}
	if n, ok := names[v]; ok {
		return strconv.FormatUint(uint64(v), 10) + " (" + n + ")"
	}
	return strconv.FormatUint(uint64(v), 10)
}
