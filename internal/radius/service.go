package radius

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/kabinet-billing/kabinet/internal/billing"
	"github.com/kabinet-billing/kabinet/internal/clock"
	"github.com/kabinet-billing/kabinet/internal/store"
	"github.com/kabinet-billing/kabinet/internal/subscriber"
	"github.com/kabinet-billing/kabinet/internal/traffic"
)

// TrafficSink writes accounting into the traffic package's tables.
type TrafficSink struct{ T *traffic.Store }

// WriteAccounting implements AccountingSink.
func (s TrafficSink) WriteAccounting(ctx context.Context, recs []AcctRecord) error {
	out := make([]traffic.Record, len(recs))
	for i, r := range recs {
		acct, _, _ := ParseClass(r.Class)
		out[i] = traffic.Record{
			Kind: traffic.Kind(r.Status), NASID: r.NASID, SessionID: r.SessionID, AccountID: acct, Login: r.Login,
			NASPort: r.NASPort, NASPortID: r.NASPortID, FramedIP: r.FramedIP, CallingStationID: r.CallingStationID,
			InputOctets: r.InputOctets, OutputOctets: r.OutputOctets, SessionTime: r.SessionTime, Time: r.Time,
		}
		if r.Status == AcctStop {
			out[i].StopCause = terminateCause(r.TerminateCause)
		}
	}
	return s.T.Write(ctx, out)
}

// terminateCause names Acct-Terminate-Cause (RFC 2866 §5.10).
func terminateCause(v uint32) string {
	names := []string{"", "user-request", "lost-carrier", "lost-service", "idle-timeout", "session-timeout",
		"admin-reset", "admin-reboot", "port-error", "nas-error", "nas-request", "nas-reboot", "port-unneeded",
		"port-preempted", "port-suspended", "service-unavailable", "callback", "user-error", "host-request"}
	if int(v) < len(names) {
		return names[v]
	}
	return fmt.Sprintf("cause-%d", v)
}

// ServiceConfig tunes the wired RADIUS service.
type ServiceConfig struct {
	Server Config
	CoA    CoAConfig
	// ReloadEvery is the full subscriber reload, the safety net behind
	// invalidation. Default 10 minutes.
	ReloadEvery time.Duration
	// StaleAfter closes a session with no accounting for this long.
	// Default 3 interim intervals plus a minute.
	StaleAfter time.Duration
	// Journal, when its Dir is set, is opened by Run: accounting is then
	// answered once in the journal and applied to the database behind.
	Journal JournalConfig
}

// Service is RADIUS wired to the database: the server, its cache, the NAS
// table, traffic, and CoA on account events.
type Service struct {
	cfg     ServiceConfig
	db      *store.DB
	clock   clock.Clock
	log     *slog.Logger
	Server  *Server
	Cache   *Cache
	NAS     *NASStore
	Traffic *traffic.Store
	CoA     *CoAClient

	events  chan store.Event
	coaSlot chan struct{}
	wg      sync.WaitGroup
}

// NewService wires RADIUS to the capabilities. It subscribes to db's events
// at once so that nothing committed before Run is missed.
func NewService(cfg ServiceConfig, db *store.DB, subs *subscriber.Directory, b *billing.Biller, tr *traffic.Store) *Service {
	if cfg.Server.Clock == nil {
		cfg.Server.Clock = clock.System
	}
	if cfg.Server.Logger == nil {
		cfg.Server.Logger = slog.Default()
	}
	cfg.Server.defaults()
	if cfg.CoA.Clock == nil {
		cfg.CoA.Clock = cfg.Server.Clock
	}
	if cfg.CoA.Logger == nil {
		cfg.CoA.Logger = cfg.Server.Logger
	}
	if cfg.CoA.Reply == (ReplyOptions{}) {
		cfg.CoA.Reply = cfg.Server.Reply
	}
	if cfg.ReloadEvery == 0 {
		cfg.ReloadEvery = 10 * time.Minute
	}
	if cfg.StaleAfter == 0 {
		cfg.StaleAfter = 3*cfg.Server.InterimInterval + time.Minute
	}
	s := &Service{
		cfg: cfg, db: db, clock: cfg.Server.Clock, log: cfg.Server.Logger, Traffic: tr,
		events:  make(chan store.Event, 4096),
		coaSlot: make(chan struct{}, 16),
	}
	s.Cache = NewCache(NewStoreDirectory(subs, b, s.log), s.clock, s.log)
	s.NAS = NewNASStore(db, s.clock)
	prev := cfg.CoA.OnResult
	cfg.CoA.OnResult = func(r CoAResult) {
		s.logCoA(r)
		if prev != nil {
			prev(r)
		}
	}
	s.CoA = NewCoAClient(cfg.CoA)
	s.Server = NewServer(cfg.Server, s.Cache, s.NAS, TrafficSink{T: tr})
	db.Subscribe(func(e store.Event) {
		select {
		case s.events <- e:
		default:
			// The committing goroutine must not block; the periodic reload
			// catches up the cache, and a missed CoA is logged.
			s.log.Error("radius: event queue full; event skipped", "kind", e.Kind, "account", e.AccountID)
		}
	})
	return s
}

