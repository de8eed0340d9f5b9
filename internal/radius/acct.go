package radius

import (
	"context"
	"crypto/md5"
	"errors"
	"fmt"
	"net/netip"
	"sync"
	"time"

	"layeh.com/radius"
)

// Attribute numbers used in accounting (RFC 2865, 2866, 2869).
const (
	attrUserName         = 1
	attrNASPort          = 5
	attrFramedIPAddress  = 8
	attrClass            = 25
	attrCallingStationID = 31
	attrNASIdentifier    = 32
	attrAcctStatusType   = 40
	attrAcctDelayTime    = 41
	attrAcctInputOctets  = 42
	attrAcctOutputOctets = 43
	attrAcctSessionID    = 44
	attrAcctSessionTime  = 46
	attrAcctTermCause    = 49
	attrAcctInputGiga    = 52
	attrAcctOutputGiga   = 53
	attrNASPortID        = 87
)

type acctItem struct {
	rec    AcctRecord
	key    dedupKey
	secret []byte
	send   func([]byte)
}

// acctResponse encodes the Accounting-Response to the request k with the
// NAS's secret. It has no attributes, so it is 20 octets whose Response
// Authenticator is MD5(Code, Identifier, Length, Request Authenticator,
// secret); built by hand, it costs one hash and one small allocation.
//
// No Message-Authenticator: FreeRADIUS (and radclient) compute it over a
// zero authenticator for Accounting-Response while RFC 3579 implies the
// request's, so any value breaks some peer; BlastRADIUS concerns Access-*
// only, and FreeRADIUS sends none in accounting replies either.
func acctResponse(k *dedupKey, secret []byte) []byte {
	b := make([]byte, 20)
	b[0], b[1], b[3] = byte(radius.CodeAccountingResponse), k.id, 20
	var tmp [128]byte
	m := append(tmp[:0], b[:4]...)
	m = append(m, k.auth[:]...)
	m = append(m, secret...)
	sum := md5.Sum(m)
	copy(b[4:], sum[:])
	return b
}

func u32(p *radius.Packet, t radius.Type) (uint32, bool, error) {
	a, ok := p.Lookup(t)
	if !ok {
		return 0, false, nil
	}
	v, err := radius.Integer(a)
	if err != nil {
		return 0, true, fmt.Errorf("attribute %d: %w", t, err)
	}
	return v, true, nil
}

// decodeAcct turns an Accounting-Request into a record.
func decodeAcct(p *radius.Packet, nas NAS, now time.Time) (AcctRecord, error) {
	st, ok, err := u32(p, attrAcctStatusType)
	if err != nil {
		return AcctRecord{}, err
	}
	if !ok {
		return AcctRecord{}, errors.New("no Acct-Status-Type")
	}
	r := AcctRecord{
		Status:           AcctStatus(st),
		NASID:            nas.ID,
		NASAddr:          nas.Addr,
		NASIdent:         string(p.Get(attrNASIdentifier)),
		SessionID:        string(p.Get(attrAcctSessionID)),
		Login:            string(p.Get(attrUserName)),
		NASPortID:        string(p.Get(attrNASPortID)),
		CallingStationID: string(p.Get(attrCallingStationID)),
		Class:            string(p.Get(attrClass)),
		Time:             now,
	}
	switch r.Status {
	case AcctStart, AcctStop, AcctInterim:
		if r.SessionID == "" {
			return AcctRecord{}, fmt.Errorf("%s without Acct-Session-Id", r.Status)
		}
	case AcctOn, AcctOff:
	default:
		// Failed (15) and vendor types carry nothing we keep; the NAS still
		// wants its answer.
	}
	var port, inOct, outOct, inGiga, outGiga, sessTime, delay uint32
	type intAttr struct {
		t radius.Type
		v *uint32
	}
	for _, it := range []intAttr{
		{attrNASPort, &port},
		{attrAcctInputOctets, &inOct},
		{attrAcctOutputOctets, &outOct},
		{attrAcctInputGiga, &inGiga},
		{attrAcctOutputGiga, &outGiga},
		{attrAcctSessionTime, &sessTime},
		{attrAcctDelayTime, &delay},
		{attrAcctTermCause, &r.TerminateCause},
	} {
		v, _, err := u32(p, it.t)
		if err != nil {
			return AcctRecord{}, err
		}
		*it.v = v
	}
	r.NASPort = port
	r.InputOctets = uint64(inGiga)<<32 | uint64(inOct)
	r.OutputOctets = uint64(outGiga)<<32 | uint64(outOct)
	r.SessionTime = time.Duration(sessTime) * time.Second
	r.Time = now.Add(-time.Duration(delay) * time.Second)
	if a, ok := p.Lookup(attrFramedIPAddress); ok {
		if len(a) != 4 {
			return AcctRecord{}, errors.New("Framed-IP-Address: want 4 octets")
		}
		r.FramedIP = netip.AddrFrom4([4]byte(a))
	}
	return r, nil
}

