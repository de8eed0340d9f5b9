package fiscal

import (
	"testing"

	"github.com/kabinet-billing/kabinet/internal/billing"
)

// A receipt goes to the subscriber's e-mail, else to a mobile number (it
// is sent by SMS), else to the provider's own address.
func TestClientContact(t *testing.T) {
	const company = "kassa@provider.example"
	for _, c := range []struct {
		email, phone, wantEmail, wantPhone string
	}{
		{"ivan@example.ru", "+7 910 123-45-67", "ivan@example.ru", ""},
		{"", "8 (910) 123-45-67", "", "+79101234567"},
		{"not an address", "9101234567", "", "+79101234567"},
		{"", "(4822) 55-00-00", company, ""}, // a landline cannot take an SMS
		{"", "+380 44 123 45 67", company, ""},
		{"", "", company, ""},
	} {
		email, tel := clientContact(billing.Contact{Email: c.email, Phone: c.phone}, company)
		if email != c.wantEmail || tel != c.wantPhone {
			t.Errorf("%q, %q: %q, %q; want %q, %q", c.email, c.phone, email, tel, c.wantEmail, c.wantPhone)
		}
	}
}
