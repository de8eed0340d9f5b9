// Package traffic keeps what the access routers report: sessions (start,
// stop, NAS, port, address, bytes) and usage per subscriber per day. It is
// written in batches by the RADIUS accounting server and read by the portal
// and the back office.
package traffic

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/kabinet-billing/kabinet/internal/store"
)

// Kind of an accounting record (Acct-Status-Type).
type Kind int

const (
	Start   Kind = 1
	Stop    Kind = 2
	Interim Kind = 3
	NASOn   Kind = 7 // the NAS rebooted: its open sessions are gone
	NASOff  Kind = 8
)

// Record is one accounting report from a NAS.
type Record struct {
	Kind      Kind
	NASID     int64
	SessionID string // Acct-Session-Id
	// AccountID is known from the Class we gave at admission; 0 makes the
	// store look the login up.
	AccountID        int64
	Login            string
	NASPort          uint32
	NASPortID        string
	FramedIP         netip.Addr
	CallingStationID string
	InputOctets      uint64 // from the subscriber, cumulative for the session
	OutputOctets     uint64 // to the subscriber, cumulative
	SessionTime      time.Duration
	StopCause        string
	Time             time.Time
}

// Stop causes set by Kabinet itself rather than by the NAS.
const (
	CauseNASReboot = "nas-reboot"
	CauseStale     = "stale" // interim updates stopped coming
)

// Store reads and writes sessions and usage.
type Store struct {
	DB *store.DB
	// Zone decides which day usage belongs to: the provider's.
	Zone *time.Location

	// open remembers the open sessions this Store has written: their row
	// and counters as committed. An interim of a remembered session needs
	// no read before its update, which was a third of the cost of a batch.
	// The database stays the authority: the update of a remembered session
	// only applies if the row is still open with the remembered counters
	// (another instance, CloseStale or an operator may have changed it), and
	// a batch where one did not is written again from what the database
	// says. Guarded by openMu.
	openMu sync.Mutex
	open   map[sessionKey]cachedSession
}

type cachedSession struct {
	id, acct, in, out int64
	started           time.Time
}

// maxCached bounds the remembered open sessions (about 100 bytes each);
// past it the memory starts afresh.
const maxCached = 1 << 20

// errStale reports that a remembered session had changed in the database:
// the batch is rolled back and written again without the memory.
var errStale = errors.New("remembered open session changed in the database")

// New returns a Store; zone nil means UTC.
func New(db *store.DB, zone *time.Location) *Store {
	if zone == nil {
		zone = time.UTC
	}
	return &Store{DB: db, Zone: zone}
}

// Write applies a batch of records in one transaction, in order. It returns
// only after the transaction commits: the NAS is answered after that. The
// commit is relaxed (store.WriteRelaxed): it survives a crash of Kabinet but
// not a power cut, like FreeRADIUS's detail file; usage is not money.
//
// Whatever the batch size, the common case (interims and stops of open
// sessions) costs three statements: one read of the open sessions, one
// multi-row UPDATE, one multi-row usage upsert. Per-record statements made
// SQLite the bottleneck of the accounting server.
//
// Several instances may write the same session at once on PostgreSQL (a NAS
// repeats a record to its backup server while the first still writes it,
// or an instance writes what it held while the database was away). The
// open sessions are read FOR UPDATE, so the second writer waits and then
// counts from the first one's counters; a Start both insert is opened
// once; and a record of a session another writer has already stopped is
// not taken for a new session. Usage is added once either way.
func (s *Store) Write(ctx context.Context, recs []Record) error {
	if len(recs) == 0 {
		return nil
	}
	err := s.write(ctx, recs, true)
	if errors.Is(err, errStale) {
		s.forget(recs)
		err = s.write(ctx, recs, false)
	}
	return err
}

func (s *Store) write(ctx context.Context, recs []Record, remembered bool) error {
	return s.DB.WriteRelaxed(ctx, func(tx *store.Tx) error {
		w := &writer{s: s, tx: tx, open: map[sessionKey]*openSession{}, stopping: map[sessionKey]bool{}, closed: map[sessionKey]time.Time{},
			logins: map[string]int64{}, usage: map[usageKey]*usageDelta{}, touched: map[sessionKey]bool{}}
		if err := w.loadOpen(ctx, recs, remembered); err != nil {
			return err
		}
		for i := range recs {
			if err := w.apply(ctx, &recs[i]); err != nil {
				return fmt.Errorf("accounting %s %q from NAS %d: %w", kindName(recs[i].Kind), recs[i].SessionID, recs[i].NASID, err)
			}
		}
		if err := w.flushUpdates(ctx); err != nil {
			return err
		}
		if err := w.flushUsage(ctx); err != nil {
			return err
		}
		tx.OnCommit(w.remember)
		return nil
	})
}

