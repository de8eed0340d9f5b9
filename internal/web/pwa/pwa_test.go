package pwa_test

import (
	"bytes"
	"context"
	"crypto/ecdh"
	"crypto/rand"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"image/png"
	"io/fs"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/kabinet-billing/kabinet/internal/config"
	"github.com/kabinet-billing/kabinet/internal/store/storetest"
	"github.com/kabinet-billing/kabinet/internal/web/platform"
	"github.com/kabinet-billing/kabinet/internal/web/pwa"
	"github.com/kabinet-billing/kabinet/internal/web/webtest"
	assets "github.com/kabinet-billing/kabinet/web"
)

// The manifest is what a browser needs to install the portal: served as
// application/manifest+json, standalone, its start_url inside its scope,
// icons of 192 and 512 px for both purposes that really are PNGs of those
// sizes, and shortcuts to pages a subscriber can open.
func TestManifest(t *testing.T) {
	e := webtest.New(t)
	c := e.Login("alice")
	for _, lang := range []string{"ru", "en"} {
		r := c.Get("/manifest.webmanifest?lang=" + lang)
		webtest.Must(t, r, http.StatusOK)
		if ct := r.Header.Get("Content-Type"); ct != "application/manifest+json" {
			t.Errorf("%s: Content-Type %q", lang, ct)
		}
		var m pwa.Manifest
		if err := json.Unmarshal([]byte(r.Body), &m); err != nil {
			t.Fatalf("%s: %v\n%s", lang, err, r.Body)
		}
		if m.Name == "" || m.ShortName == "" || m.Display != "standalone" || m.Scope != "/" || !strings.HasPrefix(m.StartURL, m.Scope) ||
			m.ID != "/" || m.Lang != lang || m.ThemeColor != "#2a62d6" || m.BackgroundColor == "" || m.Description == "" {
			t.Errorf("%s: manifest %+v", lang, m)
		}
		want := map[string]bool{"192 any": true, "512 any": true, "192 maskable": true, "512 maskable": true}
		for _, ic := range m.Icons {
			var size int
			switch ic.Sizes {
			case "192x192":
				size = 192
			case "512x512":
				size = 512
			}
			delete(want, strings.TrimSuffix(ic.Sizes[:3], "x")+" "+ic.Purpose)
			checkPNG(t, c, ic.Src, size)
		}
		if len(want) != 0 {
			t.Errorf("%s: icons missing: %v", lang, want)
		}
		if len(m.Shortcuts) != 3 {
			t.Errorf("%s: shortcuts %+v", lang, m.Shortcuts)
		}
		for _, s := range m.Shortcuts {
			if s.Name == "" || len(s.Icons) == 0 {
				t.Errorf("%s: shortcut %+v", lang, s)
			}
			webtest.Must(t, c.Get(s.URL), http.StatusOK)
		}
	}
	ru, en := c.Get("/manifest.webmanifest?lang=ru").Body, c.Get("/manifest.webmanifest?lang=en").Body
	if !strings.Contains(ru, "Оплатить") || !strings.Contains(en, `"Pay"`) {
		t.Errorf("shortcuts are not translated:\n%s\n%s", ru, en)
	}
}

func checkPNG(t *testing.T, c *webtest.Client, src string, size int) {
	t.Helper()
	r := c.Get(src)
	if r.Status != http.StatusOK || r.Header.Get("Content-Type") != "image/png" {
		t.Fatalf("%s: %d %s", src, r.Status, r.Header.Get("Content-Type"))
	}
	img, err := png.Decode(strings.NewReader(r.Body))
	if err != nil {
		t.Fatalf("%s: %v", src, err)
	}
	if b := img.Bounds(); b.Dx() != size || b.Dy() != size {
		t.Errorf("%s: %v, want %d px", src, b, size)
	}
}

var iconLink = regexp.MustCompile(`<link rel="(icon|apple-touch-icon|manifest)" href="([^"]+)"`)

