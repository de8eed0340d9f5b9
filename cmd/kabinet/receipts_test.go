package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// With [fiscal] on, a cash payment recorded from the command line queues
// its receipt in the same transaction and `receipts list` shows it; a
// bank's payment queues none.
func TestCLIReceipts(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("KABINET_DB", "sqlite:"+filepath.Join(dir, "k.db"))
	cfg := filepath.Join(dir, "kabinet.toml")
	if err := os.WriteFile(cfg, []byte("[fiscal]\noperator = \"sandbox\"\nvat = \"none\"\nsno = \"usn_income\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"tariff", "add", "--code", "home100", "--name", "Дом 100", "--fee", "500", "--down", "100M", "--up", "100M"},
		{"account", "create", "--login", "ivanov", "--password", "secret123", "--tariff", "home100"},
		{"--config", cfg, "payment", "add", "ivanov", "--amount", "700", "--channel", "cash", "--external-id", "R-1"},
		{"--config", cfg, "payment", "add", "ivanov", "--amount", "300", "--channel", "osmp:sberbank", "--external-id", "T-1"},
	} {
		if code, out, errOut := kabinet(t, args...); code != 0 {
			t.Fatalf("kabinet %s: %d %s %s", strings.Join(args, " "), code, out, errOut)
		}
	}
	code, out, errOut := kabinet(t, "receipts", "list", "--status", "unfinished", "--json")
	var rs []map[string]any
	if code != 0 || json.Unmarshal([]byte(out), &rs) != nil {
		t.Fatalf("receipts list --json: %d %s %s", code, out, errOut)
	}
	if len(rs) != 1 || rs[0]["channel"] != "cash" || rs[0]["amount"] != "700.00" || rs[0]["status"] != "queued" || rs[0]["kind"] != "sell" {
		t.Fatalf("receipts: %s", out)
	}
	if code, out, _ := kabinet(t, "receipts", "list"); code != 0 || !strings.Contains(out, "queued") {
		t.Errorf("receipts list: %d %s", code, out)
	}
	if code, _, errOut := kabinet(t, "receipts", "list", "--status", "lost"); code != 2 || !strings.Contains(errOut, "status") {
		t.Errorf("receipts list --status lost: %d %s", code, errOut)
	}
}
