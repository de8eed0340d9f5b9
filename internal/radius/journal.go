package radius

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"log/slog"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// The accounting journal decouples the Accounting-Response from the
// database commit, as FreeRADIUS's detail file does: a record is appended to
// a local file before the NAS is answered, and applied to the database in
// large batches afterwards. It is as durable as the detail file: written
// without fsync by default (it survives a crash of Kabinet, not a power cut),
// with fsync on request.
//
// The journal is a directory of segment files, named by a hexadecimal
// sequence number, each a run of frames:
//
//	length  uint32 LE  of the payload
//	crc     uint32 LE  CRC-32C of the payload
//	payload            one encoded AcctRecord
//
// A frame cut short or whose checksum fails (the last write before a
// crash) ends its segment. A segment is deleted once all its records are in
// the database; whatever is left at start is applied again, which the
// traffic store's write path makes harmless (interim counters are totals,
// starts and stops are keyed by session).

// JournalConfig places and bounds the journal.
type JournalConfig struct {
	// Dir holds the segments; created if missing. Empty disables the
	// journal: the NAS is answered only after the database commit.
	Dir string
	// Fsync syncs every append before the NAS is answered: power-cut-safe,
	// at the cost of one fsync per group of requests.
	Fsync bool
	// MaxBytes bounds the journal; past it accounting waits (and then the
	// NAS retransmits) until the database catches up. Default 1 GiB.
	MaxBytes int64
	// SegmentBytes is the size at which a segment is closed and a new one
	// begun. Default 8 MiB (less for a small MaxBytes).
	SegmentBytes int64
	Logger       *slog.Logger
}

const (
	frameHeader   = 8
	maxFrame      = 64 << 10 // a RADIUS packet is at most 4 KiB
	journalSuffix = ".acct"
)

var crcTable = crc32.MakeTable(crc32.Castagnoli)

// ErrJournalClosed is returned by Append after Close.
var ErrJournalClosed = errors.New("radius: accounting journal closed")

type segment struct {
	seq    uint64
	size   int64 // bytes of complete frames
	closed bool  // no more appends
}

// Journal is the write-ahead accounting journal. One goroutine appends and
// one reads and commits; they may run at once.
type Journal struct {
	cfg JournalConfig
	log *slog.Logger

	mu     sync.Mutex
	lock   *os.File
	w      *os.File // the last segment's, opened for appending
	segs   []*segment
	total  int64 // bytes of all segments
	closed bool

	// The reader's position: a segment of segs and an offset in it.
	rseg *segment
	rf   *os.File
	roff int64
	rbuf []byte
	read int // records read and not yet committed

	appended, committed atomic.Int64
	// notify wakes the reader after an append; freed wakes a waiting
	// appender after a segment is deleted.
	notify, freed chan struct{}
}

