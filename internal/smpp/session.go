package smpp

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/time/rate"
)

// Config is an ESME's connection to an SMSC.
type Config struct {
	Addr       string // host:port
	SystemID   string
	Password   string
	SystemType string
	// Source is source_addr: the sender name the aggregator registered
	// (alphanumeric, up to 11 characters) or a number.
	Source string
	// Transmitter binds as transmitter only; by default Kabinet binds as
	// transceiver so that delivery receipts come on the same connection.
	Transmitter bool
	// Window is how many submit_sm may await their response at once;
	// default 10.
	Window int
	// Rate is submit_sm per second (each part of a long message counts);
	// 0: no limit beyond the window.
	Rate float64
	// EnquireLink is the keep-alive interval; default 30s.
	EnquireLink time.Duration
	// Timeout bounds the wait for any response; default 10s.
	Timeout time.Duration
	// OnReceipt is called (on the reading goroutine, keep it short) with
	// each delivery receipt, after it is acknowledged.
	OnReceipt func(Receipt)
	Log       *slog.Logger
}

func (c Config) withDefaults() Config {
	if c.Window <= 0 {
		c.Window = 10
	}
	if c.EnquireLink <= 0 {
		c.EnquireLink = 30 * time.Second
	}
	if c.Timeout <= 0 {
		c.Timeout = 10 * time.Second
	}
	if c.Log == nil {
		c.Log = slog.Default()
	}
	return c
}

// ErrClosed is a session that ended: the connection dropped, the SMSC
// unbound, or Close was called. What was under way may or may not have
// reached the SMSC.
var ErrClosed = errors.New("smpp: session closed")

// StatusError is a response with an error command_status.
type StatusError struct {
	Command uint32
	Status  Status
}

func (e *StatusError) Error() string {
	return fmt.Sprintf("smpp: %s refused: %s", CommandName(e.Command), e.Status)
}

// Temporary tells whether the same request may succeed later.
func (e *StatusError) Temporary() bool { return e.Status.Temporary() }

// BindError is a refused bind: wrong credentials or the SMSC refusing
// connections. The message itself is fine, so for the queue it is
// temporary: the channel is down until someone fixes [sms].
type BindError struct{ Status Status }

func (e *BindError) Error() string { return fmt.Sprintf("smpp: bind refused: %s", e.Status) }

// Temporary tells the queue to keep the message.
func (e *BindError) Temporary() bool { return true }

// Temporary reports whether err is worth retrying later: anything but a
// submit_sm the SMSC refused for the message itself (a bad number).
func Temporary(err error) bool {
	var se *StatusError
	if errors.As(err, &se) {
		return se.Temporary()
	}
	return err != nil
}

// Session is one bound connection to an SMSC.
type Session struct {
	cfg     Config
	conn    net.Conn
	wmu     sync.Mutex
	seq     atomic.Uint32
	ref     atomic.Uint32
	mu      sync.Mutex
	pending map[uint32]chan PDU
	closed  chan struct{}
	once    sync.Once
	err     error
	window  chan struct{}
	limiter *rate.Limiter
	done    chan struct{} // the reader has returned
}

// Dial connects to cfg.Addr and binds.
func Dial(ctx context.Context, cfg Config) (*Session, error) {
	cfg = cfg.withDefaults()
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", cfg.Addr)
	if err != nil {
		return nil, fmt.Errorf("smpp: connect %s: %w", cfg.Addr, err)
	}
	s := &Session{cfg: cfg, conn: conn, pending: map[uint32]chan PDU{}, closed: make(chan struct{}),
		window: make(chan struct{}, cfg.Window), done: make(chan struct{})}
	if cfg.Rate > 0 {
		s.limiter = rate.NewLimiter(rate.Limit(cfg.Rate), max(1, int(cfg.Rate)))
	}
	if err := s.bind(ctx); err != nil {
		conn.Close()
		return nil, err
	}
	go s.read()
	go s.keepAlive()
	return s, nil
}

