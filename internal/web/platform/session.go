package platform

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/kabinet-billing/kabinet/internal/store"
)

// SessionStore keeps scs sessions in our own database (scs's own SQLite store
// needs cgo). Expiry is wall-clock time, set by scs itself: a session's life
// is not business time, so it does not follow the injected clock.
type SessionStore struct {
	db        *store.DB
	lastSweep atomic.Int64 // unix seconds of the last purge of expired rows
	// find is prepared once: every page view looks its session up, and
	// SQLite spends more time parsing this query than running it.
	find     *sql.Stmt
	findOnce sync.Once
	findErr  error
}

// NewSessionStore makes the store over an open, migrated database.
func NewSessionStore(db *store.DB) *SessionStore { return &SessionStore{db: db} }

func (s *SessionStore) Find(token string) ([]byte, bool, error) {
	return s.FindCtx(context.Background(), token)
}

func (s *SessionStore) FindCtx(ctx context.Context, token string) ([]byte, bool, error) {
	var b []byte
	var expiry time.Time
	s.findOnce.Do(func() {
		s.find, s.findErr = s.db.Reader().PrepareContext(context.Background(), s.db.Rebind(`SELECT data, expiry FROM web_sessions WHERE token = ?`))
	})
	if s.findErr != nil {
		return nil, false, fmt.Errorf("session: %w", s.findErr)
	}
	err := s.find.QueryRowContext(ctx, token).Scan(&b, &expiry)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("session: %w", err)
	}
	if !expiry.After(time.Now()) {
		return nil, false, nil
	}
	return b, true, nil
}

func (s *SessionStore) Commit(token string, b []byte, expiry time.Time) error {
	return s.CommitCtx(context.Background(), token, b, expiry)
}

func (s *SessionStore) CommitCtx(ctx context.Context, token string, b []byte, expiry time.Time) error {
	err := s.db.Write(ctx, func(tx *store.Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO web_sessions (token, data, expiry) VALUES (?, ?, ?)
			ON CONFLICT (token) DO UPDATE SET data = excluded.data, expiry = excluded.expiry`, token, b, expiry.UTC())
		return err
	})
	if err != nil {
		return fmt.Errorf("session commit: %w", err)
	}
	s.sweep(ctx)
	return nil
}

func (s *SessionStore) Delete(token string) error { return s.DeleteCtx(context.Background(), token) }

func (s *SessionStore) DeleteCtx(ctx context.Context, token string) error {
	return s.db.Write(ctx, func(tx *store.Tx) error {
		_, err := tx.Exec(ctx, `DELETE FROM web_sessions WHERE token = ?`, token)
		return err
	})
}

// sweep purges expired sessions at most every ten minutes, piggybacking on
// writes so that no background goroutine needs stopping.
func (s *SessionStore) sweep(ctx context.Context) {
	now := time.Now().Unix()
	last := s.lastSweep.Load()
	if now-last < 600 || !s.lastSweep.CompareAndSwap(last, now) {
		return
	}
	s.db.Write(ctx, func(tx *store.Tx) error {
		_, err := tx.Exec(ctx, `DELETE FROM web_sessions WHERE expiry < ?`, time.Now().UTC())
		return err
	})
}
