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
// only after the transaction commits: the NAS is answered after that.
func (s *Store) Write(ctx context.Context, recs []Record) error {
	if len(recs) == 0 {
		return nil
	}
	return s.DB.Write(ctx, func(tx *store.Tx) error {
		w, err := s.newWriter(ctx, tx)
		if err != nil {
			return err
		}
		defer w.close()
		for i := range recs {
			if err := w.apply(ctx, &recs[i]); err != nil {
				return fmt.Errorf("accounting %s %q from NAS %d: %w", kindName(recs[i].Kind), recs[i].SessionID, recs[i].NASID, err)
			}
		}
		return nil
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

// writer holds the statements of one batch, prepared once.
type writer struct {
	s                                            *Store
	open, insert, update, usage, closeNAS, login *sql.Stmt
	wasStopped                                   *sql.Stmt
	logins                                       map[string]int64
}

func (s *Store) newWriter(ctx context.Context, tx *store.Tx) (*writer, error) {
	w := &writer{s: s, logins: map[string]int64{}}
	for _, p := range []struct {
		st **sql.Stmt
		q  string
	}{
		{&w.open, `SELECT id, COALESCE(account_id, 0), input_octets, output_octets FROM sessions
			WHERE nas_id = ? AND session_key = ? AND stopped_at IS NULL`},
		{&w.insert, `INSERT INTO sessions (nas_id, session_key, account_id, login, nas_port, nas_port_id, framed_ip,
			calling_station_id, started_at, updated_at, stopped_at, input_octets, output_octets, session_time, stop_cause)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`},
		{&w.update, `UPDATE sessions SET updated_at = ?, stopped_at = ?, input_octets = ?, output_octets = ?, session_time = ?,
			stop_cause = ?, framed_ip = CASE WHEN ? <> '' THEN ? ELSE framed_ip END WHERE id = ?`},
		{&w.usage, `INSERT INTO usage_daily (account_id, day, input_octets, output_octets) VALUES (?, ?, ?, ?)
			ON CONFLICT (account_id, day) DO UPDATE SET input_octets = usage_daily.input_octets + excluded.input_octets,
			output_octets = usage_daily.output_octets + excluded.output_octets`},
		{&w.closeNAS, `UPDATE sessions SET stopped_at = ?, stop_cause = ? WHERE nas_id = ? AND stopped_at IS NULL`},
		{&w.login, `SELECT id FROM accounts WHERE login = ?`},
		{&w.wasStopped, `SELECT COUNT(*) FROM sessions WHERE nas_id = ? AND session_key = ? AND stopped_at IS NOT NULL AND stopped_at >= ?`},
	} {
		st, err := tx.Prepare(ctx, p.q)
		if err != nil {
			w.close()
			return nil, fmt.Errorf("prepare: %w", err)
		}
		*p.st = st
	}
	return w, nil
}

func (w *writer) close() {
	for _, st := range []*sql.Stmt{w.open, w.insert, w.update, w.usage, w.closeNAS, w.login, w.wasStopped} {
		if st != nil {
			st.Close()
		}
	}
}

func (w *writer) accountOf(ctx context.Context, r *Record) (int64, error) {
	if r.AccountID != 0 || r.Login == "" {
		return r.AccountID, nil
	}
	if id, ok := w.logins[r.Login]; ok {
		return id, nil
	}
	var id int64
	err := w.login.QueryRowContext(ctx, r.Login).Scan(&id)
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
		_, err := w.closeNAS.ExecContext(ctx, at, CauseNASReboot, r.NASID)
		return err
	case Start, Interim, Stop:
	default:
		return nil // nothing to keep, but the NAS is answered
	}
	var (
		id, acct      int64
		inOld, outOld int64
	)
	err := w.open.QueryRowContext(ctx, r.NASID, r.SessionID).Scan(&id, &acct, &inOld, &outOld)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		if r.Kind == Stop {
			// A Stop for a session already closed (its retransmission after
			// the duplicate window, or after Accounting-On) changes nothing.
			var n int
			if err := w.wasStopped.QueryRowContext(ctx, r.NASID, r.SessionID, at.Add(-24*time.Hour)).Scan(&n); err != nil {
				return err
			}
			if n > 0 {
				return nil
			}
		}
		// A Start, or an Interim/Stop whose Start was lost: open the row
		// from what this record says.
		if acct, err = w.accountOf(ctx, r); err != nil {
			return err
		}
		var stopped any
		if r.Kind == Stop {
			stopped = at
		}
		started := at.Add(-r.SessionTime)
		if _, err := w.insert.ExecContext(ctx, r.NASID, r.SessionID, nullID(acct), r.Login, int64(r.NASPort), r.NASPortID,
			ipText(r.FramedIP), r.CallingStationID, started, at, stopped, int64(r.InputOctets), int64(r.OutputOctets),
			int64(r.SessionTime/time.Second), r.StopCause); err != nil {
			return err
		}
		return w.addUsage(ctx, acct, at, int64(r.InputOctets), int64(r.OutputOctets))
	case err != nil:
		return err
	}
	if r.Kind == Start {
		return nil // retransmitted Start: the session is already open
	}
	var stopped any
	if r.Kind == Stop {
		stopped = at
	}
	in, out := int64(r.InputOctets), int64(r.OutputOctets)
	// Counters only grow within a session; a smaller one is a reordered
	// older Interim and must not lower what we have.
	dIn, dOut := max(0, in-inOld), max(0, out-outOld)
	in, out = inOld+dIn, outOld+dOut
	ip := ipText(r.FramedIP)
	if _, err := w.update.ExecContext(ctx, at, stopped, in, out, int64(r.SessionTime/time.Second), r.StopCause, ip, ip, id); err != nil {
		return err
	}
	return w.addUsage(ctx, acct, at, dIn, dOut)
}

func (w *writer) addUsage(ctx context.Context, acct int64, at time.Time, in, out int64) error {
	if acct == 0 || (in == 0 && out == 0) {
		return nil
	}
	_, err := w.usage.ExecContext(ctx, acct, at.In(w.s.Zone).Format(time.DateOnly), in, out)
	return err
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
