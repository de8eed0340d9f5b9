// Package platform is the shared HTTP layer every web area builds on: one
// ServeMux, sessions, cross-origin protection, translations, templates,
// security headers, rate limits and error pages. See internal/web/doc.go for
// how areas (portal, admin, public, api) register on it.
package platform

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"net/netip"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/alexedwards/scs/v2"

	"github.com/kabinet-billing/kabinet/internal/clock"
	"github.com/kabinet-billing/kabinet/internal/config"
	"github.com/kabinet-billing/kabinet/internal/store"
)

// Platform is the shared pieces areas register routes with.
type Platform struct {
	Mux      *Router // the one mux; Mux.Patterns() is the route table
	Sessions *scs.SessionManager
	I18n     *I18n
	Render   *Renderer
	Clock    clock.Clock
	Config   config.Config
	Log      *slog.Logger
	Zone     *time.Location
	Logins   *Logins       // subscribers' login attempts, shared by the portal and the API
	sessions *SessionStore // Sessions.Store
	cop      *http.CrossOriginProtection
	proxies  []netip.Prefix // [web] trusted_proxies
	hsts     bool           // public_url is https: tell browsers to stay on it
}

// Options build a Platform.
type Options struct {
	DB     *store.DB
	Clock  clock.Clock
	Config config.Config
	Log    *slog.Logger
	Files  fs.FS // the web/ tree: templates, static, translations
	// Messages are extra translations from capability packages: id → {ru, en}.
	Messages map[string][2]string
}

// Session keys shared by areas.
const (
	SessionLang      = "lang"
	SessionCSRF      = "csrf"
	SessionAccount   = "account_id"
	SessionOperator  = "operator_id"
	SessionFlash     = "flash"
	SessionFlashErr  = "flash_err"
	sessionLifetime  = 12 * time.Hour
	csrfField        = "csrf"
	csrfHeader       = "X-CSRF-Token"
	maxFormBodyBytes = 1 << 20
)

// EndSessions ends every web session of a subscriber (key SessionAccount)
// or an operator (SessionOperator), as a change of their password must: a
// stolen session dies with the old password. A handler whose own session is
// theirs then keeps it under a new token with Sessions.RenewToken (scs
// writes it again at the end of the request).
func (p *Platform) EndSessions(ctx context.Context, key string, id int64) error {
	return p.sessions.EndAll(ctx, key, id)
}

// New builds the platform: parses templates and translations once.
func New(o Options) (*Platform, error) {
	if o.Clock == nil {
		o.Clock = clock.System
	}
	if o.Log == nil {
		o.Log = slog.Default()
	}
	t, err := NewI18n(o.Files, "translations")
	if err != nil {
		return nil, err
	}
	t.Add("error.unavailable", "Сервис временно недоступен: нет связи с базой данных. Попробуйте через минуту.",
		"The service is temporarily unavailable: the database cannot be reached. Please try again in a minute.")
	for id, m := range o.Messages {
		t.Add(id, m[0], m[1])
	}
	zone := o.Config.Zone()
	rend, err := NewRenderer(o.Files, "templates", t, zone)
	if err != nil {
		return nil, err
	}
	sm := scs.New()
	ss := NewSessionStore(o.DB)
	sm.Store = ss
	sm.Codec = sessionCodec{}
	// An absolute lifetime only: scs's idle timeout rewrites the session
	// row on every request, a database write per page view.
	sm.Lifetime = sessionLifetime
	sm.Cookie.Name = "kabinet_session"
	sm.Cookie.HttpOnly = true
	sm.Cookie.SameSite = http.SameSiteLaxMode
	sm.Cookie.Secure = strings.HasPrefix(o.Config.PublicURL, "https://")
	var p *Platform
	// A session that cannot be loaded or saved (the database is down) gets
	// the same translated page as any failure, not scs's plain 500.
	sm.ErrorFunc = func(w http.ResponseWriter, r *http.Request, err error) { p.Fail(w, r, err) }
	p = &Platform{Mux: NewRouter(), Sessions: sm, I18n: t, Render: rend, Clock: o.Clock, Config: o.Config, Log: o.Log, Zone: zone, Logins: NewLogins(), sessions: ss,
		cop: http.NewCrossOriginProtection()}
	if p.proxies, err = TrustedProxies(o.Config); err != nil {
		return nil, err
	}
	p.hsts = strings.HasPrefix(o.Config.PublicURL, "https://")
	if o.Config.PublicURL != "" {
		// Behind a TLS-terminating proxy the Host header may differ from
		// the public origin; trust the configured one explicitly.
		if err := p.cop.AddTrustedOrigin(strings.TrimRight(o.Config.PublicURL, "/")); err != nil {
			return nil, fmt.Errorf("public_url: %w", err)
		}
	}
	p.cop.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p.Error(w, r, http.StatusForbidden, "error.cross_origin")
	}))
	static, err := fs.Sub(o.Files, "static")
	if err != nil {
		return nil, err
	}
	p.Mux.Handle("GET /static/", http.StripPrefix("/static/", cacheStatic(http.FileServerFS(static))))
	return p, nil
}

