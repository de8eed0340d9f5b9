// Package public is the provider's public site at /site/: a city picker,
// the tariff catalogue with a "Connect" button, the application form that
// lands in the back office's applications queue, contacts and offices, and
// the way to the portal's login. Spam is kept out by a hidden honeypot
// field and a per-address rate limit.
package public

import (
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"strings"
	"time"

	"github.com/BurntSushi/toml"

	"github.com/kabinet-billing/kabinet/internal/billing"
	"github.com/kabinet-billing/kabinet/internal/config"
	"github.com/kabinet-billing/kabinet/internal/content"
	"github.com/kabinet-billing/kabinet/internal/derrors"
	"github.com/kabinet-billing/kabinet/internal/store"
	"github.com/kabinet-billing/kabinet/internal/support"
	"github.com/kabinet-billing/kabinet/internal/web/platform"
)

// Deps are what the site reads and writes.
type Deps struct {
	DB      *store.DB
	Support *support.Service
	Files   fs.FS // web/: translations/site.{ru,en}.toml
	// RedirectFrom are old portal paths (e.g. "/cabinet/") that now send
	// visitors to the portal's login.
	RedirectFrom []string
	// ApplyEvery and ApplyBurst limit applications per address; zero: one
	// every 10 minutes after a burst of 3.
	ApplyEvery time.Duration
	ApplyBurst int
}

// Site is the registered public site.
type Site struct {
	p     *platform.Platform
	d     Deps
	apply *platform.Limiter
}

// honeypot is a field people never see (hidden by CSS) and bots fill in.
const honeypot = "website"

// Register mounts /site/.
func Register(p *platform.Platform, d Deps) (*Site, error) {
	if d.DB == nil || d.Support == nil {
		return nil, errors.New("public site: DB and Support are required")
	}
	if d.Files != nil {
		if err := loadMessages(p.I18n, d.Files); err != nil {
			return nil, err
		}
	}
	if d.ApplyEvery == 0 {
		d.ApplyEvery, d.ApplyBurst = 10*time.Minute, 3
	}
	s := &Site{p: p, d: d, apply: platform.NewLimiter(d.ApplyEvery, d.ApplyBurst)}
	p.Page("GET /site/{$}", s.index)
	p.Page("GET /site/apply", s.applyForm)
	p.Page("POST /site/apply", s.applyPost)
	p.Page("GET /site/thanks", s.thanks)
	p.Page("GET /site/contacts", s.contacts)
	p.Page("POST /site/lang", s.setLang)
	for _, from := range d.RedirectFrom {
		p.Mux.Handle("GET "+from, http.RedirectHandler("/login", http.StatusMovedPermanently))
	}
	return s, nil
}

func loadMessages(t *platform.I18n, files fs.FS) error {
	msgs := map[string]map[string]string{}
	for _, lang := range platform.Langs {
		b, err := fs.ReadFile(files, "translations/site."+lang+".toml")
		if err != nil {
			return fmt.Errorf("site translations: %w", err)
		}
		m := map[string]string{}
		if err := toml.Unmarshal(b, &m); err != nil {
			return fmt.Errorf("site translations %s: %w", lang, err)
		}
		msgs[lang] = m
	}
	for id, ru := range msgs["ru"] {
		en, ok := msgs["en"][id]
		if !ok {
			return fmt.Errorf("site translations: %q has no English", id)
		}
		t.Add(id, ru, en)
	}
	return nil
}

func (s *Site) render(w http.ResponseWriter, r *http.Request, status int, page, title string, d any) {
	s.p.HTML(w, r, status, "site/"+page, "site_layout", s.p.NewView(r, title, d))
}

type indexData struct {
	Cities   []billing.City
	City     billing.City
	Tariffs  []billing.Tariff
	Coverage []string        // the chosen city's, from [site.coverage]
	Offices  []config.Office // the chosen city's and those of every city
	News     []content.Item
}

