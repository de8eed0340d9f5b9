package api_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/kabinet-billing/kabinet/internal/money"
	"github.com/kabinet-billing/kabinet/internal/store"
)

// TestSuspension: the app quotes a suspension (the tariff fees not
// charged, to the kopeck), schedules it, sees it on the home, calls it off
// with DELETE; each refusal comes back as problem+json in the client's
// language, naming the field at fault.
func TestSuspension(t *testing.T) {
	e := newEnv(t, 1000, 1000)
	ctx := context.Background()
	alice, bob := e.token("alice"), e.token("bob")
	// 20 March – 2 April: 12 of March's 31 days returned, April charged
	// from the 3rd (28 of 30): 193.55 + 500.00 − 466.67.
	q := e.do("GET", "/api/v1/suspension?from=2026-03-20&days=14", alice, "ru", nil).json(t)
	if q["available"] != true || q["saved"].(map[string]any)["rub"] != "226.88" || q["until"] != "2026-04-03T00:00:00+03:00" {
		t.Fatalf("quote: %v", q)
	}
	if months := q["months"].([]any); len(months) != 2 {
		t.Errorf("months: %v", months)
	}
	q = e.do("GET", "/api/v1/suspension?from=2026-03-20&days=3", alice, "en", nil).json(t)
	if q["available"] != false || q["field"] != "days" || !strings.Contains(q["reason"].(string), "Enter 7 to 90 days") {
		t.Errorf("short quote: %v", q)
	}
	if err := e.db.Write(ctx, func(tx *store.Tx) error {
		_, err := e.biller.Charge(ctx, tx, e.ids["bob"], "test:bob", "other", "test", money.Rub(2000), "", e.clk.Now())
		return err
	}); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name, token, lang, from string
		days                    int
		status                  int
		detail, field           string
	}{
		{"too short", alice, "ru", "2026-03-20", 3, http.StatusUnprocessableEntity, "от 7 до 90 дней", "body.days"},
		{"in the past", alice, "en", "2026-03-01", 14, http.StatusUnprocessableEntity, "from today up to 30 days ahead", "body.from"},
		{"not a date", alice, "en", "soon", 14, http.StatusUnprocessableEntity, "Choose a date", "body.from"},
		{"in debt", bob, "ru", "2026-03-20", 14, http.StatusConflict, "задолженность", ""},
		{"scheduled", alice, "ru", "2026-03-20", 14, http.StatusOK, "", ""},
		{"again", alice, "en", "2026-03-25", 14, http.StatusConflict, "already scheduled", ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := e.do("POST", "/api/v1/suspension", c.token, c.lang, map[string]any{"from": c.from, "days": c.days})
			if r.status != c.status {
				t.Fatalf("%d, want %d: %s", r.status, c.status, r.body)
			}
			if c.detail != "" && (r.header.Get("Content-Type") != "application/problem+json" || !strings.Contains(string(r.body), c.detail)) {
				t.Errorf("%s lacks %q", r.body, c.detail)
			}
			if c.field != "" && !strings.Contains(string(r.body), `"location":"`+c.field+`"`) {
				t.Errorf("%s does not name %s", r.body, c.field)
			}
		})
	}
	home := e.do("GET", "/api/v1/home", alice, "ru", nil).json(t)
	if s, ok := home["suspension"].(map[string]any); !ok || s["state"] != "scheduled" || s["days"].(float64) != 14 {
		t.Errorf("home's suspension: %v", home["suspension"])
	}
	if _, ok := e.do("GET", "/api/v1/home", bob, "ru", nil).json(t)["suspension"]; ok {
		t.Error("bob's home shows a suspension")
	}
	// Longer: the last day from 2 April to 9 April, quoted, then made; not
	// after the current one, or over 90 days in all, is refused.
	q = e.do("GET", "/api/v1/suspension?last=2026-04-09", alice, "ru", nil).json(t)
	if q["available"] != true || q["days"].(float64) != 21 || q["until"] != "2026-04-10T00:00:00+03:00" {
		t.Errorf("extension quote: %v", q)
	}
	for _, c := range []struct {
		last   string
		status int
		detail string
	}{
		{"2026-04-01", http.StatusUnprocessableEntity, "Choose a day after the current last day"},
		{"2026-07-01", http.StatusUnprocessableEntity, "Enter 7 to 90 days"},
		{"2026-04-09", http.StatusOK, ""},
	} {
		r := e.do("PATCH", "/api/v1/suspension", alice, "en", map[string]any{"last": c.last})
		if r.status != c.status || (c.detail != "" && !strings.Contains(string(r.body), c.detail)) {
			t.Errorf("extend to %s: %d %s", c.last, r.status, r.body)
		}
		if c.status == http.StatusOK && (r.json(t)["days"].(float64) != 21) {
			t.Errorf("extended: %s", r.body)
		}
	}
	if r := e.do("PATCH", "/api/v1/suspension", bob, "en", map[string]any{"last": "2026-04-09"}); r.status != http.StatusNotFound {
		t.Errorf("bob extends nothing: %d %s", r.status, r.body)
	}
	r := e.do("DELETE", "/api/v1/suspension", alice, "ru", nil)
	if r.status != http.StatusOK || r.json(t)["state"] != "cancelled" {
		t.Errorf("delete: %d %s", r.status, r.body)
	}
	r = e.do("DELETE", "/api/v1/suspension", alice, "en", nil)
	if r.status != http.StatusNotFound || !strings.Contains(string(r.body), "No suspension") {
		t.Errorf("second delete: %d %s", r.status, r.body)
	}
}
