package admin_test

import (
	"context"
	"fmt"
	"html"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/kabinet-billing/kabinet/internal/operator"
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
