// Package pwa makes the portal an installable web app: the manifest (names
// and colours from [provider]), the icons drawn from one source (icons.go),
// the favicon every page of every area asks for, the service worker that
// keeps the shell for offline use, and the offline page that shows the last
// balance the home page saw. The page side of it is web/static/app.js; the
// worker's source is web/pwa/sw.js.
//
// None of these routes uses the session: the manifest, the worker and the
// offline page are the same for every subscriber (the worker caches them),
// and hold nothing personal.
package pwa

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io/fs"
	"net/http"
	"strconv"
	"strings"
	"sync"

	"github.com/kabinet-billing/kabinet/internal/config"
	"github.com/kabinet-billing/kabinet/internal/web/platform"
)

// Shell is what the worker keeps for offline use, precached at install:
// the styles, the scripts, the offline page in both languages and the icon
// it shows. Personal pages are never in it: they are not cached at all.
var Shell = []string{"/static/app.css", "/static/htmx.min.js", "/static/app.js", "/icons/icon-192.png",
	"/offline?lang=ru", "/offline?lang=en"}

// App serves the app's files.
type App struct {
	p        *platform.Platform
	files    fs.FS
	provider config.Provider

	once    sync.Once
	worker  []byte // sw.js with its version and shell filled in
	version string
	err     error
}

// Register mounts the app's routes on the platform's mux. files is the web/
// tree (static, pwa).
func Register(p *platform.Platform, files fs.FS) *App {
	a := &App{p: p, files: files, provider: p.Config.Provider}
	p.Mux.HandleFunc("GET /manifest.webmanifest", a.manifest)
	p.Mux.HandleFunc("GET /sw.js", a.serviceWorker)
	p.Mux.HandleFunc("GET /offline", a.offline)
	p.Mux.HandleFunc("GET /favicon.ico", a.favicon)
	p.Mux.HandleFunc("GET /favicon.svg", a.faviconSVG)
	// iOS asks for this path whatever the page links.
	p.Mux.HandleFunc("GET /apple-touch-icon.png", a.icon(180, plain))
	p.Mux.HandleFunc("GET /icons/{file}", a.icons)
	return a
}

// Manifest is the web app manifest (W3C Web Application Manifest).
type Manifest struct {
	ID              string     `json:"id"`
	Name            string     `json:"name"`
	ShortName       string     `json:"short_name"`
	Description     string     `json:"description"`
	Lang            string     `json:"lang"`
	Dir             string     `json:"dir"`
	StartURL        string     `json:"start_url"`
	Scope           string     `json:"scope"`
	Display         string     `json:"display"`
	ThemeColor      string     `json:"theme_color"`
	BackgroundColor string     `json:"background_color"`
	Icons           []Icon     `json:"icons"`
	Shortcuts       []Shortcut `json:"shortcuts"`
}

// Icon is one of the manifest's images.
type Icon struct {
	Src     string `json:"src"`
	Sizes   string `json:"sizes"`
	Type    string `json:"type"`
	Purpose string `json:"purpose"`
}

// Shortcut is a jump the home screen offers on a long press.
type Shortcut struct {
	Name      string `json:"name"`
	ShortName string `json:"short_name"`
	URL       string `json:"url"`
	Icons     []Icon `json:"icons"`
}

// ManifestFor is the manifest in lang.
func (a *App) ManifestFor(lang string) Manifest {
	lang = platform.Lang(lang)
	t := func(id string) string { return a.p.I18n.T(lang, id, nil) }
	icon := []Icon{{Src: "/icons/icon-192.png", Sizes: "192x192", Type: "image/png", Purpose: "any"}}
	return Manifest{
		// The id fixes the app's identity whichever language's manifest
		// the browser read first.
		ID: "/", Name: a.provider.AppName(lang), ShortName: a.provider.AppShortName(lang),
		Description: t("app.description"), Lang: lang, Dir: "ltr",
		StartURL: "/", Scope: "/", Display: "standalone",
		ThemeColor: a.provider.Theme(), BackgroundColor: a.provider.Background(),
		Icons: []Icon{
			{Src: "/icons/icon-192.png", Sizes: "192x192", Type: "image/png", Purpose: "any"},
			{Src: "/icons/icon-512.png", Sizes: "512x512", Type: "image/png", Purpose: "any"},
			{Src: "/icons/maskable-192.png", Sizes: "192x192", Type: "image/png", Purpose: "maskable"},
			{Src: "/icons/maskable-512.png", Sizes: "512x512", Type: "image/png", Purpose: "maskable"},
		},
		Shortcuts: []Shortcut{
			{Name: t("app.shortcut.pay"), ShortName: t("app.shortcut.pay_short"), URL: "/payments", Icons: icon},
			{Name: t("app.shortcut.balance"), ShortName: t("app.shortcut.balance_short"), URL: "/statement", Icons: icon},
			{Name: t("app.shortcut.support"), ShortName: t("app.shortcut.support_short"), URL: "/requests", Icons: icon},
		},
	}
}

