// Package smsctest is an SMSC simulator on loopback that speaks Kabinet's
// SMPP 3.4 subset: it binds transmitters and transceivers with one
// system_id and password, accepts submit_sm, answers enquire_link and
// unbind, sends delivery receipts to transceivers, and fails on demand:
// a bind refused, submit_sm throttled (ESME_RTHROTTLED), the connection
// dropped. Tests of the SMS channel run against it.
package smsctest

import (
	"bufio"
	"fmt"
	"net"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/kabinet-billing/kabinet/internal/smpp"
)

// Message is one accepted submit_sm.
type Message struct {
	ID         string
	Source     string
	Dest       string
	DataCoding byte
	UDHI       bool
	Concat     smpp.Concat
	Text       string // this part's text
	Receipt    bool   // registered_delivery asked for one
}

// Server is the simulator. Change its behaviour with the Set methods.
type Server struct {
	SystemID, Password string

	ln     net.Listener
	mu     sync.Mutex
	conns  map[net.Conn]bool
	msgs   []Message
	binds  int
	acked  int // receipts the ESME acknowledged
	nextID int
	// behaviour
	refuse      smpp.Status
	throttle    int
	dropAfter   int
	undeliv     map[string]bool
	delay       time.Duration
	inFlight    int
	maxInFlight int
	enquires    int
	wg          sync.WaitGroup
}

// Start listens on 127.0.0.1 and serves until the test ends.
func Start(t testing.TB, systemID, password string) *Server {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &Server{SystemID: systemID, Password: password, ln: ln, conns: map[net.Conn]bool{}, undeliv: map[string]bool{}}
	s.wg.Add(1)
	go s.serve()
	t.Cleanup(s.Close)
	return s
}

// Addr is host:port.
func (s *Server) Addr() string { return s.ln.Addr().String() }

// Close stops listening and drops every connection.
func (s *Server) Close() {
	s.ln.Close()
	s.DropAll()
	s.wg.Wait()
}

// RefuseBinds answers every bind with st (0: accept again).
func (s *Server) RefuseBinds(st smpp.Status) { s.mu.Lock(); s.refuse = st; s.mu.Unlock() }

// Throttle answers the next n submit_sm with ESME_RTHROTTLED.
func (s *Server) Throttle(n int) { s.mu.Lock(); s.throttle = n; s.mu.Unlock() }

// DropAfter closes the connection instead of answering the nth submit_sm
// from now (1: the next one).
func (s *Server) DropAfter(n int) { s.mu.Lock(); s.dropAfter = n; s.mu.Unlock() }

// Undeliverable makes receipts for dest say UNDELIV.
func (s *Server) Undeliverable(dest string) { s.mu.Lock(); s.undeliv[dest] = true; s.mu.Unlock() }

// Delay holds each submit_sm_resp this long (to see the ESME's window).
func (s *Server) Delay(d time.Duration) { s.mu.Lock(); s.delay = d; s.mu.Unlock() }

// DropAll closes every connection at once, as a network failure would.
func (s *Server) DropAll() {
	s.mu.Lock()
	for c := range s.conns {
		c.Close()
	}
	s.mu.Unlock()
}

// Messages are the accepted submit_sm, in order.
func (s *Server) Messages() []Message { s.mu.Lock(); defer s.mu.Unlock(); return slices.Clone(s.msgs) }

// Binds counts successful binds.
func (s *Server) Binds() int { s.mu.Lock(); defer s.mu.Unlock(); return s.binds }

// ReceiptsAcked counts deliver_sm_resp for the receipts sent.
func (s *Server) ReceiptsAcked() int { s.mu.Lock(); defer s.mu.Unlock(); return s.acked }

// MaxInFlight is the most submit_sm awaiting a response at once.
func (s *Server) MaxInFlight() int { s.mu.Lock(); defer s.mu.Unlock(); return s.maxInFlight }

// Texts reassembles the messages sent to dest, concatenated parts joined
// in their order.
func (s *Server) Texts(dest string) []string {
	var out []string
	parts := map[int][]Message{}
	for _, m := range s.Messages() {
		if m.Dest != dest {
			continue
		}
		if m.Concat.Total == 0 {
			out = append(out, m.Text)
			continue
		}
		parts[m.Concat.Ref] = append(parts[m.Concat.Ref], m)
		if ps := parts[m.Concat.Ref]; len(ps) == m.Concat.Total {
			slices.SortFunc(ps, func(a, b Message) int { return a.Concat.Seq - b.Concat.Seq })
			text := ""
			for _, p := range ps {
				text += p.Text
			}
			out = append(out, text)
			delete(parts, m.Concat.Ref)
		}
	}
	return out
}

func (s *Server) serve() {
	defer s.wg.Done()
	for {
		c, err := s.ln.Accept()
		if err != nil {
			return
		}
		s.mu.Lock()
		s.conns[c] = true
		s.mu.Unlock()
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			s.handle(c)
			s.mu.Lock()
			delete(s.conns, c)
			s.mu.Unlock()
			c.Close()
		}()
	}
}

type conn struct {
	net.Conn
	wmu         sync.Mutex
	seq         int
	transceiver bool
}

func (c *conn) send(p smpp.PDU) {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	c.Write(p.Bytes())
}

