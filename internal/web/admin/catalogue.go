package admin

import (
	"cmp"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/kabinet-billing/kabinet/internal/billing"
	"github.com/kabinet-billing/kabinet/internal/content"
	"github.com/kabinet-billing/kabinet/internal/derrors"
	"github.com/kabinet-billing/kabinet/internal/money"
	"github.com/kabinet-billing/kabinet/internal/web/platform"
)

type catalogueData struct {
	Cities     []billing.City // every city, for the forms
	CityList   []billing.City // the cities' list: a page, sorted
	Tariffs    []billing.Tariff
	Packages   []billing.Package
	Kinds      []string
	Pricings   []string
	CityNames  map[int64]string
	TL, CL, PL platform.Listing
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
	lang := a.p.LangOf(r)
	d.CityNames = map[int64]string{}
	for _, c := range d.Cities {
		d.CityNames[c.ID] = pick(lang, c.Name, c.NameEn)
	}
	status := func(archived, public bool) int {
		switch {
		case archived:
			return 2
		case public:
			return 0
		}
		return 1
	}
	d.TL = platform.NamedListing(r, "tariffs", 50, false, "fee", "code", "name", "speed", "city", "status")
	d.Tariffs = platform.SortPage(&d.TL, d.Tariffs, map[string]func(x, y billing.Tariff) int{
		"fee":  func(x, y billing.Tariff) int { return cmp.Compare(x.Fee, y.Fee) },
		"code": func(x, y billing.Tariff) int { return strings.Compare(x.Code, y.Code) },
		"name": func(x, y billing.Tariff) int {
			return platform.Fold(pick(lang, x.Name, x.NameEn), pick(lang, y.Name, y.NameEn))
		},
		"speed": func(x, y billing.Tariff) int { return cmp.Compare(x.DownKbps, y.DownKbps) },
		"city":  func(x, y billing.Tariff) int { return platform.Fold(d.CityNames[x.CityID], d.CityNames[y.CityID]) },
		"status": func(x, y billing.Tariff) int {
			return cmp.Compare(status(x.Archived, x.Public), status(y.Archived, y.Public))
		},
	})
	d.CL = platform.NamedListing(r, "cities", 50, false, "name", "code")
	d.CityList = platform.SortPage(&d.CL, d.Cities, map[string]func(x, y billing.City) int{
		"name": func(x, y billing.City) int {
			return platform.Fold(pick(lang, x.Name, x.NameEn), pick(lang, y.Name, y.NameEn))
		},
		"code": func(x, y billing.City) int { return strings.Compare(x.Code, y.Code) },
	})
	d.PL = platform.NamedListing(r, "packages", 50, false, "name", "code", "price")
	d.Packages = platform.SortPage(&d.PL, d.Packages, map[string]func(x, y billing.Package) int{
		"name": func(x, y billing.Package) int {
			return platform.Fold(pick(lang, x.Name, x.NameEn), pick(lang, y.Name, y.NameEn))
		},
		"code":  func(x, y billing.Package) int { return strings.Compare(x.Code, y.Code) },
		"price": func(x, y billing.Package) int { return cmp.Compare(x.Price, y.Price) },
	})
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
		a.failed(w, r, "/admin/catalogue", derrors.Invalid)
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
		a.failed(w, r, "/admin/catalogue", derrors.Invalid)
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
		a.failed(w, r, "/admin/catalogue", derrors.Invalid)
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
	L      platform.Listing
}

func (a *Admin) news(w http.ResponseWriter, r *http.Request) {
	// A provider publishes a few items a week: the list is read whole (the
	// newest thousand) and sorted and paged here.
	items, err := content.All(r.Context(), a.d.Office.DB, 1000)
	if err != nil {
		a.p.Fail(w, r, err)
		return
	}
	cities, err := billing.Cities(r.Context(), a.d.Office.DB)
	if err != nil {
		a.p.Fail(w, r, err)
		return
	}
	lang := a.p.LangOf(r)
	l := platform.ListingOf(r, 50, true, "published", "kind", "title", "expires")
	items = platform.SortPage(&l, items, map[string]func(x, y content.Item) int{
		"published": func(x, y content.Item) int { return x.PublishedAt.Compare(y.PublishedAt) },
		"kind":      func(x, y content.Item) int { return strings.Compare(x.Kind, y.Kind) },
		"title":     func(x, y content.Item) int { return platform.Fold(x.TitleIn(lang), y.TitleIn(lang)) },
		"expires":   func(x, y content.Item) int { return x.ExpiresAt.Compare(y.ExpiresAt) },
	})
	a.render(w, r, http.StatusOK, "news", "admin.news.title", "news", newsData{Items: items, Cities: cities, L: l})
}

