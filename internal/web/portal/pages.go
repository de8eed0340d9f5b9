package portal

import (
	"errors"
	"html/template"
	"net/http"
	"sync"
	"time"

	"github.com/kabinet-billing/kabinet/internal/billing"
	"github.com/kabinet-billing/kabinet/internal/company"
	"github.com/kabinet-billing/kabinet/internal/content"
	"github.com/kabinet-billing/kabinet/internal/derrors"
	"github.com/kabinet-billing/kabinet/internal/money"
	"github.com/kabinet-billing/kabinet/internal/subscriber"
	"github.com/kabinet-billing/kabinet/internal/suspension"
	"github.com/kabinet-billing/kabinet/internal/web/platform"
)

// homeData is the home page: the subscriber's own amounts formatted in the
// page's language, and the parts many subscribers see alike as fragments
// executed once per their data (see web/templates/portal/home.html).
type homeData struct {
	S           billing.Summary
	Balance     string
	Debt        string // empty without debt
	Remainder   string // the positive balance that lowers the payment; empty if none
	Recommended string
	PayAmount   string // the pay form's starting amount
	Limited     bool
	CanPay      bool
	// Promised: a promised payment holds the limit (until S.PromisedUntil);
	// CanPromise: in debt, the link to take one is shown.
	Promised, CanPromise bool
	// BackOn: the day a voluntary suspension gives the line back (nil
	// unless one is running).
	BackOn   *time.Time
	Status   template.HTML
	Fees     template.HTML // the next period's fee lines
	Tariff   template.HTML // the tariff card
	Packages template.HTML // the connected packages' lines
	News     template.HTML
	Snapshot homeSnapshot
	// Company: the account is a point of an organisation's contract (nil
	// for a person's): its name, and in balance mode "contract" the
	// contract's balance, which pays the point's fees. CompanyPays: then
	// the payment card says the organisation pays, instead of an amount.
	Company     *homeCompany
	CompanyPays bool
}

type homeCompany struct {
	Name    string
	Balance string // "" in balance mode "points"
}

// homeSnapshot is what the offline page shows of the home page (app.js
// keeps it on the device), stamped with when the server made it (RFC 3339)
// and the provider's zone to show that time in.
type homeSnapshot struct {
	Balance     string `json:"balance"`
	Status      string `json:"status"`
	Recommended string `json:"recommended"`
	Login       string `json:"login"`
	Contract    string `json:"contract"`
	At          string `json:"at"`
	Zone        string `json:"zone"`
}

// homeTariff is the tariff card's data: everything it shows.
type homeTariff struct {
	Name, NameEn     string
	DownKbps, UpKbps int64
	Boosted          bool
	BoostEndsAt      time.Time
	Next             bool
	NextName         string
	NextNameEn       string
	NextChargeAt     time.Time
	NextChargeAmount money.Amount
}

// homePackage is a connected package's line.
type homePackage struct {
	Name, NameEn, StaticIP string
}

// home is the subscriber's summary. It takes the account from the summary
// (withSummary), so that a view costs one account query, not two.
func (po *Portal) home(w http.ResponseWriter, r *http.Request, s billing.Summary) {
	lang := po.p.LangOf(r)
	d, err := po.homeData(r, lang, s)
	if err != nil {
		po.p.Fail(w, r, err)
		return
	}
	v := po.p.NewView(r, "home.title", d)
	v.Nav = "home"
	v.User = &platform.User{ID: s.AccountID, Login: s.Login, Name: s.Name, ContractNo: s.ContractNo}
	po.render(w, r, http.StatusOK, "home", v)
}