// Handler is the whole server: the client's address behind a trusted
// proxy, panic recovery and security headers around the mux.
func (p *Platform) Handler() http.Handler {
	return p.realClient(p.recover(p.securityHeaders(p.Mux)))
}

// Page registers a browser route: sessions, cross-origin protection and the
// form token on every state-changing method, language from the session.
func (p *Platform) Page(pattern string, h http.HandlerFunc) {
	p.Mux.Handle(pattern, p.Sessions.LoadAndSave(p.cop.Handler(p.checkToken(h, maxFormBodyBytes))))
}

// Upload is Page for a form that sends a file: its body may be up to limit
// bytes instead of a form's 1 MB.
func (p *Platform) Upload(pattern string, limit int64, h http.HandlerFunc) {
	p.Mux.Handle(pattern, p.Sessions.LoadAndSave(p.cop.Handler(p.checkToken(h, limit))))
}

// checkToken requires the session's form token on unsafe methods. It backs
// up CrossOriginProtection for old browsers that send neither
// Sec-Fetch-Site nor Origin, and makes a form from a previous session
// (stale) fail cleanly.
func (p *Platform) checkToken(next http.Handler, limit int64) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.Method {
		case http.MethodGet, http.MethodHead, http.MethodOptions:
			next.ServeHTTP(w, r)
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, limit)
		want := p.Sessions.GetString(r.Context(), SessionCSRF)
		got := r.Header.Get(csrfHeader)
		if got == "" {
			got = r.PostFormValue(csrfField)
		}
		if want == "" || subtle.ConstantTimeCompare([]byte(want), []byte(got)) != 1 {
			p.Error(w, r, http.StatusForbidden, "error.csrf")
			return
		}
		next.ServeHTTP(w, r)
	})
}

// CSRF returns the session's form token, making one on first use.
func (p *Platform) CSRF(r *http.Request) string {
	tok := p.Sessions.GetString(r.Context(), SessionCSRF)
	if tok == "" {
		var b [24]byte
		rand.Read(b[:])
		tok = base64.RawURLEncoding.EncodeToString(b[:])
		p.Sessions.Put(r.Context(), SessionCSRF, tok)
	}
	return tok
}

// LangOf is the request's interface language: the session's choice, else
// Russian (the provider's subscribers read Russian first).
func (p *Platform) LangOf(r *http.Request) string {
	if p.Sessions == nil {
		return Langs[0]
	}
	defer func() { recover() }() // no session loaded (machine route): default
	return Lang(p.Sessions.GetString(r.Context(), SessionLang))
}

// User is who is logged in, as the layout shows it.
type User struct {
	ID         int64
	Login      string
	Name       string
	ContractNo string
}

// View is what every page template gets; D is the page's own data.
type View struct {
	Lang  string
	Path  string
	CSRF  string
	Title string // message id
	Nav   string
	Flash string // translated
	Error string // translated
	// Fields are errors about one input each (input name → translated
	// message), shown beside that input and marked aria-invalid.
	Fields   map[string]string
	User     *User
	Provider config.Provider
	D        any
	// Menu is the portal layout's navigation for Nav, filled by HTML.
	Menu template.HTML
}

// NewView fills the common fields.
func (p *Platform) NewView(r *http.Request, title string, d any) View {
	v := View{Lang: p.LangOf(r), Path: r.URL.Path, Title: title, Provider: p.Config.Provider, D: d}
	func() {
		defer func() { recover() }()
		v.CSRF = p.CSRF(r)
		if id := p.Sessions.PopString(r.Context(), SessionFlash); id != "" {
			v.Flash = p.I18n.T(v.Lang, id, nil)
		}
		if id := p.Sessions.PopString(r.Context(), SessionFlashErr); id != "" {
			v.Error = p.I18n.T(v.Lang, id, nil)
		}
	}()
	return v
}

// Flash stores a message id to show on the next page.
func (p *Platform) Flash(r *http.Request, id string) { p.Sessions.Put(r.Context(), SessionFlash, id) }

