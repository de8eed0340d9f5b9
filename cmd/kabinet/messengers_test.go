package main

import (
	"encoding/json"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kabinet-billing/kabinet/internal/smpp/smsctest"
	"github.com/kabinet-billing/kabinet/internal/telegram/telegramtest"
)

// The operator's checks of [telegram] and [sms]: `telegram check` names
// the bot and the mode serve will use; `sms send` hands an SMS to the
// aggregator and reports its receipt; missing settings and bad input are
// one-line errors with exit code 2.
func TestCLIMessengers(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("KABINET_DB", "sqlite:"+filepath.Join(dir, "k.db"))
	fake := telegramtest.Start(t)
	smsc := smsctest.Start(t, "kabinet", "pw")
	host, port, _ := net.SplitHostPort(smsc.Addr())
	cfg := filepath.Join(dir, "kabinet.toml")
	text := fmt.Sprintf("public_url = \"https://lk.example\"\n[telegram]\ntoken = %q\napi_url = %q\n[sms]\nhost = %q\nport = %s\nsystem_id = \"kabinet\"\npassword = \"pw\"\nsource_addr = \"SetRegion\"\n",
		telegramtest.Token, fake.URL(), host, port)
	if err := os.WriteFile(cfg, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := kabinet(t, "--config", cfg, "telegram", "check", "--json")
	var got map[string]string
	if code != 0 || json.Unmarshal([]byte(out), &got) != nil || got["username"] != telegramtest.BotUsername || got["mode"] != "webhook" ||
		got["webhook"] != "https://lk.example/telegram/webhook" {
		t.Fatalf("telegram check: %d %s %s", code, out, errOut)
	}
	code, out, errOut = kabinet(t, "--config", cfg, "sms", "send", "--to", "8 (910) 123-45-67", "--text", "Проверка SMS из Kabinet", "--wait", "5s")
	if code != 0 || !strings.Contains(out, "delivered") {
		t.Fatalf("sms send: %d %s %s", code, out, errOut)
	}
	if got := smsc.Texts("79101234567"); len(got) != 1 || got[0] != "Проверка SMS из Kabinet" {
		t.Errorf("the SMSC got %q", got)
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"sms", "send", "--to", "123", "--text", "x"}, "phone"},
		{[]string{"--config", cfg, "sms", "send", "--to", "9101234567"}, "--text"},
		{[]string{"sms", "send", "--to", "9101234567", "--text", "x"}, "[sms] host is empty"},
		{[]string{"telegram", "check"}, "@BotFather"},
	} {
		if code, _, errOut := kabinet(t, c.args...); code != 2 || !strings.Contains(errOut, c.want) {
			t.Errorf("kabinet %s: %d %s, want exit 2 saying %q", strings.Join(c.args, " "), code, errOut, c.want)
		}
	}
}
