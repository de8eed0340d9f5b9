package main

import (
	"path/filepath"
	"strings"
	"testing"
)

// TestNotifySend: a broadcast from the command line counts (--dry-run),
// queues one message per reachable subscriber, and the same command again
// queues nothing; bad flags are one-line errors with exit 2.
func TestNotifySend(t *testing.T) {
	t.Setenv("KABINET_DB", "sqlite:"+filepath.Join(t.TempDir(), "k.db"))
	steps := []struct {
		args   []string
		code   int
		out    string
		errOut string
	}{
		{[]string{"city", "add", "--code", "tver", "--name", "Тверь"}, 0, "", ""},
		{[]string{"tariff", "add", "--code", "home100", "--name", "Дом 100", "--fee", "500", "--down", "100M", "--up", "100M"}, 0, "home100", ""},
		{[]string{"account", "create", "--login", "ivanov", "--password", "secret123", "--tariff", "home100", "--city", "tver", "--email", "ivanov@example.net"}, 0, "created", ""},
		{[]string{"account", "create", "--login", "petrov", "--password", "secret123", "--tariff", "home100", "--email", "petrov@example.net"}, 0, "created", ""},
		{[]string{"notify", "send", "--city", "tver", "--channel", "email", "--text", "Плановые работы", "--dry-run"}, 0, "1 recipients", ""},
		{[]string{"notify", "send", "--city", "tver", "--channel", "email", "--text", "Плановые работы"}, 0, "queued 1 messages", ""},
		{[]string{"notify", "send", "--city", "tver", "--channel", "email", "--text", "Плановые работы"}, 0, "queued 0 messages", ""},
		{[]string{"notify", "send", "--all", "--channel", "email", "--text", "Всем", "--id", "all-1"}, 0, "queued 2 messages", ""},
		{[]string{"notify", "send", "--all", "--city", "tver", "--channel", "email", "--text", "x"}, 2, "", "exactly one of"},
		{[]string{"notify", "send", "--all", "--channel", "pigeon", "--text", "x"}, 2, "", "--channel \"pigeon\""},
		{[]string{"notify", "send", "--all", "--channel", "sms"}, 2, "", "--text is required"},
	}
	for _, s := range steps {
		code, out, errOut := kabinet(t, s.args...)
		if code != s.code || !strings.Contains(out, s.out) || !strings.Contains(errOut, s.errOut) {
			t.Errorf("kabinet %s: exit %d, stdout %q, stderr %q; want exit %d with %q / %q", strings.Join(s.args, " "), code, out, errOut, s.code, s.out, s.errOut)
		}
	}
}
