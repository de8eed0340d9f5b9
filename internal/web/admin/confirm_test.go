package admin_test

import (
	"io/fs"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/kabinet-billing/kabinet/internal/operator"

	assets "github.com/kabinet-billing/kabinet/web"
)

// TestNoInlineHandlers: the Content-Security-Policy allows scripts from
// /static only, so an inline handler such as onsubmit="return confirm(…)"
// never runs; the news item it guarded was deleted without a question.
func TestNoInlineHandlers(t *testing.T) {
	inline := regexp.MustCompile(`(?i)<[^>]*\son[a-z]+\s*=`)
	err := fs.WalkDir(assets.FS, "templates", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(assets.FS, path)
		if err != nil {
			return err
		}
		if m := inline.Find(b); m != nil {
			t.Errorf("%s: inline handler, blocked by the CSP: %s", path, m)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestDestructiveFormsAsk: every form that deletes, archives, disconnects,
// reverses or changes a subscriber's status carries the question the
// confirmation dialog asks, and every back-office page has the dialog and
// its script.
func TestDestructiveFormsAsk(t *testing.T) {
	e := newEnv(t, nil)
	c := e.login(operator.RoleAdmin)
	// A correction makes a line that can be reversed.
	c.post("/admin/subscribers/1/correct", url.Values{"amount": {"10"}, "reason": {"ошибка"}, "key": {"k1"}})
	form := regexp.MustCompile(`<form[^>]*action="([^"]*)"[^>]*>`)
	destructive := regexp.MustCompile(`/(delete|archive|disconnect|reverse|status)$`)
	seen := map[string]bool{}
	for _, page := range []string{"/admin/news", "/admin/catalogue", "/admin/subscribers/1", "/admin/network"} {
		code, body := c.get(page)
		if code != http.StatusOK {
			t.Fatalf("%s: %d", page, code)
		}
		if !strings.Contains(body, `<script src="/static/confirm.js" defer></script>`) || !strings.Contains(body, `<dialog id="confirm-dialog"`) {
			t.Errorf("%s: no confirmation dialog or script", page)
		}
		for _, m := range form.FindAllStringSubmatch(body, -1) {
			kind := destructive.FindStringSubmatch(m[1])
			if kind == nil {
				continue
			}
			// Restoring an archived tariff takes nothing away.
			if kind[1] == "archive" && !strings.Contains(m[0], "data-confirm") && strings.Contains(body[strings.Index(body, m[0]):][:len(m[0])+200], `name="archived" value="0"`) {
				continue
			}
			seen[kind[1]] = true
			if !regexp.MustCompile(`data-confirm="[^"]{10,}"`).MatchString(m[0]) {
				t.Errorf("%s: %s asks nothing: %s", page, m[1], m[0])
			}
		}
	}
	for _, k := range []string{"delete", "archive", "disconnect", "reverse", "status"} {
		if !seen[k] {
			t.Errorf("no %s form found on the pages looked at", k)
		}
	}
	if _, body := c.get("/admin/news"); !strings.Contains(body, "Удалить новость «") {
		t.Errorf("the news question does not name the item")
	}
}