func (s *Server) handle(nc net.Conn) {
	c := &conn{Conn: nc, seq: 1000}
	r := bufio.NewReader(nc)
	bound := false
	var pending sync.WaitGroup
	defer pending.Wait()
	for {
		p, err := smpp.ReadPDU(r)
		if err != nil {
			return
		}
		switch p.Command {
		case smpp.BindTransmitter, smpp.BindTransceiver, smpp.BindReceiver:
			b, err := smpp.DecodeBind(p.Body)
			s.mu.Lock()
			st := s.refuse
			s.mu.Unlock()
			switch {
			case err != nil:
				st = smpp.StatusInvCmdLen
			case st != 0:
			case bound:
				st = smpp.StatusAlreadyBound
			case b.SystemID != s.SystemID:
				st = smpp.StatusInvSystemID
			case b.Password != s.Password:
				st = smpp.StatusInvPassword
			}
			if st != 0 {
				c.send(smpp.PDU{Command: smpp.Resp(p.Command), Status: st, Seq: p.Seq})
				return
			}
			bound, c.transceiver = true, p.Command == smpp.BindTransceiver
			s.mu.Lock()
			s.binds++
			s.mu.Unlock()
			c.send(smpp.PDU{Command: smpp.Resp(p.Command), Seq: p.Seq, Body: smpp.BindResp{SystemID: "smsctest"}.Encode()})
		case smpp.EnquireLink:
			s.mu.Lock()
			s.enquires++
			s.mu.Unlock()
			c.send(smpp.PDU{Command: smpp.Resp(smpp.EnquireLink), Seq: p.Seq})
		case smpp.Unbind:
			c.send(smpp.PDU{Command: smpp.Resp(smpp.Unbind), Seq: p.Seq})
			return
		case smpp.Resp(smpp.DeliverSM):
			s.mu.Lock()
			s.acked++
			s.mu.Unlock()
		case smpp.Resp(smpp.EnquireLink), smpp.Resp(smpp.Unbind), smpp.GenericNack:
		case smpp.SubmitSM:
			if !bound {
				c.send(smpp.PDU{Command: smpp.Resp(p.Command), Status: smpp.StatusInvBindStatus, Seq: p.Seq})
				continue
			}
			if !s.submit(c, p, &pending) {
				return
			}
		default:
			c.send(smpp.PDU{Command: smpp.GenericNack, Status: smpp.StatusInvCmdID, Seq: p.Seq})
		}
	}
}

// submit answers one submit_sm; false drops the connection.
func (s *Server) submit(c *conn, p smpp.PDU, pending *sync.WaitGroup) bool {
	m, err := smpp.DecodeShortMessage(p.Body)
	if err != nil {
		c.send(smpp.PDU{Command: smpp.Resp(smpp.SubmitSM), Status: smpp.StatusInvMsgLen, Seq: p.Seq})
		return true
	}
	s.mu.Lock()
	if s.dropAfter > 0 {
		s.dropAfter--
		if s.dropAfter == 0 {
			s.mu.Unlock()
			return false
		}
	}
	if s.throttle > 0 {
		s.throttle--
		s.mu.Unlock()
		c.send(smpp.PDU{Command: smpp.Resp(smpp.SubmitSM), Status: smpp.StatusThrottled, Seq: p.Seq})
		return true
	}
	if !digits(m.Dest) {
		s.mu.Unlock()
		c.send(smpp.PDU{Command: smpp.Resp(smpp.SubmitSM), Status: smpp.StatusInvDstAddr, Seq: p.Seq})
		return true
	}
	msg := Message{Source: m.Source, Dest: m.Dest, DataCoding: m.DataCoding, UDHI: m.ESMClass&smpp.ESMClassUDHI != 0,
		Receipt: m.RegisteredDelivery&0x03 != 0}
	data := m.Message
	if msg.UDHI {
		cc, rest, err := smpp.ReadUDH(data)
		if err != nil {
			s.mu.Unlock()
			c.send(smpp.PDU{Command: smpp.Resp(smpp.SubmitSM), Status: smpp.StatusInvMsgLen, Seq: p.Seq})
			return true
		}
		msg.Concat, data = cc, rest
	}
	msg.Text = smpp.Text(m.DataCoding, data)
	s.nextID++
	msg.ID = "sim" + strconv.Itoa(s.nextID)
	s.msgs = append(s.msgs, msg)
	delay := s.delay
	state := "DELIVRD"
	if s.undeliv[m.Dest] {
		state = "UNDELIV"
	}
	s.inFlight++
	s.maxInFlight = max(s.maxInFlight, s.inFlight)
	s.mu.Unlock()
	pending.Add(1)
	go func() {
		defer pending.Done()
		if delay > 0 {
			time.Sleep(delay)
		}
		s.mu.Lock()
		s.inFlight--
		s.mu.Unlock()
		c.send(smpp.PDU{Command: smpp.Resp(smpp.SubmitSM), Seq: p.Seq, Body: smpp.SubmitResp{MessageID: msg.ID}.Encode()})
		if msg.Receipt && c.transceiver {
			now := time.Now().UTC()
			errCode := "000"
			if state != "DELIVRD" {
				errCode = "001"
			}
			rc := smpp.ShortMessage{SourceTON: smpp.TONInternational, SourceNPI: smpp.NPIE164, Source: m.Dest,
				DestTON: m.SourceTON, DestNPI: m.SourceNPI, Dest: m.Source, ESMClass: smpp.ESMClassDeliveryRcpt,
				Message: []byte(smpp.FormatReceipt(msg.ID, state, errCode, now, now, "")),
				TLVs: []smpp.TLV{{Tag: smpp.TagReceiptedMessageID, Value: append([]byte(msg.ID), 0)},
					{Tag: smpp.TagMessageState, Value: []byte{smpp.MessageStateCode(state)}}}}
			c.wmu.Lock()
			c.seq++
			seq := c.seq
			c.wmu.Unlock()
			c.send(smpp.PDU{Command: smpp.DeliverSM, Seq: uint32(seq), Body: rc.Encode()})
		}
	}()
	return true
}

// String names the simulator in test logs.
func (s *Server) String() string { return fmt.Sprintf("smsctest at %s", s.Addr()) }

func digits(s string) bool {
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return len(s) >= 10
}
