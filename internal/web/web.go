package web

import (
	"fmt"
	"io/fs"
	"log/slog"
	"net/http"

	assets "github.com/kabinet-billing/kabinet/web"

	"github.com/kabinet-billing/kabinet/internal/billing"
	"github.com/kabinet-billing/kabinet/internal/clock"
	"github.com/kabinet-billing/kabinet/internal/config"
	"github.com/kabinet-billing/kabinet/internal/contract"
	"github.com/kabinet-billing/kabinet/internal/payment"
	"github.com/kabinet-billing/kabinet/internal/statement"
	"github.com/kabinet-billing/kabinet/internal/store"
	"github.com/kabinet-billing/kabinet/internal/subscriber"
	"github.com/kabinet-billing/kabinet/internal/support"
	"github.com/kabinet-billing/kabinet/internal/traffic"
	"github.com/kabinet-billing/kabinet/internal/web/platform"
	"github.com/kabinet-billing/kabinet/internal/web/portal"
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
	// Payments starts card payments from the portal; Processor names the
	// processor the Pay button uses (e.g. "sandbox").
	Payments  *payment.Service
	Processor string
	// PaymentRoutes are payment.Service.Routes(...): the OSMP endpoint,
	// card callbacks and the sandbox page, mounted as they are, outside the
	// session and cross-origin middleware (they check signatures and
	// addresses themselves).
	PaymentRoutes map[string]http.Handler
	Traffic       *traffic.Store
	Support       *support.Service // nil: made over DB
	// Files overrides the embedded web/ tree (tests); nil uses the binary's.
	Files fs.FS
	// Fonts print PDF statements; empty: read from Files.
	Fonts contract.Fonts
}

// Server is the assembled web layer. Platform is exposed so that later
// areas (admin, public, api) register on the same mux.
type Server struct {
	Platform   *platform.Platform
	Portal     *portal.Portal
	Statements *statement.Service
}

// New builds the whole web layer: the platform, the portal at /, /healthz,
// and the payment routes.
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
		Processor: d.Processor, Traffic: d.Traffic, Support: d.Support, Statements: st})
	p.Mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		if err := d.DB.Reader().PingContext(r.Context()); err != nil {
			http.Error(w, "database unavailable", http.StatusServiceUnavailable)
			return
		}
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Write([]byte("ok\n"))
	})
	for pattern, h := range d.PaymentRoutes {
		p.Mux.Handle(pattern, h)
	}
	p.Mux.Handle("/", p.Sessions.LoadAndSave(http.HandlerFunc(p.NotFound)))
	return &Server{Platform: p, Portal: po, Statements: st}, nil
}

// Handler serves every route.
func (s *Server) Handler() http.Handler { return s.Platform.Handler() }
