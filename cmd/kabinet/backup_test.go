package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kabinet-billing/kabinet/internal/billing"
	"github.com/kabinet-billing/kabinet/internal/clock"
	"github.com/kabinet-billing/kabinet/internal/payment"
	"github.com/kabinet-billing/kabinet/internal/store"
	"github.com/kabinet-billing/kabinet/internal/store/storetest"
)

func mustKabinet(t *testing.T, args ...string) string {
	t.Helper()
	code, out, errOut := kabinet(t, args...)
	if code != 0 {
		t.Fatalf("kabinet %s: exit %d\n%s%s", strings.Join(args, " "), code, out, errOut)
	}
	return out
}

// seedMoney gives the database two subscribers with payments and a billed
// month, so that a backup has balances and postings to get right.
func seedMoney(t *testing.T, dsn string) {
	t.Helper()
	db := []string{"--db", dsn}
	mustKabinet(t, append(db, "tariff", "add", "--code", "home", "--name", "Home", "--fee", "600", "--down", "100M", "--up", "100M")...)
	for _, login := range []string{"ivanov", "petrov"} {
		mustKabinet(t, append(db, "account", "create", "--login", login, "--password", "secret123", "--tariff", "home")...)
	}
	mustKabinet(t, append(db, "payment", "add", "ivanov", "--amount", "1000,50", "--channel", "cash", "--external-id", "R-1")...)
	mustKabinet(t, append(db, "payment", "add", "petrov", "--amount", "250", "--channel", "cash", "--external-id", "R-2")...)
	mustKabinet(t, append(db, "billing", "run", "--at", "2027-02-01T00:05:00+03:00")...)
}

func balance(t *testing.T, dsn, login string) string {
	t.Helper()
	var a struct{ Balance string }
	out := mustKabinet(t, "--db", dsn, "account", "show", login, "--json")
	if err := json.Unmarshal([]byte(out), &a); err != nil {
		t.Fatalf("account show %s: %v: %s", login, err, out)
	}
	return a.Balance
}

func TestBackupRestoreSQLite(t *testing.T) {
	dir := t.TempDir()
	live := "sqlite:" + filepath.Join(dir, "live.db")
	seedMoney(t, live)
	want := map[string]string{"ivanov": balance(t, live, "ivanov"), "petrov": balance(t, live, "petrov")}
	if want["ivanov"] == "0.00" || want["petrov"] == want["ivanov"] {
		t.Fatalf("seed left no distinct balances: %v", want)
	}

	backup := filepath.Join(dir, "backup.db")
	out := mustKabinet(t, "--db", live, "backup", backup)
	if !strings.Contains(out, "ledger verifies") {
		t.Errorf("backup output %q: want the copy verified", out)
	}
	if !strings.Contains(out, "kabinet.key is not in the backup") {
		t.Errorf("backup output %q: want a reminder that the key file is not in it", out)
	}
	// Money moves after the backup: the restore must bring back the
	// balances as they were when it was taken.
	mustKabinet(t, "--db", live, "payment", "add", "ivanov", "--amount", "77", "--external-id", "R-3")

	// A backup never overwrites.
	if code, _, errOut := kabinet(t, "--db", live, "backup", backup); code != 2 || !strings.Contains(errOut, "exists") {
		t.Errorf("second backup to the same file: exit %d, %q; want 2 and 'exists'", code, errOut)
	}

	fresh := "sqlite:" + filepath.Join(dir, "fresh", "kabinet.db")
	os.Mkdir(filepath.Join(dir, "fresh"), 0o755)
	out = mustKabinet(t, "--db", fresh, "restore", backup)
	if !strings.Contains(out, "ledger verifies") || !strings.Contains(out, "2 accounts") || !strings.Contains(out, "copy the key file") {
		t.Errorf("restore output %q: want it verified, counted, and a reminder of the key file", out)
	}
	for login, bal := range want {
		if got := balance(t, fresh, login); got != bal {
			t.Errorf("restored %s balance %s, want %s", login, got, bal)
		}
	}
	mustKabinet(t, "--db", fresh, "ledger", "verify")
	// The restored copy is a working database: a repeated payment is still
	// recognised as applied once.
	out = mustKabinet(t, "--db", fresh, "payment", "add", "ivanov", "--amount", "1000,50", "--external-id", "R-1")
	if !strings.Contains(out, "already applied") {
		t.Errorf("payment R-1 after restore: %q; want it recognised as a repeat", out)
	}

	tests := []struct {
		name     string
		args     []string
		wantCode int
		wantErr  string
	}{
		{"existing database without --force", []string{"--db", live, "restore", backup}, 2, "--force"},
		{"not a SQLite file", []string{"--db", "sqlite:" + filepath.Join(dir, "x.db"), "restore", filepath.Join(dir, "junk")}, 2, "not a SQLite database"},
		{"missing backup", []string{"--db", live, "restore", filepath.Join(dir, "nope.db")}, 2, "no such file"},
		{"no file", []string{"--db", live, "restore"}, 2, "give one file"},
	}
	os.WriteFile(filepath.Join(dir, "junk"), []byte("not a database"), 0o644)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, errOut := kabinet(t, tt.args...)
			if code != tt.wantCode || !strings.Contains(errOut, tt.wantErr) {
				t.Errorf("exit %d, %q; want %d and %q", code, errOut, tt.wantCode, tt.wantErr)
			}
		})
	}
	if got := balance(t, live, "ivanov"); got == want["ivanov"] {
		t.Errorf("a refused restore changed the live database")
	}

	// A database another process holds open (a running kabinet serve) is
	// not replaced even with --force.
	held, err := store.Open(context.Background(), live)
	if err != nil {
		t.Fatal(err)
	}
	code, _, errOut := kabinet(t, "--db", live, "restore", backup, "--force")
	held.Close()
	if code != 2 || !strings.Contains(errOut, "in use") {
		t.Errorf("restore --force over an open database: exit %d, %q; want 2 and 'in use'", code, errOut)
	}

	// With --force the live database is replaced and the old one kept.
	out = mustKabinet(t, "--db", live, "restore", backup, "--force")
	if !strings.Contains(out, "kept as") {
		t.Errorf("restore --force output %q: want the replaced file named", out)
	}
	if got := balance(t, live, "ivanov"); got != want["ivanov"] {
		t.Errorf("after restore --force ivanov has %s, want %s", got, want["ivanov"])
	}
	kept, _ := filepath.Glob(filepath.Join(dir, "live.db.replaced-*"))
	if len(kept) != 1 {
		t.Errorf("replaced database kept as %v, want one file", kept)
	}
}

