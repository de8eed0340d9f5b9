package store

import (
	"context"
	"errors"
	"fmt"
	"io/fs"

	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"

	"github.com/kabinet-billing/kabinet/migrations"
)

// ErrNewerSchema means the database was migrated by a newer Kabinet.
var ErrNewerSchema = errors.New("database schema is newer than this kabinet")

func (db *DB) provider() (*goose.Provider, error) {
	dialect, dir := goose.DialectSQLite3, "sqlite"
	if db.Dialect == Postgres {
		dialect, dir = goose.DialectPostgres, "postgres"
	}
	sub, err := fs.Sub(migrations.FS, dir)
	if err != nil {
		return nil, err
	}
	// Out-of-order is allowed because each area of the code owns a range of
	// versions (see migrations/embed.go) and they land in any order.
	opts := []goose.ProviderOption{goose.WithAllowOutofOrder(true)}
	if db.Dialect == Postgres {
		// Instances of a new release start at once and each migrates: an
		// advisory lock makes them take turns (the later ones find nothing
		// to do) instead of failing on each other's half-made tables.
		// Every second for up to five minutes: the default polls every
		// five seconds, which a start-up should not wait for.
		locker, err := lock.NewPostgresSessionLocker(lock.WithLockTimeout(1, 300))
		if err != nil {
			return nil, err
		}
		opts = append(opts, goose.WithSessionLocker(locker))
	}
	return goose.NewProvider(dialect, db.w, sub, opts...)
}

// Migrate applies every pending migration. It refuses a database that holds
// a migration this binary does not know: a newer Kabinet wrote it.
func (db *DB) Migrate(ctx context.Context) (applied int, err error) {
	p, err := db.provider()
	if err != nil {
		return 0, fmt.Errorf("migrate: %w", err)
	}
	known := map[int64]bool{}
	for _, s := range p.ListSources() {
		known[s.Version] = true
	}
	status, err := p.Status(ctx)
	if err != nil {
		return 0, fmt.Errorf("migrate: %w", err)
	}
	_ = status
	// Status lists only known sources; look at the version table itself for
	// versions that came from elsewhere.
	rows, err := db.w.QueryContext(ctx, "SELECT version_id FROM goose_db_version WHERE is_applied")
	if err == nil {
		defer rows.Close()
		for rows.Next() {
			var v int64
			if err := rows.Scan(&v); err != nil {
				return 0, fmt.Errorf("migrate: %w", err)
			}
			if v != 0 && !known[v] {
				return 0, fmt.Errorf("migrate: version %d is unknown: %w", v, ErrNewerSchema)
			}
		}
		rows.Close()
	}
	res, err := p.Up(ctx)
	if err != nil {
		return 0, fmt.Errorf("migrate: %w", err)
	}
	return len(res), nil
}
