package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func write(t *testing.T, text string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "kabinet.toml")
	if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// A misspelt key is refused, naming the key and its line, wherever it is.
func TestLoadRefusesUnknownKeys(t *testing.T) {
	for name, tc := range map[string]struct{ text, want string }{
		"top level": {"db = \"sqlite:x.db\"\nhttp_adr = \"127.0.0.1:1\"\n", `line 2: unknown key "http_adr"`},
		"in a section": {"[billing]\nzone = \"Europe/Moscow\"\n\n[web]\n# proxies\ntrusted_proxy = [\"127.0.0.1\"]\n",
			`line 6: unknown key "web.trusted_proxy"`},
		"a misspelt section": {"db = \"sqlite:x.db\"\n[netflw]\naddr = \":2055\"\n", `line 2: unknown key "netflw"`},
		"in an array of tables": {"[payment]\n[[payment.processors]]\nkind = \"chronopay\"\nsecrte = \"x\"\n",
			`line 4: unknown key "payment.processors.secrte"`},
		"a dotted key": {"mail.hots = \"smtp.example\"\n", `line 1: unknown key "mail.hots"`},
	} {
		_, err := Load(write(t, tc.text))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: got %v, want %q", name, err, tc.want)
		}
	}
}

// The file is decoded once into every section; what it does not give
// keeps its default; the environment overrides the file.
func TestLoadSections(t *testing.T) {
	p := write(t, `public_url = "https://my.example"
shutdown_timeout = "5s"
[provider]
name = "Провайдер"
[web]
trusted_proxies = ["10.0.0.0/8"]
idle_timeout = "1m"
[radius]
acct_addr = ":11813"
[netflow]
addr = ":2055"
[mail]
host = "smtp.example"
[site]
redirect_from = ["/lk/"]
[payment]
allow_sandbox = true
[[payment.processors]]
kind = "sandbox"
options = { late_after = "30s" }
[[payment.osmp]]
name = "sber"
[payment.osmp.registry]
txn_id = 5
`)
	t.Setenv("KABINET_PUBLIC_URL", "https://env.example")
	t.Setenv("KABINET_LIMIT_KBPS", "256")
	c, err := Load(p)
	if err != nil {
		t.Fatal(err)
	}
	checks := map[string]bool{
		"env public_url":  c.PublicURL == "https://env.example",
		"env limit":       c.Billing.LimitKbps == 256,
		"shutdown":        c.ShutdownTimeout == 5*time.Second,
		"provider":        c.Provider.Name == "Провайдер" && c.Given("provider"),
		"web":             c.Web.TrustedProxies[0] == "10.0.0.0/8" && c.Web.IdleTimeout == time.Minute,
		"web default":     c.Web.ReadHeaderTimeout == 10*time.Second,
		"radius":          c.Radius.Acct == ":11813",
		"netflow":         c.NetFlow.Addr == ":2055",
		"mail":            c.Mail.Host == "smtp.example",
		"site":            c.Site.RedirectFrom[0] == "/lk/",
		"payment":         c.Payment.AllowSandbox && c.Payment.Processors[0].Options["late_after"] == "30s",
		"registry":        c.Payment.OSMP[0].Registry.TxnID == 5,
		"billing default": c.Billing.Zone == "Europe/Moscow" && !c.Given("billing"),
		"tls not given":   !c.Given("tls"),
	}
	for name, ok := range checks {
		if !ok {
			t.Errorf("%s: %+v", name, c)
		}
	}
	if d := Default(); d.Given("provider") {
		t.Error("the defaults claim a [provider] from a file")
	}
}
