package backoffice_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"

	"github.com/kabinet-billing/kabinet/internal/backoffice"
	"github.com/kabinet-billing/kabinet/internal/billing"
	"github.com/kabinet-billing/kabinet/internal/content"
	"github.com/kabinet-billing/kabinet/internal/derrors"
	"github.com/kabinet-billing/kabinet/internal/money"
	"github.com/kabinet-billing/kabinet/internal/operator"
	"github.com/kabinet-billing/kabinet/internal/store"
	"github.com/kabinet-billing/kabinet/internal/store/storetest"
)

func TestCatalogueAndContentEdits(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) { testCatalogueAndContentEdits(t, db) })
}

func testCatalogueAndContentEdits(t *testing.T, db *store.DB) {
	ctx := context.Background()
	e := newEnv(t, db)
	mgr, cashier := e.roles[operator.RoleManager], e.roles[operator.RoleCashier]
	pkg, err := billing.AddPackage(ctx, db, billing.Package{Code: "tv", Kind: billing.PackageTV, Name: "ТВ", Price: money.Rub(200), Pricing: billing.PriceMonthly}, e.clk.Now())
	if err != nil {
		t.Fatal(err)
	}
	city, _ := billing.CityByCode(ctx, db, "tver")

	// The role boundary: nothing changes, nothing is audited.
	if err := e.o.UpdateCity(ctx, cashier, billing.City{ID: city.ID, Name: "X"}); !errors.Is(err, derrors.Forbidden) {
		t.Errorf("cashier renames a city: %v", err)
	}
	if err := e.o.ArchivePackage(ctx, cashier, pkg.ID, true); !errors.Is(err, derrors.Forbidden) {
		t.Errorf("cashier archives a package: %v", err)
	}
	if _, err := e.o.AddContent(ctx, e.roles[operator.RoleSupport], content.Item{Kind: content.KindNews, Title: "x", Body: "y", PublishedAt: e.clk.Now()}); !errors.Is(err, derrors.Forbidden) {
		t.Errorf("support publishes news: %v", err)
	}
	if n := len(e.audit(t, operator.AuditQuery{Operator: "cashier1"})) + len(e.audit(t, operator.AuditQuery{Operator: "support1"})); n != 0 {
		t.Errorf("%d audit entries after refusals", n)
	}

	if err := e.o.UpdateCity(ctx, mgr, billing.City{ID: city.ID, Code: "ignored", Name: "Тверь-2", NameEn: "Tver-2"}); err != nil {
		t.Fatal(err)
	}
	if c, _ := billing.CityByID(ctx, db, city.ID); c.Code != "tver" || c.Name != "Тверь-2" || c.NameEn != "Tver-2" {
		t.Errorf("city after the edit: %+v", c)
	}
	pkg.Price, pkg.Name = money.Rub(250), "ТВ+"
	if err := e.o.UpdatePackage(ctx, mgr, pkg); err != nil {
		t.Fatal(err)
	}
	if err := e.o.ArchivePackage(ctx, mgr, pkg.ID, true); err != nil {
		t.Fatal(err)
	}
	if p, _ := billing.PackageByID(ctx, db, pkg.ID); !p.Archived || p.Price != money.Rub(250) || p.Name != "ТВ+" {
		t.Errorf("package after the edits: %+v", p)
	}
	item, err := e.o.AddContent(ctx, mgr, content.Item{Kind: content.KindPromo, Title: "Акция", Body: "Скидка", PublishedAt: e.clk.Now()})
	if err != nil {
		t.Fatal(err)
	}
	item.Title = "Акция марта"
	if err := e.o.UpdateContent(ctx, mgr, item); err != nil {
		t.Fatal(err)
	}
	e.clk.Advance(1)
	if err := e.o.ExpireContent(ctx, mgr, item.ID); err != nil {
		t.Fatal(err)
	}
	if cur, _ := content.Current(ctx, db, 0, "", e.clk.Now(), 10); len(cur) != 0 {
		t.Errorf("an expired item is still shown: %+v", cur)
	}
	if err := e.o.DeleteContent(ctx, mgr, item.ID); err != nil {
		t.Fatal(err)
	}
	if err := e.o.DeleteContent(ctx, mgr, item.ID); !errors.Is(err, derrors.NotFound) {
		t.Errorf("deleting twice: %v", err)
	}
	got := e.audit(t, operator.AuditQuery{Operator: "manager1"})
	var actions []string
	for _, x := range got {
		actions = append(actions, x.Action)
	}
	want := "content.delete content.expire content.update content.add package.archive package.update city.update"
	if strings.Join(actions, " ") != want {
		t.Fatalf("audit: %s, want %s", strings.Join(actions, " "), want)
	}
	for _, x := range got {
		if x.Action != "content.add" && x.BeforeJSON() == "" {
			t.Errorf("%s has no before", x.Action)
		}
	}
	if !strings.Contains(got[0].BeforeJSON(), "Акция марта") || !strings.Contains(got[2].BeforeJSON(), `"Акция"`) || !strings.Contains(got[2].AfterJSON(), "Акция марта") {
		t.Errorf("content before/after: %s / %s / %s", got[0].BeforeJSON(), got[2].BeforeJSON(), got[2].AfterJSON())
	}
	if !strings.Contains(got[5].BeforeJSON(), `"Price":20000`) || !strings.Contains(got[5].AfterJSON(), `"Price":25000`) {
		t.Errorf("package before/after: %s / %s", got[5].BeforeJSON(), got[5].AfterJSON())
	}
}

// When the audit entry cannot be written, an edit made through audited
// rolls back with it; an action whose capability committed on its own is
// reported (ErrNotAudited) and logged in full, never dropped silently.
func TestAuditCannotBeLostSilently(t *testing.T) {
	ctx := context.Background()
	db := storetest.SQLite(t)
	e := newEnv(t, db)
	var logged bytes.Buffer
	e.o.Log = slog.New(slog.NewTextHandler(&logged, nil))
	mgr := e.roles[operator.RoleManager]
	city, _ := billing.CityByCode(ctx, db, "tver")

	// A cancelled request still gets its entry written.
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if err := e.o.Record(cancelled, mgr, operator.Entry{Action: "test.cancelled", Object: "x:1"}); err != nil {
		t.Errorf("record on a cancelled request: %v", err)
	}
	if got := e.audit(t, operator.AuditQuery{Action: "test.cancelled"}); len(got) != 1 {
		t.Errorf("entries after a cancelled request: %d", len(got))
	}

	if err := db.Write(ctx, func(tx *store.Tx) error {
		_, err := tx.Exec(ctx, `ALTER TABLE audit_log RENAME TO audit_log_gone`)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if err := e.o.UpdateCity(ctx, mgr, billing.City{ID: city.ID, Name: "Без журнала"}); err == nil {
		t.Fatal("the edit succeeded without its audit entry")
	}
	if c, _ := billing.CityByID(ctx, db, city.ID); c.Name != "Тверь" {
		t.Errorf("the edit stayed without its audit entry: %+v", c)
	}
	_, err := e.o.AddCity(ctx, mgr, billing.City{Code: "msk", Name: "Москва"})
	if !errors.Is(err, backoffice.ErrNotAudited) {
		t.Errorf("add city without the audit log: %v, want ErrNotAudited", err)
	}
	if s := logged.String(); !strings.Contains(s, "audit entry lost") || !strings.Contains(s, "city.add") || !strings.Contains(s, "Москва") {
		t.Errorf("the lost entry is not in the log:\n%s", s)
	}
}
