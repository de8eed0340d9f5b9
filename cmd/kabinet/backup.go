package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/kabinet-billing/kabinet/internal/billing"
	"github.com/kabinet-billing/kabinet/internal/config"
	"github.com/kabinet-billing/kabinet/internal/ledger"
	"github.com/kabinet-billing/kabinet/internal/store"
)

func init() {
	register("backup", "FILE: consistent online copy (SQLite: VACUUM INTO; PostgreSQL: pg_dump --format=custom)", cmdBackup)
	register("restore", "FILE [--force]: replace the database with a backup, then verify the ledger", cmdRestore)
}

// openNoMigrate opens the database without migrating it: a backup taken
// before an upgrade must be a copy of the old schema, and restore must not
// touch the database it is about to replace.
func (e *env) openNoMigrate(ctx context.Context) error {
	cfg, err := config.Load(e.cfgPath)
	if err != nil {
		return err
	}
	if e.dsn != "" {
		cfg.DB = e.dsn
	}
	e.cfg = cfg
	db, err := store.Open(ctx, cfg.DB)
	if err != nil {
		return err
	}
	e.db = db
	return nil
}

func cmdBackup(ctx context.Context, e *env, args []string) error {
	fs := flag.NewFlagSet("backup", flag.ContinueOnError)
	noVerify := fs.Bool("no-verify", false, "do not verify the ledger of the copy (SQLite)")
	pos, err := e.parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return errors.New("give one file: kabinet backup FILE")
	}
	file := pos[0]
	if _, err := os.Stat(file); err == nil {
		return fmt.Errorf("%s exists: a backup never overwrites a file", file)
	}
	if err := e.openNoMigrate(ctx); err != nil {
		return err
	}
	start := time.Now()
	err = e.db.Backup(ctx, file)
	if errors.Is(err, store.ErrBackupUnsupported) {
		if err := pgDump(ctx, e, file); err != nil {
			return err
		}
		st, err := os.Stat(file)
		if err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "backup %s: pg_dump custom format, %d bytes (%.1fs); restore with: kabinet restore %s --db DSN --force\n",
			file, st.Size(), time.Since(start).Seconds(), file)
		return nil
	}
	if err != nil {
		return err
	}
	st, err := os.Stat(file)
	if err != nil {
		return err
	}
	msg := fmt.Sprintf("backup %s: %d bytes (%.1fs)", file, st.Size(), time.Since(start).Seconds())
	if *noVerify {
		fmt.Fprintln(e.stdout, msg)
		return nil
	}
	// Check the copy, not the live database: it proves the file restores.
	copyDB, err := store.Open(ctx, "sqlite:"+file)
	if err != nil {
		return fmt.Errorf("backup %s written but does not open: %w", file, err)
	}
	defer copyDB.Close()
	ver, err := copyDB.SchemaVersion(ctx)
	if err != nil {
		return fmt.Errorf("backup %s written but unreadable: %w", file, err)
	}
	problems, err := ledger.Verify(ctx, copyDB)
	if err != nil {
		return fmt.Errorf("backup %s written but not verified: %w", file, err)
	}
	if len(problems) > 0 {
		// The copy is faithful; the books it copied are not right.
		for _, p := range problems {
			fmt.Fprintln(e.stdout, p.Message)
		}
		fmt.Fprintf(e.stdout, "%s; schema version %d; the ledger does NOT verify (%d problems)\n", msg, ver, len(problems))
		return errVerify
	}
	fmt.Fprintf(e.stdout, "%s; schema version %d; ledger verifies\n", msg, ver)
	e.noteKey()
	return nil
}

// noteKey reminds that the key file is not in the database: without it a
// restored database cannot decrypt the passwords RADIUS CHAP needs.
func (e *env) noteKey() {
	if e.cfg.SecretKey != "" {
		return
	}
	if k := e.keyPath(); k != "" {
		if _, err := os.Stat(k); err == nil {
			fmt.Fprintf(e.stdout, "note: the secret key %s is not in the backup; keep a copy of it with the backups (it decrypts the RADIUS passwords), or set secret_key in the config\n", k)
		}
	}
}

