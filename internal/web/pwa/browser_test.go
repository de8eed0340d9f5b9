package pwa_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"github.com/kabinet-billing/kabinet/internal/browsertest"
	"github.com/kabinet-billing/kabinet/internal/web/webtest"
)

// waitJS evaluates a JavaScript expression (a promise is awaited) until it
// gives true, for at most ten seconds.
func waitJS(ctx context.Context, what, expr string) error {
	var err error
	for range 100 {
		var ok bool
		if ok, err = chromedp.Run(ctx, chromedp.Evaluate[bool](expr, chromedp.EvalAwaitPromise)); err == nil && ok {
			return nil
		}
		time.Sleep(100 * time.Millisecond)
	}
	return fmt.Errorf("waiting for %s: %v", what, err)
}

func text(ctx context.Context, sel string) string {
	s, _ := chromedp.Run(ctx, chromedp.Text(sel))
	return strings.TrimSpace(s)
}

// TestBrowserInstallableAndOffline: in Chromium, on 127.0.0.1 (a secure
// context), the portal is installable (the DevTools protocol reports no
// installability errors and a manifest without errors), its service worker
// registers and controls the page; with the server stopped the home page
// opens from the worker with the last balance and the time it was seen,
// under the offline banner; after logout nothing personal is left in Cache
// Storage or IndexedDB.
func TestBrowserInstallableAndOffline(t *testing.T) {
	if testing.Short() {
		t.Skip("browser test skipped in -short mode")
	}
	ctx := browsertest.Context(t, 120*time.Second)
	e := webtest.New(t)
	addr := e.TS.Listener.Addr().String()

	var balance string
	err := chromedp.Do(ctx,
		chromedp.EmulateViewport(360, 780),
		chromedp.Navigate(e.TS.URL+"/login"),
		chromedp.WaitVisible(`input[name=login]`),
		chromedp.SendKeys(`input[name=login]`, "alice"),
		chromedp.SendKeys(`input[name=password]`, webtest.Password),
		chromedp.Click(`form[action="/login"] button`),
		chromedp.WaitVisible(`[data-testid=balance]`),
	)
	if err != nil {
		t.Fatal(err)
	}
	balance = text(ctx, `[data-testid=balance]`)
	if err := waitJS(ctx, "the service worker to control the page",
		`navigator.serviceWorker.getRegistration("/").then(r => !!r && !!r.active && r.scope === location.origin + "/" && !!navigator.serviceWorker.controller)`); err != nil {
		t.Fatal(err)
	}
	if err := waitJS(ctx, "the home page's snapshot", `caches.match("/snapshot.json", {cacheName: "kabinet-data"}).then(r => !!r)`); err != nil {
		t.Fatal(err)
	}

	var installErrs []string
	m, err := chromedp.Call(ctx, page.GetAppManifest, page.GetAppManifestParams{})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(m.URL, "/manifest.webmanifest?lang=ru") || m.Data == "" {
		t.Fatalf("manifest %q: %q", m.URL, m.Data)
	}
	for _, e := range m.Errors {
		installErrs = append(installErrs, "manifest: "+e.Message)
	}
	res, err := chromedp.Call(ctx, page.GetInstallabilityErrors, cdp.Empty{})
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range res.InstallabilityErrors {
		installErrs = append(installErrs, e.ErrorID)
	}
	for _, e := range installErrs {
		t.Errorf("not installable: %s", e)
	}

	// The server stops; the home page opens from the worker.
	e.TS.Close()
	err = chromedp.Do(ctx,
		chromedp.Navigate("http://"+addr+"/"),
		chromedp.WaitVisible(`[data-testid=offline-banner]`),
		chromedp.WaitVisible(`[data-testid=stamp]`),
	)
	if err != nil {
		t.Fatalf("offline home: %v", err)
	}
	if got := text(ctx, `[data-testid=balance]`); got != balance {
		t.Errorf("offline balance %q, online it was %q", got, balance)
	}
	// The summary was made at 09:00 UTC, 12:00 in Moscow.
	if got := text(ctx, `[data-testid=stamp]`); !strings.HasPrefix(got, "по данным на ") || !strings.HasSuffix(got, "12:00") {
		t.Errorf("stamp %q", got)
	}
	if got := text(ctx, `[data-testid=offline-banner]`); !strings.Contains(got, "Нет связи") {
		t.Errorf("banner %q", got)
	}

	// The server is back on the same address; the subscriber logs out.
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewUnstartedServer(e.Srv.Handler())
	ts.Listener.Close()
	ts.Listener = ln
	ts.Start()
	t.Cleanup(ts.Close)
	err = chromedp.Do(ctx,
		chromedp.Navigate(ts.URL+"/"),
		chromedp.WaitVisible(`form[action="/logout"] button`),
		chromedp.Click(`form[action="/logout"] button`),
		chromedp.WaitVisible(`form[action="/login"]`),
	)
	if err != nil {
		t.Fatal(err)
	}
	// What is left: the worker's shell only, none of it personal.
	personal, _ := json.Marshal([]string{"alice", "Абонент alice", balance})
	left, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`(async () => {
		const personal = `+string(personal)+`;
		const out = [];
		for (const name of await caches.keys()) {
			const c = await caches.open(name);
			for (const req of await c.keys()) {
				const body = await (await c.match(req)).text();
				out.push(name + " " + new URL(req.url).pathname + new URL(req.url).search + (personal.some((p) => body.includes(p)) ? " PERSONAL" : ""));
			}
		}
		for (const db of (await indexedDB.databases())) out.push("indexedDB " + db.name);
		return out;
	})()`, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatal(err)
	}
	if len(left) == 0 {
		t.Error("the worker's shell is gone too")
	}
	for _, l := range left {
		if !strings.HasPrefix(l, "kabinet-shell-") || strings.HasSuffix(l, "PERSONAL") {
			t.Errorf("left after logout: %s", l)
		}
	}
}
