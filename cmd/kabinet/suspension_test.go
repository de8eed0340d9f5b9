package main

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestCLISuspension: an operator suspends a subscriber from the command
// line (refused outside the limits, with the reason on one line), sees it in
// the list and in account show --json, and resumes it.
func TestCLISuspension(t *testing.T) {
	t.Setenv("KABINET_DB", "sqlite:"+filepath.Join(t.TempDir(), "k.db"))
	msk, _ := time.LoadLocation("Europe/Moscow")
	day := func(n int) string { return time.Now().In(msk).AddDate(0, 0, n).Format("2006-01-02") }
	for _, s := range []struct {
		args      []string
		code      int
		out, errs string
	}{
		{[]string{"migrate"}, 0, "up to date", ""},
		{[]string{"tariff", "add", "--code", "home100", "--name", "Дом 100", "--fee", "500", "--down", "100M", "--up", "100M"}, 0, "home100", ""},
		{[]string{"account", "create", "--login", "dacha", "--password", "secret123", "--tariff", "home100"}, 0, "created", ""},
		{[]string{"payment", "add", "dacha", "--amount", "2000", "--channel", "cash", "--external-id", "R-1"}, 0, "credited", ""},
		{[]string{"suspension", "list"}, 0, "no suspensions", ""},
		{[]string{"suspension", "start", "--login", "dacha", "--days", "3"}, 2, "", "not within the allowed range"},
		{[]string{"suspension", "start", "--login", "dacha", "--from", "2001-01-01", "--days", "10"}, 2, "", "start date"},
		{[]string{"suspension", "start", "--login", "nobody", "--days", "10"}, 2, "", "no such account"},
		{[]string{"suspension", "start", "--login", "dacha", "--days", "10"}, 0, "active", ""},
		{[]string{"suspension", "start", "--login", "dacha", "--days", "10"}, 2, "", "already"},
		{[]string{"suspension", "list"}, 0, "dacha", ""},
		{[]string{"suspension", "extend", "--login", "dacha", "--last", day(5)}, 2, "", "must end after the planned end"},
		{[]string{"suspension", "extend", "--login", "dacha", "--last", day(19)}, 0, "(20 days)", ""},
		{[]string{"suspension", "resume", "--login", "dacha"}, 0, "ended", ""},
		{[]string{"suspension", "resume", "--login", "dacha"}, 2, "", "no suspension"},
		{[]string{"ledger", "verify"}, 0, "verifies", ""},
	} {
		code, out, errOut := kabinet(t, s.args...)
		if code != s.code || !strings.Contains(out, s.out) || !strings.Contains(errOut, s.errs) {
			t.Errorf("kabinet %s: exit %d, stdout %q, stderr %q; want %d with %q / %q", strings.Join(s.args, " "), code, out, errOut, s.code, s.out, s.errs)
		}
		if s.code == 2 && strings.Count(strings.TrimSpace(errOut), "\n") > 0 {
			t.Errorf("kabinet %s: error is not one line: %q", strings.Join(s.args, " "), errOut)
		}
	}
	kabinet(t, "suspension", "start", "--login", "dacha", "--days", "14")
	code, out, _ := kabinet(t, "account", "show", "dacha", "--json")
	var acct struct {
		Status     string `json:"status"`
		Suspension *struct {
			State string `json:"state"`
			Days  int    `json:"days"`
		} `json:"suspension"`
	}
	if code != 0 || json.Unmarshal([]byte(out), &acct) != nil || acct.Status != "frozen" || acct.Suspension == nil ||
		acct.Suspension.State != "active" || acct.Suspension.Days != 14 {
		t.Errorf("account show --json while suspended: %d %s", code, out)
	}
}
