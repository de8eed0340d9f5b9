package radius

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"layeh.com/radius"

	"github.com/kabinet-billing/kabinet/internal/clock"
	"github.com/kabinet-billing/kabinet/internal/derrors"
)

// Config tunes the server; the zero value of every field has a usable
// default.
type Config struct {
	AuthAddr string // default ":1812"
	AcctAddr string // default ":1813"
	// ReadBuffer is SO_RCVBUF for both sockets. The kernel default (≈208 KiB)
	// drops packets at a few hundred requests in flight. Default 8 MiB; the
	// kernel caps it at net.core.rmem_max unless we run privileged.
	ReadBuffer int
	// Workers is the number of goroutines reading each socket. Default
	// 2×GOMAXPROCS: authentication is CPU-only and answered inline.
	Workers int
	// InterimInterval is sent as Acct-Interim-Interval. Default 5 minutes.
	InterimInterval time.Duration
	Reply           ReplyOptions
	// DedupTTL is how long an answer is kept for retransmissions. Default 30 s.
	DedupTTL time.Duration
	// AcctBatchMax caps the records written in one AccountingSink call.
	// Default 1024.
	AcctBatchMax int
	// AcctQueue is how many accounting requests may wait for a write.
	// Default 16384.
	AcctQueue int
	// AcctRetry is the first wait before writing a failed batch again; it
	// doubles up to 30 s. Default 1 s.
	AcctRetry time.Duration
	// Journal, when set, is where accounting goes before the NAS is
	// answered; it is applied to the database in the background. Nil:
	// the NAS is answered after the database commit.
	Journal *Journal
	// JournalIdle is how long the journal must be drained before its
	// segment is deleted. Default 200 ms.
	JournalIdle time.Duration
	// JournalDrain bounds how long, at shutdown, the journal is still
	// applied. Default 5 s.
	JournalDrain time.Duration
	Clock        clock.Clock
	Logger       *slog.Logger
}

