package admin

import (
	"net/http"
	"strconv"
	"time"

	"github.com/kabinet-billing/kabinet/internal/billing"
	"github.com/kabinet-billing/kabinet/internal/content"
	"github.com/kabinet-billing/kabinet/internal/money"
	"github.com/kabinet-billing/kabinet/internal/operator"
)

type catalogueData struct {
	Cities   []billing.City
	Tariffs  []billing.Tariff
	Packages []billing.Package
	Kinds    []string
	Pricings []string
}

func (a *Admin) catalogue(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	db := a.d.Office.DB
	var d catalogueData
	var err error
	if d.Cities, err = billing.Cities(ctx, db); err == nil {
		if d.Tariffs, err = billing.Tariffs(ctx, db, 0, false); err == nil {
			d.Packages, err = billing.Packages(ctx, db, 0, false)
		}
	}
	if err != nil {
		a.p.Fail(w, r, err)
		return
	}
	d.Kinds = []string{billing.PackageTV, billing.PackageAntivirus, billing.PackageStaticIP, billing.PackageBoost, billing.PackageOther}
	d.Pricings = []string{billing.PriceMonthly, billing.PriceOnce, billing.PriceDuration}
	a.render(w, r, http.StatusOK, "catalogue", "admin.catalogue.title", "catalogue", d)
}

func (a *Admin) addCity(w http.ResponseWriter, r *http.Request) {
	_, err := a.d.Office.AddCity(r.Context(), a.who(r), billing.City{Code: r.PostFormValue("code"), Name: r.PostFormValue("name"), NameEn: r.PostFormValue("name_en")})
	if err != nil {
		a.failed(w, r, "/admin/catalogue", err)
		return
	}
	a.done(w, r, "/admin/catalogue", "admin.flash.saved")
}

func cityID(a *Admin, r *http.Request, code string) int64 {
	if code == "" {
		return 0
	}
	c, err := billing.CityByCode(r.Context(), a.d.Office.DB, code)
	if err != nil {
		return -1
	}
	return c.ID
}

func (a *Admin) addTariff(w http.ResponseWriter, r *http.Request) {
	f := r.PostFormValue
	fee, err1 := money.Parse(f("fee"))
	down, err2 := billing.ParseSpeed(f("down"))
	up, err3 := billing.ParseSpeed(f("up"))
	city := cityID(a, r, f("city"))
	if err1 != nil || err2 != nil || err3 != nil || city < 0 {
		a.failed(w, r, "/admin/catalogue", billing.ErrInvalid)
		return
	}
	_, err := a.d.Office.AddTariff(r.Context(), a.who(r), billing.Tariff{Code: f("code"), Name: f("name"), NameEn: f("name_en"), Description: f("description"),
		Fee: fee, DownKbps: down, UpKbps: up, CityID: city, Public: f("public") != "", Prorate: f("prorate") != ""})
	if err != nil {
		a.failed(w, r, "/admin/catalogue", err)
		return
	}
	a.done(w, r, "/admin/catalogue", "admin.flash.saved")
}

// updateTariff changes a tariff's name, fee, speeds and flags; the new fee
// applies from the next charge.
func (a *Admin) updateTariff(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(r, "id")
	if !ok {
		a.p.NotFound(w, r)
		return
	}
	cur, err := billing.TariffByID(r.Context(), a.d.Office.DB, id)
	if err != nil {
		a.p.NotFound(w, r)
		return
	}
	f := r.PostFormValue
	fee, err1 := money.Parse(f("fee"))
	down, err2 := billing.ParseSpeed(f("down"))
	up, err3 := billing.ParseSpeed(f("up"))
	if err1 != nil || err2 != nil || err3 != nil {
		a.failed(w, r, "/admin/catalogue", billing.ErrInvalid)
		return
	}
	cur.Name, cur.NameEn, cur.Description = f("name"), f("name_en"), f("description")
	cur.Fee, cur.DownKbps, cur.UpKbps = fee, down, up
	cur.Public, cur.Prorate = f("public") != "", f("prorate") != ""
	if err := a.d.Office.UpdateTariff(r.Context(), a.who(r), cur); err != nil {
		a.failed(w, r, "/admin/catalogue", err)
		return
	}
	a.done(w, r, "/admin/catalogue", "admin.flash.saved")
}

