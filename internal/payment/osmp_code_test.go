package payment

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/kabinet-billing/kabinet/internal/derrors"
)

func TestOSMPCode(t *testing.T) {
	for _, c := range []struct {
		name string
		err  error
		want OSMPResult
	}{
		{"paid", nil, OSMPOK},
		{"no such account", fmt.Errorf("account %q: %w", "x", errAccountNotFound), OSMPAccountNotFound},
		{"any missing thing", derrors.NotFound, OSMPAccountNotFound},
		{"closed contract", errAccountInactive, OSMPAccountInactive},
		{"txn_id repeated otherwise", errTxnConflict, OSMPOther},
		{"bad input", derrors.Invalidf("account", "", "x"), OSMPBadAccount},
		{"forbidden", derrors.Forbidden, OSMPForbidden},
		{"database away", derrors.Unavailable, OSMPTemporary},
		{"timed out", context.DeadlineExceeded, OSMPTemporary},
		{"unexpected", errors.New("disk on fire"), OSMPTemporary},
	} {
		if got := osmpCode(c.err); got != c.want {
			t.Errorf("%s: %d, want %d", c.name, got, c.want)
		}
	}
}
