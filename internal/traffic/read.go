package traffic

import (
	"context"
	"database/sql"
	"fmt"
	"net/netip"
	"time"

	"github.com/kabinet-billing/kabinet/internal/derrors"
)

// Session is one connection as the portal and the back office show it.
type Session struct {
	ID               int64
	NASID            int64
	NASName          string
	SessionID        string // Acct-Session-Id
	AccountID        int64
	Login            string
	NASPort          int64
	NASPortID        string
	FramedIP         netip.Addr
	CallingStationID string // usually the MAC address
	StartedAt        time.Time
	UpdatedAt        time.Time
	StoppedAt        time.Time // zero while open
	InputOctets      int64     // upload
	OutputOctets     int64     // download
	SessionTime      time.Duration
	StopCause        string
}

// Open tells whether the session is still running.
func (s Session) Open() bool { return s.StoppedAt.IsZero() }

const sessionCols = `s.id, s.nas_id, COALESCE(n.name, ''), s.session_key, COALESCE(s.account_id, 0), s.login, s.nas_port, s.nas_port_id,
	s.framed_ip, s.calling_station_id, s.started_at, s.updated_at, s.stopped_at, s.input_octets, s.output_octets,
	s.session_time, s.stop_cause`

type scanner interface{ Scan(...any) error }

func scanSession(r scanner) (Session, error) {
	var s Session
	var ip string
	var stopped sql.NullTime
	var secs int64
	if err := r.Scan(&s.ID, &s.NASID, &s.NASName, &s.SessionID, &s.AccountID, &s.Login, &s.NASPort, &s.NASPortID,
		&ip, &s.CallingStationID, &s.StartedAt, &s.UpdatedAt, &stopped, &s.InputOctets, &s.OutputOctets, &secs, &s.StopCause); err != nil {
		return s, err
	}
	s.FramedIP, _ = netip.ParseAddr(ip)
	s.StoppedAt = stopped.Time
	s.SessionTime = time.Duration(secs) * time.Second
	return s, nil
}

func (s *Store) list(ctx context.Context, where string, args ...any) ([]Session, error) {
	rows, err := s.DB.Query(ctx, `SELECT `+sessionCols+` FROM sessions s LEFT JOIN nas n ON n.id = s.nas_id `+where, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Session
	for rows.Next() {
		x, err := scanSession(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, x)
	}
	return out, rows.Err()
}

// Sessions lists an account's sessions that overlap [from, to), newest first.
func (s *Store) Sessions(ctx context.Context, accountID int64, from, to time.Time, limit int) ([]Session, error) {
	if limit <= 0 {
		limit = 100
	}
	out, err := s.list(ctx, `WHERE s.account_id = ? AND s.started_at < ? AND (s.stopped_at IS NULL OR s.stopped_at >= ?)
		ORDER BY s.started_at DESC, s.id DESC LIMIT ?`, accountID, to.UTC(), from.UTC(), limit)
	if err != nil {
		return nil, fmt.Errorf("sessions of %d: %w", accountID, err)
	}
	return out, nil
}

// OpenSessions lists an account's open sessions (0: every open session).
func (s *Store) OpenSessions(ctx context.Context, accountID int64) ([]Session, error) {
	var out []Session
	var err error
	if accountID == 0 {
		out, err = s.list(ctx, `WHERE s.stopped_at IS NULL ORDER BY s.started_at DESC`)
	} else {
		out, err = s.list(ctx, `WHERE s.account_id = ? AND s.stopped_at IS NULL ORDER BY s.started_at DESC`, accountID)
	}
	if err != nil {
		return nil, fmt.Errorf("open sessions of %d: %w", accountID, err)
	}
	return out, nil
}

// SessionByID returns one session.
func (s *Store) SessionByID(ctx context.Context, id int64) (Session, error) {
	out, err := s.list(ctx, `WHERE s.id = ?`, id)
	if err != nil {
		return Session{}, fmt.Errorf("session %d: %w", id, err)
	}
	if len(out) == 0 {
		return Session{}, fmt.Errorf("session %d: %w", id, derrors.NotFound)
	}
	return out[0], nil
}

// DayUsage is one day's bytes.
type DayUsage struct {
	Day          string // YYYY-MM-DD in the provider's zone
	InputOctets  int64  // upload
	OutputOctets int64  // download
}

// Usage returns an account's usage per day for days in [from, to]
// (YYYY-MM-DD, inclusive), oldest first; days without traffic are absent.
func (s *Store) Usage(ctx context.Context, accountID int64, from, to string) ([]DayUsage, error) {
	rows, err := s.DB.Query(ctx, `SELECT day, input_octets, output_octets FROM usage_daily
		WHERE account_id = ? AND day >= ? AND day <= ? ORDER BY day`, accountID, from, to)
	if err != nil {
		return nil, fmt.Errorf("usage of %d: %w", accountID, err)
	}
	defer rows.Close()
	var out []DayUsage
	for rows.Next() {
		var d DayUsage
		if err := rows.Scan(&d.Day, &d.InputOctets, &d.OutputOctets); err != nil {
			return nil, fmt.Errorf("usage of %d: %w", accountID, err)
		}
		out = append(out, d)
	}
	return out, rows.Err()
}
