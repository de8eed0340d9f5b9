package portal

import (
	"errors"
	"net/http"
	"sync"
	"time"

	"github.com/kabinet-billing/kabinet/internal/billing"
	"github.com/kabinet-billing/kabinet/internal/content"
	"github.com/kabinet-billing/kabinet/internal/money"
	"github.com/kabinet-billing/kabinet/internal/subscriber"
)

type homeData struct {
	Account subscriber.Account
	S       billing.Summary
	News    []content.Item
	CanPay  bool
}

func (po *Portal) home(w http.ResponseWriter, r *http.Request, a subscriber.Account) {
	s, err := po.d.Biller.Summary(r.Context(), a.ID)
	if err != nil {
		po.p.Fail(w, r, err)
		return
	}
	news, err := po.news(r, a.CityID)
	if err != nil {
		po.p.Fail(w, r, err)
		return
	}
	po.render(w, r, http.StatusOK, "home", po.view(r, a, "home.title", "home", homeData{Account: a, S: s, News: news, CanPay: po.canPay()}))
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
	if errors.Is(err, billing.ErrNotFound) {
		po.p.NotFound(w, r)
		return
	}
	if msg, ok := billingMessage(err); ok {
		po.tariffsPage(w, r, a, http.StatusUnprocessableEntity, msg, nil)
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
	switch {
	case errors.Is(err, billing.ErrNotFound):
		po.p.NotFound(w, r)
	case err != nil:
		msg, ok := billingMessage(err)
		if !ok {
			po.p.Fail(w, r, err)
			return
		}
		po.packagesPage(w, r, a, http.StatusUnprocessableEntity, "packages", msg, nil)
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
	if errors.Is(err, billing.ErrNotFound) {
		po.p.NotFound(w, r)
		return
	}
	if err != nil {
		po.p.Fail(w, r, err)
		return
	}
	po.redirect(w, r, "/packages", "package.disconnected")
}

// newsCache keeps each city's current news for a short while: every home
// page shows them, and they change a few times a month.
type newsCache struct {
	mu    sync.Mutex
	items map[int64]newsEntry
}

type newsEntry struct {
	at    time.Time
	items []content.Item
}

const newsTTL = 30 * time.Second

func (po *Portal) news(r *http.Request, cityID int64) ([]content.Item, error) {
	now := po.p.Clock.Now()
	po.newsCache.mu.Lock()
	e, ok := po.newsCache.items[cityID]
	po.newsCache.mu.Unlock()
	if ok && now.Sub(e.at) < newsTTL && !now.Before(e.at) {
		return e.items, nil
	}
	items, err := content.Current(r.Context(), po.d.DB, cityID, "", now, 5)
	if err != nil {
		return nil, err
	}
	po.newsCache.mu.Lock()
	if po.newsCache.items == nil {
		po.newsCache.items = map[int64]newsEntry{}
	}
	po.newsCache.items[cityID] = newsEntry{at: now, items: items}
	po.newsCache.mu.Unlock()
	return items, nil
}
