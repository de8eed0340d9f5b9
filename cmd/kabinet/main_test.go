package main

import (
	"bytes"
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kabinet-billing/kabinet/internal/store"
)

// kabinet runs the CLI in-process and returns its exit code and output.
func kabinet(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := run(args, &out, &errOut)
	return code, out.String(), errOut.String()
}

func TestCLIContract(t *testing.T) {
	dir := t.TempDir()
	db := "sqlite:" + filepath.Join(dir, "k.db")
	t.Setenv("KABINET_DB", db)
	steps := []struct {
		args   []string
		code   int
		out    string // substring of stdout
		errOut string // substring of stderr
	}{
		{[]string{"migrate"}, 0, "up to date", ""},
		{[]string{"tariff", "add", "--code", "home100", "--name", "Дом 100", "--fee", "500", "--down", "100M", "--up", "100M", "--prorate"}, 0, "home100", ""},
		{[]string{"tariff", "add", "--code", "bad", "--name", "x", "--fee", "5,555", "--down", "1M", "--up", "1M"}, 2, "", "not an amount"},
		{[]string{"tariff", "add", "--code", "neg", "--name", "x", "--fee", "-5", "--down", "1M", "--up", "1M"}, 2, "", "negative"},
		{[]string{"tariff", "add", "--code", "home100", "--name", "again", "--fee", "5", "--down", "1M", "--up", "1M"}, 2, "", "already exists"},
		{[]string{"account", "create", "--login", "ivanov", "--password", "secret123", "--tariff", "nope"}, 2, "", "tariff \"nope\": not found"},
		{[]string{"account", "create", "--login", "ivanov", "--password", "secret123", "--tariff", "home100", "--name", "Иванов"}, 0, "created", ""},
		{[]string{"account", "show", "nobody"}, 2, "", "no such account"},
		{[]string{"payment", "add", "ivanov", "--amount", "abc", "--external-id", "x"}, 2, "", "not an amount"},
		{[]string{"payment", "add", "ivanov", "--amount", "-5", "--external-id", "x"}, 2, "", "must be positive"},
		{[]string{"payment", "add", "nobody", "--amount", "5", "--external-id", "x"}, 2, "", "no such account"},
		{[]string{"payment", "add", "ivanov", "--amount", "1000,50", "--channel", "cash", "--external-id", "R-1"}, 0, "credited", ""},
		{[]string{"payment", "add", "ivanov", "--amount", "1000,50", "--channel", "cash", "--external-id", "R-1"}, 0, "already applied", ""},
		{[]string{"billing", "run", "--at", "not-a-time"}, 2, "", "RFC 3339"},
		{[]string{"billing", "run", "--at", "2027-01-01T00:05:00+03:00"}, 0, "2027-01", ""},
		{[]string{"billing", "run", "--at", "2027-01-01T00:05:00+03:00"}, 0, "0 charges", ""},
		{[]string{"ledger", "verify"}, 0, "verifies", ""},
		{[]string{"--db", "sqlite:" + filepath.Join(dir, "missing", "x.db"), "migrate"}, 2, "", "does not exist"},
		{[]string{"--db", "mysql://x", "migrate"}, 2, "", "DSN must be"},
		{[]string{"no", "such", "command"}, 2, "", "unknown command"},
	}
	for _, s := range steps {
		code, out, errOut := kabinet(t, s.args...)
		if code != s.code || !strings.Contains(out, s.out) || !strings.Contains(errOut, s.errOut) {
			t.Errorf("kabinet %s: exit %d, stdout %q, stderr %q; want exit %d with %q / %q", strings.Join(s.args, " "), code, out, errOut, s.code, s.out, s.errOut)
		}
		if s.code == 2 && strings.Count(strings.TrimSpace(errOut), "\n") > 0 && s.args[0] != "no" {
			t.Errorf("kabinet %s: error is not one line: %q", strings.Join(s.args, " "), errOut)
		}
	}
	code, out, _ := kabinet(t, "account", "show", "ivanov", "--json")
	var acct map[string]any
	if code != 0 || json.Unmarshal([]byte(out), &acct) != nil {
		t.Fatalf("account show --json: %d %s", code, out)
	}
	// Created 2026-11-26 (today is whatever the test runs on); what matters
	// is the contract's fields and decimal strings.
	for _, k := range []string{"login", "status", "balance", "tariff", "limit_rate", "recommended_payment"} {
		if _, ok := acct[k]; !ok {
			t.Errorf("account show --json lacks %q: %s", k, out)
		}
	}
	if b, _ := acct["balance"].(string); !strings.Contains(b, ".") {
		t.Errorf("balance %q is not a decimal string", b)
	}
}

// A failed command writes nothing: a payment for an unknown login leaves the
// books as they were, and a database from a newer Kabinet is refused.
func TestCLIBadInputWritesNothing(t *testing.T) {
	dir := t.TempDir()
	dsn := "sqlite:" + filepath.Join(dir, "k.db")
	t.Setenv("KABINET_DB", dsn)
	kabinet(t, "tariff", "add", "--code", "t", "--name", "T", "--fee", "100", "--down", "1M", "--up", "1M")
	count := func() int64 {
		db, err := store.Open(context.Background(), dsn)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		var n int64
		db.QueryRow(context.Background(), `SELECT (SELECT COUNT(*) FROM ledger_txns) + (SELECT COUNT(*) FROM accounts) + (SELECT COUNT(*) FROM payments)`).Scan(&n)
		return n
	}
	before := count()
	for _, args := range [][]string{
		{"account", "create", "--login", "x", "--password", "short", "--tariff", "t"},
		{"account", "create", "--login", "petrov", "--password", "secret123", "--tariff", "nope"},
		{"payment", "add", "petrov", "--amount", "10", "--external-id", "1"},
	} {
		if code, _, _ := kabinet(t, args...); code != 2 {
			t.Errorf("%v: exit %d, want 2", args, code)
		}
	}
	if after := count(); after != before {
		t.Errorf("rows %d → %d after failed commands", before, after)
	}
	// Pretend a newer Kabinet migrated this database.
	db, _ := store.Open(context.Background(), dsn)
	db.Writer().Exec(`INSERT INTO goose_db_version (version_id, is_applied) VALUES (99999, 1)`)
	db.Close()
	code, _, errOut := kabinet(t, "migrate")
	if code != 2 || !strings.Contains(errOut, "newer") {
		t.Errorf("newer schema: exit %d, %q", code, errOut)
	}
}
