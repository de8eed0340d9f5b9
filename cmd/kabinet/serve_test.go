package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/kabinet-billing/kabinet/internal/clock"
	"github.com/kabinet-billing/kabinet/internal/config"
	"github.com/kabinet-billing/kabinet/internal/payment"
)

// serve refuses to start on a config that would do harm in production: a
// misspelt key (silently ignored, the setting meant never applies), no
// [provider] (the built-in made-up company would reach statements), the
// sandbox processor without allow_sandbox (free money).
func TestServeRefusesUnsafeConfig(t *testing.T) {
	const provider = "[provider]\nname = \"Провайдер\"\ninn = \"7700000000\"\n"
	const sandbox = "[[payment.processors]]\nkind = \"sandbox\"\nsecret = \"s\"\n"
	for name, tc := range map[string]struct{ text, want string }{
		"misspelt key":          {provider + "[web]\ntrusted_proxys = [\"127.0.0.1\"]\n", `line 5: unknown key "web.trusted_proxys"`},
		"no provider":           {"[billing]\nzone = \"Europe/Moscow\"\n", "no [provider]"},
		"sandbox without allow": {provider + "[payment]\n" + sandbox, "allow_sandbox"},
	} {
		dir := t.TempDir()
		cfg := filepath.Join(dir, "kabinet.toml")
		if err := os.WriteFile(cfg, []byte(tc.text), 0o600); err != nil {
			t.Fatal(err)
		}
		code, _, errOut := kabinet(t, "--db", "sqlite:"+filepath.Join(dir, "k.db"), "--config", cfg, "serve", "--addr", "127.0.0.1:0")
		if code != 2 || !strings.Contains(errOut, tc.want) {
			t.Errorf("%s: exit %d, %q; want 2 and %q", name, code, errOut, tc.want)
		}
	}
}

// While the sandbox processor runs, every back-office page says so in red,
// in the operator's language; without it, nothing is said.
func TestSandboxBanner(t *testing.T) {
	const ru, en = "тестовый платёжный шлюз", "sandbox card processor is on"
	shown := func(h http.Handler) (inRU, inEN bool) {
		ts := httptest.NewServer(h)
		defer ts.Close()
		jar, _ := cookiejar.New(nil)
		c := &http.Client{Jar: jar}
		get := func() string {
			res, err := c.Get(ts.URL + "/admin/login")
			if err != nil {
				t.Fatal(err)
			}
			defer res.Body.Close()
			b, _ := io.ReadAll(res.Body)
			return string(b)
		}
		page := get()
		inRU = strings.Contains(page, ru) && strings.Contains(page, "sandbox-banner")
		token := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindStringSubmatch(page)
		if token == nil {
			t.Fatal("no form token on the login page")
		}
		req, _ := http.NewRequest("POST", ts.URL+"/lang", strings.NewReader(url.Values{"csrf": {token[1]}, "lang": {"en"}, "back": {"/admin/login"}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if res, err := c.Do(req); err != nil {
			t.Fatal(err)
		} else {
			res.Body.Close()
		}
		page = get()
		inEN = strings.Contains(page, en) && strings.Contains(page, "sandbox-banner")
		return inRU, inEN
	}
	for _, tc := range []struct {
		name    string
		payment config.Payment
		want    bool
	}{
		{"sandbox", config.Payment(payment.DemoConfig()), true},
		{"no sandbox", config.Payment{}, false},
	} {
		dir := t.TempDir()
		e := &env{dsn: "sqlite:" + filepath.Join(dir, "k.db"), stdout: io.Discard, stderr: io.Discard, clock: clock.System}
		base := config.Default()
		base.Payment = tc.payment
		base.Radius.Disabled = true
		e.base = &base
		if err := e.open(context.Background()); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { e.db.Close() })
		a, err := buildApp(context.Background(), e)
		if err != nil {
			t.Fatal(err)
		}
		h, err := a.handler()
		if err != nil {
			t.Fatal(err)
		}
		if inRU, inEN := shown(h); inRU != tc.want || inEN != tc.want {
			t.Errorf("%s: banner in Russian %v, in English %v; want %v", tc.name, inRU, inEN, tc.want)
		}
	}
}

// A client trickling a request body a byte at a time (the speed test's
// upload takes any body) is cut off once [web] body_timeout has passed,
// and one that sends no headers once read_header_timeout has.
func TestHTTPTimeouts(t *testing.T) {
	wc := config.Web{ReadHeaderTimeout: 300 * time.Millisecond, BodyTimeout: 300 * time.Millisecond, IdleTimeout: time.Second}
	bodyErr := make(chan error, 1)
	srv := httpServer(wc, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, err := io.Copy(io.Discard, r.Body)
		bodyErr <- err
	}))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	defer srv.Close()

	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	fmt.Fprintf(c, "POST /backend/empty.php HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000\r\n\r\n")
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		for {
			select {
			case <-stop:
				return
			case <-time.After(50 * time.Millisecond):
				if _, err := c.Write([]byte{'x'}); err != nil {
					return
				}
			}
		}
	}()
	select {
	case err := <-bodyErr:
		if err == nil {
			t.Error("the trickled body was read to its end")
		}
	case <-time.After(5 * time.Second):
		t.Fatal("a body trickled a byte every 50 ms is still being read after 5 s")
	}

	// Headers that never end.
	h, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	fmt.Fprintf(h, "GET / HTTP/1.1\r\nHost: x\r\n")
	h.SetReadDeadline(time.Now().Add(5 * time.Second))
	start := time.Now()
	io.Copy(io.Discard, h) // returns when the server closes the connection
	if took := time.Since(start); took > 3*time.Second {
		t.Errorf("unfinished headers held the connection %v", took)
	}
}
