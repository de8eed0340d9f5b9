package web_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/kabinet-billing/kabinet/internal/store/storetest"
)

// TestPostgresFlow walks the portal's main path on PostgreSQL: sessions in
// web_sessions, the catalogue, a tariff change, a package, the statement,
// a request and the chat. It skips, saying so, without KABINET_TEST_POSTGRES.
func TestPostgresFlow(t *testing.T) {
	e := newEnvOn(t, storetest.Postgres(t))
	c := e.login("alice")
	must(t, c.get("/"), http.StatusOK, "Домашний 100")
	must(t, c.get("/tariffs/old"), http.StatusUnprocessableEntity, "Этот тариф недоступен")
	must(t, c.post("/tariffs/home300", nil), http.StatusSeeOther)
	must(t, c.post("/packages/drweb", nil), http.StatusSeeOther)
	must(t, c.get("/packages"), http.StatusOK, "Лицензионный ключ:")
	r := c.get("/statement?from=2026-03-01&to=2026-03-31&format=pdf")
	if r.Status != http.StatusOK || !strings.HasPrefix(r.Body, "%PDF") {
		t.Fatalf("pdf: %d", r.Status)
	}
	must(t, c.get("/statement?from=2026-03-01&to=2026-03-31"), http.StatusOK, "Исходящий остаток")
	must(t, c.post("/requests", url.Values{"kind": {"question"}, "subject": {"Вопрос"}, "body": {"Текст"}}), http.StatusSeeOther)
	must(t, c.post("/chat", url.Values{"body": {"Привет"}}, "HX-Request", "true"), http.StatusOK)
	must(t, c.get("/chat/messages?after=0"), http.StatusOK, "Привет")
	must(t, c.get("/payments"), http.StatusOK, "История баланса")
	must(t, c.get("/traffic"), http.StatusOK, "Трафик и сессии")
	must(t, c.post("/logout", nil), http.StatusSeeOther)
	if _, err := e.biller.Summary(context.Background(), e.ids["alice"]); err != nil {
		t.Fatal(err)
	}
}
