// Package phone reads the phone numbers contracts hold, written as people
// write them, for the places that send to them (SMS, fiscal receipts, the
// card processor's receipt), so that all of them accept the same numbers.
package phone

import (
	"fmt"
	"strings"

	"github.com/kabinet-billing/kabinet/internal/derrors"
)

// Refusals: no number at all, or one that is not a Russian mobile-or-
// landline number Kabinet can send to.
var (
	ErrMissing error = derrors.New(derrors.Invalid, "no_phone", "the subscriber has no phone number")
	ErrInvalid error = &derrors.Error{Kind: derrors.Invalid, Code: "phone", Field: "phone", Msg: "not a Russian phone number"}
)

// Normalize writes a Russian number as +7 and ten digits, however the
// contract wrote it: "8 (910) 123-45-67", "+7 910 123 45 67", "9101234567",
// "79101234567". Anything else (a foreign number, too few digits, an
// extension) is ErrInvalid; an empty one ErrMissing.
func Normalize(s string) (string, error) {
	var d strings.Builder
	for _, c := range s {
		switch {
		case c >= '0' && c <= '9':
			d.WriteRune(c)
		case c == '+' || c == ' ' || c == '-' || c == '(' || c == ')' || c == '.' || c == '\u00a0':
		default:
			return "", fmt.Errorf("phone %q: %w", s, ErrInvalid)
		}
	}
	digits := d.String()
	switch {
	case digits == "":
		return "", ErrMissing
	case len(digits) == 10:
		digits = "7" + digits
	case len(digits) == 11 && digits[0] == '8':
		digits = "7" + digits[1:]
	}
	if len(digits) != 11 || digits[0] != '7' || (strings.HasPrefix(strings.TrimSpace(s), "+") && !strings.HasPrefix(strings.TrimSpace(s), "+7")) {
		return "", fmt.Errorf("phone %q: %w", s, ErrInvalid)
	}
	return "+" + digits, nil
}

// Mobile tells whether a normalized number is a Russian mobile one (+79…),
// the kind a receipt sent by SMS can reach.
func Mobile(normalized string) bool { return strings.HasPrefix(normalized, "+79") }