func cmdRestore(ctx context.Context, e *env, args []string) error {
	fs := flag.NewFlagSet("restore", flag.ContinueOnError)
	force := fs.Bool("force", false, "replace an existing database (kabinet must be stopped)")
	pos, err := e.parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return errors.New("give one file: kabinet restore FILE [--force]")
	}
	file := pos[0]
	if _, err := os.Stat(file); err != nil {
		return fmt.Errorf("backup %w", err)
	}
	cfg, err := config.Load(e.cfgPath)
	if err != nil {
		return err
	}
	if e.dsn != "" {
		cfg.DB = e.dsn
	}
	e.cfg = cfg
	switch {
	case strings.HasPrefix(cfg.DB, "sqlite:"):
		return restoreSQLite(ctx, e, file, strings.TrimPrefix(cfg.DB, "sqlite:"), *force)
	case strings.HasPrefix(cfg.DB, "postgres://"), strings.HasPrefix(cfg.DB, "postgresql://"):
		return restorePostgres(ctx, e, file, cfg.DB, *force)
	}
	return fmt.Errorf("restore into %q: %w", cfg.DB, store.ErrDSN)
}

var sqliteMagic = []byte("SQLite format 3\x00")

// restoreSQLite checks the backup on a private copy (migrated to this
// binary's schema, ledger verified) and only then swaps it in, keeping the
// replaced database beside it. Nothing is replaced if any step fails.
func restoreSQLite(ctx context.Context, e *env, file, target string, force bool) error {
	if err := checkSQLiteFile(file); err != nil {
		return err
	}
	target, err := filepath.Abs(target)
	if err != nil {
		return err
	}
	exists := false
	if _, err := os.Stat(target); err == nil {
		exists = true
		if !force {
			return fmt.Errorf("%s exists: stop kabinet and pass --force to replace it (the old file is kept beside it)", target)
		}
		if err := checkIdle(ctx, target); err != nil {
			return err
		}
	} else if !errors.Is(err, os.ErrNotExist) {
		return err
	}
	tmp, err := copyToTemp(file, filepath.Dir(target), "."+filepath.Base(target)+".restore-*")
	if err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	defer removeSQLite(tmp)
	db, err := store.Open(ctx, "sqlite:"+tmp)
	if err != nil {
		return fmt.Errorf("restore %s: %w", file, err)
	}
	ver, applied, problems, nAcc, err := checkRestored(ctx, db)
	if cerr := db.Close(); err == nil && cerr != nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("restore %s: %w", file, err)
	}
	if len(problems) > 0 {
		for _, p := range problems {
			fmt.Fprintln(e.stdout, p.Message)
		}
		fmt.Fprintf(e.stdout, "restore %s refused: the backup's ledger does not verify (%d problems); %s is unchanged\n", file, len(problems), target)
		return errVerify
	}
	// A WAL left by the copy's own open would be lost by the rename.
	if _, err := os.Stat(tmp + "-wal"); err == nil {
		return fmt.Errorf("restore: %s-wal was not checkpointed", tmp)
	}
	kept := ""
	if exists {
		kept = target + ".replaced-" + time.Now().UTC().Format("20060102T150405Z")
		if err := os.Rename(target, kept); err != nil {
			return fmt.Errorf("restore: keeping the old database: %w", err)
		}
		// A stale WAL or shared-memory index of the old database would be
		// applied to the restored file and corrupt it.
		for _, sfx := range []string{"-wal", "-shm"} {
			if err := os.Remove(target + sfx); err != nil && !errors.Is(err, os.ErrNotExist) {
				return fmt.Errorf("restore: %w", err)
			}
		}
	}
	if err := os.Rename(tmp, target); err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	if d, err := os.Open(filepath.Dir(target)); err == nil {
		d.Sync()
		d.Close()
	}
	fmt.Fprintf(e.stdout, "restored %s into %s: schema version %d (%d migrations applied), %d accounts; ledger verifies\n", file, target, ver, applied, nAcc)
	if kept != "" {
		fmt.Fprintf(e.stdout, "the replaced database is kept as %s\n", kept)
	}
	if key := filepath.Join(filepath.Dir(target), "kabinet.key"); e.cfg.SecretKey == "" {
		if _, err := os.Stat(key); errors.Is(err, os.ErrNotExist) {
			fmt.Fprintf(e.stdout, "note: no %s: copy the key file from where the backup was taken (or set secret_key), or RADIUS CHAP logins will fail\n", key)
		}
	}
	return nil
}

