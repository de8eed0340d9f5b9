package api_test

import (
	"net/http"
	"strings"
	"testing"
)

// TestNotifications: the app reads which topics go to which channels (the
// defaults: e-mail on), turns one off, reads it back, and a wrong topic is
// a 422 in the client's language.
func TestNotifications(t *testing.T) {
	e := newEnv(t, 1000, 1000)
	bob := e.token("bob")
	got := e.do("GET", "/api/v1/notifications", bob, "ru", nil).json(t)
	topics, _ := got["topics"].([]any)
	if len(topics) != 6 {
		t.Fatalf("topics: %v", got)
	}
	first := topics[0].(map[string]any)
	if first["topic"] != "payment_received" || first["title"] != "Платёж зачислен" || first["channels"].(map[string]any)["email"] != true {
		t.Errorf("first topic: %v", first)
	}
	for _, c := range []struct {
		name   string
		body   any
		status int
		detail string
	}{
		{"payment by e-mail off", map[string]any{"topics": []any{map[string]any{"topic": "payment_received", "channels": map[string]bool{"email": false}}}}, http.StatusOK, ""},
		{"no such topic", map[string]any{"topics": []any{map[string]any{"topic": "weather", "channels": map[string]bool{"email": false}}}}, http.StatusUnprocessableEntity, "weather"},
		{"no such channel", map[string]any{"topics": []any{map[string]any{"topic": "limited", "channels": map[string]bool{"pigeon": true}}}}, http.StatusUnprocessableEntity, "No such notification"},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := e.do("PUT", "/api/v1/notifications", bob, "en", c.body)
			if r.status != c.status {
				t.Fatalf("%d, want %d: %s", r.status, c.status, r.body)
			}
			if c.detail != "" && !strings.Contains(string(r.body), c.detail) {
				t.Errorf("%s lacks %q", r.body, c.detail)
			}
		})
	}
	got = e.do("GET", "/api/v1/notifications", bob, "en", nil).json(t)
	first = got["topics"].([]any)[0].(map[string]any)
	if first["title"] != "Payment credited" || first["channels"].(map[string]any)["email"] != false {
		t.Errorf("after the change: %v", first)
	}
	if other := e.do("GET", "/api/v1/notifications", e.token("alice"), "en", nil).json(t)["topics"].([]any)[0].(map[string]any); other["channels"].(map[string]any)["email"] != true {
		t.Errorf("alice's choice changed with bob's: %v", other)
	}
}