// manifest answers in the language the page's link names (?lang=): the
// browser fetches it without the session's cookie.
func (a *App) manifest(w http.ResponseWriter, r *http.Request) {
	b, err := json.Marshal(a.ManifestFor(r.URL.Query().Get("lang")))
	if err != nil {
		a.p.Fail(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "application/manifest+json")
	w.Header().Set("Cache-Control", "public, max-age=3600")
	w.Write(b)
}

// iconFiles are the icons under /icons/.
var iconFiles = map[string]struct {
	size int
	kind iconKind
}{
	"icon-192.png": {192, plain}, "icon-512.png": {512, plain},
	"maskable-192.png": {192, maskable}, "maskable-512.png": {512, maskable},
}

func (a *App) icons(w http.ResponseWriter, r *http.Request) {
	f, ok := iconFiles[r.PathValue("file")]
	if !ok {
		a.p.NotFound(w, r)
		return
	}
	a.icon(f.size, f.kind)(w, r)
}

func (a *App) icon(size int, k iconKind) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		b, err := iconPNG(size, k, a.provider.Theme())
		if err != nil {
			a.p.Fail(w, r, err)
			return
		}
		serveImage(w, "image/png", b)
	}
}

func (a *App) favicon(w http.ResponseWriter, r *http.Request) {
	var pngs [][]byte
	sizes := []int{16, 32, 48}
	for _, s := range sizes {
		b, err := iconPNG(s, plain, a.provider.Theme())
		if err != nil {
			a.p.Fail(w, r, err)
			return
		}
		pngs = append(pngs, b)
	}
	serveImage(w, "image/x-icon", ico(sizes, pngs))
}

func (a *App) faviconSVG(w http.ResponseWriter, r *http.Request) {
	serveImage(w, "image/svg+xml", svg(a.provider.Theme()))
}

func serveImage(w http.ResponseWriter, ctype string, b []byte) {
	w.Header().Set("Content-Type", ctype)
	w.Header().Set("Cache-Control", "public, max-age=86400")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.Write(b)
}

// offline is the page the worker shows when the network is gone: the
// banner, and the last balance the home page saw, which app.js reads from
// the subscriber's own storage. The page itself is the same for everyone.
func (a *App) offline(w http.ResponseWriter, r *http.Request) {
	lang := platform.Lang(r.URL.Query().Get("lang"))
	v := platform.View{Lang: lang, Path: "/", Title: "offline.title", Provider: a.provider}
	a.p.HTML(w, r, http.StatusOK, "portal/offline", "", v)
}

// serviceWorker serves the worker from the root, so that its scope is the
// whole portal. It is checked for a new version on every navigation
// (no-cache): a deploy that changes any file of the shell changes its
// version, and the browser installs it.
func (a *App) serviceWorker(w http.ResponseWriter, r *http.Request) {
	b, _, err := a.Worker()
	if err != nil {
		a.p.Fail(w, r, err)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/javascript; charset=utf-8")
	h.Set("Cache-Control", "no-cache")
	h.Set("Content-Length", strconv.Itoa(len(b)))
	w.Write(b)
}

// Worker is the service worker's source and its version: a hash of its own
// source, of every file of the shell and of the theme (the icons' colour).
func (a *App) Worker() ([]byte, string, error) {
	a.once.Do(func() {
		src, err := fs.ReadFile(a.files, "pwa/sw.js")
		if err != nil {
			a.err = fmt.Errorf("service worker: %w", err)
			return
		}
		h := sha256.New()
		h.Write(src)
		h.Write([]byte(a.provider.Theme()))
		for _, u := range Shell {
			b, err := a.shellFile(u)
			if err != nil {
				a.err = fmt.Errorf("service worker: shell %s: %w", u, err)
				return
			}
			h.Write(b)
		}
		a.version = hex.EncodeToString(h.Sum(nil))[:16]
		shell, _ := json.Marshal(Shell)
		src = bytes.Replace(src, []byte(`"__VERSION__"`), []byte(strconv.Quote(a.version)), 1)
		a.worker = bytes.Replace(src, []byte(`["__SHELL__"]`), shell, 1)
	})
	return a.worker, a.version, a.err
}

// shellFile is the content behind a shell URL, for the version's hash.
func (a *App) shellFile(u string) ([]byte, error) {
	switch {
	case strings.HasPrefix(u, "/static/"):
		return fs.ReadFile(a.files, strings.TrimPrefix(u, "/"))
	case strings.HasPrefix(u, "/icons/"):
		return nil, nil // drawn from the shapes and the theme, both hashed
	case strings.HasPrefix(u, "/offline?lang="):
		var buf bytes.Buffer
		lang := strings.TrimPrefix(u, "/offline?lang=")
		v := platform.View{Lang: lang, Path: "/", Title: "offline.title", Provider: a.provider}
		err := a.p.Render.ExecuteView(&buf, "portal/offline", "layout", v)
		return buf.Bytes(), err
	}
	return nil, fmt.Errorf("no such shell file")
}
