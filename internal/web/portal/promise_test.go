package portal_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/kabinet-billing/kabinet/internal/billing"
	"github.com/kabinet-billing/kabinet/internal/store"
	"github.com/kabinet-billing/kabinet/internal/web/webtest"
)

// TestPromisePortal: bob, limited for debt, finds the promised payment on
// the home page, is told beside the amount what is wrong with it, takes
// it (the limit is lifted at once, the balance unchanged) and sees it on
// the home page; alice, without debt, is told why there is none.
func TestPromisePortal(t *testing.T) {
	e := webtest.New(t)
	ctx := context.Background()
	// A month on, bob's debt (March's prorated fee, then April's) is overdue.
	e.Clock.Set(time.Date(2026, 4, 16, 9, 0, 0, 0, time.UTC))
	if _, err := e.Biller.Run(ctx, e.Clock.Now(), nil); err != nil {
		t.Fatal(err)
	}
	before, err := e.Biller.Summary(ctx, e.IDs["bob"])
	if err != nil || before.Status != billing.StatusLimited {
		t.Fatalf("bob is %s (%v), want limited", before.Status, err)
	}
	bob := e.Login("bob")
	webtest.Must(t, bob.Get("/"), http.StatusOK, `href="/promise"`, "Обещанный платёж")
	webtest.Must(t, bob.Get("/promise"), http.StatusOK, `action="/promise"`, "до 19.04.2026")
	for _, c := range []struct {
		name, amount string
		status       int
		want         []string
	}{
		{"too much", "100000", http.StatusUnprocessableEntity, []string{`aria-invalid="true"`, `role="alert">Укажите сумму больше нуля и не больше`}},
		{"not a number", "abc", http.StatusUnprocessableEntity, []string{`id="amount-error" role="alert"`, `value="abc"`}},
	} {
		t.Run(c.name, func(t *testing.T) {
			webtest.Must(t, bob.Post("/promise", url.Values{"amount": {c.amount}}), c.status, c.want...)
		})
	}
	r := bob.Post("/promise", url.Values{"amount": {before.Recommended.String()}})
	if r.Status != http.StatusSeeOther || r.Header.Get("Location") != "/" {
		t.Fatalf("take: %d %s", r.Status, webtest.Snippet(r.Body))
	}
	webtest.Must(t, bob.Get("/"), http.StatusOK, "ограничение скорости снято", "без ограничений до 19.04.2026")
	after, _ := e.Biller.Summary(ctx, e.IDs["bob"])
	if after.Status != billing.StatusActive || after.Balance != before.Balance {
		t.Errorf("after the promise: %s %s, want active and %s", after.Status, after.Balance, before.Balance)
	}
	var n int
	e.DB.QueryRow(ctx, `SELECT COUNT(*) FROM events WHERE kind = ? AND account_id = ?`, store.EventAccountUnlimited, e.IDs["bob"]).Scan(&n)
	if n != 1 {
		t.Errorf("%d account.unlimited events (the CoA), want 1", n)
	}
	webtest.Must(t, bob.Get("/promise"), http.StatusOK, "Обещанный платёж действует")
	if r := bob.Post("/promise", url.Values{"amount": {"100"}}); r.Status != http.StatusConflict || !strings.Contains(r.Body, `role="alert">Обещанный платёж уже действует`) {
		t.Errorf("second take: %d %s", r.Status, webtest.Snippet(r.Body))
	}

	alice := e.Login("alice")
	alice.Post("/lang", url.Values{"lang": {"en"}, "back": {"/promise"}})
	webtest.Must(t, alice.Get("/promise"), http.StatusOK, "There is no debt")
	if strings.Contains(alice.Get("/").Body, `href="/promise"`) {
		t.Error("alice, without debt, is offered a promised payment on the home page")
	}
}
