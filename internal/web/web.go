package web

import (
	"fmt"
	"github.com/kabinet-billing/kabinet/internal/autopay"
	"io/fs"
	"log/slog"
	"net/http"

	assets "github.com/kabinet-billing/kabinet/web"

	"github.com/kabinet-billing/kabinet/internal/apitoken"
	"github.com/kabinet-billing/kabinet/internal/backoffice"
	"github.com/kabinet-billing/kabinet/internal/billing"
	"github.com/kabinet-billing/kabinet/internal/clock"
	"github.com/kabinet-billing/kabinet/internal/company"
	"github.com/kabinet-billing/kabinet/internal/config"
	"github.com/kabinet-billing/kabinet/internal/contract"
	"github.com/kabinet-billing/kabinet/internal/documents"
	"github.com/kabinet-billing/kabinet/internal/fiscal"
	"github.com/kabinet-billing/kabinet/internal/metrics"
	"github.com/kabinet-billing/kabinet/internal/notify"
	"github.com/kabinet-billing/kabinet/internal/payment"
	"github.com/kabinet-billing/kabinet/internal/promise"
	"github.com/kabinet-billing/kabinet/internal/push"
	"github.com/kabinet-billing/kabinet/internal/speedtest"
	"github.com/kabinet-billing/kabinet/internal/statement"
	"github.com/kabinet-billing/kabinet/internal/store"
	"github.com/kabinet-billing/kabinet/internal/subscriber"
	"github.com/kabinet-billing/kabinet/internal/support"
	"github.com/kabinet-billing/kabinet/internal/suspension"
	"github.com/kabinet-billing/kabinet/internal/telegram"
	"github.com/kabinet-billing/kabinet/internal/traffic"
	"github.com/kabinet-billing/kabinet/internal/web/admin"
	"github.com/kabinet-billing/kabinet/internal/web/api"
	"github.com/kabinet-billing/kabinet/internal/web/platform"
	"github.com/kabinet-billing/kabinet/internal/web/portal"
	"github.com/kabinet-billing/kabinet/internal/web/public"
	"github.com/kabinet-billing/kabinet/internal/web/pwa"
)

// Deps are the capabilities the web areas call. DB, Config, Biller and
// Subscribers are required; the rest may be nil.
type Deps struct {
	DB          *store.DB
	Clock       clock.Clock // nil: the system clock
	Config      config.Config
	Log         *slog.Logger
	Biller      *billing.Biller
	Subscribers *subscriber.Directory
	// Payments starts card payments from the portal and the API; Processor
	// names the processor the Pay button uses (e.g. "sandbox").
	Payments  *payment.Service
	Processor string
	// PaymentRoutes are payment.Service.Routes(...): the OSMP endpoint,
	// card callbacks and the sandbox page, mounted as they are, outside the
	// session and cross-origin middleware (they check signatures and
	// addresses themselves).
	PaymentRoutes map[string]http.Handler
	// Autopay charges saved cards before the 1st; nil: no autopay pages.
	Autopay    *autopay.Service
	Traffic    *traffic.Store
	Support    *support.Service   // nil: made over DB
	SpeedTests *speedtest.Service // nil: made over DB
	Tokens     *apitoken.Service  // the API's bearer tokens; nil: made over DB
	// APIPerSecond and APIBurst limit API requests per token (zero: the
	// API's defaults).
	APIPerSecond float64
	APIBurst     int
	// Office is the back office's capabilities; nil mounts neither the
	// back office nor the public site.
	Office *backoffice.Office
	// Network is the back office's network section (RADIUS's NAS and
	// sessions); nil hides it.
	Network admin.Network
	// Sandbox: the sandbox card processor runs; the back office says so.
	Sandbox bool
	// Metrics, when set, is served at /metrics and counts every request.
	Metrics *metrics.Metrics
	// Files overrides the embedded web/ tree (tests); nil uses the binary's.
	Files fs.FS
	// Fonts print PDF statements; empty: read from Files.
	Fonts contract.Fonts
	// Promises takes promised payments; nil: made over DB with
	// Config's [promise] rules.
	Promises *promise.Service
	// Suspensions schedules voluntary suspensions; nil: made over DB with
	// Config's [suspension] rules.
	Suspensions *suspension.Service
	// Receipts are the fiscal receipts: the portal's payment history shows
	// each payment's; nil while [fiscal] is off.
	Receipts *fiscal.Queue
	// Telegram is the subscribers' bot and TelegramLinks its chats; nil:
	// the profile offers no Telegram. TelegramWebhook serves Telegram's
	// updates at /telegram/webhook (nil: 404, as in long-polling mode).
	Telegram        portal.TelegramBot
	TelegramLinks   *telegram.Links
	TelegramWebhook http.Handler
	// Company keeps company clients and their bank transfers; nil: made
	// over DB.
	Company *company.Service
	// Push keeps the subscribers' devices for Web Push; nil: the profile
	// offers no notifications.
	Push *push.Service
	// Documents are company clients' invoices and acts for the company
	// cabinet; nil: the back office's (Office.Documents), if any.
	Documents *documents.Service
	// Notify keeps the subscribers' notification choices and the queue;
	// nil: Office's, else one over DB that only queues.
	Notify *notify.Notifier
}