// checkRestored brings a restored database to this binary's schema and
// verifies its books.
func checkRestored(ctx context.Context, db *store.DB) (ver int64, applied int, problems []ledger.Problem, accounts int64, err error) {
	if applied, err = db.Migrate(ctx); err != nil {
		return
	}
	if ver, err = db.SchemaVersion(ctx); err != nil {
		return
	}
	if problems, err = ledger.Verify(ctx, db); err != nil {
		return
	}
	accounts, err = billing.CountAccounts(ctx, db)
	return
}

func checkSQLiteFile(file string) error {
	f, err := os.Open(file)
	if err != nil {
		return fmt.Errorf("backup %w", err)
	}
	defer f.Close()
	head := make([]byte, len(sqliteMagic))
	if _, err := io.ReadFull(f, head); err != nil || !bytes.Equal(head, sqliteMagic) {
		return fmt.Errorf("%s is not a SQLite database (a PostgreSQL backup restores with --db postgres://…)", file)
	}
	return nil
}

// checkIdle refuses a database another process has open. Closing the last
// connection to a WAL database checkpoints it and deletes the -wal file; if
// the file survives our own open and close, someone else (kabinet serve)
// still holds the database.
func checkIdle(ctx context.Context, path string) error {
	db, err := store.Open(ctx, "sqlite:"+path)
	if err != nil {
		return fmt.Errorf("restore: the current database: %w", err)
	}
	if err := db.Close(); err != nil {
		return fmt.Errorf("restore: the current database: %w", err)
	}
	if _, err := os.Stat(path + "-wal"); err == nil {
		return fmt.Errorf("%s is in use by another process: stop kabinet first", path)
	}
	return nil
}

func copyToTemp(src, dir, pattern string) (string, error) {
	in, err := os.Open(src)
	if err != nil {
		return "", err
	}
	defer in.Close()
	out, err := os.CreateTemp(dir, pattern)
	if err != nil {
		return "", err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		os.Remove(out.Name())
		return "", err
	}
	if err := out.Sync(); err != nil {
		out.Close()
		os.Remove(out.Name())
		return "", err
	}
	return out.Name(), out.Close()
}

func removeSQLite(path string) {
	for _, sfx := range []string{"", "-wal", "-shm"} {
		os.Remove(path + sfx)
	}
}

// libpqParams are the URI parameters pg_dump and pg_restore understand;
// pgx accepts others (search_path, pool settings) that libpq rejects.
var libpqParams = map[string]bool{
	"host": true, "hostaddr": true, "port": true, "dbname": true, "user": true, "sslmode": true, "sslcert": true,
	"sslkey": true, "sslrootcert": true, "sslcrl": true, "sslpassword": true, "connect_timeout": true,
	"application_name": true, "options": true, "target_session_attrs": true, "service": true, "passfile": true,
}

