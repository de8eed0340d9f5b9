package portal

import (
	"bytes"
	"html/template"
	"net/http/httptest"
	"testing"
	"time"

	assets "github.com/kabinet-billing/kabinet/web"

	"github.com/kabinet-billing/kabinet/internal/billing"
	"github.com/kabinet-billing/kabinet/internal/config"
	"github.com/kabinet-billing/kabinet/internal/content"
	"github.com/kabinet-billing/kabinet/internal/money"
	"github.com/kabinet-billing/kabinet/internal/web/platform"
)

// BenchmarkHomeRender is the home page's view without the database:
// formatting, fragments and templates, for a summary like a typical
// subscriber's (a tariff, one package, three news).
func BenchmarkHomeRender(b *testing.B) {
	p, err := platform.New(platform.Options{Config: config.Default(), Files: assets.FS})
	if err != nil {
		b.Fatal(err)
	}
	now := time.Date(2026, 3, 15, 9, 0, 0, 0, time.UTC)
	tariff := billing.Tariff{ID: 1, Code: "home", Name: "Домашний 100", NameEn: "Home 100", Fee: money.Rub(600), DownKbps: 100000, UpKbps: 100000}
	tv := billing.Subscription{ID: 1, Package: billing.Package{ID: 1, Code: "tv", Kind: "tv", Name: "ТВ", NameEn: "TV", Price: money.Rub(199), Pricing: billing.PriceMonthly}}
	s := billing.Summary{AccountID: 1, Status: "active", Balance: 40100, Tariff: tariff, Packages: []billing.Subscription{tv},
		Speed: billing.Speed{DownKbps: 100000, UpKbps: 100000}, LimitKbps: 128, NextFees: money.Rub(799), Recommended: money.Rub(799) - 40100,
		NextChargeAt: now.Add(17 * 24 * time.Hour), NextChargeAmount: money.Rub(799),
		NextChargesByLabel: []billing.FeeLine{{Service: "home", Name: tariff.Name, NameEn: tariff.NameEn, Amount: tariff.Fee}, {Service: "tv", Name: "ТВ", NameEn: "TV", Amount: money.Rub(199)}}}
	var news []content.Item
	for i, title := range []string{"Новый тариф", "Плановые работы", "Скидка на ТВ"} {
		news = append(news, content.Item{ID: int64(i + 1), Kind: content.KindNews, Title: title, Body: "Текст новости", PublishedAt: now.Add(-time.Hour)})
	}
	po := &Portal{p: p}
	po.newsCache.items = map[int64]*newsEntry{1: {at: time.Now(), items: news, html: map[string]template.HTML{}}}
	s.CityID, s.Login, s.ContractNo = 1, "u50000", "C-50000"
	r := httptest.NewRequest("GET", "/", nil)
	view := func() error {
		d, err := po.homeData(r, "ru", s)
		if err != nil {
			return err
		}
		v := platform.View{Lang: "ru", Path: "/", CSRF: "0123456789abcdef0123456789abcdef", Title: "home.title", Provider: p.Config.Provider, Nav: "home",
			User: &platform.User{ID: s.AccountID, Login: s.Login, ContractNo: s.ContractNo}, D: d}
		v.Menu, err = p.Render.Fragment("ru", "portal/home", "menu", "home")
		if err != nil {
			return err
		}
		var buf bytes.Buffer
		return p.Render.ExecuteView(&buf, "portal/home", "layout", v)
	}
	if err := view(); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if err := view(); err != nil {
			b.Fatal(err)
		}
	}
}