// forget drops what is remembered of the sessions of recs.
func (s *Store) forget(recs []Record) {
	s.openMu.Lock()
	defer s.openMu.Unlock()
	for i := range recs {
		delete(s.open, sessionKey{recs[i].NASID, recs[i].SessionID})
	}
}

// remember records, after the commit, the state of the sessions the batch
// touched: open ones as written, closed ones no more.
func (w *writer) remember() {
	s := w.s
	s.openMu.Lock()
	defer s.openMu.Unlock()
	for _, nas := range w.rebooted {
		for k := range s.open {
			if k.nas == nas {
				delete(s.open, k)
			}
		}
	}
	if s.open == nil || len(s.open)+len(w.touched) > maxCached {
		s.open = make(map[sessionKey]cachedSession, len(w.touched))
	}
	for k := range w.touched {
		if o, ok := w.open[k]; ok {
			s.open[k] = cachedSession{id: o.id, acct: o.acct, in: o.in, out: o.out, started: o.started}
		} else {
			delete(s.open, k)
		}
	}
}

func kindName(k Kind) string {
	switch k {
	case Start:
		return "start"
	case Stop:
		return "stop"
	case Interim:
		return "interim"
	case NASOn:
		return "accounting-on"
	case NASOff:
		return "accounting-off"
	}
	return fmt.Sprintf("type %d", int(k))
}

type sessionKey struct {
	nas int64
	key string
}

type openSession struct {
	id, acct int64
	in, out  int64
	// started is the row's started_at: a record from before it belongs
	// to an earlier session with the same key.
	started time.Time
	// inDB and outDB are the counters the row has in the database: an
	// update applies only if they are still there.
	inDB, outDB int64
	dirty       bool
	updatedAt   time.Time
	stoppedAt   any // nil or time.Time
	secs        int64
	cause       string
	ip          string
}

type usageKey struct {
	acct int64
	day  string
}

type usageDelta struct{ in, out int64 }

// writer applies one batch inside one transaction.
type writer struct {
	s     *Store
	tx    *store.Tx
	open  map[sessionKey]*openSession
	dirty []*openSession
	// stopping holds keys whose Stop is among the pending updates.
	stopping map[sessionKey]bool
	// closed holds, for keys of the batch with no open session, when the
	// last session with that key stopped (in the table or in this batch).
	closed map[sessionKey]time.Time
	logins map[string]int64
	usage  map[usageKey]*usageDelta
	order  []usageKey
	// touched holds the keys of the batch's sessions, rebooted the NAS
	// whose sessions all closed: what the Store remembers after the commit.
	touched  map[sessionKey]bool
	rebooted []int64
}

// chunk bounds the rows of one multi-row statement (SQLite allows 32766
// parameters).
const chunk = 512

// Multi-row statements are built for a power of two of rows only, up to
// chunk, the rest of the rows being padding that matches nothing: then a
// few texts serve every batch size, and the store keeps them prepared
// instead of parsing a new text each batch (parsing a statement of
// hundreds of placeholders cost as much as running it).
func padded(n int) int {
	p := 1
	for p < n {
		p <<= 1
	}
	return p
}

