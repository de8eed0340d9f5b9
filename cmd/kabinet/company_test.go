package main

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/kabinet-billing/kabinet/internal/company"
	"github.com/kabinet-billing/kabinet/internal/ledger"
	"github.com/kabinet-billing/kabinet/internal/money"
)

// TestCompanyCommands: an organisation is made (a bad INN refused with
// nothing written), a 1C statement is imported twice with channel bank and
// credits once, company show tells it, and the books verify.
func TestCompanyCommands(t *testing.T) {
	dir := t.TempDir()
	db := "--db=sqlite:" + filepath.Join(dir, "k.db")
	if code, _, errOut := kabinet(t, db, "company", "create", "--name", "ООО «Ромашка»", "--inn", "7707083894"); code != 2 || !strings.Contains(errOut, "INN") {
		t.Fatalf("bad INN: %d %s", code, errOut)
	}
	code, out, errOut := kabinet(t, db, "company", "create", "--name", "ООО «Ромашка»", "--inn", "7707083893", "--kpp", "773601001",
		"--ogrn", "1027700132195", "--bik", "044525225", "--account", "40702810938000000001", "--corr", "30101810400000000225", "--email", "buh@romashka.example")
	if code != 0 || !strings.Contains(out, "К-") {
		t.Fatalf("create: %d %s %s", code, out, errOut)
	}
	for _, args := range [][]string{
		{db, "tariff", "add", "--code", "office", "--name", "Офис", "--fee", "1000", "--down", "100M", "--up", "100M"},
		{db, "account", "create", "--login", "shop-1", "--password", "secretpass", "--tariff", "office"},
		{db, "company", "point", "7707083893", "shop-1", "--label", "Склад"},
		{db, "company", "employee", "7707083893", "buh@romashka.example", "--password", "secretpass"},
	} {
		if code, _, errOut := kabinet(t, args...); code != 0 {
			t.Fatalf("%v: %s", args, errOut)
		}
	}
	var file strings.Builder
	now := time.Now()
	company.Write1C(&file, "40702810863000000100", now, now, []company.BankDocument{
		{Number: "7", Date: now.Format("2006-01-02"), Received: now.Format("2006-01-02"), Amount: money.Rub(1500), PayerINN: "7707083893",
			PayerAccount: "40702810938000000001", RecipientAccount: "40702810863000000100", PayerName: "ООО «Ромашка»", Purpose: "Оплата по счёту № 12"},
	})
	path := filepath.Join(dir, "kl_to_1c.txt")
	if err := os.WriteFile(path, []byte(file.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	for i, want := range []string{"credited 1 (1500.00)", "already imported 1"} {
		code, out, errOut := kabinet(t, db, "payments", "import", "--channel", "bank", path)
		if code != 0 || !strings.Contains(out, want) || !strings.Contains(out, "cp1251") {
			t.Fatalf("import %d: %d %s %s", i+1, code, out, errOut)
		}
	}
	code, out, _ = kabinet(t, db, "company", "show", "7707083893", "--json")
	var got struct {
		INN      string `json:"inn"`
		Balance  string `json:"balance"`
		Payments []struct {
			DocNo string `json:"doc_no"`
		} `json:"bank_payments"`
		Points []struct {
			Login string `json:"login"`
		} `json:"points"`
	}
	// The point's first month (1,000.00) was covered from the 1,500.00.
	if code != 0 || json.Unmarshal([]byte(out), &got) != nil || got.INN != "7707083893" || got.Balance != "500.00" || len(got.Payments) != 1 || len(got.Points) != 1 {
		t.Fatalf("show: %d %s", code, out)
	}
	if code, out, _ := kabinet(t, db, "ledger", "verify"); code != 0 {
		t.Errorf("ledger: %s", out)
	}
}

// testDemoCompany logs into the company cabinet the demo prints and imports
// the sample statement it wrote: two payments credited, the pharmacy's
// seeded one already there, a stranger's left to sort.
func testDemoCompany(t *testing.T, d *demoRun) {
	m := regexp.MustCompile(`Company cabinet: (\S+) / (\S+)`).FindStringSubmatch(d.banner)
	f := regexp.MustCompile(`Sample 1C bank statement: (\S+)`).FindStringSubmatch(d.banner)
	if m == nil || f == nil {
		t.Fatalf("the banner names no company login or statement:\n%s", d.banner)
	}
	c := demoClient()
	if res := formLogin(t, c, d.base, "/login", m[1], m[2]); res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/company" {
		t.Fatalf("employee login: %d → %q", res.StatusCode, res.Header.Get("Location"))
	}
	if code, body := fetchPage(t, c, d.base+"/company"); code != http.StatusOK || !strings.Contains(body, "ООО «Аптека Здоровье»") || !strings.Contains(body, "Аптека на Ленина") {
		t.Errorf("company cabinet: %d", code)
	}
	// Last month is charged and over: its acts exist beside the invoices.
	var acts, invoices int
	if err := d.e.db.QueryRow(context.Background(), `SELECT COUNT(CASE WHEN kind = 'act' THEN 1 END), COUNT(CASE WHEN kind = 'invoice' THEN 1 END) FROM documents`).Scan(&acts, &invoices); err != nil {
		t.Fatal(err)
	}
	if acts != len(demoOrgs()) || invoices < 2*len(demoOrgs()) {
		t.Errorf("demo documents: %d acts, %d invoices; want an act and two invoices an organisation", acts, invoices)
	}
	file, err := os.Open(f[1])
	if err != nil {
		t.Fatal(err)
	}
	defer file.Close()
	svc := company.New(d.e.db, d.e.clock, d.e.biller(), nil)
	rep, err := svc.ImportStatement(context.Background(), cliActor, filepath.Base(f[1]), file, nil)
	if err != nil || rep.Credited != 2 || rep.Duplicates != 1 || rep.Unsorted != 1 || rep.Encoding != "cp1251" {
		t.Errorf("sample statement: %+v %v", rep, err)
	}
	if probs, err := ledger.Verify(context.Background(), d.e.db); err != nil || len(probs) > 0 {
		t.Errorf("ledger: %v %v", probs, err)
	}
}