func TestBackupRestorePostgres(t *testing.T) {
	dsn := storetest.PostgresDSN(t)
	if _, err := exec.LookPath("pg_dump"); err != nil {
		t.Skip("pg_dump not installed: PostgreSQL backup is pg_dump's job")
	}
	seedMoney(t, dsn)
	want := balance(t, dsn, "ivanov")
	file := filepath.Join(t.TempDir(), "kabinet.dump")
	mustKabinet(t, "--db", dsn, "backup", file)
	mustKabinet(t, "--db", dsn, "payment", "add", "ivanov", "--amount", "77", "--external-id", "R-3")

	if code, _, errOut := kabinet(t, "--db", dsn, "restore", file); code != 2 || !strings.Contains(errOut, "--force") {
		t.Fatalf("restore over data without --force: exit %d, %q", code, errOut)
	}
	out := mustKabinet(t, "--db", dsn, "restore", file, "--force")
	if !strings.Contains(out, "ledger verifies") {
		t.Errorf("restore output %q", out)
	}
	if got := balance(t, dsn, "ivanov"); got != want {
		t.Errorf("restored balance %s, want %s", got, want)
	}
}

// A backup taken while payments are being written is one consistent
// snapshot: its ledger verifies, and it holds a prefix of the payments.
func TestBackupWhileWriting(t *testing.T) {
	dir := t.TempDir()
	live := "sqlite:" + filepath.Join(dir, "live.db")
	seedMoney(t, live)
	ctx := context.Background()
	db, err := store.Open(ctx, live)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var acct int64
	if err := db.QueryRow(ctx, "SELECT id FROM accounts WHERE login = 'ivanov'").Scan(&acct); err != nil {
		t.Fatal(err)
	}
	svc := payment.NewService(db, clock.System, billing.New(db, clock.System, billing.DefaultRules()), nil, payment.Options{})
	stop := make(chan struct{})
	written := make(chan int)
	go func() {
		n := 0
		defer func() { written <- n }()
		for {
			select {
			case <-stop:
				return
			default:
			}
			n++
			if _, _, err := svc.Record(ctx, payment.ManualIn{Channel: "cash", ExternalID: fmt.Sprintf("W-%d", n), AccountID: acct, Amount: 100, Operator: "test"}); err != nil {
				t.Error(err)
				return
			}
		}
	}()
	var files []string
	for i := range 3 {
		f := filepath.Join(dir, fmt.Sprintf("b%d.db", i))
		out := mustKabinet(t, "--db", live, "backup", f)
		if !strings.Contains(out, "ledger verifies") {
			t.Errorf("backup %d while writing: %q", i, out)
		}
		files = append(files, f)
	}
	close(stop)
	n := <-written
	prev := -1
	for _, f := range files {
		b, err := store.Open(ctx, "sqlite:"+f)
		if err != nil {
			t.Fatal(err)
		}
		var got int
		b.QueryRow(ctx, "SELECT COUNT(*) FROM payments WHERE external_id LIKE 'W-%'").Scan(&got)
		b.Close()
		if got < prev || got > n {
			t.Errorf("backup %s holds %d of the %d payments written, the one before %d", f, got, n, prev)
		}
		prev = got
	}
	t.Logf("%d payments written during three backups; the last backup holds %d", n, prev)
}