// Load reads the NAS table and every subscriber; Run calls it, tests and
// `kabinet demo` may call it first to fail early.
func (s *Service) Load(ctx context.Context) error {
	if err := s.NAS.Load(ctx); err != nil {
		return err
	}
	return s.Cache.Load(ctx)
}

// Run loads, serves UDP and reacts to events until ctx ends.
func (s *Service) Run(ctx context.Context) error {
	if err := s.Load(ctx); err != nil {
		return fmt.Errorf("radius: %w", err)
	}
	s.log.Info("radius: loaded", "subscribers", s.Cache.Len())
	if s.cfg.Journal.Dir != "" {
		if s.cfg.Journal.Logger == nil {
			s.cfg.Journal.Logger = s.log
		}
		j, err := OpenJournal(s.cfg.Journal)
		if err != nil {
			return err
		}
		defer j.Close()
		s.Server.cfg.Journal = j
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	s.wg.Go(func() { s.Cache.Run(ctx, s.cfg.ReloadEvery) })
	s.wg.Go(func() { s.eventLoop(ctx) })
	s.wg.Go(func() { s.housekeeping(ctx) })
	err := s.Server.ListenAndServe(ctx)
	cancel()
	s.wg.Wait()
	return err
}

func (s *Service) housekeeping(ctx context.Context) {
	clock.Every(ctx, time.Minute, func(ctx context.Context) {
		if _, err := s.CloseStale(ctx); err != nil {
			s.log.Error("radius: closing stale sessions", "err", err)
		}
		// Another instance may have changed the NAS table.
		if err := s.NAS.Load(ctx); err != nil {
			s.log.Error("radius: reloading NAS", "err", err)
		}
	})
}

// CloseStale closes sessions with no accounting for StaleAfter.
func (s *Service) CloseStale(ctx context.Context) (int64, error) {
	n, err := s.Traffic.CloseStale(ctx, s.clock.Now().Add(-s.cfg.StaleAfter))
	if n > 0 {
		s.log.Info("radius: closed stale sessions", "count", n)
	}
	return n, err
}

func (s *Service) eventLoop(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case e := <-s.events:
			s.HandleEvent(ctx, e)
		}
	}
}

// speedEvents change what a live session should get from the NAS.
var speedEvents = map[string]bool{
	store.EventAccountLimited: true, store.EventAccountUnlimited: true, store.EventAccountStatus: true,
	store.EventTariffChanged: true, store.EventBoostStarted: true, store.EventBoostEnded: true,
	store.EventPackageOn: true, store.EventPackageOff: true,
}

// HandleEvent refreshes the cache for the account and, when the event
// changes the line, tells the NAS of every open session. CoA runs in the
// background: a NAS that does not answer must not hold up the next event.
func (s *Service) HandleEvent(ctx context.Context, e store.Event) {
	if e.AccountID == 0 {
		return
	}
	if err := s.Cache.InvalidateAccount(ctx, e.AccountID); err != nil {
		s.log.Error("radius: refreshing account after event", "kind", e.Kind, "account", e.AccountID, "err", err)
	}
	if !speedEvents[e.Kind] {
		return
	}
	sessions, err := s.Traffic.OpenSessions(ctx, e.AccountID)
	if err != nil {
		s.log.Error("radius: open sessions for CoA", "account", e.AccountID, "err", err)
		return
	}
	subs := map[string]Subscriber{}
	for _, sub := range s.Cache.Account(e.AccountID) {
		subs[sub.Login] = sub
	}
	for _, sess := range sessions {
		nas, err := s.NAS.ByID(sess.NASID)
		if err != nil {
			s.log.Error("radius: session's NAS is gone", "session", sess.ID, "nas", sess.NASID)
			continue
		}
		ref := SessionRef{NAS: nas, SessionID: sess.SessionID, Login: sess.Login, FramedIP: sess.FramedIP,
			AccountID: e.AccountID, Reason: e.Kind}
		sub, known := subs[sess.Login]
		s.coaSlot <- struct{}{}
		s.wg.Go(func() {
			defer func() { <-s.coaSlot }()
			if !known || !s.cfg.Server.Reply.Admits(sub) {
				s.CoA.Disconnect(ctx, ref)
				return
			}
			s.CoA.Update(ctx, ref, sub)
		})
	}
}