// bind sends the bind and reads its answer before anything else runs.
func (s *Session) bind(ctx context.Context) error {
	cmd := BindTransceiver
	if s.cfg.Transmitter {
		cmd = BindTransmitter
	}
	body := Bind{SystemID: s.cfg.SystemID, Password: s.cfg.Password, SystemType: s.cfg.SystemType, InterfaceVersion: 0x34}.Encode()
	seq := s.seq.Add(1)
	deadline := time.Now().Add(s.cfg.Timeout)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	s.conn.SetDeadline(deadline)
	defer s.conn.SetDeadline(time.Time{})
	if _, err := s.conn.Write(PDU{Command: cmd, Seq: seq, Body: body}.Bytes()); err != nil {
		return fmt.Errorf("smpp: %s: %w", CommandName(cmd), err)
	}
	p, err := ReadPDU(s.conn)
	if err != nil {
		return fmt.Errorf("smpp: %s: %w", CommandName(cmd), err)
	}
	if p.Command != Resp(cmd) && p.Command != GenericNack {
		return fmt.Errorf("%w: %s answered with %s", ErrFormat, CommandName(cmd), CommandName(p.Command))
	}
	if p.Status != StatusOK {
		return &BindError{Status: p.Status}
	}
	if p.Command == GenericNack {
		return &BindError{Status: StatusBindFail}
	}
	return nil
}

// Err is why the session ended, or nil while it is bound.
func (s *Session) Err() error {
	select {
	case <-s.closed:
		return s.err
	default:
		return nil
	}
}

// Closed is closed when the session ends.
func (s *Session) Closed() <-chan struct{} { return s.closed }

func (s *Session) fail(err error) {
	s.once.Do(func() {
		s.err = fmt.Errorf("%w: %v", ErrClosed, err)
		close(s.closed)
		s.conn.Close()
	})
}

func (s *Session) write(p PDU) error {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	s.conn.SetWriteDeadline(time.Now().Add(s.cfg.Timeout))
	_, err := s.conn.Write(p.Bytes())
	if err != nil {
		s.fail(err)
		return s.err
	}
	return nil
}

// request sends a request and waits for its response.
func (s *Session) request(ctx context.Context, cmd uint32, body []byte) (PDU, error) {
	if err := s.Err(); err != nil {
		return PDU{}, err
	}
	seq := s.seq.Add(1)
	ch := make(chan PDU, 1)
	s.mu.Lock()
	s.pending[seq] = ch
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.pending, seq)
		s.mu.Unlock()
	}()
	if err := s.write(PDU{Command: cmd, Seq: seq, Body: body}); err != nil {
		return PDU{}, err
	}
	timer := time.NewTimer(s.cfg.Timeout)
	defer timer.Stop()
	select {
	case p := <-ch:
		if p.Command == GenericNack {
			return p, &StatusError{Command: cmd, Status: p.Status}
		}
		return p, nil
	case <-s.closed:
		return PDU{}, s.err
	case <-timer.C:
		// An SMSC that stops answering is as good as gone.
		s.fail(fmt.Errorf("no %s_resp within %s", CommandName(cmd), s.cfg.Timeout))
		return PDU{}, s.err
	case <-ctx.Done():
		return PDU{}, ctx.Err()
	}
}

// read handles everything the SMSC sends until the connection ends.
func (s *Session) read() {
	defer close(s.done)
	br := bufio.NewReader(s.conn)
	for {
		p, err := ReadPDU(br)
		if err != nil {
			s.fail(err)
			return
		}
		switch {
		case p.Command == GenericNack || IsResp(p.Command):
			s.mu.Lock()
			ch := s.pending[p.Seq]
			s.mu.Unlock()
			if ch != nil {
				select {
				case ch <- p:
				default: // a second answer to the same request
				}
			}
		case p.Command == EnquireLink:
			s.write(PDU{Command: Resp(EnquireLink), Seq: p.Seq})
		case p.Command == DeliverSM:
			s.deliver(p)
		case p.Command == Unbind:
			s.write(PDU{Command: Resp(Unbind), Seq: p.Seq})
			s.fail(errors.New("the SMSC unbound"))
			return
		default:
			s.write(PDU{Command: GenericNack, Status: StatusInvCmdID, Seq: p.Seq})
		}
	}
}