func (s *Server) handleAcct(ctx context.Context, raw []byte, src netip.AddrPort, send func([]byte)) {
	p, raw, nas := s.parse(raw, src)
	if p == nil {
		return
	}
	switch p.Code {
	case radius.CodeAccountingRequest:
	case radius.CodeStatusServer:
		// RFC 5997 §3: Status-Server to the accounting port is answered
		// with Accounting-Response; it must carry a Message-Authenticator.
		off, err := findMA(raw)
		if err != nil || off < 0 || !verifyMA(raw, off, nil, p.Secret) {
			s.drop(src, "Status-Server without a valid Message-Authenticator", "nas", nas.Name)
			return
		}
		if b, err := encodeResponse(p.Response(radius.CodeAccountingResponse)); err == nil {
			send(b)
		}
		return
	default:
		s.drop(src, "unexpected code on the accounting port", "code", p.Code.String())
		return
	}
	if !requestAuthOK(raw, p.Secret) {
		s.drop(src, "bad Request Authenticator (wrong secret?)", "nas", nas.Name)
		return
	}
	off, err := findMA(raw)
	if err != nil {
		s.drop(src, "malformed packet", "nas", nas.Name, "err", err)
		return
	}
	if off >= 0 && !verifyMA(raw, off, &[16]byte{}, p.Secret) {
		s.drop(src, "bad Message-Authenticator", "nas", nas.Name)
		return
	}
	key := dedupKey{src: src, id: p.Identifier, auth: p.Authenticator}
	now := s.cfg.Clock.Now()
	if cached, isNew := s.dedup.begin(key, now); !isNew {
		s.dups.Add(1)
		if cached != nil {
			send(cached)
		}
		return
	}
	rec, err := decodeAcct(p, nas, now)
	if err != nil {
		s.dedup.finish(key, nil)
		s.drop(src, "malformed accounting", "nas", nas.Name, "err", err)
		return
	}
	item := acctItem{rec: rec, key: key, secret: p.Secret, send: send}
	select {
	case s.acctQ <- item:
	case <-ctx.Done():
		s.dedup.finish(key, nil)
	default:
		// The queue is full: the database has been away for long. The NAS
		// keeps the record and retransmits; reading on keeps auth's
		// sibling socket and this one responsive.
		s.dedup.finish(key, nil)
		s.drop(src, "accounting queue full; the NAS will retransmit", "nas", nas.Name)
	}
}

// acctWriter group-commits: it takes whatever has queued up while the
// previous write ran, so batches grow with load and a lone request is not
// delayed by a timer. With a journal, a batch is appended to it (one
// write) and answered, and applyJournal writes it to the database behind;
// without one, it is written to the database before it is answered. A
// second goroutine answers a written batch while the next one is written,
// so that the writer spends its time writing and the NAS's next requests
// are already queuing meanwhile.
func (s *Server) acctWriter(ctx context.Context) {
	// Three batch buffers go round: one filling and writing, one being
	// answered, one spare so that the writer does not wait for the answers.
	free := make(chan []acctItem, 3)
	for range cap(free) {
		free <- make([]acctItem, 0, s.cfg.AcctBatchMax)
	}
	written := make(chan []acctItem, cap(free))
	var answering sync.WaitGroup
	answering.Go(func() {
		for batch := range written {
			s.answerAcct(batch)
			clear(batch) // drop the closures over the sockets
			free <- batch[:0]
		}
	})
	defer func() {
		close(written)
		answering.Wait()
	}()
	recs := make([]AcctRecord, 0, s.cfg.AcctBatchMax)
	var frames []byte
	for {
		var batch []acctItem
		select {
		case <-ctx.Done():
			return
		case batch = <-free:
		}
		select {
		case <-ctx.Done():
			free <- batch
			return
		case it := <-s.acctQ:
			batch = append(batch, it)
		}
	fill:
		for len(batch) < s.cfg.AcctBatchMax {
			select {
			case it := <-s.acctQ:
				batch = append(batch, it)
			default:
				break fill
			}
		}
		var ok bool
		if j := s.cfg.Journal; j != nil {
			frames = frames[:0]
			for i := range batch {
				frames = appendFrame(frames, &batch[i].rec)
			}
			err := j.Append(frames, len(batch), ctx.Done())
			if ok = err == nil; !ok {
				s.acctErrs.Add(1)
				s.log.Error("radius: accounting journal append failed; the NAS will retransmit", "records", len(batch), "err", err)
			}
		} else {
			recs = recs[:0]
			for i := range batch {
				recs = append(recs, batch[i].rec)
			}
			ok = s.writeBatch(ctx, recs)
		}
		if !ok {
			for i := range batch {
				s.dedup.finish(batch[i].key, nil)
			}
			clear(batch)
			free <- batch[:0]
			continue
		}
		written <- batch
	}
}

