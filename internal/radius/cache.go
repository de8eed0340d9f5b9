package radius

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/kabinet-billing/kabinet/internal/clock"
	"github.com/kabinet-billing/kabinet/internal/derrors"
)

// Cache keeps every subscriber in memory so that an Access-Request is
// answered without touching the disk. Whoever changes a subscriber (password,
// status, tariff, boost, limit) calls Invalidate or InvalidateAccount after
// the change commits; a periodic full reload (Run) is the safety net for a
// missed call.
type Cache struct {
	dir   Directory
	clock clock.Clock
	log   *slog.Logger

	mu        sync.RWMutex
	byLogin   map[string]Subscriber
	byAccount map[int64][]string
	// missing remembers logins the directory did not know, so that a NAS
	// retrying an unknown login does not hit the disk on every packet.
	missing map[string]time.Time
	// dirty collects logins invalidated while a full reload runs; the
	// reload's older snapshot must not overwrite them.
	reloading bool
	dirty     map[string]bool
	dirtyAcct map[int64]bool
}

// negativeTTL bounds how long an unknown login is answered from memory.
// Creating a subscriber calls Invalidate, which clears it at once.
const negativeTTL = 10 * time.Second

// NewCache returns an empty cache over dir; call Load before serving.
func NewCache(dir Directory, clk clock.Clock, log *slog.Logger) *Cache {
	if clk == nil {
		clk = clock.System
	}
	if log == nil {
		log = slog.Default()
	}
	return &Cache{
		dir: dir, clock: clk, log: log,
		byLogin:   map[string]Subscriber{},
		byAccount: map[int64][]string{},
		missing:   map[string]time.Time{},
	}
}

// Load replaces the whole cache with the directory's current contents.
func (c *Cache) Load(ctx context.Context) error {
	c.mu.Lock()
	c.reloading = true
	c.dirty = map[string]bool{}
	c.dirtyAcct = map[int64]bool{}
	c.mu.Unlock()

	all, err := c.dir.All(ctx)

	c.mu.Lock()
	dirty, dirtyAcct := c.dirty, c.dirtyAcct
	c.reloading, c.dirty, c.dirtyAcct = false, nil, nil
	if err != nil {
		c.mu.Unlock()
		return fmt.Errorf("load subscribers: %w", err)
	}
	byLogin := make(map[string]Subscriber, len(all))
	byAccount := make(map[int64][]string, len(all))
	for _, s := range all {
		byLogin[s.Login] = s
		byAccount[s.AccountID] = append(byAccount[s.AccountID], s.Login)
	}
	// Keep the newer per-login values for anything invalidated meanwhile.
	for login := range dirty {
		delete(byLogin, login)
		if s, ok := c.byLogin[login]; ok {
			byLogin[login] = s
		}
	}
	for id := range dirtyAcct {
		for _, l := range byAccount[id] {
			delete(byLogin, l)
		}
		byAccount[id] = nil
		for _, l := range c.byAccount[id] {
			if s, ok := c.byLogin[l]; ok {
				byLogin[l] = s
				byAccount[id] = append(byAccount[id], l)
			}
		}
	}
	c.byLogin, c.byAccount = byLogin, byAccount
	c.missing = map[string]time.Time{}
	c.mu.Unlock()
	return nil
}

// Run reloads everything every interval until ctx ends.
func (c *Cache) Run(ctx context.Context, every time.Duration) {
	clock.Every(ctx, every, func(ctx context.Context) {
		if err := c.Load(ctx); err != nil {
			c.log.Error("radius: periodic subscriber reload failed", "err", err)
		}
	})
}

// Len is the number of cached logins.
func (c *Cache) Len() int {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return len(c.byLogin)
}