// deliver acknowledges a deliver_sm and hands a receipt on. A message a
// phone sent (MO) is acknowledged and dropped: Kabinet takes no SMS in.
func (s *Session) deliver(p PDU) {
	m, err := DecodeShortMessage(p.Body)
	if err != nil {
		s.write(PDU{Command: Resp(DeliverSM), Status: StatusInvMsgLen, Seq: p.Seq, Body: DeliverResp})
		s.cfg.Log.Warn("smpp: malformed deliver_sm", "err", err)
		return
	}
	s.write(PDU{Command: Resp(DeliverSM), Seq: p.Seq, Body: DeliverResp})
	if !m.IsReceipt() {
		return
	}
	r, err := ParseReceipt(m)
	if err != nil {
		s.cfg.Log.Warn("smpp: unreadable delivery receipt", "err", err)
		return
	}
	if s.cfg.OnReceipt != nil {
		s.cfg.OnReceipt(r)
	}
}

func (s *Session) keepAlive() {
	t := time.NewTicker(s.cfg.EnquireLink)
	defer t.Stop()
	for {
		select {
		case <-s.closed:
			return
		case <-t.C:
			if _, err := s.request(context.Background(), EnquireLink, nil); err != nil {
				s.fail(err)
				return
			}
		}
	}
}

// Submit sends text to dest (international digits without "+", e.g.
// 79101234567) as one submit_sm per part, asking for a delivery receipt,
// and returns the SMSC's message id of each part. A part refused returns
// the ids of those before it with the error (see SubmitRest).
func (s *Session) Submit(ctx context.Context, dest, text string) ([]string, error) {
	return s.SubmitRest(ctx, dest, text, byte(s.ref.Add(1)), 0)
}

// SubmitRest is Submit of a long text's parts after the first sent ones,
// cut with concatenation reference ref: given the ref and text of an
// attempt that stopped half-way, it sends the missing parts only, which
// the phone joins to those it has.
func (s *Session) SubmitRest(ctx context.Context, dest, text string, ref byte, sent int) ([]string, error) {
	segs, err := Split(text, ref)
	if err != nil {
		return nil, err
	}
	segs = segs[min(max(sent, 0), len(segs)):]
	srcTON, srcNPI := TONAlphanumeric, NPIUnknown
	if isDigits(s.cfg.Source) {
		srcTON, srcNPI = TONInternational, NPIE164
	}
	ids := make([]string, 0, len(segs))
	for _, seg := range segs {
		m := ShortMessage{SourceTON: srcTON, SourceNPI: srcNPI, Source: s.cfg.Source, DestTON: TONInternational, DestNPI: NPIE164,
			Dest: dest, RegisteredDelivery: RegisteredDeliveryFinal, DataCoding: seg.DataCoding, Message: seg.Data}
		if seg.UDH {
			m.ESMClass |= ESMClassUDHI
		}
		id, err := s.submit(ctx, m)
		if err != nil {
			return ids, err
		}
		ids = append(ids, id)
	}
	return ids, nil
}

func (s *Session) submit(ctx context.Context, m ShortMessage) (string, error) {
	if s.limiter != nil {
		if err := s.limiter.Wait(ctx); err != nil {
			return "", err
		}
	}
	select {
	case s.window <- struct{}{}:
	case <-s.closed:
		return "", s.err
	case <-ctx.Done():
		return "", ctx.Err()
	}
	defer func() { <-s.window }()
	p, err := s.request(ctx, SubmitSM, m.Encode())
	if err != nil {
		return "", err
	}
	if p.Status != StatusOK {
		return "", &StatusError{Command: SubmitSM, Status: p.Status}
	}
	r, err := DecodeSubmitResp(p.Body)
	if err != nil {
		return "", err
	}
	return r.MessageID, nil
}

func isDigits(s string) bool {
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return s != ""
}

// Close unbinds (waiting for unbind_resp up to the timeout) and closes
// the connection.
func (s *Session) Close() error {
	if s.Err() == nil {
		ctx, cancel := context.WithTimeout(context.Background(), s.cfg.Timeout)
		s.request(ctx, Unbind, nil)
		cancel()
	}
	s.fail(errors.New("closed"))
	<-s.done
	return nil
}
