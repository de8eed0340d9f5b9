// Package store opens the database (SQLite by default, PostgreSQL for scale),
// applies migrations, runs transactions and hides the few dialect differences.
// Capability packages own their SQL; they write it portably with "?"
// placeholders, which the store rebinds for PostgreSQL.
package store

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"math/bits"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	_ "github.com/jackc/pgx/v5/stdlib" // registers "pgx"
	_ "modernc.org/sqlite"             // registers "sqlite"
)

// Dialect names the database engine.
type Dialect string

const (
	SQLite   Dialect = "sqlite"
	Postgres Dialect = "postgres"
)

// DB is an open Kabinet database: a writer pool and a reader pool (the same
// pool on PostgreSQL), and the hub that delivers committed events.
type DB struct {
	Dialect Dialect
	DSN     string
	Path    string // SQLite file path; empty on PostgreSQL
	w       *sql.DB
	r       *sql.DB
	hub     hub
	// lockMu serialises in-process named locks on SQLite, where there is
	// no advisory lock and one process owns the file.
	lockMu sync.Mutex
	locks  map[string]bool
	// writerSync is the synchronous setting the SQLite writer connection
	// was last given (FULL as the DSN opens it); read and written only
	// while holding that one connection.
	writerSync string
	// origin names this handle in the events it writes (see Follow).
	origin string
	// stmts caches the reader pool's prepared statements by query text.
	stmts  sync.Map
	nStmts atomic.Int64
	// wstmts caches the SQLite writer's prepared statements (see Tx.stmt).
	wstmts  sync.Map
	nWStmts atomic.Int64
	// seen counts queries run unprepared in write transactions, to prepare
	// the repeated ones once the writer connection is free again.
	seenMu sync.Mutex
	seen   map[string]int
}

// ErrDSN is returned for a DSN that names no known engine.
var ErrDSN = errors.New("DSN must be sqlite:PATH or a postgres:// URL")

// Open connects to dsn ("sqlite:PATH", "sqlite::memory:" is refused because
// the reader and writer pools must share a file, or a postgres:// URL) and
// checks that the database answers. It does not migrate.
func Open(ctx context.Context, dsn string) (*DB, error) {
	switch {
	case strings.HasPrefix(dsn, "sqlite:"):
		return openSQLite(ctx, dsn, strings.TrimPrefix(dsn, "sqlite:"))
	case strings.HasPrefix(dsn, "postgres://"), strings.HasPrefix(dsn, "postgresql://"):
		return openPostgres(ctx, dsn)
	}
	return nil, fmt.Errorf("open %q: %w", dsn, ErrDSN)
}