// Get returns the subscriber for login. A login not in memory is looked up
// in the directory once and remembered, found or not.
func (c *Cache) Get(ctx context.Context, login string) (Subscriber, error) {
	c.mu.RLock()
	s, ok := c.byLogin[login]
	missAt, missing := c.missing[login]
	c.mu.RUnlock()
	if ok {
		return s, nil
	}
	if missing && c.clock.Now().Sub(missAt) < negativeTTL {
		return Subscriber{}, derrors.NotFound
	}
	s, err := c.dir.Lookup(ctx, login)
	switch {
	case errors.Is(err, derrors.NotFound):
		c.mu.Lock()
		c.missing[login] = c.clock.Now()
		c.mu.Unlock()
		return Subscriber{}, derrors.NotFound
	case err != nil:
		return Subscriber{}, fmt.Errorf("look up a login: %w", err) // not named: it may be a password
	}
	c.put(login, s)
	return s, nil
}

func (c *Cache) put(login string, s Subscriber) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.byLogin[login] = s
	delete(c.missing, login)
	for _, l := range c.byAccount[s.AccountID] {
		if l == login {
			return
		}
	}
	c.byAccount[s.AccountID] = append(c.byAccount[s.AccountID], login)
}

// Invalidate reloads one login from the directory (or forgets it if it no
// longer exists). The old value keeps answering until the new one is in.
func (c *Cache) Invalidate(ctx context.Context, login string) error {
	c.markDirty(login, 0)
	s, err := c.dir.Lookup(ctx, login)
	switch {
	case errors.Is(err, derrors.NotFound):
		c.mu.Lock()
		old, ok := c.byLogin[login]
		delete(c.byLogin, login)
		delete(c.missing, login)
		if ok {
			c.removeFromAccountLocked(old.AccountID, login)
		}
		c.mu.Unlock()
		return nil
	case err != nil:
		// Serving a stale password or speed is worse than one slow lookup:
		// drop the entry so the next Get asks the directory.
		c.mu.Lock()
		delete(c.byLogin, login)
		c.mu.Unlock()
		return fmt.Errorf("invalidate %q: %w", login, err)
	}
	c.mu.Lock()
	if old, ok := c.byLogin[login]; ok && old.AccountID != s.AccountID {
		c.removeFromAccountLocked(old.AccountID, login)
	}
	c.mu.Unlock()
	c.put(login, s)
	return nil
}

// InvalidateAccount reloads every login of one account.
func (c *Cache) InvalidateAccount(ctx context.Context, accountID int64) error {
	c.markDirty("", accountID)
	subs, err := c.dir.LookupAccount(ctx, accountID)
	if err != nil && !errors.Is(err, derrors.NotFound) {
		c.mu.Lock()
		for _, l := range c.byAccount[accountID] {
			delete(c.byLogin, l)
		}
		delete(c.byAccount, accountID)
		c.mu.Unlock()
		return fmt.Errorf("invalidate account %d: %w", accountID, err)
	}
	c.mu.Lock()
	for _, l := range c.byAccount[accountID] {
		delete(c.byLogin, l)
	}
	delete(c.byAccount, accountID)
	for _, s := range subs {
		c.byLogin[s.Login] = s
		delete(c.missing, s.Login)
		c.byAccount[accountID] = append(c.byAccount[accountID], s.Login)
	}
	c.mu.Unlock()
	return nil
}

// Account returns the cached logins of one account; CoA uses it to learn the
// new speed after an invalidation.
func (c *Cache) Account(accountID int64) []Subscriber {
	c.mu.RLock()
	defer c.mu.RUnlock()
	var out []Subscriber
	for _, l := range c.byAccount[accountID] {
		if s, ok := c.byLogin[l]; ok {
			out = append(out, s)
		}
	}
	return out
}

func (c *Cache) markDirty(login string, accountID int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.reloading {
		return
	}
	if login != "" {
		c.dirty[login] = true
	}
	if accountID != 0 {
		c.dirtyAcct[accountID] = true
	}
}

func (c *Cache) removeFromAccountLocked(accountID int64, login string) {
	ls := c.byAccount[accountID]
	for i, l := range ls {
		if l == login {
			c.byAccount[accountID] = append(ls[:i:i], ls[i+1:]...)
			break
		}
	}
	if len(c.byAccount[accountID]) == 0 {
		delete(c.byAccount, accountID)
	}
}