func (c *Config) defaults() {
	if c.AuthAddr == "" {
		c.AuthAddr = ":1812"
	}
	if c.AcctAddr == "" {
		c.AcctAddr = ":1813"
	}
	if c.ReadBuffer == 0 {
		c.ReadBuffer = 8 << 20
	}
	if c.Workers == 0 {
		c.Workers = 2 * runtime.GOMAXPROCS(0)
	}
	if c.InterimInterval == 0 {
		c.InterimInterval = 5 * time.Minute
	}
	if c.DedupTTL == 0 {
		c.DedupTTL = 30 * time.Second
	}
	if c.AcctBatchMax == 0 {
		c.AcctBatchMax = 1024
	}
	if c.AcctQueue == 0 {
		c.AcctQueue = 16384
	}
	if c.AcctRetry == 0 {
		c.AcctRetry = time.Second
	}
	if c.JournalIdle == 0 {
		c.JournalIdle = 200 * time.Millisecond
	}
	if c.JournalDrain == 0 {
		c.JournalDrain = 5 * time.Second
	}
	if c.Clock == nil {
		c.Clock = clock.System
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
}

// Stats are counters since start, for /metrics.
type Stats struct {
	AccessAccepts, AccessRejects uint64
	AcctResponses                uint64
	Duplicates                   uint64
	Dropped                      uint64 // malformed, unknown NAS, bad authenticator
	AcctWriteErrors              uint64
	AcctQueued                   int  // accounting read and not yet in the database (journal included)
	AcctBacklog                  bool // writes are failing: the database is away
}

// Server answers Access-Requests and Accounting-Requests.
type Server struct {
	cfg  Config
	subs *Cache
	nas  NASList
	sink AccountingSink
	log  *slog.Logger

	dedup *dedup
	// maSeen holds NAS addresses that have sent a Message-Authenticator:
	// from then on one is required, so a forged request without it is not
	// accepted (the FreeRADIUS "auto" policy against BlastRADIUS).
	maSeen sync.Map
	// unsignedSeen holds NAS addresses whose first unsigned Access-Request
	// has been logged, once per NAS and run.
	unsignedSeen sync.Map
	acctQ        chan acctItem

	warnMu   sync.Mutex
	lastWarn map[string]time.Time

	accepts, rejects, acctResps, dups, dropped, acctErrs atomic.Uint64
	// acctBacklog is set while accounting cannot be written.
	acctBacklog atomic.Bool
}

// NewServer returns a server over the subscriber cache, the NAS list and the
// accounting sink.
func NewServer(cfg Config, subs *Cache, nas NASList, sink AccountingSink) *Server {
	cfg.defaults()
	return &Server{
		cfg: cfg, subs: subs, nas: nas, sink: sink, log: cfg.Logger,
		dedup:    newDedup(cfg.DedupTTL),
		acctQ:    make(chan acctItem, cfg.AcctQueue),
		lastWarn: map[string]time.Time{},
	}
}

// Stats returns the counters.
func (s *Server) Stats() Stats {
	return Stats{
		AccessAccepts: s.accepts.Load(), AccessRejects: s.rejects.Load(),
		AcctResponses: s.acctResps.Load(), Duplicates: s.dups.Load(),
		Dropped: s.dropped.Load(), AcctWriteErrors: s.acctErrs.Load(),
		AcctQueued: s.queued(), AcctBacklog: s.acctBacklog.Load(),
	}
}

func (s *Server) queued() int {
	n := len(s.acctQ)
	if s.cfg.Journal != nil {
		n += int(s.cfg.Journal.Backlog())
	}
	return n
}

// ListenAndServe opens the two UDP sockets and serves until ctx ends.
func (s *Server) ListenAndServe(ctx context.Context) error {
	auth, err := listenUDP(s.cfg.AuthAddr, s.cfg.ReadBuffer)
	if err != nil {
		return fmt.Errorf("radius auth: %w", err)
	}
	acct, err := listenUDP(s.cfg.AcctAddr, s.cfg.ReadBuffer)
	if err != nil {
		auth.Close()
		return fmt.Errorf("radius accounting: %w", err)
	}
	s.log.Info("radius: listening", "auth", auth.LocalAddr().String(), "acct", acct.LocalAddr().String())
	return s.Serve(ctx, auth, acct)
}

func listenUDP(addr string, rcvbuf int) (*net.UDPConn, error) {
	ua, err := net.ResolveUDPAddr("udp", addr)
	if err != nil {
		return nil, fmt.Errorf("resolve %s: %w", addr, err)
	}
	c, err := net.ListenUDP("udp", ua)
	if err != nil {
		return nil, fmt.Errorf("listen %s: %w", addr, err)
	}
	if err := c.SetReadBuffer(rcvbuf); err != nil {
		c.Close()
		return nil, fmt.Errorf("set receive buffer on %s: %w", addr, err)
	}
	setReadBufferForce(c, rcvbuf)
	return c, nil
}

// Serve serves on already-open sockets (tests pass loopback ones) and closes
// them when ctx ends. Either may be nil to serve only the other.
func (s *Server) Serve(ctx context.Context, auth, acct *net.UDPConn) error {
	var wg sync.WaitGroup
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	wg.Go(func() {
		<-ctx.Done()
		if auth != nil {
			auth.Close()
		}
		if acct != nil {
			acct.Close()
		}
	})
	wg.Go(func() { s.sweepLoop(ctx) })
	errs := make(chan error, 2*s.cfg.Workers)
	if auth != nil {
		for range s.cfg.Workers {
			wg.Go(func() { errs <- s.readLoop(ctx, auth, true) })
		}
	}
	if acct != nil {
		wg.Go(func() { s.acctWriter(ctx) })
		if s.cfg.Journal != nil {
			wg.Go(func() { s.applyJournal(ctx) })
		}
		for range s.cfg.Workers {
			wg.Go(func() { errs <- s.readLoop(ctx, acct, false) })
		}
	}
	var first error
	select {
	case <-ctx.Done():
	case first = <-errs:
		cancel()
	}
	wg.Wait()
	if first != nil && ctx.Err() != nil && errors.Is(first, net.ErrClosed) {
		first = nil
	}
	return first
}

func (s *Server) sweepLoop(ctx context.Context) {
	clock.Every(ctx, s.cfg.DedupTTL/2, func(context.Context) { s.dedup.sweep(s.cfg.Clock.Now()) })
}

func (s *Server) readLoop(ctx context.Context, conn *net.UDPConn, auth bool) error {
	// One byte more than the maximum so that an oversized datagram is seen
	// as such instead of silently truncated into a "valid" one.
	buf := make([]byte, radius.MaxPacketLength+1)
	for {
		n, src, err := conn.ReadFromUDPAddrPort(buf)
		if err != nil {
			if ctx.Err() != nil || errors.Is(err, net.ErrClosed) {
				return nil
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				continue
			}
			return fmt.Errorf("read: %w", err)
		}
		src = netip.AddrPortFrom(src.Addr().Unmap(), src.Port())
		send := func(b []byte) {
			if _, err := conn.WriteToUDPAddrPort(b, src); err != nil {
				s.log.Warn("radius: send failed", "to", src.String(), "err", err)
			}
		}
		if auth {
			if resp := s.handleAuth(ctx, buf[:n], src); resp != nil {
				send(resp)
			}
		} else {
			s.handleAcct(ctx, buf[:n], src, send)
		}
	}
}

// drop logs why a packet was discarded without an answer, at most once a
// minute per source and reason so that a flood cannot fill the log.
func (s *Server) drop(src netip.AddrPort, reason string, args ...any) {
	s.dropped.Add(1)
	key := src.Addr().String() + "|" + reason
	now := s.cfg.Clock.Now()
	s.warnMu.Lock()
	last, seen := s.lastWarn[key]
	if !seen || now.Sub(last) >= time.Minute {
		if len(s.lastWarn) > 10000 {
			clear(s.lastWarn)
		}
		s.lastWarn[key] = now
	}
	s.warnMu.Unlock()
	if seen && now.Sub(last) < time.Minute {
		return
	}
	s.log.Warn("radius: packet dropped", append([]any{"from", src.String(), "reason", reason}, args...)...)
}

// parse finds the NAS and parses the packet; nil means dropped (logged).
func (s *Server) parse(raw []byte, src netip.AddrPort) (*radius.Packet, []byte, NAS) {
	if len(raw) < 20 {
		s.drop(src, "shorter than a RADIUS header")
		return nil, nil, NAS{}
	}
	if len(raw) > radius.MaxPacketLength {
		s.drop(src, "longer than 4096 octets")
		return nil, nil, NAS{}
	}
	nas, err := s.nas.LookupNAS(src.Addr())
	if err != nil {
		if errors.Is(err, derrors.NotFound) {
			s.drop(src, "unknown NAS")
		} else {
			s.drop(src, "NAS lookup failed", "err", err)
		}
		return nil, nil, NAS{}
	}
	p, err := radius.Parse(raw, []byte(nas.Secret))
	if err != nil {
		s.drop(src, "malformed packet", "nas", nas.Name, "err", err)
		return nil, nil, NAS{}
	}
	raw = raw[:int(raw[2])<<8|int(raw[3])] // radius.Parse checked the length
	return p, raw, nas
}

// signingKeeper is a NASList that can keep "this NAS signs" in the
// database, so that a restart does not reopen the window maSeen closes.
type signingKeeper interface {
	RequireMessageAuthenticator(ctx context.Context, id int64) error
}

// keepSigning records, off the packet path, that nas sends
// Message-Authenticators.
func (s *Server) keepSigning(nas NAS) {
	k, ok := s.nas.(signingKeeper)
	if !ok {
		return
	}
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := k.RequireMessageAuthenticator(ctx, nas.ID); err != nil {
			s.log.Warn("could not keep that the NAS signs its requests; required until restart", "nas", nas.Name, "err", err)
			return
		}
		// The NAS list says so now; forgetting it here lets an operator
		// allow unsigned requests again without a restart.
		s.maSeen.Delete(nas.Addr)
		s.log.Info("NAS signs its requests: Message-Authenticator now required from it", "nas", nas.Name)
	}()
}

