package platform

import (
	"bytes"
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
	// cache keeps sessions in memory on SQLite, where this process is the
	// only one serving the database's sessions (one `kabinet serve` per
	// file: docs/operations.md) and every change goes through Commit and
	// Delete. On PostgreSQL several instances share the table: nil.
	cache *sessionCache
}

// NewSessionStore makes the store over an open, migrated database.
func NewSessionStore(db *store.DB) *SessionStore {
	s := &SessionStore{db: db}
	if db != nil && !db.Shared() {
		s.cache = &sessionCache{m: map[string]cachedSession{}}
	}
	return s
}

// sessionCache is the sessions read or written lately, by token. A reader
// that missed fills it with what it read only if no change began or ended
// meanwhile (epoch), so that a session written or deleted while it read
// cannot come back in its old form.
type sessionCache struct {
	mu    sync.RWMutex
	epoch uint64
	m     map[string]cachedSession
}

type cachedSession struct {
	data   []byte
	expiry time.Time
}

// maxCachedSessions bounds the memory: beyond it sessions are read from
// the database as if there were no cache.
const maxCachedSessions = 50000

func (c *sessionCache) get(token string) (cachedSession, bool, uint64) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	e, ok := c.m[token]
	return e, ok, c.epoch
}

// fill stores what a reader found, unless a change intervened since epoch.
func (c *sessionCache) fill(token string, e cachedSession, epoch uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.epoch == epoch && len(c.m) < maxCachedSessions {
		c.m[token] = e
	}
}

// change marks a change of token as begun or ended and sets its cached
// form (nil: none).
func (c *sessionCache) change(token string, e *cachedSession) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.epoch++
	if e != nil && len(c.m) < maxCachedSessions {
		c.m[token] = *e
	} else {
		delete(c.m, token)
	}
}

// clear forgets every session, as a change of all of them.
func (c *sessionCache) clear() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.epoch++
	clear(c.m)
}

// purge drops the expired sessions.
func (c *sessionCache) purge(now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for k, e := range c.m {
		if !e.expiry.After(now) {
			delete(c.m, k)
		}
	}
}

func (s *SessionStore) Find(token string) ([]byte, bool, error) {
	return s.FindCtx(context.Background(), token)
}

func (s *SessionStore) FindCtx(ctx context.Context, token string) ([]byte, bool, error) {
	var epoch uint64
	if s.cache != nil {
		e, ok, ep := s.cache.get(token)
		if ok {
			if !e.expiry.After(time.Now()) {
				return nil, false, nil
			}
			return e.data, true, nil
		}
		epoch = ep
	}
	var b []byte
	var expiry time.Time
	err := s.db.QueryRow(ctx, `SELECT data, expiry FROM web_sessions WHERE token = ?`, token).Scan(&b, &expiry)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("session: %w", err)
	}
	if !expiry.After(time.Now()) {
		return nil, false, nil
	}
	if s.cache != nil {
		s.cache.fill(token, cachedSession{data: b, expiry: expiry}, epoch)
	}
	return b, true, nil
}

func (s *SessionStore) Commit(token string, b []byte, expiry time.Time) error {
	return s.CommitCtx(context.Background(), token, b, expiry)
}

func (s *SessionStore) CommitCtx(ctx context.Context, token string, b []byte, expiry time.Time) error {
	if s.cache != nil {
		s.cache.change(token, nil)
	}
	account, operator := sessionOwner(b)
	err := s.db.Write(ctx, func(tx *store.Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO web_sessions (token, data, expiry, account_id, operator_id) VALUES (?, ?, ?, ?, ?)
			ON CONFLICT (token) DO UPDATE SET data = excluded.data, expiry = excluded.expiry,
				account_id = excluded.account_id, operator_id = excluded.operator_id`, token, b, expiry.UTC(), account, operator)
		return err
	})
	if s.cache != nil {
		if err != nil {
			s.cache.change(token, nil)
		} else {
			s.cache.change(token, &cachedSession{data: bytes.Clone(b), expiry: expiry})
		}
	}
	if err != nil {
		return fmt.Errorf("session commit: %w", err)
	}
	s.sweep(ctx)
	return nil
}

func (s *SessionStore) Delete(token string) error { return s.DeleteCtx(context.Background(), token) }

func (s *SessionStore) DeleteCtx(ctx context.Context, token string) error {
	if s.cache != nil {
		s.cache.change(token, nil)
		defer s.cache.change(token, nil)
	}
	return s.db.Write(ctx, func(tx *store.Tx) error {
		_, err := tx.Exec(ctx, `DELETE FROM web_sessions WHERE token = ?`, token)
		return err
	})
}

// sessionOwner reads whose session b is (nil: no one logged in), for the
// columns a password change finds its sessions by.
func sessionOwner(b []byte) (account, operator any) {
	_, values, err := sessionCodec{}.Decode(b)
	if err != nil {
		return nil, nil
	}
	if id, ok := values[SessionAccount].(int64); ok && id > 0 {
		account = id
	}
	if id, ok := values[SessionOperator].(int64); ok && id > 0 {
		operator = id
	}
	return account, operator
}

// EndAll deletes every session of a subscriber (SessionAccount) or an
// operator (SessionOperator), as a password change does.
func (s *SessionStore) EndAll(ctx context.Context, key string, id int64) error {
	col := map[string]string{SessionAccount: "account_id", SessionOperator: "operator_id"}[key]
	if col == "" {
		return fmt.Errorf("end sessions: no owner column for %q", key)
	}
	if s.cache != nil {
		// Rare enough to forget every cached session rather than track
		// their owners; a change begun keeps readers from refilling it
		// with what they read before the delete.
		s.cache.clear()
		defer s.cache.clear()
	}
	err := s.db.Write(ctx, func(tx *store.Tx) error {
		_, err := tx.Exec(ctx, `DELETE FROM web_sessions WHERE `+col+` = ?`, id)
		return err
	})
	if err != nil {
		return fmt.Errorf("end sessions of %s %d: %w", key, id, err)
	}
	return nil
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
	if s.cache != nil {
		s.cache.purge(time.Now())
	}
}
