package radius

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"
)

// A Subscriber or a NAS logged whole shows who it is, not its secret.
func TestLogValueHidesSecrets(t *testing.T) {
	var b bytes.Buffer
	log := slog.New(slog.NewTextHandler(&b, &slog.HandlerOptions{Level: slog.LevelDebug}))
	nas := NAS{ID: 7, Name: "nas1", Addr: nasAddr, Secret: testSecret, Kind: KindMikrotik}
	log.Debug("x", "sub", alice, "nas", nas)
	slog.New(slog.NewJSONHandler(&b, nil)).Info("y", "sub", alice, "nas", nas)
	out := b.String()
	if strings.Contains(out, alice.Password) || strings.Contains(out, testSecret) {
		t.Errorf("a secret was logged:\n%s", out)
	}
	for _, want := range []string{"sub.login=alice", "nas.name=nas1", `"login":"alice"`, `"addr":"127.0.0.1"`} {
		if !strings.Contains(out, want) {
			t.Errorf("the log lacks %s:\n%s", want, out)
		}
	}
}
