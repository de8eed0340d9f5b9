package main

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/kabinet-billing/kabinet/internal/operator"
)

// The database goes away: pages say so in the reader's language with 503
// (never a stack trace or a bare 500), the API answers 503 problem+json
// instead of "log in again", and RADIUS still knows its subscribers.
func TestDatabaseUnavailable(t *testing.T) {
	s := newSecEnv(t, `public_url = "http://kabinet.test"`)
	ctx := context.Background()
	alice := s.loginSubscriber("alice")
	admin := s.loginOperator(operator.RoleAdmin)
	token, _ := s.apiLogin("alice")
	if err := s.app.radius.Cache.Load(ctx); err != nil {
		t.Fatal(err)
	}
	s.app.e.db.Close()

	for _, c := range []struct {
		b    *browser
		path string
	}{{alice, "/"}, {alice, "/payments"}, {admin, "/admin/"}, {admin, "/admin/subscribers"}} {
		a := c.b.get(c.path)
		if a.status != http.StatusServiceUnavailable || !strings.Contains(a.body, "нет связи с базой данных") ||
			strings.Contains(a.body, "goroutine") || strings.Contains(a.body, "sql:") || a.header.Get("Retry-After") == "" {
			t.Errorf("%s with the database down: %d %q", c.path, a.status, snippetOf(a.body))
		}
	}
	a := s.sendJSON("GET", "/api/v1/home", token, "")
	if a.status != http.StatusServiceUnavailable || !strings.Contains(a.body, "базой данных") {
		t.Errorf("API with the database down: %d %s", a.status, a.body)
	}

	// RADIUS answers from its cache; a reload fails and keeps what it had.
	if err := s.app.radius.Cache.Load(ctx); err == nil {
		t.Error("a reload over a closed database succeeded")
	}
	sub, err := s.app.radius.Cache.Get(ctx, "alice")
	if err != nil || sub.Login != "alice" {
		t.Errorf("RADIUS lost alice with the database down: %+v %v", sub, err)
	}
}

func snippetOf(s string) string {
	if i := strings.Index(s, "<main"); i >= 0 {
		s = s[i:]
	}
	return s[:min(len(s), 400)]
}
