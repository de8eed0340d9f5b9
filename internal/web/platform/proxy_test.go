package platform

import (
	"testing"

	"github.com/kabinet-billing/kabinet/internal/config"
)

func TestTrustedProxiesConfig(t *testing.T) {
	if ps, err := TrustedProxies(config.Default()); err != nil || len(ps) != 0 {
		t.Errorf("default: %v %v, want no proxy trusted", ps, err)
	}
}
