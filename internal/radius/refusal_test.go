package radius

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/kabinet-billing/kabinet/internal/derrors"
)

func TestLookupRefused(t *testing.T) {
	for _, c := range []struct {
		name string
		err  error
		want rejectReason
	}{
		{"found", nil, ""},
		{"unknown login", derrors.NotFound, reasonNoLogin},
		{"unknown login, wrapped", fmt.Errorf("subscriber: %w", derrors.NotFound), reasonNoLogin},
		{"database away", derrors.Unavailable, reasonDirectory},
		{"timed out", context.DeadlineExceeded, reasonDirectory},
		{"unexpected", errors.New("disk on fire"), reasonDirectory},
	} {
		if got := lookupRefused(c.err); got != c.want {
			t.Errorf("%s: %q, want %q", c.name, got, c.want)
		}
	}
}
