package portal_test

import (
	"context"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/kabinet-billing/kabinet/internal/importer"
	"github.com/kabinet-billing/kabinet/internal/web/webtest"
)

// TestPortalImportedSubscriber: a subscriber moved in from a spreadsheet logs
// into the portal with the old password and reads the old billing's
// payments beside the balance brought over.
func TestPortalImportedSubscriber(t *testing.T) {
	e := webtest.New(t)
	ctx := context.Background()
	dir := t.TempDir()
	subs, pays := filepath.Join(dir, "s.csv"), filepath.Join(dir, "p.csv")
	os.WriteFile(subs, []byte("login;password;name;tariff;balance\npetrov;Старый-пароль;Петров Пётр;home100;734,50\n"), 0o600)
	os.WriteFile(pays, []byte("login;date;amount;channel;memo\npetrov;2026-02-01 10:00;1500;Сбербанк Онлайн;чек 77\n"), 0o600)
	src, err := importer.OpenCSV(subs, pays, e.Biller.Rules.Zone)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := importer.Run(ctx, e.DB, src, importer.Options{At: e.Clock.Now().Add(-24 * time.Hour), Sealer: e.Dir.Sealer, Biller: e.Biller}); err != nil {
		t.Fatal(err)
	}
	c := e.Client()
	c.Get("/login")
	if r := c.Post("/login", url.Values{"login": {"petrov"}, "password": {"Старый-пароль"}}); r.Status != http.StatusSeeOther {
		t.Fatalf("login with the old password: %d %s", r.Status, r.Body)
	}
	webtest.Must(t, c.Get("/payments"), http.StatusOK, "Остаток из прежнего биллинга", "Платежи в прежнем биллинге", "Сбербанк Онлайн", "чек 77", "1\u00a0500,00")
	webtest.Must(t, c.Get("/statement?from=2026-02-01&to=2026-03-15"), http.StatusOK, "Остаток из прежнего биллинга", "Платежи в прежнем биллинге", "Сбербанк Онлайн")
}
