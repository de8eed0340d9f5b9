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
}

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
	return s.DB.WriteRelaxed(ctx, func(tx *store.Tx) error {
		w := &writer{s: s, tx: tx, open: map[sessionKey]*openSession{}, stopping: map[sessionKey]bool{}, closed: map[sessionKey]time.Time{},
			logins: map[string]int64{}, usage: map[usageKey]*usageDelta{}}
		if err := w.loadOpen(ctx, recs); err != nil {
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
		return w.flushUsage(ctx)
	})
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
	id, acct  int64
	in, out   int64
	dirty     bool
	updatedAt time.Time
	stoppedAt any // nil or time.Time
	secs      int64
	cause     string
	ip        string
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
}

// chunk bounds the rows of one multi-row statement (SQLite allows 32766
// parameters).
const chunk = 500

func (w *writer) loadOpen(ctx context.Context, recs []Record) error {
	// Grouped by NAS so that the lookup uses the (nas_id, session_key) index.
	seen := map[sessionKey]bool{}
	byNAS := map[int64][]any{}
	for _, r := range recs {
		k := sessionKey{r.NASID, r.SessionID}
		if (r.Kind == Start || r.Kind == Interim || r.Kind == Stop) && !seen[k] {
			seen[k] = true
			byNAS[r.NASID] = append(byNAS[r.NASID], r.SessionID)
		}
	}
	// Locked, on PostgreSQL, in one order (NAS, then row id) so that two
	// instances writing overlapping batches wait for each other rather
	// than deadlock; SQLite has one writer and no FOR UPDATE.
	lock := ""
	if w.tx.Dialect() == store.Postgres {
		lock = " ORDER BY id FOR UPDATE"
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
			args := append([]any{nas}, keys[:n]...)
			keys = keys[n:]
			rows, err := w.tx.Query(ctx, `SELECT id, session_key, COALESCE(account_id, 0), input_octets, output_octets FROM sessions
				WHERE nas_id = ? AND session_key IN (`+placeholders(n, 1)+`) AND stopped_at IS NULL`+lock, args...)
			if err != nil {
				return fmt.Errorf("open sessions: %w", err)
			}
			for rows.Next() {
				var o openSession
				k := sessionKey{nas: nas}
				if err := rows.Scan(&o.id, &k.key, &o.acct, &o.in, &o.out); err != nil {
					rows.Close()
					return fmt.Errorf("open sessions: %w", err)
				}
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
			args := append([]any{nas}, keys[:n]...)
			keys = keys[n:]
			rows, err := w.tx.Query(ctx, `SELECT session_key, MAX(stopped_at) FROM sessions
				WHERE nas_id = ? AND session_key IN (`+placeholders(n, 1)+`) AND stopped_at IS NOT NULL GROUP BY session_key`, args...)
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
		// Pending updates of this NAS's sessions go first, then all its
		// open sessions close.
		if err := w.flushUpdates(ctx); err != nil {
			return err
		}
		if _, err := w.tx.Exec(ctx, `UPDATE sessions SET stopped_at = ?, stop_cause = ? WHERE nas_id = ? AND stopped_at IS NULL`,
			at, CauseNASReboot, r.NASID); err != nil {
			return err
		}
		for k := range w.open {
			if k.nas == r.NASID {
				delete(w.open, k)
				w.closed[k] = at
			}
		}
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
	o := &openSession{acct: acct, in: int64(r.InputOctets), out: int64(r.OutputOctets)}
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
	w.addUsage(acct, at, o.in, o.out)
	return nil
}

// applyToConcurrent applies r to the open session another writer inserted
// while this one tried to.
func (w *writer) applyToConcurrent(ctx context.Context, r *Record, k sessionKey) error {
	lock := ""
	if w.tx.Dialect() == store.Postgres {
		lock = " FOR UPDATE"
	}
	o := &openSession{}
	err := w.tx.QueryRow(ctx, `SELECT id, COALESCE(account_id, 0), input_octets, output_octets FROM sessions
		WHERE nas_id = ? AND session_key = ? AND stopped_at IS NULL`+lock, k.nas, k.key).Scan(&o.id, &o.acct, &o.in, &o.out)
	if err != nil {
		// Opened and closed again meanwhile: the batch is written again.
		return fmt.Errorf("session opened by another writer: %w", err)
	}
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
		args := make([]any, 0, n*6)
		for _, o := range part {
			args = append(args, o.id, o.updatedAt, o.in, o.out, o.secs, o.ip)
		}
		if _, err := w.tx.Exec(ctx, `UPDATE sessions SET updated_at = v.column2, input_octets = v.column3,
			output_octets = v.column4, session_time = v.column5,
			framed_ip = CASE WHEN v.column6 <> '' THEN v.column6 ELSE sessions.framed_ip END
			FROM (VALUES `+typedRows(n, "bigint", "timestamptz", "bigint", "bigint", "bigint", "text")+`) AS v WHERE sessions.id = v.column1`, args...); err != nil {
			return fmt.Errorf("update sessions: %w", err)
		}
	}
	for len(stops) > 0 {
		n := min(len(stops), chunk)
		part := stops[:n]
		stops = stops[n:]
		args := make([]any, 0, n*8)
		for _, o := range part {
			args = append(args, o.id, o.updatedAt, o.stoppedAt, o.in, o.out, o.secs, o.cause, o.ip)
		}
		if _, err := w.tx.Exec(ctx, `UPDATE sessions SET updated_at = v.column2, stopped_at = v.column3, input_octets = v.column4,
			output_octets = v.column5, session_time = v.column6, stop_cause = v.column7,
			framed_ip = CASE WHEN v.column8 <> '' THEN v.column8 ELSE sessions.framed_ip END
			FROM (VALUES `+typedRows(n, "bigint", "timestamptz", "timestamptz", "bigint", "bigint", "bigint", "text", "text")+`) AS v WHERE sessions.id = v.column1`, args...); err != nil {
			return fmt.Errorf("update sessions: %w", err)
		}
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
		args := make([]any, 0, n*4)
		for _, k := range part {
			d := w.usage[k]
			args = append(args, k.acct, k.day, d.in, d.out)
		}
		if _, err := w.tx.Exec(ctx, `INSERT INTO usage_daily (account_id, day, input_octets, output_octets) VALUES `+placeholders(n, 4)+`
			ON CONFLICT (account_id, day) DO UPDATE SET input_octets = usage_daily.input_octets + excluded.input_octets,
			output_octets = usage_daily.output_octets + excluded.output_octets`, args...); err != nil {
			return fmt.Errorf("usage: %w", err)
		}
	}
	return nil
}

// CloseStale closes open sessions not updated since before; the NAS
// stopped sending interims (it lost power, or the Stop was lost). It
// returns how many it closed.
func (s *Store) CloseStale(ctx context.Context, before time.Time) (int64, error) {
	var n int64
	err := s.DB.Write(ctx, func(tx *store.Tx) error {
		res, err := tx.Exec(ctx, `UPDATE sessions SET stopped_at = updated_at, stop_cause = ? WHERE stopped_at IS NULL AND updated_at < ?`,
			CauseStale, before.UTC())
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("close stale sessions: %w", err)
	}
	return n, nil
}