// FlashError stores an error message id to show on the next page as an
// error (styled and announced as one), not as a success.
func (p *Platform) FlashError(r *http.Request, id string) {
	p.Sessions.Put(r.Context(), SessionFlashErr, id)
}

// FieldError marks input field of the page as wrong with message id.
func (p *Platform) FieldError(v *View, field, id string, data map[string]any) {
	if v.Fields == nil {
		v.Fields = map[string]string{}
	}
	v.Fields[field] = p.I18n.T(v.Lang, id, data)
}

// HTML renders page with the layout (or fragment name when not empty).
func (p *Platform) HTML(w http.ResponseWriter, r *http.Request, status int, page, fragment string, v View) {
	name := "layout"
	if fragment != "" {
		name = fragment
	}
	if name == "layout" && v.User != nil && v.Menu == "" {
		// The menu differs only by section and language: executed once.
		m, err := p.Render.Fragment(v.Lang, page, "menu", v.Nav)
		if err != nil {
			p.Fail(w, r, err)
			return
		}
		v.Menu = m
	}
	buf := getBuffer()
	defer putBuffer(buf)
	if err := p.Render.ExecuteView(buf, page, name, v); err != nil {
		p.Fail(w, r, err)
		return
	}
	p.writeHTML(w, status, buf.Bytes())
}

// writeHTML sends a rendered page. With its length known the page goes out
// in one piece instead of chunks.
func (p *Platform) writeHTML(w http.ResponseWriter, status int, b []byte) {
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(status)
	w.Write(b)
}

var buffers = sync.Pool{New: func() any { return new(bytes.Buffer) }}

func getBuffer() *bytes.Buffer { return buffers.Get().(*bytes.Buffer) }

// putBuffer returns buf to the pool unless it grew unusually large.
func putBuffer(buf *bytes.Buffer) {
	if buf.Cap() > 1<<20 {
		return
	}
	buf.Reset()
	buffers.Put(buf)
}

// Error renders an error page with a translated message and status.
func (p *Platform) Error(w http.ResponseWriter, r *http.Request, status int, msgID string) {
	v := View{Lang: p.LangOf(r), Path: r.URL.Path, Title: "error.title", Provider: p.Config.Provider, D: map[string]any{"Status": status, "Message": msgID}}
	buf := getBuffer()
	defer putBuffer(buf)
	if err := p.Render.ExecuteView(buf, "shared/error", "layout", v); err != nil {
		p.Log.Error("error page", "err", err)
		http.Error(w, http.StatusText(status), status)
		return
	}
	p.writeHTML(w, status, buf.Bytes())
}

// NotFound is the 404 page: also what another subscriber's id gets, so that
// ids cannot be probed.
func (p *Platform) NotFound(w http.ResponseWriter, r *http.Request) {
	p.Error(w, r, http.StatusNotFound, "error.not_found")
}

// Fail logs an unexpected error with its context and shows a generic page:
// never a stack trace or an internal message to the subscriber.
//
// When the database cannot be reached the answer is 503 with a translated
// "try again in a minute" and Retry-After: the subscriber waits, a load
// balancer or monitor sees the outage for what it is.
func (p *Platform) Fail(w http.ResponseWriter, r *http.Request, err error) {
	if store.Unavailable(err) {
		p.Log.Error("database unavailable", "method", r.Method, "path", r.URL.Path, "err", err)
		w.Header().Set("Retry-After", "30")
		p.Error(w, r, http.StatusServiceUnavailable, "error.unavailable")
		return
	}
	p.Log.Error("request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	p.Error(w, r, http.StatusInternalServerError, "error.internal")
}

func (p *Platform) recover(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				p.Log.Error("panic", "path", r.URL.Path, "panic", v, "stack", string(debug.Stack()))
				p.Error(w, r, http.StatusInternalServerError, "error.internal")
			}
		}()
		next.ServeHTTP(w, r)
	})
}

func (p *Platform) securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "same-origin")
		if r.TLS != nil || p.hsts {
			// Only under TLS (served directly, or public_url says the proxy
			// in front terminates it): over plain HTTP the header would pin
			// a site that has no certificate.
			h.Set("Strict-Transport-Security", "max-age=31536000")
		}
		if !strings.HasPrefix(r.URL.Path, "/pay/") {
			// The payment handlers serve their own pages (the sandbox's
			// hosted page) and machine answers; the portal's pages get a
			// strict policy: our own scripts and styles only, no framing.
			h.Set("X-Frame-Options", "DENY")
			h.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'self'; frame-ancestors 'none'")
		}
		next.ServeHTTP(w, r)
	})
}

func cacheStatic(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=3600")
		next.ServeHTTP(w, r)
	})
}
