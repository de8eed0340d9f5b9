package phone_test

import (
	"errors"
	"testing"

	"github.com/kabinet-billing/kabinet/internal/phone"
)

func TestNormalize(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"+7 (910) 123-45-67", "+79101234567"},
		{"8 910 123 45 67", "+79101234567"},
		{"89101234567", "+79101234567"},
		{"79101234567", "+79101234567"},
		{"9101234567", "+79101234567"},
		{"8\u00a0910\u00a0123.45.67", "+79101234567"},
		{"(4822) 55-00-00", "+74822550000"},
		{"", "missing"},
		{"   ", "missing"},
		{"123", "invalid"},
		{"+380 44 123 45 67", "invalid"},
		{"+8 910 123 45 67", "invalid"},
		{"8 910 123 45 67 доб. 5", "invalid"},
		{"+7 910 123 45 67 8", "invalid"},
	} {
		got, err := phone.Normalize(c.in)
		switch {
		case c.want == "missing":
			if !errors.Is(err, phone.ErrMissing) {
				t.Errorf("%q: %q %v, want no phone", c.in, got, err)
			}
		case c.want == "invalid":
			if !errors.Is(err, phone.ErrInvalid) {
				t.Errorf("%q: %q %v, want a bad number", c.in, got, err)
			}
		case got != c.want || err != nil:
			t.Errorf("%q: %q %v, want %q", c.in, got, err, c.want)
		}
	}
	if !phone.Mobile("+79101234567") || phone.Mobile("+74822550000") {
		t.Error("Mobile: +79… is a mobile number, +74822… a landline")
	}
}