// pgArgs turns a Kabinet DSN into what the PostgreSQL tools take: the URI
// without the password (it goes in PGPASSWORD, so that it never shows in
// the process list) and without pgx-only parameters, and the schema named
// by search_path, if any.
func pgArgs(dsn string) (uri, password, schema string, err error) {
	u, err := url.Parse(dsn)
	if err != nil {
		return "", "", "", fmt.Errorf("DSN: %w", err)
	}
	if u.User != nil {
		password, _ = u.User.Password()
		u.User = url.User(u.User.Username())
	}
	q := u.Query()
	schema = q.Get("search_path")
	for k := range q {
		if !libpqParams[k] {
			q.Del(k)
		}
	}
	u.RawQuery = q.Encode()
	return u.String(), password, schema, nil
}

func pgCommand(ctx context.Context, e *env, tool string, args []string, password string) error {
	path, err := exec.LookPath(tool)
	if err != nil {
		return fmt.Errorf("%s not found: install the PostgreSQL client tools (postgresql-client, the server's major version or newer), or run: %s %s",
			tool, tool, strings.Join(args, " "))
	}
	cmd := exec.CommandContext(ctx, path, args...)
	cmd.Env = os.Environ()
	if password != "" {
		cmd.Env = append(cmd.Env, "PGPASSWORD="+password)
	}
	var stderr bytes.Buffer
	cmd.Stdout = e.stderr
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("%s: %w: %s", tool, err, strings.TrimSpace(stderr.String()))
	}
	return nil
}

// pgDump runs pg_dump, which copies one snapshot of the database while it
// stays in use. The dump goes to a temporary name first so that a failed
// run leaves no partial file under FILE.
func pgDump(ctx context.Context, e *env, file string) error {
	uri, password, schema, err := pgArgs(e.cfg.DB)
	if err != nil {
		return err
	}
	dir := filepath.Dir(file)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(file)+".tmp-*")
	if err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	tmp.Close()
	defer os.Remove(tmp.Name())
	args := []string{"--format=custom", "--no-owner", "--no-privileges", "--file", tmp.Name()}
	if schema != "" {
		args = append(args, "--schema", schema)
	}
	args = append(args, "--dbname", uri)
	if err := pgCommand(ctx, e, "pg_dump", args, password); err != nil {
		return err
	}
	if err := os.Link(tmp.Name(), file); err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	return nil
}

// restorePostgres replays a pg_dump file with pg_restore in one
// transaction (all or nothing), then migrates and verifies the ledger.
func restorePostgres(ctx context.Context, e *env, file, dsn string, force bool) error {
	db, err := store.Open(ctx, dsn)
	if err != nil {
		return err
	}
	var n int64
	// No version table or an empty one: nothing to lose.
	err = db.QueryRow(ctx, "SELECT COUNT(*) FROM goose_db_version").Scan(&n)
	db.Close()
	if err == nil && n > 0 && !force {
		return errors.New("the database has Kabinet data: stop every kabinet instance and pass --force to replace it")
	}
	uri, password, _, err := pgArgs(dsn)
	if err != nil {
		return err
	}
	args := []string{"--clean", "--if-exists", "--no-owner", "--no-privileges", "--single-transaction", "--exit-on-error", "--dbname", uri, file}
	if err := pgCommand(ctx, e, "pg_restore", args, password); err != nil {
		return err
	}
	// A fresh connection: statements cached before the restore name the
	// dropped tables.
	db, err = store.Open(ctx, dsn)
	if err != nil {
		return err
	}
	defer db.Close()
	ver, applied, problems, nAcc, err := checkRestored(ctx, db)
	if err != nil {
		return fmt.Errorf("restore %s: %w", file, err)
	}
	if len(problems) > 0 {
		for _, p := range problems {
			fmt.Fprintln(e.stdout, p.Message)
		}
		fmt.Fprintf(e.stdout, "restored %s, but the ledger does NOT verify (%d problems)\n", file, len(problems))
		return errVerify
	}
	fmt.Fprintf(e.stdout, "restored %s: schema version %d (%d migrations applied), %d accounts; ledger verifies\n", file, ver, applied, nAcc)
	return nil
}