func openSQLite(ctx context.Context, dsn, path string) (*DB, error) {
	if path == "" || strings.HasPrefix(path, ":memory:") {
		return nil, fmt.Errorf("open %q: a file path is needed: %w", dsn, ErrDSN)
	}
	if st, err := os.Stat(filepath.Dir(path)); err != nil || !st.IsDir() {
		return nil, fmt.Errorf("open %q: directory %s does not exist", dsn, filepath.Dir(path))
	}
	// Pragmas go in the DSN so that every pooled connection gets them. The
	// writer's page cache is 64 MB; each reader's is 16 MB, as there are
	// many of them (below) and the file's pages are in the OS's cache too.
	dsnWith := func(cacheKB int) string {
		q := url.Values{}
		for _, p := range []string{"busy_timeout(15000)", "journal_mode(WAL)", "synchronous(FULL)", "foreign_keys(1)", fmt.Sprintf("cache_size(-%d)", cacheKB), "temp_store(MEMORY)"} {
			q.Add("_pragma", p)
		}
		q.Set("_time_format", "sqlite")
		// The path goes into a file: URI, where '?' and '#' would end it.
		escaped := strings.NewReplacer("%", "%25", "?", "%3f", "#", "%23").Replace(path)
		return "file:" + escaped + "?" + q.Encode()
	}
	w, err := sql.Open("sqlite", dsnWith(65536)+"&_txlock=immediate")
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	w.SetMaxOpenConns(1) // one writer: SQLite takes one at a time anyway
	w.SetMaxIdleConns(1)
	w.SetConnMaxLifetime(0)
	r, err := sql.Open("sqlite", dsnWith(16384))
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	// A request holds its reader for a whole statement, also while its
	// goroutine waits for a CPU; with fewer readers than requests in
	// flight, requests queue in database/sql's pool and every hand-off is
	// a goroutine to wake. With 16 on two cores the portal's home page
	// under 64 connections serves a fifth more (bench/portal). In WAL mode
	// a reader costs its page cache and a file descriptor, nothing more.
	n := max(16, runtime.NumCPU()*2)
	r.SetMaxOpenConns(n)
	r.SetMaxIdleConns(n)
	db := &DB{Dialect: SQLite, DSN: "sqlite:" + path, Path: path, w: w, r: r, locks: map[string]bool{}, origin: newOrigin(), writerSync: "FULL"}
	if err := w.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	// Touch the file through the writer so that a bad path fails here.
	if _, err := w.ExecContext(ctx, "PRAGMA user_version"); err != nil {
		db.Close()
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	return db, nil
}

func openPostgres(ctx context.Context, dsn string) (*DB, error) {
	p, err := sql.Open("pgx", dsn)
	if err != nil {
		return nil, fmt.Errorf("open postgres: %w", err)
	}
	p.SetMaxOpenConns(max(16, runtime.NumCPU()*4))
	p.SetMaxIdleConns(max(16, runtime.NumCPU()*4))
	p.SetConnMaxIdleTime(5 * time.Minute)
	pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := p.PingContext(pctx); err != nil {
		p.Close()
		return nil, fmt.Errorf("open postgres: %w", err)
	}
	return &DB{Dialect: Postgres, DSN: dsn, w: p, r: p, locks: map[string]bool{}, origin: newOrigin()}, nil
}

func newOrigin() string {
	var b [8]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// Close closes both pools.
func (db *DB) Close() error {
	db.stmts.Range(func(_, v any) bool { v.(*sql.Stmt).Close(); return true })
	db.wstmts.Range(func(_, v any) bool { v.(*sql.Stmt).Close(); return true })
	err := db.w.Close()
	if db.r != db.w {
		if e := db.r.Close(); err == nil {
			err = e
		}
	}
	return err
}

// Writer is the raw writer pool, for migrations and bulk tools.
func (db *DB) Writer() *sql.DB { return db.w }

// SetWriterCache sets the SQLite writer's page cache to kb kilobytes for
// the rest of the process (PostgreSQL: nothing). A bulk load in one long
// transaction gains little from a big cache, and the cache's pages cost
// the process more than their size: kabinet import of 10,000 subscribers
// with 200,000 payments peaked at 143 MB with the server's 64 MB cache and
// at 59 MB with 8 MB, no slower (bench/import).
func (db *DB) SetWriterCache(ctx context.Context, kb int) error {
	if db.Dialect != SQLite {
		return nil
	}
	if _, err := db.w.ExecContext(ctx, fmt.Sprintf("PRAGMA cache_size = -%d", kb)); err != nil {
		return fmt.Errorf("writer cache: %w", err)
	}
	return nil
}

// Reader is the raw reader pool.
func (db *DB) Reader() *sql.DB { return db.r }

// Rebind turns "?" placeholders into the dialect's own.
func (db *DB) Rebind(q string) string { return rebind(db.Dialect, q) }

// rebindKey keys the rebind cache without building a string per lookup.
type rebindKey struct {
	d Dialect
	q string
}

var rebindCache sync.Map // rebindKey → string

// rebind also handles typed placeholders "?::bigint", "?::timestamptz",
// "?::text": PostgreSQL needs the type where it cannot infer one (a
// parameter in an INSERT … SELECT list); SQLite takes the value as it is.
func rebind(d Dialect, q string) string {
	if !strings.Contains(q, "?") {
		return q
	}
	if v, ok := rebindCache.Load(rebindKey{d, q}); ok {
		return v.(string)
	}
	var b strings.Builder
	n := 0
	inQuote := false
	for i := 0; i < len(q); i++ {
		c := q[i]
		switch {
		case c == '\'':
			inQuote = !inQuote
			b.WriteByte(c)
		case c == '?' && !inQuote:
			n++
			if d == Postgres {
				fmt.Fprintf(&b, "$%d", n)
				continue
			}
			b.WriteByte('?')
			if strings.HasPrefix(q[i+1:], "::") {
				j := i + 3
				for j < len(q) && (q[j] >= 'a' && q[j] <= 'z') {
					j++
				}
				i = j - 1
			}
		default:
			b.WriteByte(c)
		}
	}
	s := b.String()
	rebindCache.Store(rebindKey{d, q}, s)
	return s
}

// Query runs a read on the reader pool.
func (db *DB) Query(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	ctx = db.uncancelled(ctx)
	if st := db.stmt(ctx, q); st != nil {
		return st.QueryContext(ctx, args...)
	}
	return db.r.QueryContext(ctx, rebind(db.Dialect, q), args...)
}

// IDs reads a query's one integer column (ids, most often) from every row
// and closes the rows: ids, err := store.IDs(tx.Query(ctx, q, args...)).
func IDs(rows *sql.Rows, err error) ([]int64, error) {
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		ids = append(ids, id)
	}
	return ids, rows.Err()
}

// QueryRow runs a one-row read on the reader pool.
func (db *DB) QueryRow(ctx context.Context, q string, args ...any) *sql.Row {
	ctx = db.uncancelled(ctx)
	if st := db.stmt(ctx, q); st != nil {
		return st.QueryRowContext(ctx, args...)
	}
	return db.r.QueryRowContext(ctx, rebind(db.Dialect, q), args...)
}

// uncancelled drops ctx's cancellation for a statement on SQLite, reads and a
// write transaction's alike: a statement there takes tens of microseconds
// and cannot hang (no network; a lock wait ends at the busy timeout), while
// watching ctx costs a goroutine per query in database/sql and another in
// the driver. A cancelled ctx still stops the
// statement before it starts, and database/sql still rolls a transaction
// back when its ctx ends. The logged-in home page took 1.07 and 1.11 times
// the server's CPU without it in two runs (bench/portal with 100,000
// accounts, built with and without it, 80 rounds alternated in one process
// over 8 connections on two shared cores: medians of the rounds' ratios,
// quartiles 0.85-1.25 and 0.94-1.27), an OSMP payment 1.06 times
// (bench/osmp, 6 runs each, 0.90-1.53).
func (db *DB) uncancelled(ctx context.Context) context.Context {
	if db.Dialect != SQLite || ctx.Err() != nil {
		return ctx
	}
	return context.WithoutCancel(ctx)
}

// maxStmts bounds the prepared-statement cache; queries built at run time
// beyond it run unprepared.
const maxStmts = 1000

// stmt returns the reader pool's prepared statement for q, preparing it on
// first use: SQLite otherwise parses the same SQL on every page view. The
// logged-in home page took 1.77 times the server's CPU without it
// (bench/portal with 100,000 accounts, built with and without it, 80
// rounds alternated in one process over 8 connections on two shared
// cores: median of the rounds' ratios, quartiles 1.53-2.01).
// It returns nil when q cannot be prepared or the cache is full.
func (db *DB) stmt(ctx context.Context, q string) *sql.Stmt {
	if v, ok := db.stmts.Load(q); ok {
		return v.(*sql.Stmt)
	}
	if db.nStmts.Load() >= maxStmts || isPragma(q) {
		return nil
	}
	st, err := db.r.PrepareContext(context.WithoutCancel(ctx), rebind(db.Dialect, q))
	if err != nil {
		return nil
	}
	if prev, loaded := db.stmts.LoadOrStore(q, st); loaded {
		st.Close()
		return prev.(*sql.Stmt)
	}
	db.nStmts.Add(1)
	return st
}

// isPragma tells a PRAGMA, which SQLite compiles with the setting's value
// at the time: a prepared one would answer stale.
func isPragma(q string) bool {
	q = strings.TrimSpace(q)
	return len(q) >= 6 && strings.EqualFold(q[:6], "PRAGMA")
}

// Tx is a write transaction. Its methods take "?" placeholders.
type Tx struct {
	tx       *sql.Tx
	db       *DB
	onCommit []func()
	events   []Event
	// unprepared lists the queries this transaction ran without a cached
	// statement; see DB.prepareSeen.
	unprepared []string
}

// stmt returns the cached writer statement for q bound to this
// transaction, or nil to run q unprepared. Only SQLite needs it: pgx
// caches statements per connection by itself. An OSMP payment took 1.13
// times the CPU without it (bench/osmp -n 5000, built with and without it,
// 6 runs of each alternated on two shared cores: median of the rounds'
// ratios, 0.99-1.25). A statement cannot be prepared on the one writer
// connection while this transaction holds it (database/sql would wait for
// a free connection), so a query is prepared after the transaction ends,
// once it has been seen twice; queries built with inline values then never
// fill the cache.
func (t *Tx) stmt(ctx context.Context, q string) *sql.Stmt {
	if t.db.Dialect != SQLite {
		return nil
	}
	if v, ok := t.db.wstmts.Load(q); ok {
		return t.tx.StmtContext(ctx, v.(*sql.Stmt))
	}
	t.unprepared = append(t.unprepared, q)
	return nil
}

func (t *Tx) Exec(ctx context.Context, q string, args ...any) (sql.Result, error) {
	ctx = t.db.uncancelled(ctx)
	if st := t.stmt(ctx, q); st != nil {
		return st.ExecContext(ctx, args...)
	}
	return t.tx.ExecContext(ctx, rebind(t.db.Dialect, q), args...)
}

func (t *Tx) Query(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	ctx = t.db.uncancelled(ctx)
	if st := t.stmt(ctx, q); st != nil {
		return st.QueryContext(ctx, args...)
	}
	return t.tx.QueryContext(ctx, rebind(t.db.Dialect, q), args...)
}

func (t *Tx) QueryRow(ctx context.Context, q string, args ...any) *sql.Row {
	ctx = t.db.uncancelled(ctx)
	if st := t.stmt(ctx, q); st != nil {
		return st.QueryRowContext(ctx, args...)
	}
	return t.tx.QueryRowContext(ctx, rebind(t.db.Dialect, q), args...)
}

// Prepare prepares a statement inside the transaction, for loops.
func (t *Tx) Prepare(ctx context.Context, q string) (*sql.Stmt, error) {
	return t.tx.PrepareContext(ctx, rebind(t.db.Dialect, q))
}

// prepareSeen prepares on the writer the queries that transactions keep
// running unprepared. It runs after a transaction has ended, when the
// writer connection is free.
func (db *DB) prepareSeen(ctx context.Context, queries []string) {
	if len(queries) == 0 || db.nWStmts.Load() >= maxStmts {
		return
	}
	var ready []string
	db.seenMu.Lock()
	if db.seen == nil || len(db.seen) > 10*maxStmts {
		db.seen = map[string]int{}
	}
	for _, q := range queries {
		if db.seen[q]++; db.seen[q] == 2 && !isPragma(q) {
			ready = append(ready, q)
		}
	}
	db.seenMu.Unlock()
	for _, q := range ready {
		if _, ok := db.wstmts.Load(q); ok || db.nWStmts.Load() >= maxStmts {
			continue
		}
		st, err := db.w.PrepareContext(context.WithoutCancel(ctx), rebind(db.Dialect, q))
		if err != nil {
			continue
		}
		if _, loaded := db.wstmts.LoadOrStore(q, st); loaded {
			st.Close()
			continue
		}
		db.nWStmts.Add(1)
	}
}

// Querier reads on a DB (its reader pool) or inside a Tx: a capability's
// read that callers make both ways takes one.
type Querier interface {
	Query(ctx context.Context, q string, args ...any) (*sql.Rows, error)
	QueryRow(ctx context.Context, q string, args ...any) *sql.Row
}

// DB is the database the transaction runs on.
func (t *Tx) DB() *DB { return t.db }

// OnCommit runs fn after the transaction commits (never if it rolls back).
func (t *Tx) OnCommit(fn func()) { t.onCommit = append(t.onCommit, fn) }

// Write runs fn in one write transaction: all of it commits or none of it.
// On PostgreSQL a serialization failure or deadlock is retried; on SQLite the
// transaction begins IMMEDIATE on the single writer connection, so writers
// queue instead of failing. The commit is durable (fsync) before Write
// returns.
func (db *DB) Write(ctx context.Context, fn func(*Tx) error) error {
	return db.retry(ctx, fn, false)
}

// WriteRelaxed is Write for records that must survive a crash of the
// process but may lose their last moments to a power cut, as a RADIUS
// server's detail file does: accounting interims and flow counters, never
// money. SQLite commits without the fsync (WAL with synchronous=NORMAL,
// still never corrupt; the next durable commit syncs it); PostgreSQL with
// synchronous_commit off.
func (db *DB) WriteRelaxed(ctx context.Context, fn func(*Tx) error) error {
	return db.retry(ctx, fn, true)
}

func (db *DB) retry(ctx context.Context, fn func(*Tx) error, relaxed bool) error {
	for attempt := 0; ; attempt++ {
		var unprepared []string
		err := db.write(ctx, fn, relaxed, &unprepared)
		db.prepareSeen(ctx, unprepared)
		if err == nil || attempt >= 4 || !retryable(err) {
			return err
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(time.Duration(attempt+1) * 20 * time.Millisecond):
		}
	}
}

func (db *DB) write(ctx context.Context, fn func(*Tx) error, relaxed bool, unprepared *[]string) (err error) {
	var sqlTx *sql.Tx
	if db.Dialect == SQLite {
		// synchronous is a setting of the connection: take the one writer
		// connection and set it for this transaction, unless it is set so
		// already (runs of relaxed writes then switch it once).
		conn, err := db.w.Conn(ctx)
		if err != nil {
			return fmt.Errorf("begin: %w", err)
		}
		defer conn.Close()
		want := "FULL"
		if relaxed {
			want = "NORMAL"
		}
		if db.writerSync != want {
			// A new connection opens FULL from the DSN whatever this says:
			// the wrong guess only ever costs a flush, never skips one.
			if _, err := conn.ExecContext(ctx, "PRAGMA synchronous="+want); err != nil {
				return fmt.Errorf("begin: %w", err)
			}
			db.writerSync = want
		}
		if sqlTx, err = conn.BeginTx(ctx, nil); err != nil {
			return fmt.Errorf("begin: %w", err)
		}
	} else if sqlTx, err = db.w.BeginTx(ctx, nil); err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	tx := &Tx{tx: sqlTx, db: db}
	defer func() { *unprepared = tx.unprepared }()
	defer func() {
		if p := recover(); p != nil {
			sqlTx.Rollback()
			panic(p)
		}
		if err != nil {
			sqlTx.Rollback()
		}
	}()
	if relaxed && db.Dialect == Postgres {
		if _, err = sqlTx.ExecContext(ctx, "SET LOCAL synchronous_commit = off"); err != nil {
			return fmt.Errorf("begin: %w", err)
		}
	}
	if err = fn(tx); err != nil {
		return err
	}
	if err = sqlTx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	for _, e := range tx.events {
		db.hub.publish(e)
	}
	for _, f := range tx.onCommit {
		f()
	}
	return nil
}

func retryable(err error) bool {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return pgErr.Code == "40001" || pgErr.Code == "40P01"
	}
	return false
}

