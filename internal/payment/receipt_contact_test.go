package payment

import "testing"

// YooKassa's receipt names the buyer by e-mail, else by a mobile number in
// digits without "+", else by the provider's address.
func TestReceiptCustomer(t *testing.T) {
	r := &yooRules{ReceiptRules: ReceiptRules{CompanyEmail: "kassa@provider.example", Item: "Internet, contract %s"}}
	for _, c := range []struct{ email, phone, wantEmail, wantPhone string }{
		{"ivan@example.ru", "89101234567", "ivan@example.ru", ""},
		{"", "+7 (910) 123-45-67", "", "79101234567"},
		{"", "8 4822 55-00-00", "kassa@provider.example", ""},
		{"", "", "kassa@provider.example", ""},
	} {
		got := r.receipt("2026-000001", c.email, c.phone, 50000, "RUB").Customer
		if got.Email != c.wantEmail || got.Phone != c.wantPhone {
			t.Errorf("%q, %q: %+v; want %q, %q", c.email, c.phone, got, c.wantEmail, c.wantPhone)
		}
	}
}