// Every area's pages name icons that exist (no page gets a 404 for its
// favicon), and the portal's pages name the manifest and Apple's icon.
func TestEveryPageHasItsIcons(t *testing.T) {
	e := webtest.New(t)
	c := e.Login("alice")
	for _, path := range []string{"/", "/payments", "/profile"} {
		r := c.Get(path)
		webtest.Must(t, r, http.StatusOK, `rel="manifest"`, `rel="apple-touch-icon"`, `name="theme-color"`, `src="/static/app.js"`,
			`name="apple-mobile-web-app-title"`)
		for _, m := range iconLink.FindAllStringSubmatch(r.Body, -1) {
			res := c.Get(strings.ReplaceAll(m[2], "&amp;", "&"))
			if res.Status != http.StatusOK {
				t.Errorf("%s links %s: %d", path, m[2], res.Status)
			}
		}
	}
	anon := e.Client()
	for _, path := range []string{"/login", "/no-such-page"} {
		r := anon.Get(path)
		if n := len(iconLink.FindAllString(r.Body, -1)); n < 3 {
			t.Errorf("%s: %d icon links", path, n)
		}
	}
	for path, ctype := range map[string]string{"/favicon.ico": "image/x-icon", "/favicon.svg": "image/svg+xml", "/apple-touch-icon.png": "image/png"} {
		r := anon.Get(path)
		if r.Status != http.StatusOK || r.Header.Get("Content-Type") != ctype {
			t.Errorf("%s: %d %s", path, r.Status, r.Header.Get("Content-Type"))
		}
	}
	// favicon.ico: an icon directory of PNG images.
	ico := []byte(anon.Get("/favicon.ico").Body)
	var head [3]uint16
	if err := binary.Read(bytes.NewReader(ico), binary.LittleEndian, &head); err != nil || head[1] != 1 || head[2] == 0 {
		t.Fatalf("favicon.ico header %v %v", head, err)
	}
	off := binary.LittleEndian.Uint32(ico[6+12:])
	if _, err := png.Decode(bytes.NewReader(ico[off:])); err != nil {
		t.Errorf("favicon.ico's first image: %v", err)
	}
	if r := anon.Get("/icons/nope.png"); r.Status != http.StatusNotFound {
		t.Errorf("unknown icon: %d", r.Status)
	}
}

// The service worker is served from the root as JavaScript that the browser
// checks for a new version on every navigation, with its version and shell
// filled in; every file of the shell is there without a session and holds
// nothing personal.
func TestServiceWorkerAndShell(t *testing.T) {
	e := webtest.New(t)
	anon := e.Client()
	r := anon.Get("/sw.js")
	webtest.Must(t, r, http.StatusOK, `const SHELL = ["/static/app.css"`)
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/javascript") {
		t.Errorf("Content-Type %q", ct)
	}
	if cc := r.Header.Get("Cache-Control"); cc != "no-cache" {
		t.Errorf("Cache-Control %q", cc)
	}
	if strings.Contains(r.Body, "__VERSION__") || !regexp.MustCompile(`const VERSION = "[0-9a-f]{16}"`).MatchString(r.Body) {
		t.Errorf("version not filled in:\n%s", r.Body[:400])
	}
	if strings.Contains(r.Body, "<script") || r.Header.Get("Content-Security-Policy") == "" {
		t.Errorf("the worker is served under the site's policy")
	}
	for _, u := range pwa.Shell {
		res := anon.Get(u)
		if res.Status != http.StatusOK {
			t.Errorf("shell %s: %d", u, res.Status)
		}
		if strings.Contains(res.Body, "alice") || strings.Contains(res.Body, "Абонент") {
			t.Errorf("shell %s holds a subscriber's data", u)
		}
	}
	off := anon.Get("/offline?lang=ru")
	webtest.Must(t, off, http.StatusOK, `data-testid="offline-banner"`, "Нет связи", `data-stamp="по данным на {time}"`)
	webtest.Must(t, anon.Get("/offline?lang=en"), http.StatusOK, "No connection", `data-stamp="as of {time}"`)
}