// OpenJournal opens the journal in cfg.Dir, keeps the segments left over
// from a previous run for the reader (their torn tails cut off), and
// begins a new segment for appends.
func OpenJournal(cfg JournalConfig) (*Journal, error) {
	if cfg.Dir == "" {
		return nil, errors.New("radius: journal directory not set")
	}
	if cfg.MaxBytes <= 0 {
		cfg.MaxBytes = 1 << 30
	}
	if cfg.SegmentBytes <= 0 {
		cfg.SegmentBytes = min(8<<20, max(cfg.MaxBytes/8, 64<<10))
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if err := os.MkdirAll(cfg.Dir, 0o700); err != nil {
		return nil, fmt.Errorf("radius journal: %w", err)
	}
	j := &Journal{cfg: cfg, log: cfg.Logger, notify: make(chan struct{}, 1), freed: make(chan struct{}, 1)}
	lock, err := lockDir(cfg.Dir)
	if err != nil {
		return nil, fmt.Errorf("radius journal: %w", err)
	}
	j.lock = lock
	ok := false
	defer func() {
		if !ok {
			lock.Close()
		}
	}()
	names, err := filepath.Glob(filepath.Join(cfg.Dir, "*"+journalSuffix))
	if err != nil {
		return nil, fmt.Errorf("radius journal: %w", err)
	}
	var last uint64
	for _, name := range names {
		seq, err := strconv.ParseUint(strings.TrimSuffix(filepath.Base(name), journalSuffix), 16, 64)
		if err != nil {
			continue // not ours
		}
		size, n, err := scanSegment(name)
		if err != nil {
			return nil, fmt.Errorf("radius journal: %w", err)
		}
		if st, err := os.Stat(name); err == nil && st.Size() != size {
			j.log.Warn("radius: accounting journal segment has a torn or damaged tail; it is skipped",
				"segment", name, "valid_bytes", size, "file_bytes", st.Size())
		}
		j.segs = append(j.segs, &segment{seq: seq, size: size, closed: true})
		j.total += size
		j.appended.Add(int64(n))
		last = max(last, seq)
	}
	slices.SortFunc(j.segs, func(a, b *segment) int { return cmpU64(a.seq, b.seq) })
	if n := j.appended.Load(); n > 0 {
		j.log.Info("radius: replaying accounting journal left from the previous run", "records", n, "segments", len(j.segs))
	}
	if err := j.startSegment(last + 1); err != nil {
		return nil, err
	}
	j.rseg = j.segs[0]
	ok = true
	return j, nil
}

func cmpU64(a, b uint64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func (j *Journal) path(seq uint64) string {
	return filepath.Join(j.cfg.Dir, fmt.Sprintf("%016x%s", seq, journalSuffix))
}

// scanSegment returns the length of the valid frames of a segment and
// their number.
func scanSegment(name string) (int64, int, error) {
	b, err := os.ReadFile(name)
	if err != nil {
		return 0, 0, err
	}
	var off int64
	n := 0
	for {
		_, size, ok := nextFrame(b[off:])
		if !ok {
			return off, n, nil
		}
		off += int64(size)
		n++
	}
}

// nextFrame returns the payload of the first frame of b and the frame's
// size; ok is false for a frame cut short or damaged.
func nextFrame(b []byte) (payload []byte, size int, ok bool) {
	if len(b) < frameHeader {
		return nil, 0, false
	}
	n := int(binary.LittleEndian.Uint32(b))
	if n > maxFrame || len(b) < frameHeader+n {
		return nil, 0, false
	}
	p := b[frameHeader : frameHeader+n]
	if crc32.Checksum(p, crcTable) != binary.LittleEndian.Uint32(b[4:]) {
		return nil, 0, false
	}
	return p, frameHeader + n, true
}

// startSegment closes the segment being appended to and begins seq. Called
// with j.mu held (or before the journal is shared).
func (j *Journal) startSegment(seq uint64) error {
	f, err := os.OpenFile(j.path(seq), os.O_WRONLY|os.O_CREATE|os.O_EXCL|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("radius journal: %w", err)
	}
	if j.w != nil {
		j.w.Close()
		j.segs[len(j.segs)-1].closed = true
	}
	j.w = f
	j.segs = append(j.segs, &segment{seq: seq})
	return nil
}

// appendFrame encodes r as one frame at the end of b.
func appendFrame(b []byte, r *AcctRecord) []byte {
	start := len(b)
	b = append(b, 0, 0, 0, 0, 0, 0, 0, 0) // frameHeader, filled in below
	b = encodeRecord(b, r)
	p := b[start+frameHeader:]
	binary.LittleEndian.PutUint32(b[start:], uint32(len(p)))
	binary.LittleEndian.PutUint32(b[start+4:], crc32.Checksum(p, crcTable))
	return b
}

// Append writes frames (made by appendFrame; n records) with one write, and
// with fsync when configured. While the journal is full it waits for the
// reader to free space, or until wait is closed (errJournalFull: the NAS
// is not answered and retransmits).
func (j *Journal) Append(frames []byte, n int, wait <-chan struct{}) error {
	j.mu.Lock()
	defer j.mu.Unlock()
	for j.total > 0 && j.total+int64(len(frames)) > j.cfg.MaxBytes {
		if j.closed {
			return ErrJournalClosed
		}
		j.mu.Unlock()
		select {
		case <-wait:
			j.mu.Lock()
			return errJournalFull
		case <-j.freed:
		case <-time.After(time.Second):
		}
		j.mu.Lock()
	}
	if j.closed {
		return ErrJournalClosed
	}
	cur := j.segs[len(j.segs)-1]
	if cur.size > 0 && cur.size+int64(len(frames)) > j.cfg.SegmentBytes {
		if err := j.startSegment(cur.seq + 1); err != nil {
			return err
		}
		cur = j.segs[len(j.segs)-1]
	}
	err := func() error {
		if _, err := j.w.Write(frames); err != nil {
			return err
		}
		if j.cfg.Fsync {
			// After a failed fsync the pages may be gone (fsyncgate): the
			// records are not known to be safe, so the NAS is not answered.
			return j.w.Sync()
		}
		return nil
	}()
	if err != nil {
		// Whatever was written is past cur.size, which the reader never
		// goes beyond; a new segment keeps it out of later appends.
		if rerr := j.startSegment(cur.seq + 1); rerr != nil {
			j.log.Error("radius: accounting journal: cannot begin a new segment", "err", rerr)
		}
		return fmt.Errorf("radius journal: %w", err)
	}
	cur.size += int64(len(frames))
	j.total += int64(len(frames))
	j.appended.Add(int64(n))
	select {
	case j.notify <- struct{}{}:
	default:
	}
	return nil
}

var errJournalFull = errors.New("radius: accounting journal full; the NAS will retransmit")

// Backlog is the number of records in the journal not yet committed to the
// database.
func (j *Journal) Backlog() int64 { return j.appended.Load() - j.committed.Load() }

// Bytes is the journal's size on disk.
func (j *Journal) Bytes() int64 {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.total
}

// Read appends to recs up to max records after the last one read, all from
// one segment, so that Commit can delete it. Nothing read means nothing is
// waiting: Notify tells when to try again.
func (j *Journal) Read(recs []AcctRecord, max int) ([]AcctRecord, error) {
	for len(recs) < max {
		j.mu.Lock()
		seg, limit := j.rseg, j.rseg.size
		closed, isLast := seg.closed, seg == j.segs[len(j.segs)-1]
		j.mu.Unlock()
		if j.roff >= limit {
			if len(recs) > 0 || !closed || isLast || j.read > 0 {
				return recs, nil
			}
			// A segment read and committed to its end (an empty one, or
			// after a failed append): delete it and go on.
			j.mu.Lock()
			j.dropReadSegment()
			j.mu.Unlock()
			continue
		}
		if j.rf == nil {
			f, err := os.Open(j.path(seg.seq))
			if err != nil {
				return recs, fmt.Errorf("radius journal: %w", err)
			}
			j.rf = f
		}
		want := min(limit-j.roff, 1<<20)
		if int64(cap(j.rbuf)) < want {
			j.rbuf = make([]byte, want)
		}
		b := j.rbuf[:want]
		if _, err := j.rf.ReadAt(b, j.roff); err != nil && !errors.Is(err, io.EOF) {
			return recs, fmt.Errorf("radius journal: %w", err)
		}
		for len(recs) < max {
			p, size, ok := nextFrame(b)
			if !ok {
				if len(b) >= frameHeader && int(binary.LittleEndian.Uint32(b)) <= maxFrame && len(b) < frameHeader+int(binary.LittleEndian.Uint32(b)) {
					break // the frame goes on past this read
				}
				if len(b) == 0 {
					break
				}
				// Below the published size every frame was written whole:
				// the file was damaged after the write.
				j.log.Error("radius: accounting journal segment damaged; the rest of it is skipped",
					"segment", j.path(seg.seq), "offset", j.roff)
				j.roff = limit
				break
			}
			r, err := decodeRecord(p)
			if err != nil {
				j.log.Error("radius: accounting journal record undecodable; skipped", "segment", j.path(seg.seq), "offset", j.roff, "err", err)
			} else {
				recs = append(recs, r)
			}
			j.read++
			j.roff += int64(size)
			b = b[size:]
		}
		if len(recs) > 0 {
			return recs, nil
		}
	}
	return recs, nil
}

// Commit tells the journal that the records read since the last Commit
// are in the database; a segment so finished is deleted.
func (j *Journal) Commit() {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.committed.Add(int64(j.read))
	j.read = 0
	if j.rseg.closed && j.roff >= j.rseg.size {
		j.dropReadSegment()
	}
}

// dropReadSegment deletes the segment the reader has finished and moves it
// to the next. Called with j.mu held; the read segment is not the last.
func (j *Journal) dropReadSegment() {
	seg := j.rseg
	if j.rf != nil {
		j.rf.Close()
		j.rf = nil
	}
	if err := os.Remove(j.path(seg.seq)); err != nil && !errors.Is(err, os.ErrNotExist) {
		j.log.Error("radius: accounting journal: deleting a finished segment", "err", err)
	}
	i := slices.Index(j.segs, seg)
	j.segs = slices.Delete(j.segs, i, i+1)
	j.total -= seg.size
	j.rseg, j.roff = j.segs[i], 0
	select {
	case j.freed <- struct{}{}:
	default:
	}
}

// RotateIfDrained begins a new segment and deletes the current one when
// everything in it is committed, so that an idle journal leaves nothing to
// replay. The reader calls it when it has found nothing to read for a while.
func (j *Journal) RotateIfDrained() error {
	j.mu.Lock()
	defer j.mu.Unlock()
	cur := j.segs[len(j.segs)-1]
	if j.closed || j.rseg != cur || j.read > 0 || cur.size == 0 || j.roff < cur.size {
		return nil
	}
	if err := j.startSegment(cur.seq + 1); err != nil {
		return err
	}
	j.dropReadSegment()
	return nil
}

// Notify is signalled after an append.
func (j *Journal) Notify() <-chan struct{} { return j.notify }

// Close closes the files; what is not committed stays for the next start.
func (j *Journal) Close() error {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.closed {
		return nil
	}
	j.closed = true
	if j.rf != nil {
		j.rf.Close()
		j.rf = nil
	}
	err := j.w.Close()
	j.lock.Close()
	return err
}

// The record payload: a version octet, then the fields in order, integers
// as varints, strings and addresses length-prefixed.
const recordVersion = 1

func encodeRecord(b []byte, r *AcctRecord) []byte {
	b = append(b, recordVersion)
	b = binary.AppendUvarint(b, uint64(r.Status))
	b = binary.AppendVarint(b, r.NASID)
	b = appendAddr(b, r.NASAddr)
	b = appendString(b, r.NASIdent)
	b = appendString(b, r.SessionID)
	b = appendString(b, r.Login)
	b = binary.AppendUvarint(b, uint64(r.NASPort))
	b = appendString(b, r.NASPortID)
	b = appendAddr(b, r.FramedIP)
	b = appendString(b, r.CallingStationID)
	b = binary.AppendUvarint(b, r.InputOctets)
	b = binary.AppendUvarint(b, r.OutputOctets)
	b = binary.AppendVarint(b, int64(r.SessionTime))
	b = binary.AppendUvarint(b, uint64(r.TerminateCause))
	b = appendString(b, r.Class)
	b = binary.AppendVarint(b, r.Time.UnixNano())
	return b
}

func appendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

func appendAddr(b []byte, a netip.Addr) []byte {
	if !a.IsValid() {
		return append(b, 0)
	}
	s := a.AsSlice()
	b = append(b, byte(len(s)))
	return append(b, s...)
}

type recordDecoder struct {
	b   []byte
	err error
}

var errShortRecord = errors.New("record cut short")

func (d *recordDecoder) uvarint() uint64 {
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.err, d.b = errShortRecord, nil
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *recordDecoder) varint() int64 {
	v, n := binary.Varint(d.b)
	if n <= 0 {
		d.err, d.b = errShortRecord, nil
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *recordDecoder) str() string {
	n := d.uvarint()
	if uint64(len(d.b)) < n {
		d.err, d.b = errShortRecord, nil
		return ""
	}
	s := string(d.b[:n])
	d.b = d.b[n:]
	return s
}

func (d *recordDecoder) addr() netip.Addr {
	if len(d.b) == 0 {
		d.err = errShortRecord
		return netip.Addr{}
	}
	n := int(d.b[0])
	if (n != 0 && n != 4 && n != 16) || len(d.b) < 1+n {
		d.err, d.b = errShortRecord, nil
		return netip.Addr{}
	}
	a, _ := netip.AddrFromSlice(d.b[1 : 1+n])
	d.b = d.b[1+n:]
	return a
}

func decodeRecord(p []byte) (AcctRecord, error) {
	if len(p) == 0 || p[0] != recordVersion {
		return AcctRecord{}, errors.New("unknown record version")
	}
	d := recordDecoder{b: p[1:]}
	var r AcctRecord
	r.Status = AcctStatus(d.uvarint())
	r.NASID = d.varint()
	r.NASAddr = d.addr()
	r.NASIdent = d.str()
	r.SessionID = d.str()
	r.Login = d.str()
	r.NASPort = uint32(d.uvarint())
	r.NASPortID = d.str()
	r.FramedIP = d.addr()
	r.CallingStationID = d.str()
	r.InputOctets = d.uvarint()
	r.OutputOctets = d.uvarint()
	r.SessionTime = time.Duration(d.varint())
	r.TerminateCause = uint32(d.uvarint())
	r.Class = d.str()
	r.Time = time.Unix(0, d.varint()).UTC()
	if d.err != nil {
		return AcctRecord{}, d.err
	}
	return r, nil
}
