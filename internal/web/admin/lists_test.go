package admin_test

import (
	"context"
	"fmt"
	"html"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/kabinet-billing/kabinet/internal/fiscal"
	"github.com/kabinet-billing/kabinet/internal/money"
	"github.com/kabinet-billing/kabinet/internal/operator"
	"github.com/kabinet-billing/kabinet/internal/payment"
	"github.com/kabinet-billing/kabinet/internal/subscriber"
)

// TestListsPageAndSort: the subscriber list shows its total, pages through
// every account, sorts by a column either way, and keeps the search, the
// sort and the page in its links. Every back-office list shows its total.
func TestListsPageAndSort(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()
	for i := range 60 {
		if _, err := e.office.Dir.Create(ctx, subscriber.NewAccount{Login: fmt.Sprintf("user%02d", i), Password: "secret-pass", Tariff: "home",
			Name: fmt.Sprintf("Абонент %02d", 59-i)}); err != nil {
			t.Fatal(err)
		}
	}
	c := e.login(operator.RoleAdmin)
	logins := func(body string) []string {
		var out []string
		for _, m := range regexp.MustCompile(`</a></td><td>([a-z0-9]+)</td>`).FindAllStringSubmatch(body, -1) {
			out = append(out, m[1])
		}
		return out
	}
	next := func(body string) string {
		m := regexp.MustCompile(`<a class="btn" href="([^"]+)" rel="next">`).FindStringSubmatch(body)
		if m == nil {
			return ""
		}
		return html.UnescapeString(m[1])
	}
	code, body := c.get("/admin/subscribers")
	if code != http.StatusOK || !strings.Contains(body, "1–50 из 61") {
		t.Fatalf("first page: %d, no total\n%s", code, body)
	}
	if got := logins(body); len(got) != 50 || got[0] != "user59" {
		t.Errorf("first page: %d rows from %v, want 50 from the newest", len(got), got[:min(1, len(got))])
	}
	_, body = c.get(next(body))
	if got := logins(body); len(got) != 11 || !strings.Contains(body, "51–61 из 61") {
		t.Errorf("second page: %d rows", len(got))
	}
	// Sorted by name, ascending: "Абонент 00" is user59.
	_, body = c.get("/admin/subscribers?sort=name&dir=asc")
	if got := logins(body); len(got) == 0 || got[0] != "user59" || !strings.Contains(body, `aria-sort="ascending"`) {
		t.Errorf("sorted by name: %v", got)
	}
	if n := next(body); !strings.Contains(n, "sort=name") || !strings.Contains(n, "dir=asc") || !strings.Contains(n, "page=2") {
		t.Errorf("the next page's link loses the sort: %q", n)
	}
	_, body = c.get("/admin/subscribers?sort=name&dir=desc")
	// "Иванов Иван" (the set-up's subscriber) comes after every "Абонент".
	if got := logins(body); len(got) < 2 || got[0] != "ivanov" || got[1] != "user00" {
		t.Errorf("sorted by name, descending: %v", got)
	}
	// A search keeps its query in the links.
	_, body = c.get("/admin/subscribers?q=user&sort=login&dir=asc")
	if got := logins(body); len(got) == 0 || got[0] != "user00" || !strings.Contains(next(body), "q=user") {
		t.Errorf("search: %v, next %q", got, next(body))
	}
	_, body = c.get("/admin/subscribers?q=user0")
	if !strings.Contains(body, "1–10 из 10") {
		t.Error("a search's total")
	}
	for _, p := range []string{"/admin/catalogue", "/admin/news", "/admin/debtors", "/admin/audit", "/admin/operators", "/admin/mail", "/admin/receipts?status=all", "/admin/support"} {
		if code, body := c.get(p); code != http.StatusOK || !strings.Contains(body, `data-testid="list-total"`) {
			t.Errorf("%s: %d, no total", p, code)
		}
	}
	if _, body := c.get("/admin/catalogue?tariffs.sort=fee&tariffs.dir=desc"); !strings.Contains(body, `aria-sort="descending"`) {
		t.Error("the tariffs do not sort")
	}
}

