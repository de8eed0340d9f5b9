package backoffice

import (
	"net/mail"
	"strings"
	"time"
	"unicode"

	"github.com/kabinet-billing/kabinet/internal/config"
	"github.com/kabinet-billing/kabinet/internal/derrors"
	"github.com/kabinet-billing/kabinet/internal/subscriber"
)

// check holds a new contract to what a contract needs, naming the first
// field at fault (the form marks it): the subscriber's full name, the city
// and the address of the connection, a phone or an e-mail to reach them,
// and the passport as [contract] passport requires. Imported accounts do not
// pass here: old billings' data is history, taken as it was.
func (n *NewContract) check(passport string, today time.Time) error {
	n.Name = strings.Join(strings.Fields(n.Name), " ")
	if !fullName(n.Name) {
		return derrors.Invalidf("name", "contract_name", "name %q: surname, first name and patronymic in letters", n.Name)
	}
	if strings.TrimSpace(n.City) == "" {
		return derrors.Invalidf("city", "contract_city", "no city")
	}
	n.Address = strings.Join(strings.Fields(n.Address), " ")
	if !address(n.Address) {
		return derrors.Invalidf("address", "contract_address", "address %q: street and house number", n.Address)
	}
	n.Phone, n.Email = strings.TrimSpace(n.Phone), strings.TrimSpace(n.Email)
	if n.Phone == "" && n.Email == "" {
		return derrors.Invalidf("phone", "contract_reach", "neither phone nor e-mail")
	}
	if n.Phone != "" && !phone(n.Phone) {
		return derrors.Invalidf("phone", "contract_phone", "phone %q", n.Phone)
	}
	if n.Email != "" {
		if a, err := mail.ParseAddress(n.Email); err != nil || a.Address != n.Email || !strings.Contains(n.Email[strings.LastIndexByte(n.Email, '@')+1:], ".") {
			return derrors.Invalidf("email", "contract_email", "e-mail %q", n.Email)
		}
	}
	if strings.TrimSpace(n.Tariff) == "" {
		return derrors.Invalidf("tariff", "contract_tariff", "no tariff")
	}
	switch {
	case passport == config.PassportOff:
		n.Passport = subscriber.Passport{}
	case n.Passport.Empty() && passport == config.PassportRequired:
		return derrors.Invalidf("passport_series", "passport_required", "the passport is required")
	case !n.Passport.Empty():
		return n.Passport.Check(today)
	}
	return nil
}

// fullName: two to four words (surname, first name, a patronymic when
// the passport has one, "оглы"/"кызы" after it), each of two or more
// letters of one alphabet, Cyrillic or Latin, hyphens inside allowed
// ("Римская-Корсакова"). "x", "test 1" and "Ivanов" are refused.
func fullName(s string) bool {
	words := strings.Fields(s)
	if len(words) < 2 || len(words) > 4 {
		return false
	}
	for _, w := range words {
		for _, part := range strings.Split(w, "-") {
			if len([]rune(part)) < 2 {
				return false
			}
			cyr, lat := false, false
			for _, r := range part {
				switch {
				case unicode.Is(unicode.Cyrillic, r):
					cyr = true
				case unicode.Is(unicode.Latin, r) && unicode.IsLetter(r):
					lat = true
				case r == '\'' || r == '’':
				default:
					return false
				}
			}
			if cyr == lat { // none, or both in one word
				return false
			}
		}
	}
	return true
}

// address: the street and the house, so a technician can find it: at least
// two words and a digit.
func address(s string) bool {
	if n := len([]rune(s)); n < 5 || n > 300 {
		return false
	}
	return len(strings.Fields(s)) >= 2 && strings.ContainsAny(s, "0123456789")
}

// phone: a number a Russian operator dials: 10 to 15 digits with the usual
// punctuation ("+7 (900) 123-45-67", "8 900 123 45 67").
func phone(s string) bool {
	n := 0
	for _, r := range s {
		switch {
		case r >= '0' && r <= '9':
			n++
		case strings.ContainsRune(" +()-", r):
		default:
			return false
		}
	}
	return n >= 10 && n <= 15 && strings.IndexByte(s, '+') <= 0 && strings.Count(s, "+") <= 1
}