// newsForm reads the news form: dates are days in the provider's zone; an
// empty publish date is now, an empty expiry date never.
func (a *Admin) newsForm(r *http.Request) (content.Item, error) {
	f := r.PostFormValue
	i := content.Item{Kind: f("kind"), Title: f("title"), TitleEn: f("title_en"), Body: f("body"), BodyEn: f("body_en"), PublishedAt: a.p.Clock.Now()}
	if s := f("published"); s != "" {
		t, err := time.ParseInLocation("2006-01-02", s, a.p.Zone)
		if err != nil {
			return i, derrors.Invalid
		}
		i.PublishedAt = t
	}
	if s := f("expires"); s != "" {
		t, err := time.ParseInLocation("2006-01-02", s, a.p.Zone)
		if err != nil {
			return i, derrors.Invalid
		}
		i.ExpiresAt = t
	}
	if i.CityID = cityID(a, r, f("city")); i.CityID < 0 {
		return i, derrors.Invalid
	}
	return i, nil
}

// addNews publishes news or a promotion, optionally for one city and from a
// date (in the provider's zone).
func (a *Admin) addNews(w http.ResponseWriter, r *http.Request) {
	i, err := a.newsForm(r)
	if err == nil {
		_, err = a.d.Office.AddContent(r.Context(), a.who(r), i)
	}
	if err != nil {
		a.failed(w, r, "/admin/news", err)
		return
	}
	a.done(w, r, "/admin/news", "admin.flash.saved")
}

// updateNews changes an item's title, text, dates, kind or city.
func (a *Admin) updateNews(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(r, "id")
	if !ok {
		a.p.NotFound(w, r)
		return
	}
	i, err := a.newsForm(r)
	if err == nil {
		i.ID = id
		err = a.d.Office.UpdateContent(r.Context(), a.who(r), i)
	}
	if err != nil {
		a.failed(w, r, "/admin/news", err)
		return
	}
	a.done(w, r, "/admin/news", "admin.flash.saved")
}

// expireNews takes an item off the site now; deleteNews removes it.
func (a *Admin) expireNews(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(r, "id")
	if !ok {
		a.p.NotFound(w, r)
		return
	}
	if err := a.d.Office.ExpireContent(r.Context(), a.who(r), id); err != nil {
		a.failed(w, r, "/admin/news", err)
		return
	}
	a.done(w, r, "/admin/news", "admin.flash.saved")
}

func (a *Admin) deleteNews(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(r, "id")
	if !ok {
		a.p.NotFound(w, r)
		return
	}
	if err := a.d.Office.DeleteContent(r.Context(), a.who(r), id); err != nil {
		a.failed(w, r, "/admin/news", err)
		return
	}
	a.done(w, r, "/admin/news", "admin.flash.deleted")
}

// updateCity renames a city (its code stays).
func (a *Admin) updateCity(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(r, "id")
	if !ok {
		a.p.NotFound(w, r)
		return
	}
	if err := a.d.Office.UpdateCity(r.Context(), a.who(r), billing.City{ID: id, Name: r.PostFormValue("name"), NameEn: r.PostFormValue("name_en")}); err != nil {
		a.failed(w, r, "/admin/catalogue", err)
		return
	}
	a.done(w, r, "/admin/catalogue", "admin.flash.saved")
}

// updatePackage changes a package's name, description and price; the new
// price applies from the next charge. Its code, kind and pricing stay.
func (a *Admin) updatePackage(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(r, "id")
	if !ok {
		a.p.NotFound(w, r)
		return
	}
	cur, err := billing.PackageByID(r.Context(), a.d.Office.DB, id)
	if err != nil {
		a.p.NotFound(w, r)
		return
	}
	f := r.PostFormValue
	price, err := money.Parse(f("price"))
	if err != nil {
		a.failed(w, r, "/admin/catalogue", derrors.Invalid)
		return
	}
	cur.Name, cur.NameEn, cur.Description, cur.Price = f("name"), f("name_en"), f("description"), price
	if err := a.d.Office.UpdatePackage(r.Context(), a.who(r), cur); err != nil {
		a.failed(w, r, "/admin/catalogue", err)
		return
	}
	a.done(w, r, "/admin/catalogue", "admin.flash.saved")
}

// archivePackage retires (or restores) a package: packages are not deleted,
// since subscriptions and charges name them.
func (a *Admin) archivePackage(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(r, "id")
	if !ok {
		a.p.NotFound(w, r)
		return
	}
	if err := a.d.Office.ArchivePackage(r.Context(), a.who(r), id, r.PostFormValue("archived") == "1"); err != nil {
		a.failed(w, r, "/admin/catalogue", err)
		return
	}
	a.done(w, r, "/admin/catalogue", "admin.flash.saved")
}

// pick is a name in lang: the English one when there is one.
func pick(lang, ru, en string) string {
	if lang == "en" && en != "" {
		return en
	}
	return ru
}