func (w *writer) loadOpen(ctx context.Context, recs []Record, remembered bool) error {
	// Grouped by NAS so that the lookup uses the (nas_id, session_key) index.
	byNAS := map[int64][]any{}
	if remembered {
		w.s.openMu.Lock()
	}
	for _, r := range recs {
		k := sessionKey{r.NASID, r.SessionID}
		if (r.Kind == Start || r.Kind == Interim || r.Kind == Stop) && !w.touched[k] {
			w.touched[k] = true
			if c, ok := w.s.open[k]; ok && remembered {
				w.open[k] = &openSession{id: c.id, acct: c.acct, in: c.in, out: c.out, inDB: c.in, outDB: c.out, started: c.started}
				continue
			}
			byNAS[r.NASID] = append(byNAS[r.NASID], r.SessionID)
		}
	}
	if remembered {
		w.s.openMu.Unlock()
	}
	// Locked, on PostgreSQL, in one order (NAS, then row id) so that two
	// instances writing overlapping batches wait for each other rather
	// than deadlock; SQLite has one writer and no FOR UPDATE.
	lock := w.tx.ForUpdate()
	if lock != "" {
		lock = " ORDER BY id" + lock
	}
	nases := make([]int64, 0, len(byNAS))
	for nas := range byNAS {
		nases = append(nases, nas)
	}
	slices.Sort(nases)
	for _, nas := range nases {
		keys := byNAS[nas]
		for len(keys) > 0 {
			n := min(len(keys), chunk)
			args := keyArgs(nas, keys[:n])
			keys = keys[n:]
			rows, err := w.tx.Query(ctx, openSessionsSQL(len(args)-1)+lock, args...)
			if err != nil {
				return fmt.Errorf("open sessions: %w", err)
			}
			for rows.Next() {
				var o openSession
				var started store.Time
				k := sessionKey{nas: nas}
				if err := rows.Scan(&o.id, &k.key, &o.acct, &o.in, &o.out, &started); err != nil {
					rows.Close()
					return fmt.Errorf("open sessions: %w", err)
				}
				o.inDB, o.outDB, o.started = o.in, o.out, started.Time
				w.open[k] = &o
			}
			rows.Close()
			if err := rows.Err(); err != nil {
				return fmt.Errorf("open sessions: %w", err)
			}
		}
	}
	// For the keys with no open session: when their last session stopped,
	// read after the locks above, so that it sees a Stop another writer
	// committed meanwhile.
	for _, nas := range nases {
		var keys []any
		for _, key := range byNAS[nas] {
			if _, ok := w.open[sessionKey{nas, key.(string)}]; !ok {
				keys = append(keys, key)
			}
		}
		for len(keys) > 0 {
			n := min(len(keys), chunk)
			args := keyArgs(nas, keys[:n])
			keys = keys[n:]
			rows, err := w.tx.Query(ctx, closedSessionsSQL(len(args)-1), args...)
			if err != nil {
				return fmt.Errorf("closed sessions: %w", err)
			}
			for rows.Next() {
				var key string
				var at store.Time
				if err := rows.Scan(&key, &at); err != nil {
					rows.Close()
					return fmt.Errorf("closed sessions: %w", err)
				}
				w.closed[sessionKey{nas, key}] = at.Time
			}
			rows.Close()
			if err := rows.Err(); err != nil {
				return fmt.Errorf("closed sessions: %w", err)
			}
		}
	}
	return nil
}

func openSessionsSQL(n int) string {
	return `SELECT id, session_key, COALESCE(account_id, 0), input_octets, output_octets, started_at FROM sessions
		WHERE nas_id = ? AND session_key IN (` + placeholders(n, 1) + `) AND stopped_at IS NULL`
}

func closedSessionsSQL(n int) string {
	return `SELECT session_key, MAX(stopped_at) FROM sessions
		WHERE nas_id = ? AND session_key IN (` + placeholders(n, 1) + `) AND stopped_at IS NOT NULL GROUP BY session_key`
}

// keyArgs returns the arguments of a session key lookup: the NAS, then the
// keys padded to a power of two by repeating the first.
func keyArgs(nas int64, keys []any) []any {
	return append([]any{nas}, store.PadArgs(keys)...)
}

// placeholders returns n groups of width "?" separated by commas, each
// group in parentheses when width > 1.
func placeholders(n, width int) string {
	var b strings.Builder
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		if width == 1 {
			b.WriteByte('?')
			continue
		}
		b.WriteByte('(')
		for j := range width {
			if j > 0 {
				b.WriteByte(',')
			}
			b.WriteByte('?')
		}
		b.WriteByte(')')
	}
	return b.String()
}

func (w *writer) accountOf(ctx context.Context, r *Record) (int64, error) {
	if r.AccountID != 0 || r.Login == "" {
		return r.AccountID, nil
	}
	if id, ok := w.logins[r.Login]; ok {
		return id, nil
	}
	var id int64
	err := w.tx.QueryRow(ctx, `SELECT id FROM accounts WHERE login = ?`, r.Login).Scan(&id)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return 0, fmt.Errorf("account of %q: %w", r.Login, err)
	}
	w.logins[r.Login] = id
	return id, nil
}

func nullID(id int64) any {
	if id == 0 {
		return nil
	}
	return id
}

func ipText(a netip.Addr) string {
	if !a.IsValid() {
		return ""
	}
	return a.String()
}

