package api

import (
	"errors"
	"fmt"
	"net/http"
	"testing"

	"github.com/kabinet-billing/kabinet/internal/apitoken"
	"github.com/kabinet-billing/kabinet/internal/billing"
	"github.com/kabinet-billing/kabinet/internal/derrors"
	"github.com/kabinet-billing/kabinet/internal/payment"
	"github.com/kabinet-billing/kabinet/internal/subscriber"
	"github.com/kabinet-billing/kabinet/internal/web/platform"
	"github.com/kabinet-billing/kabinet/web"
)

// TestRefusedProblems is the API's side of the error kinds: each
// capability's refusal gives the status and message it gave before the
// per-operation checks went.
func TestRefusedProblems(t *testing.T) {
	i18n, err := platform.NewI18n(web.FS, "translations")
	if err != nil {
		t.Fatal(err)
	}
	for id, m := range messages {
		i18n.Add(id, m[0], m[1])
	}
	for _, c := range []struct {
		name   string
		err    error
		status int
		id     string
	}{
		{"missing request, token or payment", fmt.Errorf("request 7: %w", derrors.NotFound), http.StatusNotFound, "api.error.not_found"},
		{"bad form", fmt.Errorf("request kind %q: %w", "x", derrors.Invalid), http.StatusUnprocessableEntity, "api.error.invalid"},
		{"tariff not offered", billing.ErrNotOffered, http.StatusNotFound, "api.error.not_offered"},
		{"not enough money", fmt.Errorf("connect: %w", billing.ErrInsufficientFunds), http.StatusConflict, "api.error.funds"},
		{"contract not active", billing.ErrAccountInactive, http.StatusConflict, "api.error.inactive"},
		{"card amount", payment.ErrBadAmount, http.StatusUnprocessableEntity, "api.error.amount"},
		{"no SBP here", payment.ErrMethodUnsupported, http.StatusUnprocessableEntity, "api.error.method"},
		{"processor away", fmt.Errorf("%w: timeout", payment.ErrProcessorUnavailable), http.StatusServiceUnavailable, "api.error.processor"},
		{"bonus points short", payment.ErrInsufficientBonus, http.StatusConflict, "api.error.bonus_insufficient"},
		{"current password wrong", subscriber.ErrBadPassword, http.StatusUnprocessableEntity, "api.error.password"},
		{"new password weak", fmt.Errorf("change: %w", subscriber.ErrWeakPassword), http.StatusUnprocessableEntity, "api.error.weak_password"},
		{"speed test", derrors.New(derrors.Invalid, "speedtest", "no measurement"), http.StatusUnprocessableEntity, "api.error.speedtest"},
		{"bad token", apitoken.ErrBadToken, http.StatusForbidden, "api.error.unauthorized"},
		{"unexpected: fails", errors.New("disk on fire"), 0, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			if status, id := i18n.Refusal(c.err, "api.error."); status != c.status || id != c.id {
				t.Errorf("Refusal = %d %q, want %d %q", status, id, c.status, c.id)
			}
		})
	}
}