// answerAcct answers the requests of a written batch.
func (s *Server) answerAcct(batch []acctItem) {
	for i := range batch {
		it := &batch[i]
		b := acctResponse(&it.key, it.secret)
		s.dedup.finish(it.key, b)
		s.acctResps.Add(1)
		it.send(b)
	}
}

// writeBatch writes recs, retrying with backoff while the database is away,
// so that accounting read from the NAS is kept (in the queue and this
// batch) and written when it comes back; the NAS is answered only then.
// Retransmissions meanwhile are answered from the same pending request or,
// once the dedup entry expires, written again — harmless, as interims carry
// totals and Stops close once. It gives up only when ctx ends, after one
// last attempt, and reports whether the batch was written.
func (s *Server) writeBatch(ctx context.Context, recs []AcctRecord) bool {
	wait := s.cfg.AcctRetry
	for {
		// A batch already read from the NAS is finished even during
		// shutdown, so that what the NAS sent is not half-written.
		wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		err := s.sink.WriteAccounting(wctx, recs)
		cancel()
		if err == nil {
			s.acctBacklog.Store(false)
			return true
		}
		s.acctErrs.Add(1)
		if ctx.Err() != nil {
			s.log.Error("radius: accounting write failed at shutdown; the NAS will retransmit", "records", len(recs), "err", err)
			return false
		}
		if !s.acctBacklog.Swap(true) {
			s.log.Error("radius: accounting write failed; holding it and retrying", "records", len(recs), "queued", len(s.acctQ), "err", err)
		}
		select {
		case <-ctx.Done():
		case <-time.After(wait):
		}
		wait = min(wait*2, 30*time.Second)
	}
}

// applyJournal writes what the journal holds to the database, in batches
// of up to AcctBatchMax, oldest first: first what a previous run left,
// then what acctWriter appends. The one database writer is then busy with
// large batches instead of one per group of requests in flight. When ctx
// ends it goes on for up to JournalDrain, to leave little to replay.
func (s *Server) applyJournal(ctx context.Context) {
	j := s.cfg.Journal
	recs := make([]AcctRecord, 0, s.cfg.AcctBatchMax)
	idle := time.NewTimer(time.Hour)
	defer idle.Stop()
	wctx := ctx
	for {
		if ctx.Err() != nil && wctx == ctx {
			var cancel context.CancelFunc
			wctx, cancel = context.WithTimeout(context.WithoutCancel(ctx), s.cfg.JournalDrain)
			defer cancel()
		}
		var err error
		recs, err = j.Read(recs[:0], s.cfg.AcctBatchMax)
		if err != nil {
			s.log.Error("radius: reading the accounting journal", "err", err)
		}
		if len(recs) > 0 {
			if !s.writeBatch(wctx, recs) {
				return // kept in the journal for the next start
			}
			j.Commit()
			continue
		}
		if wctx != ctx {
			return // drained
		}
		wait := s.cfg.JournalIdle
		if err != nil {
			wait = s.cfg.AcctRetry
		}
		idle.Reset(wait)
		select {
		case <-ctx.Done():
		case <-j.Notify():
		case <-idle.C:
			// Nothing came for a while: the finished segment can go.
			if err := j.RotateIfDrained(); err != nil {
				s.log.Error("radius: rotating the accounting journal", "err", err)
			}
		}
		idle.Stop()
	}
}