// IsUniqueViolation tells whether err is a unique-constraint failure.
func IsUniqueViolation(err error) bool {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return pgErr.Code == "23505"
	}
	return err != nil && strings.Contains(err.Error(), "UNIQUE constraint failed")
}

// TryLock takes a named lock that only one process (PostgreSQL: one session
// across all instances, an advisory lock) holds at a time. It returns ok=false
// when someone else holds it. release must be called when done.
func (db *DB) TryLock(ctx context.Context, name string) (release func(), ok bool, err error) {
	if db.Dialect == Postgres {
		conn, err := db.w.Conn(ctx)
		if err != nil {
			return nil, false, fmt.Errorf("lock %s: %w", name, err)
		}
		if err := conn.QueryRowContext(ctx, "SELECT pg_try_advisory_lock(hashtext($1))", name).Scan(&ok); err != nil {
			conn.Close()
			return nil, false, fmt.Errorf("lock %s: %w", name, err)
		}
		if !ok {
			conn.Close()
			return nil, false, nil
		}
		return func() {
			conn.ExecContext(context.Background(), "SELECT pg_advisory_unlock(hashtext($1))", name)
			conn.Close()
		}, true, nil
	}
	db.lockMu.Lock()
	defer db.lockMu.Unlock()
	if db.locks[name] {
		return nil, false, nil
	}
	db.locks[name] = true
	return func() {
		db.lockMu.Lock()
		delete(db.locks, name)
		db.lockMu.Unlock()
	}, true, nil
}

// ChunkRows bounds the rows of one multi-row statement (a batch of
// payments writes its rows so): each count up to it is its own statement
// text, prepared once on SQLite, and a chunk stays far under the engines'
// limits on bound parameters.
const ChunkRows = 32

// InList returns the placeholders of an IN list for vals and its values,
// padded by PadArgs: few statement texts then exist for lists of any
// length, each prepared once.
func InList[T any](vals []T) (marks string, args []any) {
	args = PadArgs(vals)
	return strings.TrimSuffix(strings.Repeat("?, ", len(args)), ", "), args
}

// PadArgs returns vals as arguments, padded to a power of two by repeating
// the first value (a repeated value in an IN list changes nothing).
func PadArgs[T any](vals []T) []any {
	n := 1 << bits.Len(uint(len(vals)-1))
	args := make([]any, n)
	for i := range n {
		args[i] = vals[0]
		if i < len(vals) {
			args[i] = vals[i]
		}
	}
	return args
}
