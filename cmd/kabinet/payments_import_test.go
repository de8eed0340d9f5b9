package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/text/encoding/charmap"
)

// TestPaymentsImport: a CP1251 registry is reconciled, a second import
// credits nothing, and the books verify.
func TestPaymentsImport(t *testing.T) {
	dir := t.TempDir()
	db := "--db=sqlite:" + filepath.Join(dir, "k.db")
	for _, args := range [][]string{
		{db, "tariff", "add", "--code", "base", "--name", "Base", "--fee", "500", "--down", "100M", "--up", "100M"},
		{db, "account", "create", "--login", "ivanov", "--password", "secretpass", "--tariff", "base", "--name", "Иванов"},
	} {
		if code, _, errOut := kabinet(t, args...); code != 0 {
			t.Fatalf("%v: %s", args, errOut)
		}
	}
	text := "номер;дата;счёт;сумма\n1001;01.12.2026 10:00:00;ivanov;500,00\n1002;01.12.2026 11:00:00;petrov;10,00\n=2;510,00\n"
	cp, _ := charmap.Windows1251.NewEncoder().String(text)
	file := filepath.Join(dir, "registry.csv")
	if err := os.WriteFile(file, []byte(cp), 0o600); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := kabinet(t, db, "payments", "import", "--channel", "sberbank", file)
	if code != 0 || !strings.Contains(out, "missing online, credited now: 1") || !strings.Contains(out, "txn 1002, account petrov, 10.00: account not found") {
		t.Fatalf("first import: %d\n%s%s", code, out, errOut)
	}
	code, out, _ = kabinet(t, db, "payments", "import", "--channel", "sberbank", file)
	if code != 0 || !strings.Contains(out, "already received online: 1") || !strings.Contains(out, "credited now: 0") {
		t.Fatalf("second import: %d\n%s", code, out)
	}
	if code, out, _ := kabinet(t, db, "account", "show", "ivanov"); code != 0 || !strings.Contains(out, "balance:      0,00") {
		t.Errorf("account after a 500.00 payment against a 500.00 fee:\n%s", out)
	}
	if code, out, _ := kabinet(t, db, "ledger", "verify"); code != 0 {
		t.Errorf("ledger: %s", out)
	}
	if code, _, errOut := kabinet(t, db, "payments", "import", "--channel", "sberbank"); code != 2 || errOut == "" {
		t.Errorf("no file: %d %q", code, errOut)
	}
}
