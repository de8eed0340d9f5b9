package payment

import (
	"fmt"
	"strings"

	"github.com/kabinet-billing/kabinet/internal/money"
)

// parseWireAmount reads an amount as machine protocols write it: digits, a
// dot and at most two decimals ("10", "10.4", "10.45"). It is stricter than
// money.Parse on purpose: a protocol field with a comma, a sign or spaces is
// a sender's bug, and guessing what it meant would be crediting a guess.
func parseWireAmount(s string) (money.Amount, error) {
	if s == "" || len(s) > 18 || strings.IndexFunc(s, func(r rune) bool { return (r < '0' || r > '9') && r != '.' }) >= 0 ||
		strings.Count(s, ".") > 1 || strings.HasPrefix(s, ".") {
		return 0, fmt.Errorf("amount %q: %w", s, money.ErrFormat)
	}
	return money.Parse(s)
}
