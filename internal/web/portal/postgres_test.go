package portal_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/kabinet-billing/kabinet/internal/store/storetest"
	"github.com/kabinet-billing/kabinet/internal/web/webtest"
)

// TestPostgresFlow walks the portal's main path on PostgreSQL: sessions in
// web_sessions, the catalogue, a tariff change, a package, the statement,
// a request and the chat. It skips, saying so, without KABINET_TEST_POSTGRES.
func TestPostgresFlow(t *testing.T) {
	e := webtest.NewOn(t, storetest.Postgres(t))
	c := e.Login("alice")
	webtest.Must(t, c.Get("/"), http.StatusOK, "Домашний 100")
	webtest.Must(t, c.Get("/tariffs/old"), http.StatusUnprocessableEntity, "Этот тариф недоступен")
	webtest.Must(t, c.Post("/tariffs/home300", nil), http.StatusSeeOther)
	webtest.Must(t, c.Post("/packages/drweb", nil), http.StatusSeeOther)
	webtest.Must(t, c.Get("/packages"), http.StatusOK, "Лицензионный ключ:")
	r := c.Get("/statement?from=2026-03-01&to=2026-03-31&format=pdf")
	if r.Status != http.StatusOK || !strings.HasPrefix(r.Body, "%PDF") {
		t.Fatalf("pdf: %d", r.Status)
	}
	webtest.Must(t, c.Get("/statement?from=2026-03-01&to=2026-03-31"), http.StatusOK, "Исходящий остаток")
	webtest.Must(t, c.Post("/requests", url.Values{"kind": {"question"}, "subject": {"Вопрос"}, "body": {"Текст"}}), http.StatusSeeOther)
	webtest.Must(t, c.Post("/chat", url.Values{"body": {"Привет"}}, "HX-Request", "true"), http.StatusOK)
	webtest.Must(t, c.Get("/chat/messages?after=0"), http.StatusOK, "Привет")
	webtest.Must(t, c.Get("/payments"), http.StatusOK, "История баланса")
	webtest.Must(t, c.Get("/traffic"), http.StatusOK, "Трафик и сессии")
	webtest.Must(t, c.Post("/logout", nil), http.StatusSeeOther)
	if _, err := e.Biller.Summary(context.Background(), e.IDs["alice"]); err != nil {
		t.Fatal(err)
	}
}