func (s *Server) handleAuth(ctx context.Context, raw []byte, src netip.AddrPort) []byte {
	p, raw, nas := s.parse(raw, src)
	if p == nil {
		return nil
	}
	if p.Code != radius.CodeAccessRequest && p.Code != radius.CodeStatusServer {
		s.drop(src, "unexpected code on the authentication port", "code", p.Code.String())
		return nil
	}
	off, err := findMA(raw)
	if err != nil {
		s.drop(src, "malformed packet", "nas", nas.Name, "err", err)
		return nil
	}
	if off < 0 {
		_, seen := s.maSeen.Load(nas.Addr)
		if !nas.AllowUnsigned || seen || p.Code == radius.CodeStatusServer {
			s.drop(src, "Message-Authenticator required but missing", "nas", nas.Name)
			return nil
		}
		if _, logged := s.unsignedSeen.LoadOrStore(nas.Addr, struct{}{}); !logged {
			s.log.Warn("radius: NAS sends Access-Requests without Message-Authenticator; they are accepted because the NAS is allowed to, "+
				"but anyone who can send from its address can forge them: configure it to send Message-Authenticator; once it does, it is required",
				"nas", nas.Name, "from", src.String())
		}
	} else {
		if !verifyMA(raw, off, nil, p.Secret) {
			s.drop(src, "bad Message-Authenticator (wrong secret or forgery)", "nas", nas.Name)
			return nil
		}
		// Only a NAS allowed to go unsigned needs remembering: for the
		// others the NAS list already requires it.
		if nas.AllowUnsigned {
			if _, seen := s.maSeen.LoadOrStore(nas.Addr, struct{}{}); !seen {
				s.keepSigning(nas)
			}
		}
	}

	key := dedupKey{src: src, id: p.Identifier, auth: p.Authenticator}
	if cached, isNew := s.dedup.begin(key, s.cfg.Clock.Now()); !isNew {
		s.dups.Add(1)
		return cached // nil while the first copy is still in progress
	}

	var resp *radius.Packet
	if p.Code == radius.CodeStatusServer {
		resp = p.Response(radius.CodeAccessAccept)
	} else {
		resp = s.authenticate(ctx, p, nas, src)
	}
	b, err := encodeResponse(resp)
	if err != nil {
		s.log.Error("radius: encode response", "nas", nas.Name, "err", err)
		s.dedup.finish(key, nil)
		return nil
	}
	s.dedup.finish(key, b)
	return b
}

