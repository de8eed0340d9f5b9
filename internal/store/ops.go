package store

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// ErrBackupUnsupported is returned by Backup on PostgreSQL, whose consistent
// online copy is pg_dump's job (a snapshot across many tables that a client
// library cannot take more cheaply).
var ErrBackupUnsupported = errors.New("online backup through the store is SQLite only: use pg_dump for PostgreSQL")

// Backup writes a consistent copy of a SQLite database to path while the
// database stays in use. VACUUM INTO reads one snapshot on a reader
// connection, so writers are not blocked and the copy is a single, compacted
// file with no WAL beside it. The copy is made under a temporary name in the
// target's directory and renamed into place only when complete, so an
// interrupted backup never leaves a truncated file under the real name.
// path must not exist.
func (db *DB) Backup(ctx context.Context, path string) error {
	if db.Dialect != SQLite {
		return ErrBackupUnsupported
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return fmt.Errorf("backup %s: %w", path, err)
	}
	if same, _ := sameFile(abs, db.Path); same {
		return fmt.Errorf("backup %s: that is the live database", path)
	}
	if _, err := os.Stat(abs); err == nil {
		return fmt.Errorf("backup %s: file exists", path)
	} else if !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("backup %s: %w", path, err)
	}
	dir := filepath.Dir(abs)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(abs)+".tmp-*")
	if err != nil {
		return fmt.Errorf("backup %s: %w", path, err)
	}
	tmpName := tmp.Name()
	tmp.Close()
	// VACUUM INTO refuses a non-empty target but accepts an empty one; the
	// temp file reserved the name.
	defer os.Remove(tmpName)
	if _, err := db.r.ExecContext(ctx, "VACUUM INTO ?", tmpName); err != nil {
		return fmt.Errorf("backup %s: %w", path, err)
	}
	if err := syncFile(tmpName); err != nil {
		return fmt.Errorf("backup %s: %w", path, err)
	}
	// Link, not rename: it fails if someone created path meanwhile instead
	// of replacing their file.
	if err := os.Link(tmpName, abs); err != nil {
		return fmt.Errorf("backup %s: %w", path, err)
	}
	return syncDir(dir)
}

// PendingMigrations counts the migrations this binary has that the database
// has not applied: zero means the schema is what the code expects. It reads
// on the reader pool so that a readiness probe is not queued behind a long
// write on SQLite's single writer connection.
func (db *DB) PendingMigrations(ctx context.Context) (int, error) {
	p, err := db.provider()
	if err != nil {
		return 0, fmt.Errorf("migration status: %w", err)
	}
	applied := map[int64]bool{}
	exists := "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = 'goose_db_version'"
	if db.Dialect == Postgres {
		exists = "SELECT COUNT(*) FROM (SELECT to_regclass('goose_db_version') AS t) r WHERE t IS NOT NULL"
	}
	var n int
	if err := db.r.QueryRowContext(ctx, exists).Scan(&n); err != nil {
		return 0, fmt.Errorf("migration status: %w", err)
	}
	if n == 0 { // never migrated
		return len(p.ListSources()), nil
	}
	rows, err := db.r.QueryContext(ctx, "SELECT version_id FROM goose_db_version WHERE is_applied")
	if err != nil {
		return 0, fmt.Errorf("migration status: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var v int64
		if err := rows.Scan(&v); err != nil {
			return 0, fmt.Errorf("migration status: %w", err)
		}
		applied[v] = true
	}
	if err := rows.Err(); err != nil {
		return 0, fmt.Errorf("migration status: %w", err)
	}
	n = 0
	for _, s := range p.ListSources() {
		if !applied[s.Version] {
			n++
		}
	}
	return n, nil
}

// SchemaVersion is the highest migration version applied, 0 for none.
func (db *DB) SchemaVersion(ctx context.Context) (int64, error) {
	var v int64
	err := db.r.QueryRowContext(ctx, "SELECT COALESCE(MAX(version_id), 0) FROM goose_db_version WHERE is_applied").Scan(&v)
	if err != nil {
		return 0, fmt.Errorf("schema version: %w", err)
	}
	return v, nil
}

func sameFile(a, b string) (bool, error) {
	sa, err := os.Stat(a)
	if err != nil {
		return false, err
	}
	sb, err := os.Stat(b)
	if err != nil {
		return false, err
	}
	return os.SameFile(sa, sb), nil
}

func syncFile(name string) error {
	f, err := os.Open(name)
	if err != nil {
		return err
	}
	defer f.Close()
	return f.Sync()
}

// syncDir makes a new directory entry durable: without it a power cut right
// after the backup can lose the file even though its data was synced.
func syncDir(dir string) error {
	f, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer f.Close()
	if err := f.Sync(); err != nil {
		return fmt.Errorf("sync %s: %w", dir, err)
	}
	return nil
}
