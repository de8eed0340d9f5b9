package main

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kabinet-billing/kabinet/internal/importer/importtest"
)

// TestImportUbillingCLI: bad sources exit 2 with one line; a dry run writes
// nothing; the real run imports, and the books verify.
func TestImportUbillingCLI(t *testing.T) {
	dsn, src := importtest.SourceDB(t, "ubilling/stargazer.sql", "ubilling/ubilling.sql")
	if err := importtest.FillUbilling(context.Background(), src, 5, 2); err != nil {
		t.Fatal(err)
	}
	empty, _ := importtest.SourceDB(t)
	t.Setenv("KABINET_DB", "sqlite:"+filepath.Join(t.TempDir(), "k.db"))
	at := "2026-12-10T03:00:00+03:00"
	for _, s := range []struct {
		args        []string
		code        int
		out, errOut string
	}{
		{[]string{"import", "ubilling"}, 2, "", "give the source"},
		{[]string{"import", "ubilling", "--from", "stg"}, 2, "", "--from must be mysql://USER:PASS@HOST:PORT/DB"},
		{[]string{"import", "ubilling", "--from", "mysql://root@127.0.0.1:1/stg"}, 2, "", "cannot reach stg"},
		{[]string{"import", "ubilling", "--from", empty}, 2, "", "is not Ubilling's"},
		{[]string{"import", "ubilling", "--from", dsn, "--at", "yesterday"}, 2, "", "RFC 3339"},
		{[]string{"import", "ubilling", "--from", dsn, "--at", at, "--dry-run"}, 0, "subscribers  read 5, new 5", ""},
		{[]string{"account", "show", "user000001"}, 2, "", "no such account"},
		{[]string{"import", "ubilling", "--from", dsn, "--at", at}, 0, "ubilling: imported, cut-over 2026-12-10T03:00:00+03:00", ""},
		{[]string{"account", "show", "user000001"}, 0, "Д-000001", ""},
		{[]string{"account", "show", "user000003"}, 0, "moved in from: ubilling user000003, imported 2026-12-10 03:00, second phone 8 (4822) 13-13-13", ""},
		{[]string{"ledger", "verify"}, 0, "verifies", ""},
		{[]string{"import", "ubilling", "--from", dsn, "--at", at}, 0, "subscribers  read 5, new 0, already imported 5", ""},
	} {
		code, out, errOut := kabinet(t, s.args...)
		if code != s.code || !strings.Contains(out, s.out) || !strings.Contains(errOut, s.errOut) {
			t.Errorf("kabinet %s: exit %d, stdout %q, stderr %q; want exit %d with %q / %q", strings.Join(s.args, " "), code, out, errOut, s.code, s.out, s.errOut)
		}
		if code == 2 && strings.Count(strings.TrimSpace(errOut), "\n") > 0 {
			t.Errorf("kabinet %s: error is not one line: %q", strings.Join(s.args, " "), errOut)
		}
	}
}

// TestImportCSVTemplate imports the template files of docs/ as they are.
func TestImportCSVTemplate(t *testing.T) {
	t.Setenv("KABINET_DB", "sqlite:"+filepath.Join(t.TempDir(), "k.db"))
	subs, pays := filepath.Join("..", "..", "docs", "import-template.csv"), filepath.Join("..", "..", "docs", "import-payments-template.csv")
	for _, s := range []struct {
		args        []string
		code        int
		out, errOut string
	}{
		{[]string{"import", "csv"}, 2, "", "give the file"},
		{[]string{"import", "csv", "--subscribers", "missing.csv"}, 2, "", "no such file"},
		{[]string{"tariff", "add", "--code", "home100", "--name", "Домашний 100", "--fee", "600", "--down", "100M", "--up", "100M"}, 0, "home100", ""},
		{[]string{"import", "csv", "--subscribers", subs, "--payments", pays, "--dry-run"}, 0, "subscribers  read 2, new 2", ""},
		{[]string{"account", "show", "ivanov"}, 2, "", "no such account"},
		{[]string{"import", "csv", "--subscribers", subs, "--payments", pays}, 0, "payments     read 2, new 2", ""},
		{[]string{"account", "show", "petrova"}, 0, "frozen", ""},
		{[]string{"ledger", "verify"}, 0, "verifies", ""},
	} {
		code, out, errOut := kabinet(t, s.args...)
		if code != s.code || !strings.Contains(out, s.out) || !strings.Contains(errOut, s.errOut) {
			t.Errorf("kabinet %s: exit %d, stdout %q, stderr %q; want exit %d with %q / %q", strings.Join(s.args, " "), code, out, errOut, s.code, s.out, s.errOut)
		}
	}
}

// TestImportAbillsCLI: a wrong key is one line and exit 2; the right one imports.
func TestImportAbillsCLI(t *testing.T) {
	dsn, src := importtest.SourceDB(t, "abills/abills.sql", "abills/Abon.sql", "abills/Paysys.sql", "abills/Bonus.sql")
	if err := importtest.FillAbills(context.Background(), src, 4, 1); err != nil {
		t.Fatal(err)
	}
	ubilling, _ := importtest.SourceDB(t, "ubilling/stargazer.sql", "ubilling/ubilling.sql")
	t.Setenv("KABINET_DB", "sqlite:"+filepath.Join(t.TempDir(), "k.db"))
	for _, s := range []struct {
		args        []string
		code        int
		out, errOut string
	}{
		{[]string{"import", "abills", "--from", dsn}, 2, "", "--secret-key is needed"},
		{[]string{"import", "abills", "--from", "abills", "--secret-key", "k"}, 2, "", "--from must be mysql://USER:PASS@HOST:PORT/DB"},
		{[]string{"import", "abills", "--from", "mysql://root@127.0.0.1:1/abills", "--secret-key", "k"}, 2, "", "cannot reach abills"},
		{[]string{"import", "abills", "--from", ubilling, "--secret-key", "k"}, 2, "", "is not ABillS's"},
		{[]string{"import", "abills", "--from", dsn, "--secret-key", "wrong"}, 2, "", "the secret key does not decode the ABillS passwords"},
		{[]string{"import", "abills", "--from", dsn, "--secret-key", importtest.AbillsKey}, 0, "subscribers  read 5, new 5", ""},
		{[]string{"account", "show", "abon00001"}, 0, "00001-И", ""},
		{[]string{"ledger", "verify"}, 0, "verifies", ""},
	} {
		code, out, errOut := kabinet(t, s.args...)
		if code != s.code || !strings.Contains(out, s.out) || !strings.Contains(errOut, s.errOut) {
			t.Errorf("kabinet %s: exit %d, stdout %q, stderr %q; want exit %d with %q / %q", strings.Join(s.args, " "), code, out, errOut, s.code, s.out, s.errOut)
		}
		if code == 2 && strings.Count(strings.TrimSpace(errOut), "\n") > 0 {
			t.Errorf("kabinet %s: error is not one line: %q", strings.Join(s.args, " "), errOut)
		}
	}
}

// TestImportProgress: on a terminal the progress is one line rewritten, at
// most ten times a second.
func TestImportProgress(t *testing.T) {
	var b strings.Builder
	p := importProgress(&b)
	p("subscribers", 1000)
	p("subscribers", 2000) // at once after: not shown
	if got := b.String(); got != "\r\033[Kreading subscribers: 1000" {
		t.Errorf("progress %q", got)
	}
}