// authenticate decides Accept or Reject and logs every Reject's reason.
func (s *Server) authenticate(ctx context.Context, p *radius.Packet, nas NAS, src netip.AddrPort) *radius.Packet {
	login := userName(p)
	var cred credentials
	// The login is logged only once it is known to exist: a User-Name that
	// matches no one may be a password typed into the wrong field.
	known := false
	reject := func(reason rejectReason, args ...any) *radius.Packet {
		s.rejects.Add(1)
		attrs := []any{"nas", nas.Name, "from", src.String(), "reason", string(reason)}
		if known {
			attrs = append([]any{"login", login}, attrs...)
		}
		s.log.Info("radius: access rejected", append(attrs, args...)...)
		resp := p.Response(radius.CodeAccessReject)
		if cred.mschap1 != nil {
			code := mschapErrAuthFailure
			if strings.HasPrefix(string(reason), "account ") {
				code = mschapErrAccountDisabled
			}
			if err := addMSCHAP1Error(resp, cred.mschap1, code); err != nil {
				s.log.Error("radius: reject without MS-CHAP-Error", "nas", nas.Name, "err", err)
			}
		}
		return resp
	}
	if login == "" {
		return reject(reasonNoUserName)
	}
	cred, err := readCredentials(p)
	if err != nil {
		return reject(reasonBadCredAttr, "err", err)
	}
	if cred.method == MethodNone {
		return reject(reasonNoCredential)
	}
	if cred.mschap1 != nil && cred.mschap1.lmOnly {
		return reject(reasonLMOnly)
	}
	sub, err := s.subs.Get(ctx, login)
	if reason := lookupRefused(err); reason == reasonNoLogin {
		return reject(reason, "method", cred.method)
	} else if reason != "" {
		return reject(reason, "err", err)
	}
	known = true
	if !cred.check(sub.Password) {
		return reject(reasonWrongPass, "method", cred.method, "account", sub.AccountID)
	}
	if !s.cfg.Reply.Admits(sub) {
		return reject(rejectReason("account "+string(sub.Status)), "method", cred.method, "account", sub.AccountID)
	}
	resp := p.Response(radius.CodeAccessAccept)
	if cred.mschap != nil {
		if err := addMSCHAPSuccess(resp, cred.mschap, sub.Password); err != nil {
			return reject(reasonBadCredAttr, "err", err)
		}
	}
	if cred.mschap1 != nil {
		if err := addMSCHAP1Keys(resp, sub.Password); err != nil {
			return reject(reasonBadCredAttr, "err", err)
		}
	}
	acceptAttributes(resp, nas.Kind, sub, int(s.cfg.InterimInterval/time.Second), s.cfg.Reply)
	s.accepts.Add(1)
	s.log.Debug("radius: access accepted", "login", login, "nas", nas.Name, "method", cred.method, "limited", sub.Limited)
	return resp
}