// ErrSessionClosed is returned when asked to disconnect a finished session.
var ErrSessionClosed = errors.New("session is not open")

// DisconnectSession sends Disconnect-Request for one session (the
// operator's button); reason lands in the CoA log.
func (s *Service) DisconnectSession(ctx context.Context, sessionID int64, reason string) (CoAResult, error) {
	sess, err := s.Traffic.SessionByID(ctx, sessionID)
	if err != nil {
		return CoAResult{}, err
	}
	if !sess.Open() {
		return CoAResult{}, fmt.Errorf("session %d: %w", sessionID, ErrSessionClosed)
	}
	nas, err := s.NAS.ByID(sess.NASID)
	if err != nil {
		return CoAResult{}, fmt.Errorf("session %d: NAS %d: %w", sessionID, sess.NASID, err)
	}
	if reason == "" {
		reason = "operator"
	}
	r := s.CoA.Disconnect(ctx, SessionRef{NAS: nas, SessionID: sess.SessionID, Login: sess.Login, FramedIP: sess.FramedIP,
		AccountID: sess.AccountID, Reason: reason})
	return r, nil
}

// CoALogEntry is one CoA or Disconnect outcome as stored.
type CoALogEntry struct {
	ID         int64
	At         time.Time
	NASID      int64
	NASName    string
	AccountID  int64
	SessionID  string
	Login      string
	Action     CoAAction
	OK         bool
	FellBack   bool
	ErrorCause uint32
	Attempts   int
	Error      string
	Reason     string
}

func (s *Service) logCoA(r CoAResult) {
	errText := ""
	if r.Err != nil {
		errText = r.Err.Error()
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err := s.db.Write(ctx, func(tx *store.Tx) error {
		var acct any
		if r.Session.AccountID != 0 {
			acct = r.Session.AccountID
		}
		_, err := tx.Exec(ctx, `INSERT INTO coa_log (at, nas_id, account_id, session_key, login, action, ok, fell_back, error_cause, attempts, error, reason)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, r.At.UTC(), r.Session.NAS.ID, acct, r.Session.SessionID, r.Session.Login,
			string(r.Action), r.OK || r.Gone(), r.FellBack, int64(r.ErrorCause), r.Attempts, errText, r.Session.Reason)
		return err
	})
	if err != nil {
		s.log.Error("radius: recording CoA result", "err", err)
	}
}

// CoALog lists recent CoA and Disconnect outcomes, newest first; failedOnly
// gives what the operators must look at.
func (s *Service) CoALog(ctx context.Context, failedOnly bool, limit int) ([]CoALogEntry, error) {
	if limit <= 0 {
		limit = 100
	}
	where := ""
	if failedOnly {
		where = "WHERE NOT c.ok"
	}
	rows, err := s.db.Query(ctx, `SELECT c.id, c.at, COALESCE(c.nas_id, 0), COALESCE(n.name, ''), COALESCE(c.account_id, 0), c.session_key, c.login,
		c.action, c.ok, c.fell_back, c.error_cause, c.attempts, c.error, c.reason
		FROM coa_log c LEFT JOIN nas n ON n.id = c.nas_id `+where+` ORDER BY c.id DESC LIMIT ?`, limit)
	if err != nil {
		return nil, fmt.Errorf("CoA log: %w", err)
	}
	defer rows.Close()
	var out []CoALogEntry
	for rows.Next() {
		var e CoALogEntry
		var cause int64
		if err := rows.Scan(&e.ID, &e.At, &e.NASID, &e.NASName, &e.AccountID, &e.SessionID, &e.Login, &e.Action, &e.OK, &e.FellBack,
			&cause, &e.Attempts, &e.Error, &e.Reason); err != nil {
			return nil, fmt.Errorf("CoA log: %w", err)
		}
		e.ErrorCause = uint32(cause)
		out = append(out, e)
	}
	return out, rows.Err()
}

// Wait blocks until background CoA work started by HandleEvent is done
// (tests; Run waits by itself).
func (s *Service) Wait() { s.wg.Wait() }