// archiveTariff retires (or restores) a tariff: tariffs are never deleted,
// since charges and contracts name them.
func (a *Admin) archiveTariff(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(r, "id")
	if !ok {
		a.p.NotFound(w, r)
		return
	}
	if err := a.d.Office.ArchiveTariff(r.Context(), a.who(r), id, r.PostFormValue("archived") == "1"); err != nil {
		a.failed(w, r, "/admin/catalogue", err)
		return
	}
	a.done(w, r, "/admin/catalogue", "admin.flash.saved")
}

func (a *Admin) addPackage(w http.ResponseWriter, r *http.Request) {
	f := r.PostFormValue
	price, err := money.Parse(f("price"))
	hours, _ := strconv.Atoi(f("duration_hours"))
	pct, _ := strconv.Atoi(f("speed_percent"))
	city := cityID(a, r, f("city"))
	if err != nil || city < 0 {
		a.failed(w, r, "/admin/catalogue", billing.ErrInvalid)
		return
	}
	_, err = a.d.Office.AddPackage(r.Context(), a.who(r), billing.Package{Code: f("code"), Kind: f("kind"), Name: f("name"), NameEn: f("name_en"),
		Description: f("description"), Price: price, Pricing: f("pricing"), DurationHours: hours, SpeedPercent: pct, CityID: city})
	if err != nil {
		a.failed(w, r, "/admin/catalogue", err)
		return
	}
	a.done(w, r, "/admin/catalogue", "admin.flash.saved")
}

type newsData struct {
	Items  []content.Item
	Cities []billing.City
}

func (a *Admin) news(w http.ResponseWriter, r *http.Request) {
	items, err := content.All(r.Context(), a.d.Office.DB, 100)
	if err != nil {
		a.p.Fail(w, r, err)
		return
	}
	cities, err := billing.Cities(r.Context(), a.d.Office.DB)
	if err != nil {
		a.p.Fail(w, r, err)
		return
	}
	a.render(w, r, http.StatusOK, "news", "admin.news.title", "news", newsData{Items: items, Cities: cities})
}

// addNews publishes news or a promotion, optionally for one city and from a
// date (in the provider's zone).
func (a *Admin) addNews(w http.ResponseWriter, r *http.Request) {
	f := r.PostFormValue
	now := a.p.Clock.Now()
	pub := now
	if s := f("published"); s != "" {
		t, err := time.ParseInLocation("2006-01-02", s, a.p.Zone)
		if err != nil {
			a.failed(w, r, "/admin/news", content.ErrInvalid)
			return
		}
		pub = t
	}
	var exp time.Time
	if s := f("expires"); s != "" {
		t, err := time.ParseInLocation("2006-01-02", s, a.p.Zone)
		if err != nil {
			a.failed(w, r, "/admin/news", content.ErrInvalid)
			return
		}
		exp = t
	}
	city := cityID(a, r, f("city"))
	if city < 0 {
		a.failed(w, r, "/admin/news", content.ErrInvalid)
		return
	}
	item, err := content.Add(r.Context(), a.d.Office.DB, content.Item{Kind: f("kind"), Title: f("title"), TitleEn: f("title_en"), Body: f("body"), BodyEn: f("body_en"),
		CityID: city, PublishedAt: pub, ExpiresAt: exp}, now)
	if err != nil {
		a.failed(w, r, "/admin/news", err)
		return
	}
	if err := a.d.Office.Operators.Record(r.Context(), a.who(r).Op.Actor(a.who(r).Address), operator.Entry{Action: "content.add", Object: "content:" + strconv.FormatInt(item.ID, 10), After: item}); err != nil {
		a.p.Fail(w, r, err)
		return
	}
	a.done(w, r, "/admin/news", "admin.flash.saved")
}
