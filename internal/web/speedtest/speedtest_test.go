package speedtest

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"mime/multipart"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/kabinet-billing/kabinet/internal/billing"
	"github.com/kabinet-billing/kabinet/internal/browsertest"
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
		// LibreSpeed's backend serves its default for a ckSize it cannot read.
		{"/speedtest/backend/garbage?ckSize=0", 200, 4 << 20},
		{"/speedtest/backend/garbage?ckSize=x", 200, 4 << 20},
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

func TestChunks(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want int
	}{
		{"", 4}, {"1", 1}, {"100", 100}, {"1024", 1024}, {"1025", 1024}, {"99999999999999999999999", 1024},
		{"0", 4}, {"-1", 4}, {"+5", 4}, {"x", 4}, {"1.5", 4}, {" 3", 4},
	} {
		if got := chunks(tc.in); got != tc.want {
			t.Errorf("chunks(%q) = %d, want %d", tc.in, got, tc.want)
		}
	}
}

// TestCORS: LibreSpeed's multi-server mode adds cors=true to every request,
// and the upload's Content-Encoding header makes the browser ask first.
func TestCORS(t *testing.T) {
	srv, _, _ := newServer(t)
	for _, tc := range []struct {
		method, path string
		status       int
		cors         bool
	}{
		{"OPTIONS", "/speedtest/backend/empty?cors=true&r=0.1", 200, true},
		{"OPTIONS", "/speedtest/backend/empty.php?cors=true", 200, true},
		{"POST", "/speedtest/backend/empty?cors=true&r=0.2", 200, true},
		{"GET", "/speedtest/backend/empty?cors=true", 200, true},
		{"GET", "/speedtest/backend/garbage?cors=true&ckSize=1", 200, true},
		{"GET", "/speedtest/backend/getIP?cors=true", 200, true},
		{"GET", "/speedtest/backend/empty", 200, false},
		{"GET", "/speedtest/backend/getIP", 200, false},
	} {
		t.Run(tc.method+" "+tc.path, func(t *testing.T) {
			req, _ := http.NewRequest(tc.method, srv.URL+tc.path, strings.NewReader("x"))
			req.Header.Set("Origin", "https://speedtest.example.org")
			req.Header.Set("Access-Control-Request-Method", "POST")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tc.status {
				t.Errorf("status %d, want %d", resp.StatusCode, tc.status)
			}
			origin, headers := resp.Header.Get("Access-Control-Allow-Origin"), resp.Header.Get("Access-Control-Allow-Headers")
			if tc.cors && (origin != "*" || !strings.Contains(headers, "Content-Encoding") || !strings.Contains(resp.Header.Get("Access-Control-Allow-Methods"), "POST")) {
				t.Errorf("CORS headers: origin %q, headers %q", origin, headers)
			}
			if !tc.cors && origin != "" {
				t.Errorf("Access-Control-Allow-Origin %q without cors", origin)
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
	// LibreSpeed's speedtest_worker.js sends a FormData: multipart.
	var multi bytes.Buffer
	mw := multipart.NewWriter(&multi)
	for _, kv := range [][2]string{{"ispinfo", `{"processedString":"127.0.0.1","rawIspInfo":""}`}, {"dl", "55.10"}, {"ul", "30.00"},
		{"ping", "4.00"}, {"jitter", "1.00"}, {"log", ""}, {"extra", ""}} {
		mw.WriteField(kv[0], kv[1])
	}
	mw.Close()
	for _, tc := range []struct {
		name, path, account string
		body                io.Reader
		status              int
		want                string
		contentType         string
	}{
		{"saved", "/speedtest/results/telemetry", strconv.FormatInt(alice, 10), form("93.50", "48.2", "3.21", "0.50"), 200, "id 1", ""},
		{"slow, .php", "/speedtest/results/telemetry.php", strconv.FormatInt(alice, 10), form("20", "", "12", "4"), 200, "id 2", ""},
		{"visitor not kept", "/speedtest/results/telemetry", "", form("1", "1", "1", "1"), 403, "", ""},
		{"negative", "/speedtest/results/telemetry", strconv.FormatInt(alice, 10), form("-1", "1", "1", "1"), 400, "", ""},
		{"garbage", "/speedtest/results/telemetry", strconv.FormatInt(alice, 10), form("fast", "1", "1", "1"), 400, "", ""},
		{"absurd", "/speedtest/results/telemetry", strconv.FormatInt(alice, 10), form("1e9", "1", "1", "1"), 400, "", ""},
		{"librespeed multipart", "/speedtest/results/telemetry.php?r=0.5", strconv.FormatInt(bob, 10), &multi, 200, "id 3", mw.FormDataContentType()},
		{"broken multipart", "/speedtest/results/telemetry", strconv.FormatInt(bob, 10), strings.NewReader("--x\r\nnot a part"), 400, "", "multipart/form-data; boundary=x"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := http.NewRequest("POST", srv.URL+tc.path, tc.body)
			if tc.account != "" {
				req.Header.Set("X-Account", tc.account)
			}
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			if tc.contentType != "" {
				req.Header.Set("Content-Type", tc.contentType)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
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
	if other, _ := svc.History(context.Background(), bob, 0); len(other) != 1 || other[0].DownKbps != 55100 || other[0].UpKbps != 30000 || other[0].Ping != 4*time.Millisecond {
		t.Errorf("bob's history (his multipart result only) = %+v", other)
	}
}

// TestBrowserRun runs the page's client, which makes LibreSpeed's requests,
// in headless Chromium against the backend and checks the stored result.
func TestBrowserRun(t *testing.T) {
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

	ctx := browsertest.Context(t, 90*time.Second)
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
			ping: t("st-ping"), verdict: t("st-verdict"), ip: t("st-ip"), id: document.body.dataset.resultId || ""};
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
	if page["id"] != strconv.FormatInt(h[0].ID, 10) || verdict == "" {
		t.Errorf("page result %q, status %q, verdict %q", page["id"], status, verdict)
	}
	// The measured speed against the tariff's in the page's language
	// (headless Chromium asks for English whatever its flags; the portal's
	// test checks the Russian "94,3 Мбит/с из 100"), one decimal at most,
	// and no raw "IP - 100M/50M" line.
	ru := regexp.MustCompile(`^[0-9\x{a0} ]+(,[0-9])? Мбит/с из 100$`)
	en := regexp.MustCompile(`^[0-9,]+(\.[0-9])? of 100 Mbit/s$`)
	if !ru.MatchString(dl) && !en.MatchString(dl) || !regexp.MustCompile(`^[0-9]+([.,][0-9])? (мс|ms)$`).MatchString(ping) {
		t.Errorf("download %q, ping %q: want \"94,3 Мбит/с из 100\" and \"2,1 мс\" (or in English)", dl, ping)
	}
	if strings.Contains(page["ip"], "M/") || strings.Contains(verdict, "%") {
		t.Errorf("raw line %q or a percentage in the verdict %q", page["ip"], verdict)
	}
}

// blockingBody is an upload that sends nothing until released.
type blockingBody struct{ release chan struct{} }

func (b blockingBody) Read([]byte) (int, error) { <-b.release; return 0, io.EOF }

// TestPerAddressLimit: one address (an IPv6 client's /64) holds at most
// PerAddress backend requests at a time, whatever its ports.
func TestPerAddressLimit(t *testing.T) {
	h := New(nil, nil)
	h.Limits.PerAddress = 2
	mux := http.NewServeMux()
	h.Register(mux)
	release := make(chan struct{})
	var done []chan int
	hold := func(remote string) {
		req := httptest.NewRequest("POST", "/speedtest/backend/empty", blockingBody{release})
		req.RemoteAddr = remote
		ch := make(chan int, 1)
		go func() { w := httptest.NewRecorder(); mux.ServeHTTP(w, req); ch <- w.Code }()
		done = append(done, ch)
	}
	// Each held request must be counted before the next is tried.
	waitBusy := func(n int) {
		deadline := time.Now().Add(5 * time.Second)
		for {
			h.busy.mu.Lock()
			total := 0
			for _, v := range h.busy.n {
				total += v
			}
			h.busy.mu.Unlock()
			if total == n {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("%d requests in flight, want %d", total, n)
			}
			time.Sleep(time.Millisecond) // waiting for goroutines, not for a clock
		}
	}
	hold("192.0.2.1:1000")
	hold("192.0.2.1:1001")
	hold("[2001:db8:1:2::1]:40000")
	hold("[2001:db8:1:2::ffff]:40001")
	waitBusy(4)
	for _, tc := range []struct {
		remote string
		status int
	}{
		{"192.0.2.1:2000", 429},           // same address, another port
		{"[2001:db8:1:2:abcd::9]:5", 429}, // same /64
		{"192.0.2.2:1000", 200},           // another address
		{"[2001:db8:1:3::1]:1000", 200},   // another /64
	} {
		req := httptest.NewRequest("GET", "/speedtest/backend/garbage?ckSize=1", nil)
		req.RemoteAddr = tc.remote
		w := httptest.NewRecorder()
		mux.ServeHTTP(w, req)
		if w.Code != tc.status {
			t.Errorf("%s: status %d, want %d", tc.remote, w.Code, tc.status)
		}
	}
	close(release)
	for _, ch := range done {
		if code := <-ch; code != 200 {
			t.Errorf("held upload answered %d", code)
		}
	}
	waitBusy(0)
	req := httptest.NewRequest("GET", "/speedtest/backend/empty", nil)
	req.RemoteAddr = "192.0.2.1:3000"
	w := httptest.NewRecorder()
	mux.ServeHTTP(w, req)
	if w.Code != 200 {
		t.Errorf("after the uploads ended: status %d, want 200", w.Code)
	}
}

// TestUploadTrickle: an upload that trickles, or stalls, is cut, where it
// used to hold the connection for as long as the client liked. Socket
// deadlines run on the wall clock, so the limits are a fraction of a second.
func TestUploadTrickle(t *testing.T) {
	h := New(nil, nil)
	h.Limits = Limits{PerAddress: 10, UploadIdle: 300 * time.Millisecond, UploadMax: 3 * time.Second,
		UploadMinRate: 1000, UploadGrace: 200 * time.Millisecond}
	mux := http.NewServeMux()
	h.Register(mux)
	srv := httptest.NewServer(mux)
	defer srv.Close()
	for _, tc := range []struct {
		name  string
		every time.Duration // between single bytes; 0 sends all at once
		bytes int
		want  int
	}{
		{"whole body", 0, 5000, 200},
		{"trickle below the rate", 50 * time.Millisecond, 1000, 408},
		{"stalled", time.Hour, 1000, 408},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := net.Dial("tcp", srv.Listener.Addr().String())
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			// The client gives up long after the server should have.
			c.SetDeadline(time.Now().Add(5 * time.Second))
			fmt.Fprintf(c, "POST /speedtest/backend/empty HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n", tc.bytes)
			if tc.every == 0 {
				c.Write(make([]byte, tc.bytes))
			} else {
				go func() {
					for range tc.bytes {
						if _, err := c.Write([]byte{0}); err != nil {
							return
						}
						time.Sleep(tc.every) // the trickling client's pace
					}
				}()
			}
			resp, err := http.ReadResponse(bufio.NewReader(c), nil)
			if err != nil {
				t.Fatalf("no answer: %v", err)
			}
			resp.Body.Close()
			if resp.StatusCode != tc.want {
				t.Errorf("status %d, want %d", resp.StatusCode, tc.want)
			}
		})
	}
}