// Server is the assembled HTTP surface.
type Server struct {
	Platform   *platform.Platform
	Portal     *portal.Portal
	Statements *statement.Service
	handler    http.Handler
	patterns   []string
}

// New assembles Kabinet's whole HTTP surface on one mux: the portal at /
// (with the speed-test and traffic-by-class pages), the JSON API at
// /api/v1 with its docs and the LibreSpeed backend, the payment routes
// under /pay/, the back office at /admin/ and the public site at /site/
// (when Office is set), /healthz, /readyz and /metrics.
func New(d Deps) (*Server, error) {
	if d.DB == nil || d.Biller == nil || d.Subscribers == nil {
		return nil, fmt.Errorf("web: DB, Biller and Subscribers are required")
	}
	if d.Clock == nil {
		d.Clock = clock.System
	}
	if d.Files == nil {
		d.Files = assets.FS
	}
	if d.Support == nil {
		d.Support = support.New(d.DB, d.Clock)
	}
	if d.SpeedTests == nil {
		d.SpeedTests = speedtest.New(d.DB, d.Clock, d.Biller)
	}
	if d.Promises == nil {
		rules, err := promise.RulesOf(d.Config.Promise)
		if err != nil {
			return nil, fmt.Errorf("web: %w", err)
		}
		d.Promises = promise.New(d.DB, d.Clock, d.Biller, rules)
	}
	if d.Notify == nil && d.Office != nil {
		d.Notify = d.Office.Mail
	}
	if d.Notify == nil {
		d.Notify = notify.New(d.DB, d.Clock, nil, d.Biller, notify.Options{Provider: d.Config.Provider, Log: d.Log})
	}
	if d.Company == nil {
		d.Company = company.New(d.DB, d.Clock, d.Biller, d.Subscribers)
		d.Company.Accounts = d.Config.Company.Accounts
	}
	if d.Suspensions == nil {
		rules, err := suspension.RulesOf(d.Config.Suspension)
		if err != nil {
			return nil, fmt.Errorf("web: %w", err)
		}
		d.Suspensions = suspension.New(d.DB, d.Clock, d.Biller, rules)
	}
	msgs := map[string][2]string{}
	for _, m := range payment.Messages {
		msgs[m.ID] = [2]string{m.RU, m.EN}
	}
	p, err := platform.New(platform.Options{DB: d.DB, Clock: d.Clock, Config: d.Config, Log: d.Log, Files: d.Files, Messages: msgs})
	if err != nil {
		return nil, fmt.Errorf("web: %w", err)
	}
	if d.Fonts.Regular == nil {
		if d.Fonts, err = contract.LoadFonts(d.Files); err != nil {
			return nil, fmt.Errorf("web: %w", err)
		}
	}
	st := statement.New(d.DB, d.Clock, p.Zone, d.Config.Provider, d.Fonts, p.I18n)
	po := portal.Register(p, portal.Deps{DB: d.DB, Biller: d.Biller, Subscribers: d.Subscribers, Payments: d.Payments,
		Processor: d.Processor, Traffic: d.Traffic, Support: d.Support, Statements: st, Autopay: d.Autopay, Promises: d.Promises, Suspensions: d.Suspensions, Receipts: d.Receipts,
		Telegram: d.Telegram, TelegramLinks: d.TelegramLinks, Company: d.Company, Push: d.Push, Documents: documentsOf(d), Notify: d.Notify})
	po.RegisterMeasure(d.SpeedTests)
	pwa.Register(p, d.Files)
	api.Register(p, api.Deps{DB: d.DB, Biller: d.Biller, Subscribers: d.Subscribers, Tokens: d.Tokens,
		Payments: d.Payments, Processor: d.Processor, Traffic: d.Traffic, Support: d.Support,
		SpeedTests: d.SpeedTests, Statements: st, Promises: d.Promises, Suspensions: d.Suspensions, PerSecond: d.APIPerSecond, Burst: d.APIBurst,
		AppSchemes: d.Config.API.AppSchemes, Autopay: d.Autopay, Telegram: d.Telegram, TelegramLinks: d.TelegramLinks,
		Push: d.Push, Notify: d.Notify})
	if d.Office != nil {
		if _, err := admin.Register(p, admin.Deps{Office: d.Office, Support: d.Support, Network: d.Network, Sandbox: d.Sandbox,
			Files: d.Files, Statements: st, Company: d.Company}); err != nil {
			return nil, fmt.Errorf("web: back office: %w", err)
		}
		if _, err := public.Register(p, public.Deps{DB: d.DB, Support: d.Support, Files: d.Files, RedirectFrom: d.Config.Site.RedirectFrom}); err != nil {
			return nil, fmt.Errorf("web: public site: %w", err)
		}
	}
	p.Mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		if err := d.DB.Reader().PingContext(r.Context()); err != nil {
			http.Error(w, "database unavailable", http.StatusServiceUnavailable)
			return
		}
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Write([]byte("ok\n"))
	})
	// Telegram posts updates here with its secret token (checked by the
	// handler); outside sessions and cross-origin checks, like payment
	// callbacks.
	webhook := d.TelegramWebhook
	if webhook == nil {
		webhook = http.NotFoundHandler()
	}
	p.Mux.Handle("POST /telegram/webhook", webhook)
	for pattern, h := range d.PaymentRoutes {
		p.Mux.Handle(pattern, h)
	}
	p.Mux.Handle("/", p.Sessions.LoadAndSave(http.HandlerFunc(p.NotFound)))

	// Readiness and metrics answer machines, outside the platform's
	// sessions and page headers.
	outer := platform.NewRouter()
	outer.Handle("GET /readyz", metrics.Ready(d.DB))
	if d.Metrics != nil {
		outer.Handle("GET /metrics", d.Metrics.Handler())
	}
	outer.ServeMux.Handle("/", p.Handler()) // the platform's routes, listed below
	var h http.Handler = outer
	if d.Metrics != nil {
		h = d.Metrics.Middleware(outer)
	}
	return &Server{Platform: p, Portal: po, Statements: st, handler: h,
		patterns: append(outer.Patterns(), p.Mux.Patterns()...)}, nil
}

// Handler serves every route.
func (s *Server) Handler() http.Handler { return s.handler }

// Patterns lists every route pattern the server registers (the security
// test classifies each).
func (s *Server) Patterns() []string { return s.patterns }

// documentsOf is the documents capability for the company cabinet: the
// one given, else the back office's.
func documentsOf(d Deps) *documents.Service {
	if d.Documents != nil || d.Office == nil {
		return d.Documents
	}
	return d.Office.Documents
}