func (w *writer) apply(ctx context.Context, r *Record) error {
	at := r.Time.UTC()
	switch r.Kind {
	case NASOn, NASOff:
		// Pending updates of this NAS's sessions go first, then its open
		// sessions close: those begun before the reboot, so that the record
		// applied again (from the journal after a crash, or retransmitted)
		// leaves the sessions opened since alone.
		if err := w.flushUpdates(ctx); err != nil {
			return err
		}
		rows, err := w.tx.Query(ctx, `UPDATE sessions SET stopped_at = ?, stop_cause = ? WHERE nas_id = ? AND stopped_at IS NULL AND started_at <= ?
			RETURNING session_key`, at, CauseNASReboot, r.NASID, at)
		if err != nil {
			return err
		}
		var keys []string
		for rows.Next() {
			var key string
			if err := rows.Scan(&key); err != nil {
				rows.Close()
				return err
			}
			keys = append(keys, key)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		for _, key := range keys {
			k := sessionKey{r.NASID, key}
			delete(w.open, k)
			w.closed[k] = at
		}
		w.rebooted = append(w.rebooted, r.NASID)
		return nil
	case Start, Interim, Stop:
	default:
		return nil // nothing to keep, but the NAS is answered
	}
	k := sessionKey{r.NASID, r.SessionID}
	o, ok := w.open[k]
	if !ok {
		return w.insert(ctx, r, k, at)
	}
	if r.Kind == Start {
		return nil // retransmitted Start: the session is already open
	}
	if at.Before(o.started) {
		// An Interim or Stop from before this session began: of an earlier
		// one with the same key, applied again (journal replay) or late.
		return nil
	}
	in, out := int64(r.InputOctets), int64(r.OutputOctets)
	// Counters only grow within a session; a smaller one is a reordered
	// older Interim and must not lower what we have.
	dIn, dOut := max(0, in-o.in), max(0, out-o.out)
	o.in, o.out = o.in+dIn, o.out+dOut
	o.updatedAt, o.secs, o.cause = at, int64(r.SessionTime/time.Second), r.StopCause
	if ip := ipText(r.FramedIP); ip != "" {
		o.ip = ip
	}
	o.stoppedAt = nil
	if r.Kind == Stop {
		o.stoppedAt = at
		delete(w.open, k)
		w.stopping[k] = true
		w.closed[k] = at
	}
	if !o.dirty {
		o.dirty = true
		w.dirty = append(w.dirty, o)
	}
	w.addUsage(o.acct, at, dIn, dOut)
	return nil
}

// insert opens a row for a Start, or for an Interim/Stop whose Start was
// lost, from what the record says.
func (w *writer) insert(ctx context.Context, r *Record, k sessionKey, at time.Time) error {
	// A Stop earlier in this batch may still be pending; the row it closes
	// must be closed before a new one with the same key opens.
	if w.stopping[k] {
		if err := w.flushUpdates(ctx); err != nil {
			return err
		}
	}
	if last, ok := w.closed[k]; ok {
		switch {
		case r.Kind == Stop && !last.Before(at.Add(-24*time.Hour)):
			// A Stop for a session already closed (its retransmission
			// after the duplicate window, through another instance, or
			// after Accounting-On) changes nothing.
			return nil
		case r.Kind != Stop && last.After(at.Add(-r.SessionTime)):
			// A Start or Interim of a session that had begun before the
			// last one with this key stopped is that session's, arriving
			// late (repeated to another instance, or held while the
			// database was away): counting it as a new session would
			// count its bytes twice. A NAS that reuses the key after a
			// reboot starts the new session after the old one stopped.
			return nil
		}
	}
	acct, err := w.accountOf(ctx, r)
	if err != nil {
		return err
	}
	var stopped any
	if r.Kind == Stop {
		stopped = at
	}
	o := &openSession{acct: acct, in: int64(r.InputOctets), out: int64(r.OutputOctets), started: at.Add(-r.SessionTime)}
	o.inDB, o.outDB = o.in, o.out
	// Another instance may be opening the same session right now: the
	// unique index of open sessions makes this insert wait for it and then
	// do nothing, and the record applies to the row it opened.
	err = w.tx.QueryRow(ctx, `INSERT INTO sessions (nas_id, session_key, account_id, login, nas_port, nas_port_id, framed_ip,
		calling_station_id, started_at, updated_at, stopped_at, input_octets, output_octets, session_time, stop_cause)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (nas_id, session_key) WHERE stopped_at IS NULL DO NOTHING RETURNING id`,
		r.NASID, r.SessionID, nullID(acct), r.Login, int64(r.NASPort), r.NASPortID, ipText(r.FramedIP), r.CallingStationID,
		at.Add(-r.SessionTime), at, stopped, o.in, o.out, int64(r.SessionTime/time.Second), r.StopCause).Scan(&o.id)
	if errors.Is(err, sql.ErrNoRows) {
		return w.applyToConcurrent(ctx, r, k)
	}
	if err != nil {
		return err
	}
	if r.Kind != Stop {
		w.open[k] = o
	}
	w.touched[k] = true
	w.addUsage(acct, at, o.in, o.out)
	return nil
}

// applyToConcurrent applies r to the open session another writer inserted
// while this one tried to.
func (w *writer) applyToConcurrent(ctx context.Context, r *Record, k sessionKey) error {
	lock := w.tx.ForUpdate()
	o := &openSession{}
	var started store.Time
	err := w.tx.QueryRow(ctx, `SELECT id, COALESCE(account_id, 0), input_octets, output_octets, started_at FROM sessions
		WHERE nas_id = ? AND session_key = ? AND stopped_at IS NULL`+lock, k.nas, k.key).Scan(&o.id, &o.acct, &o.in, &o.out, &started)
	o.started = started.Time
	if err != nil {
		// Opened and closed again meanwhile: the batch is written again.
		return fmt.Errorf("session opened by another writer: %w", err)
	}
	o.inDB, o.outDB = o.in, o.out
	w.open[k] = o
	return w.apply(ctx, r)
}

func (w *writer) addUsage(acct int64, at time.Time, in, out int64) {
	if acct == 0 || (in == 0 && out == 0) {
		return
	}
	k := usageKey{acct, at.In(w.s.Zone).Format(time.DateOnly)}
	d, ok := w.usage[k]
	if !ok {
		d = &usageDelta{}
		w.usage[k] = d
		w.order = append(w.order, k)
	}
	d.in += in
	d.out += out
}

// flushUpdates writes the pending session updates, many rows a statement.
// VALUES columns are column1… in both SQLite and PostgreSQL; the typed
// placeholders tell PostgreSQL what they hold.
//
// Each row is updated only if it is still open with the counters the batch
// started from (inDB, outDB): always so for rows read in this transaction,
// not necessarily for remembered ones. One that is not fails the batch with
// errStale.
//
// Interims (the bulk) leave stopped_at and stop_cause out of the SET list:
// SQLite then keeps sessions_open_key as it is instead of rewriting the
// entry of every row (the partial indexes depend on stopped_at), which
// halves the cost of an interim's update.
func (w *writer) flushUpdates(ctx context.Context) error {
	var interims, stops []*openSession
	for _, o := range w.dirty {
		o.dirty = false
		if o.stoppedAt == nil {
			interims = append(interims, o)
		} else {
			stops = append(stops, o)
		}
	}
	w.dirty = w.dirty[:0]
	clear(w.stopping)
	for len(interims) > 0 {
		n := min(len(interims), chunk)
		part := interims[:n]
		interims = interims[n:]
		rows := padded(n)
		args := make([]any, 0, rows*8)
		for _, o := range part {
			args = append(args, o.id, o.inDB, o.outDB, o.updatedAt, o.in, o.out, o.secs, o.ip)
		}
		for range rows - n {
			// Row id 0 does not exist.
			args = append(args, 0, 0, 0, part[0].updatedAt, 0, 0, 0, "")
		}
		if err := w.execGuarded(ctx, part, updateInterimsSQL(w.tx.OrFail(), rows), args); err != nil {
			return err
		}
	}
	for len(stops) > 0 {
		n := min(len(stops), chunk)
		part := stops[:n]
		stops = stops[n:]
		rows := padded(n)
		args := make([]any, 0, rows*10)
		for _, o := range part {
			args = append(args, o.id, o.inDB, o.outDB, o.updatedAt, o.stoppedAt, o.in, o.out, o.secs, o.cause, o.ip)
		}
		for range rows - n {
			args = append(args, 0, 0, 0, part[0].updatedAt, part[0].updatedAt, 0, 0, 0, "", "")
		}
		if err := w.execGuarded(ctx, part, updateStopsSQL(w.tx.OrFail(), rows), args); err != nil {
			return err
		}
	}
	return nil
}

func updateInterimsSQL(orFail string, n int) string {
	return `UPDATE` + orFail + ` sessions SET updated_at = v.column4, input_octets = v.column5,
		output_octets = v.column6, session_time = v.column7,
		framed_ip = CASE WHEN v.column8 <> '' THEN v.column8 ELSE sessions.framed_ip END
		FROM (VALUES ` + typedRows(n, "bigint", "bigint", "bigint", "timestamptz", "bigint", "bigint", "bigint", "text") + `) AS v
		WHERE sessions.id = v.column1 AND sessions.stopped_at IS NULL
		AND sessions.input_octets = v.column2 AND sessions.output_octets = v.column3`
}

func updateStopsSQL(orFail string, n int) string {
	return `UPDATE` + orFail + ` sessions SET updated_at = v.column4, stopped_at = v.column5, input_octets = v.column6,
		output_octets = v.column7, session_time = v.column8, stop_cause = v.column9,
		framed_ip = CASE WHEN v.column10 <> '' THEN v.column10 ELSE sessions.framed_ip END
		FROM (VALUES ` + typedRows(n, "bigint", "bigint", "bigint", "timestamptz", "timestamptz", "bigint", "bigint", "bigint", "text", "text") + `) AS v
		WHERE sessions.id = v.column1 AND sessions.stopped_at IS NULL
		AND sessions.input_octets = v.column2 AND sessions.output_octets = v.column3`
}

// Padding rows have account 0, which has no usage.
func usageSQL(orFail string, n int) string {
	return `INSERT` + orFail + ` INTO usage_daily (account_id, day, input_octets, output_octets)
		SELECT v.column1, v.column2, v.column3, v.column4 FROM (VALUES ` + typedRows(n, "bigint", "text", "bigint", "bigint") + `) AS v
		WHERE v.column1 <> 0
		ON CONFLICT (account_id, day) DO UPDATE SET input_octets = usage_daily.input_octets + excluded.input_octets,
		output_octets = usage_daily.output_octets + excluded.output_octets`
}

// execGuarded runs a guarded update of the sessions part and checks that
// every row was updated.
func (w *writer) execGuarded(ctx context.Context, part []*openSession, q string, args []any) error {
	res, err := w.tx.Exec(ctx, q, args...)
	if err != nil {
		return fmt.Errorf("update sessions: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("update sessions: %w", err)
	}
	if n != int64(len(part)) {
		return errStale
	}
	for _, o := range part {
		o.inDB, o.outDB = o.in, o.out
	}
	return nil
}

// typedRows returns n rows of typed placeholders "(?::bigint, ?::text)"
// for a VALUES list.
func typedRows(n int, types ...string) string {
	var row strings.Builder
	row.WriteByte('(')
	for i, t := range types {
		if i > 0 {
			row.WriteString(", ")
		}
		row.WriteString("?::")
		row.WriteString(t)
	}
	row.WriteByte(')')
	return strings.TrimSuffix(strings.Repeat(row.String()+",", n), ",")
}

func (w *writer) flushUsage(ctx context.Context) error {
	keys := w.order
	for len(keys) > 0 {
		n := min(len(keys), chunk)
		part := keys[:n]
		keys = keys[n:]
		rows := padded(n)
		args := make([]any, 0, rows*4)
		for _, k := range part {
			d := w.usage[k]
			args = append(args, k.acct, k.day, d.in, d.out)
		}
		for range rows - n {
			args = append(args, 0, "", 0, 0)
		}
		if _, err := w.tx.Exec(ctx, usageSQL(w.tx.OrFail(), rows), args...); err != nil {
			return fmt.Errorf("usage: %w", err)
		}
	}
	return nil
}

// CloseStale closes open sessions not updated since before; the NAS
// stopped sending interims (it lost power, or the Stop was lost). It
// returns how many it closed.
func (s *Store) CloseStale(ctx context.Context, before time.Time) (int64, error) {
	var closed []sessionKey
	err := s.DB.Write(ctx, func(tx *store.Tx) error {
		closed = closed[:0]
		rows, err := tx.Query(ctx, `UPDATE sessions SET stopped_at = updated_at, stop_cause = ? WHERE stopped_at IS NULL AND updated_at < ?
			RETURNING nas_id, session_key`, CauseStale, before.UTC())
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var k sessionKey
			if err := rows.Scan(&k.nas, &k.key); err != nil {
				return err
			}
			closed = append(closed, k)
		}
		return rows.Err()
	})
	if err != nil {
		return 0, fmt.Errorf("close stale sessions: %w", err)
	}
	s.openMu.Lock()
	for _, k := range closed {
		delete(s.open, k)
	}
	s.openMu.Unlock()
	return int64(len(closed)), nil
}
