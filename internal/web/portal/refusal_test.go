package portal_test

import (
	"errors"
	"net/http"
	"testing"

	"github.com/kabinet-billing/kabinet/internal/billing"
	"github.com/kabinet-billing/kabinet/internal/derrors"
	"github.com/kabinet-billing/kabinet/internal/payment"
	"github.com/kabinet-billing/kabinet/internal/web/platform"
	"github.com/kabinet-billing/kabinet/web"
)

// TestRefusalMessages maps the capabilities' refusals through the real
// ("refused.", "pay.error.") show them: each gives the message its page
// gave before the pages' own switch statements went.
func TestRefusalMessages(t *testing.T) {
	i18n, err := platform.NewI18n(web.FS, "translations")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name   string
		prefix string
		err    error
		status int
		id     string
	}{
		{"portal: not offered", "refused.", billing.ErrNotOffered, http.StatusNotFound, "refused.not_offered"},
		{"portal: same tariff", "refused.", billing.ErrSameTariff, http.StatusConflict, "refused.same_tariff"},
		{"portal: inactive", "refused.", billing.ErrAccountInactive, http.StatusConflict, "refused.inactive"},
		{"portal: connected", "refused.", billing.ErrAlreadyConnected, http.StatusConflict, "refused.connected"},
		{"portal: funds", "refused.", billing.ErrInsufficientFunds, http.StatusConflict, "refused.funds"},
		{"portal: limited", "refused.", billing.ErrLimited, http.StatusConflict, "refused.limited"},
		{"portal: missing tariff is a missing page", "refused.", derrors.NotFound, http.StatusNotFound, ""},
		{"unexpected", "refused.", errors.New("disk on fire"), 0, ""},
		{"pay: amount", "pay.error.", payment.ErrBadAmount, http.StatusUnprocessableEntity, "pay.error.amount"},
		{"pay: method", "pay.error.", payment.ErrMethodUnsupported, http.StatusUnprocessableEntity, "pay.error.method"},
		{"pay: processor away", "pay.error.", payment.ErrProcessorUnavailable, http.StatusServiceUnavailable, "pay.error.unavailable"},
	} {
		t.Run(c.name, func(t *testing.T) {
			if status, id := i18n.Refusal(c.err, c.prefix); status != c.status || id != c.id {
				t.Errorf("Refusal = %d %q, want %d %q", status, id, c.status, c.id)
			}
		})
	}
}