func (s *Site) index(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	var d indexData
	var err error
	if d.Cities, err = billing.Cities(ctx, s.d.DB); err != nil {
		s.p.Fail(w, r, err)
		return
	}
	code := r.URL.Query().Get("city")
	if code == "" && len(d.Cities) == 1 {
		code = d.Cities[0].Code
	}
	if code != "" {
		if d.City, err = billing.CityByCode(ctx, s.d.DB, code); err != nil {
			s.p.NotFound(w, r)
			return
		}
	}
	if code != "" || len(d.Cities) == 0 {
		all, err := billing.Tariffs(ctx, s.d.DB, d.City.ID, true)
		if err != nil {
			s.p.Fail(w, r, err)
			return
		}
		for _, t := range all {
			if t.Public {
				d.Tariffs = append(d.Tariffs, t)
			}
		}
	}
	// What a visitor of the city looks for besides the tariffs: where the
	// provider connects, where its offices are, and what is new.
	d.Coverage = s.p.Config.Site.Coverage[d.City.Code]
	for _, o := range s.p.Config.Provider.Offices {
		if o.City == "" || o.City == d.City.Code || d.City.Code == "" {
			d.Offices = append(d.Offices, o)
		}
	}
	if d.News, err = content.Current(ctx, s.d.DB, d.City.ID, "", s.p.Clock.Now(), 3); err != nil {
		s.p.Fail(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "index", "site.title", d)
}

type applyData struct {
	Cities  []billing.City
	Tariffs []billing.Tariff
	City    string
	Tariff  string
	Name    string
	Phone   string
	Address string
	Comment string
	Consent bool
	// PrivacyURL is the provider's policy on personal data ([site]
	// privacy_url), linked beside the consent.
	PrivacyURL string
	Error      string // message id
	// Fields are the errors beside their inputs (name → message id).
	Fields map[string]string
}

func (s *Site) applyData(r *http.Request, d *applyData) error {
	d.PrivacyURL = s.p.Config.Site.PrivacyURL
	var err error
	if d.Cities, err = billing.Cities(r.Context(), s.d.DB); err != nil {
		return err
	}
	var cityID int64
	if d.City != "" {
		if c, err := billing.CityByCode(r.Context(), s.d.DB, d.City); err == nil {
			cityID = c.ID
		}
	}
	all, err := billing.Tariffs(r.Context(), s.d.DB, cityID, true)
	for _, t := range all {
		if t.Public {
			d.Tariffs = append(d.Tariffs, t)
		}
	}
	return err
}

func (s *Site) applyForm(w http.ResponseWriter, r *http.Request) {
	d := applyData{City: r.URL.Query().Get("city"), Tariff: r.URL.Query().Get("tariff")}
	if err := s.applyData(r, &d); err != nil {
		s.p.Fail(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "apply", "site.apply.title", d)
}

// applyPost records a "connect me". A filled honeypot gets the same thanks
// page as a person, so a bot learns nothing; the rate limit answers 429.
func (s *Site) applyPost(w http.ResponseWriter, r *http.Request) {
	f := r.PostFormValue
	if strings.TrimSpace(f(honeypot)) != "" {
		http.Redirect(w, r, "/site/thanks", http.StatusSeeOther)
		return
	}
	d := applyData{City: f("city"), Tariff: f("tariff"), Name: strings.TrimSpace(f("name")), Phone: strings.TrimSpace(f("phone")), Address: strings.TrimSpace(f("address")),
		Comment: f("comment"), Consent: f("consent") == "yes", Fields: map[string]string{}}
	now := s.p.Clock.Now()
	key := "apply:" + platform.AddressKey(r.RemoteAddr)
	status := http.StatusOK
	// Each missing part is named beside its input; 152-FZ (art. 9) wants
	// the visitor's consent before their name and phone are kept.
	if d.Name == "" {
		d.Fields["name"] = "site.apply.error.name"
	}
	if n := len(strings.Map(digitsOnly, d.Phone)); n < 10 || n > 15 {
		d.Fields["phone"] = "site.apply.error.phone"
	}
	if !d.Consent {
		d.Fields["consent"] = "site.apply.error.consent"
	}
	switch blocked, _ := s.apply.Blocked(key, now); {
	case blocked:
		d.Error, status = "site.apply.error.limited", http.StatusTooManyRequests
	case len(d.Fields) > 0:
		d.Error, status = "site.apply.error.fields", http.StatusUnprocessableEntity
	}
	if d.Error == "" {
		var cityID int64
		if d.City != "" {
			if c, err := billing.CityByCode(r.Context(), s.d.DB, d.City); err == nil {
				cityID = c.ID
			}
		}
		s.apply.Spend(key, now)
		_, err := s.d.Support.Apply(r.Context(), support.Application{CityID: cityID, TariffCode: d.Tariff, Name: d.Name, Phone: d.Phone, Address: d.Address, Comment: d.Comment})
		if err == nil {
			http.Redirect(w, r, "/site/thanks", http.StatusSeeOther)
			return
		}
		if !errors.Is(err, derrors.Invalid) {
			s.p.Fail(w, r, err)
			return
		}
		d.Error, status = "site.apply.error.required", http.StatusUnprocessableEntity
	}
	if err := s.applyData(r, &d); err != nil {
		s.p.Fail(w, r, err)
		return
	}
	s.render(w, r, status, "apply", "site.apply.title", d)
}

func digitsOnly(r rune) rune {
	if r >= '0' && r <= '9' {
		return r
	}
	return -1
}

func (s *Site) thanks(w http.ResponseWriter, r *http.Request) {
	s.render(w, r, http.StatusOK, "thanks", "site.thanks.title", nil)
}

func (s *Site) contacts(w http.ResponseWriter, r *http.Request) {
	s.render(w, r, http.StatusOK, "contacts", "site.contacts.title", nil)
}

// setLang switches the language and returns to a /site/ page only.
func (s *Site) setLang(w http.ResponseWriter, r *http.Request) {
	s.p.Sessions.Put(r.Context(), platform.SessionLang, platform.Lang(r.PostFormValue("lang")))
	http.Redirect(w, r, platform.LocalPath(r.PostFormValue("back"), "/site/", "/site/"), http.StatusSeeOther)
}