func (po *Portal) homeData(r *http.Request, lang string, s billing.Summary) (homeData, error) {
	const page = "portal/home"
	frag := po.p.Render.Fragment
	d := homeData{S: s, Balance: s.Balance.Format(lang), Recommended: s.Recommended.Format(lang),
		PayAmount: "500", Limited: s.Status == billing.StatusLimited, CanPay: po.canPay()}
	d.Snapshot = homeSnapshot{Balance: d.Balance, Status: po.p.I18n.T(lang, "status."+s.Status, nil),
		Recommended: d.Recommended, Login: s.Login, Contract: s.ContractNo,
		At: po.p.Clock.Now().UTC().Format(time.RFC3339), Zone: po.p.Zone.String()}
	if s.Debt > 0 {
		d.Debt = s.Debt.Format(lang)
	} else if s.Balance > 0 {
		d.Remainder = s.Balance.Format(lang)
	}
	if s.Recommended != 0 {
		d.PayAmount = s.Recommended.String()
	}
	d.Promised = !s.PromisedUntil.IsZero()
	d.CanPromise = !d.Promised && s.Debt > 0 && (s.Status == billing.StatusActive || s.Status == billing.StatusLimited) &&
		po.d.Promises != nil && !po.d.Promises.Rules.Disabled
	var err error
	if d.Status, err = frag(lang, page, "status", s.Status); err != nil {
		return d, err
	}
	for _, f := range s.NextChargesByLabel {
		h, err := frag(lang, page, "home-fee", f)
		if err != nil {
			return d, err
		}
		d.Fees += h
	}
	for _, sub := range s.Packages {
		h, err := frag(lang, page, "home-package", homePackage{sub.Package.Name, sub.Package.NameEn, sub.StaticIP})
		if err != nil {
			return d, err
		}
		d.Packages += h
	}
	t := homeTariff{Name: s.Tariff.Name, NameEn: s.Tariff.NameEn, DownKbps: s.Speed.DownKbps, UpKbps: s.Speed.UpKbps,
		Boosted: s.Speed.Boosted, BoostEndsAt: s.Speed.BoostEndsAt, NextChargeAt: s.NextChargeAt, NextChargeAmount: s.NextChargeAmount}
	if s.Status == billing.StatusFrozen {
		// A frozen line runs at the limit rate only inside the redirect
		// list; the card tells the tariff's speeds it comes back with.
		t.DownKbps, t.UpKbps = s.Tariff.DownKbps, s.Tariff.UpKbps
		if po.d.Suspensions != nil {
			u, err := po.d.Suspensions.Current(r.Context(), s.AccountID)
			if err != nil {
				return d, err
			}
			if u != nil && u.State == suspension.StateActive {
				d.BackOn = &u.PlannedEnd
			}
		}
	}
	if n := s.NextTariff; n != nil {
		t.Next, t.NextName, t.NextNameEn = true, n.Name, n.NameEn
	}
	if d.Tariff, err = frag(lang, page, "home-tariff", t); err != nil {
		return d, err
	}
	if d.Company, err = po.homeCompany(r, lang, s.AccountID); err != nil {
		return d, err
	}
	d.CompanyPays = d.Company != nil && d.Company.Balance != ""
	d.News, err = po.news(r, lang, s.CityID)
	return d, err
}

