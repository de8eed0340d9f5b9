package derrors_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/kabinet-billing/kabinet/internal/derrors"
)

func TestKindsAndCodes(t *testing.T) {
	funds := derrors.New(derrors.Conflict, "funds", "not enough money")
	for _, c := range []struct {
		name        string
		err         error
		kind        error
		code, field string
	}{
		{"bare kind", derrors.NotFound, derrors.NotFound, "", ""},
		{"wrapped kind", fmt.Errorf("tariff %q: %w", "x", derrors.NotFound), derrors.NotFound, "", ""},
		{"specific", funds, derrors.Conflict, "funds", ""},
		{"wrapped specific", fmt.Errorf("connect: %w", funds), derrors.Conflict, "funds", ""},
		{"field", fmt.Errorf("save: %w", derrors.Invalidf("email", "email", "bad e-mail %q", "x")), derrors.Invalid, "email", "email"},
		{"unexpected", errors.New("disk on fire"), nil, "", ""},
		{"nil", nil, nil, "", ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			if k := derrors.Kind(c.err); k != c.kind {
				t.Errorf("Kind = %v, want %v", k, c.kind)
			}
			if got := derrors.Code(c.err); got != c.code {
				t.Errorf("Code = %q, want %q", got, c.code)
			}
			if got := derrors.Field(c.err); got != c.field {
				t.Errorf("Field = %q, want %q", got, c.field)
			}
		})
	}
	if !errors.Is(fmt.Errorf("x: %w", funds), funds) {
		t.Error("a specific error is no longer found by errors.Is")
	}
}
