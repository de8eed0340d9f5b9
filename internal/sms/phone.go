package sms

import (
	"fmt"
	"strings"

	"github.com/kabinet-billing/kabinet/internal/derrors"
)

// Refusals: the subscriber has no phone, or one that is not a Russian
// mobile-or-landline number Kabinet can write to.
var (
	ErrNoPhone error = derrors.New(derrors.Invalid, "no_phone", "the subscriber has no phone number")
	ErrPhone   error = &derrors.Error{Kind: derrors.Invalid, Code: "phone", Field: "phone", Msg: "not a Russian phone number"}
)

// NormalizePhone writes a Russian number as +7 and ten digits, however the
// contract wrote it: "8 (910) 123-45-67", "+7 910 123 45 67", "9101234567",
// "79101234567". Anything else (a foreign number, too few digits) is
// ErrPhone; an empty one ErrNoPhone.
func NormalizePhone(s string) (string, error) {
	var d strings.Builder
	for _, c := range s {
		switch {
		case c >= '0' && c <= '9':
			d.WriteRune(c)
		case c == '+' || c == ' ' || c == '-' || c == '(' || c == ')' || c == '.' || c == '\u00a0':
		default:
			return "", fmt.Errorf("phone %q: %w", s, ErrPhone)
		}
	}
	digits := d.String()
	switch {
	case digits == "":
		return "", ErrNoPhone
	case len(digits) == 10:
		digits = "7" + digits
	case len(digits) == 11 && digits[0] == '8':
		digits = "7" + digits[1:]
	}
	if len(digits) != 11 || digits[0] != '7' || (strings.HasPrefix(strings.TrimSpace(s), "+") && !strings.HasPrefix(strings.TrimSpace(s), "+7")) {
		return "", fmt.Errorf("phone %q: %w", s, ErrPhone)
	}
	return "+" + digits, nil
}