// TestMailAndReceiptsPageInDatabase: the mail page counts every message of
// its filter (beyond the thousand it used to read), its last page shows the
// oldest, and the pager keeps the channel and status filter; the receipts
// page counts and sorts in the database too.
func TestMailAndReceiptsPageInDatabase(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()
	now := e.clk.Now()
	// 1,200 sent letters and 30 queued Telegram messages.
	if _, err := e.office.DB.Writer().Exec(`WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 1230)
		INSERT INTO notifications (channel, kind, to_addr, subject, body, status, next_attempt_at, created_at)
		SELECT CASE WHEN i <= 1200 THEN 'email' ELSE 'telegram' END, 'test', printf('u%04d@example.org', i), printf('Письмо %04d', i), 'текст',
			CASE WHEN i <= 1200 THEN 'sent' ELSE 'queued' END, ?, ? FROM n`, now, now); err != nil {
		t.Fatal(err)
	}
	c := e.login(operator.RoleAdmin)
	next := func(body string) string {
		m := regexp.MustCompile(`<a class="btn" href="([^"]+)" rel="next">`).FindStringSubmatch(body)
		if m == nil {
			return ""
		}
		return html.UnescapeString(m[1])
	}
	tos := func(body string) []string {
		return regexp.MustCompile(`u[0-9]{4}@example\.org`).FindAllString(body, -1)
	}
	for _, tc := range []struct {
		path, total, first string
		rows               int
	}{
		{"/admin/mail", "1–50 из 1230", "u1230@example.org", 50},
		{"/admin/mail?channel=email", "1–50 из 1200", "u1200@example.org", 50},
		{"/admin/mail?channel=email&status=sent&page=24", "1151–1200 из 1200", "u0050@example.org", 50},
		{"/admin/mail?channel=email&sort=to&dir=asc&page=24", "1151–1200 из 1200", "u1151@example.org", 50},
		{"/admin/mail?channel=telegram&status=queued", "1–30 из 30", "u1230@example.org", 30},
		{"/admin/mail?channel=email&status=queued", "admin.list.none", "", 0},
	} {
		code, body := c.get(tc.path)
		got := tos(body)
		if code != http.StatusOK || (tc.rows > 0 && !strings.Contains(body, tc.total)) || len(got) != tc.rows || (tc.rows > 0 && got[0] != tc.first) {
			t.Errorf("%s: %d, %d rows from %v, want %q and %d from %s", tc.path, code, len(got), got[:min(1, len(got))], tc.total, tc.rows, tc.first)
		}
	}
	_, body := c.get("/admin/mail?channel=email&status=sent&sort=subject")
	if n := next(body); !strings.Contains(n, "channel=email") || !strings.Contains(n, "status=sent") || !strings.Contains(n, "sort=subject") || !strings.Contains(n, "page=2") {
		t.Errorf("the next page's link loses the filter: %q", n)
	}
	// Receipts: three payments; one failed, one done, one queued.
	for i := range 3 {
		if _, err := e.office.Payments.CashPayment(ctx, payment.CashIn{AccountID: 1, Amount: money.Rub(int64(100 * (i + 1))), Operator: "cashier", Receipt: fmt.Sprintf("K-%d", i)}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := e.office.DB.Writer().Exec(`UPDATE fiscal_receipts SET status = CASE amount WHEN ? THEN 'done' WHEN ? THEN 'failed' ELSE status END`, money.Rub(100), money.Rub(200)); err != nil {
		t.Fatal(err)
	}
	if _, body := c.get("/admin/receipts"); !strings.Contains(body, "1–2 из 2") {
		t.Error("the receipts to watch (failed and queued): want 2")
	}
	rs, total, err := e.office.Receipts(ctx, fiscal.Filter{Status: "all", Sort: "amount", Limit: 2, Offset: 1})
	if err != nil || total != 3 || len(rs) != 2 || rs[0].Amount != money.Rub(200) || rs[1].Amount != money.Rub(300) {
		t.Errorf("all receipts by amount, from the second: %d of %d, %v", len(rs), total, err)
	}
	if _, body := c.get("/admin/receipts?status=all&sort=amount&dir=desc"); !strings.Contains(body, "1–3 из 3") {
		t.Error("all receipts: want 3")
	}
}

// TestDebtorsPageInDatabase: the debtors page sorts and pages its two
// tables in the database, each with its own keys, and keeps the other's.
func TestDebtorsPageInDatabase(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()
	now := e.clk.Now()
	for i := range 60 {
		a, err := e.office.Dir.Create(ctx, subscriber.NewAccount{Login: fmt.Sprintf("debt%02d", i), Password: "secret-pass", Tariff: "home",
			Name: fmt.Sprintf("Должник %02d", 59-i)})
		if err != nil {
			t.Fatal(err)
		}
		// debt00 owes the least and the longest (60 days); debt00..debt04 are
		// limited. The set-up's subscriber is the 61st debtor.
		status, limited := "active", any(nil)
		if i < 5 {
			status, limited = "limited", now.AddDate(0, 0, -i-1)
		}
		w := e.office.DB.Writer()
		if _, err := w.Exec(`UPDATE ledger_accounts SET balance = ? WHERE id = (SELECT ledger_id FROM accounts WHERE id = ?)`, -100*(i+1), a.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := w.Exec(`UPDATE accounts SET status = ?, debt_since = ?, limited_since = ? WHERE id = ?`, status, now.AddDate(0, 0, -60+i), limited, a.ID); err != nil {
			t.Fatal(err)
		}
	}
	c := e.login(operator.RoleAdmin)
	// logins are the debtors table's (the first, before the limited one) by their names.
	logins := func(body string) []string {
		body, _, _ = strings.Cut(body, "/admin/reports/limited.csv")
		var out []string
		for _, m := range regexp.MustCompile(`Должник ([0-9]{2})`).FindAllStringSubmatch(body, -1) {
			n, _ := strconv.Atoi(m[1])
			out = append(out, fmt.Sprintf("debt%02d", 59-n))
		}
		return out
	}
	for _, tc := range []struct {
		path, total, first, last string
	}{
		{"/admin/debtors", "1–50 из 61", "debt00", "debt49"},
		{"/admin/debtors?debtors.page=2", "51–61 из 61", "debt50", "debt59"},
		{"/admin/debtors?debtors.sort=days&debtors.dir=asc&debtors.page=2", "51–61 из 61", "debt10", "debt00"},
		{"/admin/debtors?debtors.sort=name&debtors.dir=asc", "1–50 из 61", "debt59", "debt10"},
		{"/admin/debtors?debtors.sort=balance&debtors.dir=asc&debtors.page=2&limited.sort=limited&limited.dir=asc", "51–61 из 61", "debt10", "debt00"},
	} {
		_, body := c.get(tc.path)
		got := logins(body)
		if !strings.Contains(body, tc.total) || len(got) == 0 || got[0] != tc.first || got[len(got)-1] != tc.last {
			t.Errorf("%s: want %s from %s to %s, got %v", tc.path, tc.total, tc.first, tc.last, got)
		}
	}
	_, body := c.get("/admin/debtors?limited.sort=name&debtors.page=2")
	if !strings.Contains(body, "1–5 из 5") || !strings.Contains(html.UnescapeString(body), "debtors.page=2&limited.dir=asc&limited.sort=name") {
		t.Error("the limited table's sort link loses the debtors' page")
	}
}