// The home page carries its summary for the offline page, stamped with the
// server's time and the provider's zone; logout tells the browser to drop
// its cache of the site.
func TestHomeSnapshotAndLogout(t *testing.T) {
	e := webtest.New(t)
	c := e.Login("alice")
	s, err := e.Biller.Summary(context.Background(), e.IDs["alice"])
	if err != nil {
		t.Fatal(err)
	}
	r := c.Get("/")
	webtest.Must(t, r, http.StatusOK, `<script type="application/json" id="app-snapshot">{"balance":"`+s.Balance.Format("ru")+`","status":"Активен",`,
		`"login":"alice",`, `"at":"2026-03-15T09:00:00Z","zone":"Europe/Moscow"}</script>`, `id="install"`)
	out := c.Post("/logout", nil)
	if out.Status != http.StatusSeeOther || out.Header.Get("Clear-Site-Data") != `"cache"` {
		t.Errorf("logout: %d, Clear-Site-Data %q", out.Status, out.Header.Get("Clear-Site-Data"))
	}
}

// overlay is fsys with one file's content replaced.
type overlay struct {
	fs.FS
	name string
	data []byte
}

func (o overlay) Open(name string) (fs.File, error) {
	if name == o.name {
		return fstest.MapFS{name: {Data: o.data}}.Open(name)
	}
	return o.FS.Open(name)
}

// A deploy that changes a file of the shell changes the worker's version
// (so browsers install the new worker, which drops the old shell); the same
// files give the same version.
func TestWorkerVersionFollowsTheShell(t *testing.T) {
	db := storetest.SQLite(t)
	version := func(files fs.FS) string {
		p, err := platform.New(platform.Options{DB: db, Config: config.Default(), Files: files})
		if err != nil {
			t.Fatal(err)
		}
		_, v, err := pwa.Register(p, files).Worker()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	css, _ := fs.ReadFile(assets.FS, "static/app.css")
	a, b := version(assets.FS), version(assets.FS)
	c := version(overlay{assets.FS, "static/app.css", append(css, "\n.new { color: red; }"...)})
	if a != b || a == c {
		t.Errorf("versions: same files %s, %s; changed CSS %s", a, b, c)
	}
}

// The profile turns notifications on for a device (app.js posts the
// browser's subscription), lists the devices by browser and system, and
// turns one off; a broken subscription is refused beside the card.
func TestProfileDevices(t *testing.T) {
	e := webtest.New(t)
	c := e.Login("alice")
	r := c.Get("/profile")
	webtest.Must(t, r, http.StatusOK, `id="push"`, `data-key="`+e.Push.PublicKey()+`"`, "Уведомления пока не включены")
	key, err := ecdh.P256().GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	sub := url.Values{"endpoint": {"https://push.example/send/abc"}, "p256dh": {base64.RawURLEncoding.EncodeToString(key.PublicKey().Bytes())},
		"auth": {base64.RawURLEncoding.EncodeToString(make([]byte, 16))}}
	r = c.Post("/profile/push", sub, "User-Agent", "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Mobile Safari/537.36")
	if r.Status != http.StatusSeeOther || r.Header.Get("Location") != "/profile" {
		t.Fatalf("subscribe: %d %s", r.Status, webtest.Snippet(r.Body))
	}
	r = c.Get("/profile")
	webtest.Must(t, r, http.StatusOK, "Уведомления на этом устройстве включены", "Chrome · Android", `data-endpoint="https://push.example/send/abc"`)
	devices, _ := e.Push.List(context.Background(), e.IDs["alice"])
	if len(devices) != 1 {
		t.Fatalf("devices %+v", devices)
	}
	bad := url.Values{"endpoint": {"https://push.example/send/x"}, "p256dh": {"nope"}, "auth": {"nope"}}
	webtest.Must(t, c.Post("/profile/push", bad), http.StatusUnprocessableEntity, "неполную подписку")
	// Bob cannot turn off alice's device.
	bob := e.Login("bob")
	if r := bob.Post(fmt.Sprintf("/profile/push/%d/delete", devices[0].ID), nil); r.Status != http.StatusNotFound {
		t.Errorf("bob removed alice's device: %d", r.Status)
	}
	r = c.Post(fmt.Sprintf("/profile/push/%d/delete", devices[0].ID), nil)
	if r.Status != http.StatusSeeOther {
		t.Fatalf("remove: %d", r.Status)
	}
	webtest.Must(t, c.Get("/profile"), http.StatusOK, "больше не получает уведомления", "Уведомления пока не включены")
}
