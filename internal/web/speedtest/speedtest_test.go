package speedtest

import (
	"bytes"
	"compress/gzip"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/kabinet-billing/kabinet/internal/billing"
	"github.com/kabinet-billing/kabinet/internal/clock"
	"github.com/kabinet-billing/kabinet/internal/speedtest"
	"github.com/kabinet-billing/kabinet/internal/store"
	"github.com/kabinet-billing/kabinet/internal/store/storetest"
)

var now = time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)

func testDB(t testing.TB) *store.DB {
	t.Helper()
	ctx := context.Background()
	db, err := store.Open(ctx, "sqlite:"+filepath.Join(t.TempDir(), "k.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if _, err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	return db
}

// addAccount makes a subscriber on a 100/50 Mbit/s tariff with the status.
func addAccount(t testing.TB, db *store.DB, login, status string) int64 {
	return storetest.AddSubscriber(t, db, storetest.Subscriber{Login: login, Status: status, At: now})
}

// byHeader identifies the subscriber by a test header, standing in for the
// portal's session.
func byHeader(r *http.Request) (int64, bool) {
	id, err := strconv.ParseInt(r.Header.Get("X-Account"), 10, 64)
	return id, err == nil && id > 0
}

func newServer(t testing.TB) (*httptest.Server, *speedtest.Service, *store.DB) {
	return newServerOn(t, testDB(t))
}

func newServerOn(t testing.TB, db *store.DB) (*httptest.Server, *speedtest.Service, *store.DB) {
	clk := clock.NewFake(now)
	svc := speedtest.New(db, clk, billing.New(db, clk, billing.DefaultRules()))
	mux := http.NewServeMux()
	New(svc, byHeader).Register(mux)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv, svc, db
}

func do(t *testing.T, method, u, account string, body io.Reader) (*http.Response, []byte) {
	t.Helper()
	req, _ := http.NewRequest(method, u, body)
	if account != "" {
		req.Header.Set("X-Account", account)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, b
}

func TestGarbage(t *testing.T) {
	srv, _, _ := newServer(t)
	for _, tc := range []struct {
		path   string
		status int
		size   int
	}{
		{"/speedtest/backend/garbage", 200, 4 << 20},
		{"/speedtest/backend/garbage.php?ckSize=1", 200, 1 << 20},
		{"/speedtest/backend/garbage?ckSize=7&r=0.3", 200, 7 << 20},
		{"/speedtest/backend/garbage?ckSize=0", 400, -1},
		{"/speedtest/backend/garbage?ckSize=x", 400, -1},
	} {
		t.Run(tc.path, func(t *testing.T) {
			resp, b := do(t, "GET", srv.URL+tc.path, "", nil)
			if resp.StatusCode != tc.status {
				t.Fatalf("status %d, want %d", resp.StatusCode, tc.status)
			}
			if tc.size < 0 {
				return
			}
			if len(b) != tc.size {
				t.Errorf("got %d bytes, want %d", len(b), tc.size)
			}
			for h, want := range map[string]string{"Content-Type": "application/octet-stream", "Pragma": "no-cache", "Content-Description": "File Transfer"} {
				if got := resp.Header.Get(h); got != want {
					t.Errorf("%s = %q, want %q", h, got, want)
				}
			}
			if !strings.Contains(resp.Header.Get("Cache-Control"), "no-store") {
				t.Errorf("Cache-Control %q", resp.Header.Get("Cache-Control"))
			}
			// Incompressible: gzip must not shrink it noticeably.
			var z bytes.Buffer
			w := gzip.NewWriter(&z)
			w.Write(b[:1<<20])
			w.Close()
			if z.Len() < 1<<20*99/100 {
				t.Errorf("1 MiB of garbage gzips to %d bytes: compressible", z.Len())
			}
		})
	}
}

func TestEmpty(t *testing.T) {
	srv, _, _ := newServer(t)
	for _, tc := range []struct {
		method, path string
		body         io.Reader
		status       int
	}{
		{"GET", "/speedtest/backend/empty?r=1", nil, 200},
		{"GET", "/speedtest/backend/empty.php", nil, 200},
		{"POST", "/speedtest/backend/empty.php?r=2", bytes.NewReader(make([]byte, 3<<20)), 200},
		{"POST", "/speedtest/backend/empty", bytes.NewReader(make([]byte, 10)), 200},
		{"PUT", "/speedtest/backend/empty", nil, 405},
	} {
		resp, b := do(t, tc.method, srv.URL+tc.path, "", tc.body)
		if resp.StatusCode != tc.status || (tc.status == 200 && len(b) != 0) {
			t.Errorf("%s %s: %d %q, want %d and no body", tc.method, tc.path, resp.StatusCode, b, tc.status)
		}
	}
}

func TestGetIP(t *testing.T) {
	srv, _, db := newServer(t)
	alice := addAccount(t, db, "alice", billing.StatusActive)
	limited := addAccount(t, db, "bob", billing.StatusLimited)
	for _, tc := range []struct {
		name, account, want string
	}{
		{"visitor", "", `"processedString":"127.0.0.1"`},
		{"subscriber", strconv.FormatInt(alice, 10), `"line":{"down_kbps":100000,"up_kbps":50000,"limited":false`},
		{"limited", strconv.FormatInt(limited, 10), `"limited":true`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, p := range []string{"/speedtest/backend/getIP?isp=true&distance=km", "/speedtest/backend/getIP.php"} {
				resp, b := do(t, "GET", srv.URL+p, tc.account, nil)
				if resp.StatusCode != 200 || !strings.Contains(string(b), tc.want) {
					t.Errorf("%s: %d %s; want %s", p, resp.StatusCode, b, tc.want)
				}
			}
		})
	}
}

func TestTelemetry(t *testing.T) { storetest.Each(t, testTelemetry) }

func testTelemetry(t *testing.T, db *store.DB) {
	srv, svc, db := newServerOn(t, db)
	alice := addAccount(t, db, "alice", billing.StatusActive)
	bob := addAccount(t, db, "bob", billing.StatusActive)
	form := func(dl, ul, ping, jitter string) io.Reader {
		return strings.NewReader(url.Values{"dl": {dl}, "ul": {ul}, "ping": {ping}, "jitter": {jitter}, "ispinfo": {"{}"}, "log": {""}, "extra": {""}}.Encode())
	}
	for _, tc := range []struct {
		name, path, account string
		body                io.Reader
		status              int
		want                string
	}{
		{"saved", "/speedtest/results/telemetry", strconv.FormatInt(alice, 10), form("93.50", "48.2", "3.21", "0.50"), 200, "id 1"},
		{"slow, .php", "/speedtest/results/telemetry.php", strconv.FormatInt(alice, 10), form("20", "", "12", "4"), 200, "id 2"},
		{"visitor not kept", "/speedtest/results/telemetry", "", form("1", "1", "1", "1"), 403, ""},
		{"negative", "/speedtest/results/telemetry", strconv.FormatInt(alice, 10), form("-1", "1", "1", "1"), 400, ""},
		{"garbage", "/speedtest/results/telemetry", strconv.FormatInt(alice, 10), form("fast", "1", "1", "1"), 400, ""},
		{"absurd", "/speedtest/results/telemetry", strconv.FormatInt(alice, 10), form("1e9", "1", "1", "1"), 400, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, b := do(t, "POST", srv.URL+tc.path, tc.account, tc.body)
			if resp.StatusCode != tc.status || (tc.want != "" && string(b) != tc.want) {
				t.Errorf("%d %q, want %d %q", resp.StatusCode, b, tc.status, tc.want)
			}
		})
	}
	h, err := svc.History(context.Background(), alice, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(h) != 2 {
		t.Fatalf("history has %d results, want 2: %+v", len(h), h)
	}
	if h[0].ID != 2 || h[0].DownKbps != 20000 || h[0].UpKbps != 0 || h[0].Verdict() != speedtest.VerdictSlow || h[0].DownPercent() != 20 {
		t.Errorf("newest %+v (verdict %s)", h[0], h[0].Verdict())
	}
	if r := h[1]; r.DownKbps != 93500 || r.UpKbps != 48200 || r.Ping != 3210*time.Microsecond || r.Jitter != 500*time.Microsecond ||
		r.TariffDownKbps != 100000 || r.Verdict() != speedtest.VerdictGood || r.IP != "127.0.0.1" || !r.At.Equal(now) {
		t.Errorf("first %+v (verdict %s)", r, r.Verdict())
	}
	if other, _ := svc.History(context.Background(), bob, 0); len(other) != 0 {
		t.Errorf("bob sees %d results of alice's", len(other))
	}
}

// chromium finds Debian's Chromium, or skips saying so.
func chromium(t *testing.T) string {
	for _, p := range []string{os.Getenv("KABINET_CHROMIUM"), "/usr/bin/chromium", "/usr/bin/chromium-browser"} {
		if p != "" {
			if _, err := os.Stat(p); err == nil {
				return p
			}
		}
	}
	t.Skip("browser test skipped: no Chromium (apt-get install -y chromium, or set KABINET_CHROMIUM)")
	return ""
}

// TestBrowserRun runs the page's client, which makes LibreSpeed's requests,
// in headless Chromium against the backend and checks the stored result.
func TestBrowserRun(t *testing.T) {
	bin := chromium(t)
	db := testDB(t)
	clk := clock.NewFake(now)
	svc := speedtest.New(db, clk, billing.New(db, clk, billing.DefaultRules()))
	alice := addAccount(t, db, "alice", billing.StatusActive)
	mux := http.NewServeMux()
	// The browser has no test header: every request is alice's, as if she
	// were logged in.
	New(svc, func(*http.Request) (int64, bool) { return alice, true }).Register(mux)
	srv := httptest.NewServer(mux)
	defer srv.Close()

	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(bin), chromedp.Flag("headless", true),
		chromedp.NoSandbox, chromedp.DisableGPU, chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true), chromedp.Flag("disable-sync", true), chromedp.NoFirstRun)
	actx, cancel := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancel()
	ctx, cancel := chromedp.NewContext(actx)
	defer cancel()
	ctx, cancel = context.WithTimeout(ctx, 90*time.Second)
	defer cancel()
	err := chromedp.Do(ctx,
		chromedp.Navigate(srv.URL+"/speedtest/?auto=1&time=1&grace=0.3&pings=4&streams=2"),
		chromedp.WaitVisible(`body[data-state="done"], body[data-state="failed"]`),
	)
	if err != nil {
		t.Fatalf("browser: %v", err)
	}
	page, err := chromedp.Run(ctx, chromedp.Evaluate[map[string]string](`(() => {
		const t = id => document.getElementById(id).textContent;
		return {state: document.body.dataset.state, status: t("st-status"), dl: t("st-dl"), ul: t("st-ul"),
			ping: t("st-ping"), verdict: t("st-verdict"), line: t("st-line")};
	})()`))
	if err != nil {
		t.Fatalf("browser: %v", err)
	}
	state, status, dl, ul, ping, verdict := page["state"], page["status"], page["dl"], page["ul"], page["ping"], page["verdict"]
	t.Logf("browser: state=%s status=%q dl=%q ul=%q ping=%q verdict=%q", state, status, dl, ul, ping, verdict)
	if state != "done" {
		t.Fatalf("test did not finish: %s", status)
	}
	h, err := svc.History(context.Background(), alice, 0)
	if err != nil || len(h) != 1 {
		t.Fatalf("history %v %v", h, err)
	}
	if h[0].DownKbps <= 0 || h[0].UpKbps <= 0 || h[0].TariffDownKbps != 100000 {
		t.Errorf("stored %+v", h[0])
	}
	if !strings.Contains(status, strconv.FormatInt(h[0].ID, 10)) || verdict == "" {
		t.Errorf("page status %q verdict %q", status, verdict)
	}
}