// homeCompany is what the home page says of the organisation whose point
// the account is; nil for a person's account (asked of an in-memory map,
// so a person's home page makes no query for it).
func (po *Portal) homeCompany(r *http.Request, lang string, accountID int64) (*homeCompany, error) {
	if po.d.Company == nil {
		return nil, nil
	}
	orgID, ok, err := po.d.Company.PointOrg(r.Context(), accountID)
	if err != nil || !ok {
		return nil, err
	}
	o, err := po.d.Company.Get(r.Context(), orgID)
	if errors.Is(err, derrors.NotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	c := &homeCompany{Name: o.Name()}
	if o.BalanceMode == company.BalanceContract {
		b, err := po.d.Company.Balance(r.Context(), orgID)
		if err != nil {
			return nil, err
		}
		c.Balance = b.Total.Format(lang)
	}
	return c, nil
}

func (po *Portal) canPay() bool {
	if po.d.Payments == nil || po.d.Processor == "" {
		return false
	}
	_, ok := po.d.Payments.Processor(po.d.Processor)
	return ok
}

type tariffsData struct {
	S       billing.Summary
	Tariffs []billing.Tariff
	Quote   *billing.TariffChange
	Code    string
}

func (po *Portal) tariffsPage(w http.ResponseWriter, r *http.Request, a subscriber.Account, status int, msg string, q *billing.TariffChange) {
	s, err := po.d.Biller.Summary(r.Context(), a.ID)
	if err != nil {
		po.p.Fail(w, r, err)
		return
	}
	list, err := billing.Tariffs(r.Context(), po.d.DB, a.CityID, true)
	if err != nil {
		po.p.Fail(w, r, err)
		return
	}
	page := "tariffs"
	if q != nil {
		page = "tariff_confirm"
	}
	v := po.view(r, a, "tariffs.title", "tariffs", tariffsData{S: s, Tariffs: list, Quote: q, Code: r.PathValue("code")})
	if msg != "" {
		v.Error = po.p.I18n.T(v.Lang, msg, nil)
	}
	po.render(w, r, status, page, v)
}

func (po *Portal) tariffs(w http.ResponseWriter, r *http.Request, a subscriber.Account) {
	po.tariffsPage(w, r, a, http.StatusOK, "", nil)
}

// tariffRefused answers a refused quote or change: unknown code 404, a rule
// (archived, another city, same tariff) the list with the reason.
func (po *Portal) tariffRefused(w http.ResponseWriter, r *http.Request, a subscriber.Account, err error) {
	if msg := po.refusal(err); msg != "" {
		po.tariffsPage(w, r, a, http.StatusUnprocessableEntity, msg, nil)
		return
	}
	if errors.Is(err, derrors.NotFound) {
		po.p.NotFound(w, r)
		return
	}
	po.p.Fail(w, r, err)
}

func (po *Portal) tariffConfirm(w http.ResponseWriter, r *http.Request, a subscriber.Account) {
	q, err := po.d.Biller.QuoteTariffChange(r.Context(), a.ID, r.PathValue("code"))
	if err != nil {
		po.tariffRefused(w, r, a, err)
		return
	}
	po.tariffsPage(w, r, a, http.StatusOK, "", &q)
}

func (po *Portal) tariffChange(w http.ResponseWriter, r *http.Request, a subscriber.Account) {
	c, err := po.d.Biller.ChangeTariff(r.Context(), a.ID, r.PathValue("code"))
	if err != nil {
		po.tariffRefused(w, r, a, err)
		return
	}
	if c.Immediate {
		po.redirect(w, r, "/", "tariff.changed.now")
	} else {
		po.redirect(w, r, "/", "tariff.changed.later")
	}
}

func (po *Portal) tariffCancel(w http.ResponseWriter, r *http.Request, a subscriber.Account) {
	if err := po.d.Biller.CancelTariffChange(r.Context(), a.ID); err != nil {
		po.p.Fail(w, r, err)
		return
	}
	po.redirect(w, r, "/tariffs", "tariff.change_cancelled")
}

type packagesData struct {
	Status    string
	Subs      []billing.Subscription
	Offered   []billing.Package
	Connected map[int64]bool
	Package   *billing.Package
	Sub       *billing.Subscription
	Price     money.Amount // what connecting charges now
	Prorated  bool
}

func (po *Portal) packagesData(r *http.Request, a subscriber.Account) (packagesData, error) {
	d := packagesData{Connected: map[int64]bool{}, Status: a.Status}
	var err error
	if d.Subs, err = po.d.Biller.Subscriptions(r.Context(), po.d.DB, a.ID, false); err != nil {
		return d, err
	}
	if d.Offered, err = billing.Packages(r.Context(), po.d.DB, a.CityID, true); err != nil {
		return d, err
	}
	for _, s := range d.Subs {
		d.Connected[s.Package.ID] = true
	}
	return d, nil
}

func (po *Portal) packagesPage(w http.ResponseWriter, r *http.Request, a subscriber.Account, status int, page, msg string, edit func(*packagesData) bool) {
	d, err := po.packagesData(r, a)
	if err != nil {
		po.p.Fail(w, r, err)
		return
	}
	if edit != nil && !edit(&d) {
		po.p.NotFound(w, r)
		return
	}
	v := po.view(r, a, "packages.title", "packages", d)
	if msg != "" {
		v.Error = po.p.I18n.T(v.Lang, msg, nil)
	}
	po.render(w, r, status, page, v)
}

func (po *Portal) packages(w http.ResponseWriter, r *http.Request, a subscriber.Account) {
	po.packagesPage(w, r, a, http.StatusOK, "packages", "", nil)
}

// offered finds the package code among those this subscriber may connect.
func offered(d *packagesData, code string) bool {
	for i := range d.Offered {
		if d.Offered[i].Code == code {
			d.Package = &d.Offered[i]
			return true
		}
	}
	return false
}

func (po *Portal) packageConfirm(w http.ResponseWriter, r *http.Request, a subscriber.Account) {
	tariff, err := billing.TariffByID(r.Context(), po.d.DB, a.TariffID)
	if err != nil {
		po.p.Fail(w, r, err)
		return
	}
	now := po.p.Clock.Now()
	po.packagesPage(w, r, a, http.StatusOK, "package_confirm", "", func(d *packagesData) bool {
		if !offered(d, r.PathValue("code")) {
			return false
		}
		d.Price = d.Package.Price
		if d.Package.Pricing == billing.PriceMonthly && tariff.Prorate {
			p := billing.PeriodOf(now, po.p.Zone)
			d.Price, d.Prorated = money.Prorate(d.Package.Price, p.DaysLeft(now), p.Days()), true
		}
		return true
	})
}

func (po *Portal) packageConnect(w http.ResponseWriter, r *http.Request, a subscriber.Account) {
	code := r.PathValue("code")
	_, err := po.d.Biller.Connect(r.Context(), a.ID, code)
	msg := po.refusal(err)
	switch {
	case msg != "":
		po.packagesPage(w, r, a, http.StatusUnprocessableEntity, "packages", msg, nil)
	case errors.Is(err, derrors.NotFound):
		po.p.NotFound(w, r)
	case err != nil:
		po.p.Fail(w, r, err)
	default:
		po.redirect(w, r, "/packages", "package.connected")
	}
}

func (po *Portal) disconnectConfirm(w http.ResponseWriter, r *http.Request, a subscriber.Account) {
	id, ok := pathID(r, "id")
	if !ok {
		po.p.NotFound(w, r)
		return
	}
	po.packagesPage(w, r, a, http.StatusOK, "package_disconnect", "", func(d *packagesData) bool {
		for i := range d.Subs {
			if d.Subs[i].ID == id {
				d.Sub = &d.Subs[i]
				return true
			}
		}
		return false
	})
}

func (po *Portal) disconnect(w http.ResponseWriter, r *http.Request, a subscriber.Account) {
	id, ok := pathID(r, "id")
	if !ok {
		po.p.NotFound(w, r)
		return
	}
	err := po.d.Biller.Disconnect(r.Context(), a.ID, id)
	if errors.Is(err, derrors.NotFound) {
		po.p.NotFound(w, r)
		return
	}
	if err != nil {
		po.p.Fail(w, r, err)
		return
	}
	po.redirect(w, r, "/packages", "package.disconnected")
}

// newsCache keeps each city's current news, and their fragment of the home
// page in each language, for a short while: every home page shows them,
// and they change a few times a month.
type newsCache struct {
	mu    sync.Mutex
	items map[int64]*newsEntry
}

type newsEntry struct {
	at    time.Time
	items []content.Item
	mu    sync.Mutex
	html  map[string]template.HTML // language → the home page's news section
}

const newsTTL = 30 * time.Second

// news is the home page's news section for the city in lang.
func (po *Portal) news(r *http.Request, lang string, cityID int64) (template.HTML, error) {
	e, err := po.newsOf(r, cityID)
	if err != nil {
		return "", err
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if h, ok := e.html[lang]; ok {
		return h, nil
	}
	b, err := po.p.Render.Execute(lang, "portal/home", "home-news", e.items)
	if err != nil {
		return "", err
	}
	e.html[lang] = template.HTML(b)
	return e.html[lang], nil
}

func (po *Portal) newsOf(r *http.Request, cityID int64) (*newsEntry, error) {
	now := po.p.Clock.Now()
	po.newsCache.mu.Lock()
	e, ok := po.newsCache.items[cityID]
	po.newsCache.mu.Unlock()
	if ok && now.Sub(e.at) < newsTTL && !now.Before(e.at) {
		return e, nil
	}
	items, err := content.Current(r.Context(), po.d.DB, cityID, "", now, 5)
	if err != nil {
		return nil, err
	}
	e = &newsEntry{at: now, items: items, html: map[string]template.HTML{}}
	po.newsCache.mu.Lock()
	if po.newsCache.items == nil {
		po.newsCache.items = map[int64]*newsEntry{}
	}
	po.newsCache.items[cityID] = e
	po.newsCache.mu.Unlock()
	return e, nil
}
