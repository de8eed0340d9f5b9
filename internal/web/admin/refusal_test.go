package admin_test

import (
	"errors"
	"fmt"
	"net/http"
	"testing"

	"github.com/kabinet-billing/kabinet/internal/autopay"
	"github.com/kabinet-billing/kabinet/internal/backoffice"
	"github.com/kabinet-billing/kabinet/internal/billing"
	"github.com/kabinet-billing/kabinet/internal/derrors"
	"github.com/kabinet-billing/kabinet/internal/netflow"
	"github.com/kabinet-billing/kabinet/internal/notify"
	"github.com/kabinet-billing/kabinet/internal/operator"
	"github.com/kabinet-billing/kabinet/internal/payment"
	"github.com/kabinet-billing/kabinet/internal/web/admin"
	"github.com/kabinet-billing/kabinet/internal/web/platform"
	"github.com/kabinet-billing/kabinet/web"
)

// TestRefusalMessages maps the capabilities' refusals through the real
// translations as the back office shows them ("admin.error."): each gives
// the message errorID gave before it went.
func TestRefusalMessages(t *testing.T) {
	i18n, err := platform.NewI18n(web.FS, "translations")
	if err != nil {
		t.Fatal(err)
	}
	if err := admin.LoadMessages(i18n, web.FS); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name   string
		prefix string
		err    error
		status int
		id     string
	}{
		{"note required", "admin.error.", backoffice.ErrNoteRequired, http.StatusUnprocessableEntity, "admin.error.note_required"},
		{"reason required", "admin.error.", payment.ErrReasonRequired, http.StatusUnprocessableEntity, "admin.error.reason_required"},
		{"amount", "admin.error.", payment.ErrBadAmount, http.StatusUnprocessableEntity, "admin.error.amount"},
		{"not refundable", "admin.error.", payment.ErrNotRefundable, http.StatusConflict, "admin.error.not_refundable"},
		{"refund above what remains", "admin.error.", payment.ErrRefundAmount, http.StatusUnprocessableEntity, "admin.error.refund_amount"},
		{"refund pending", "admin.error.", payment.ErrRefundPending, http.StatusConflict, "admin.error.refund_pending"},
		{"reversing a refunded payment", "admin.error.", fmt.Errorf("reverse 1: %w", payment.ErrRefunded), http.StatusConflict, "admin.error.refunded"},
		{"autopay already off", "admin.error.", autopay.ErrAlreadyOff, http.StatusConflict, "admin.error.autopay_off"},
		{"processor away", "admin.error.", fmt.Errorf("refund: %w", payment.ErrProcessorUnavailable), http.StatusServiceUnavailable, "admin.error.processor"},
		{"cash above the limit", "admin.error.", payment.ErrNeedsConfirmation, http.StatusForbidden, "admin.error.cash_confirm"},
		{"confirmation refused", "admin.error.", backoffice.ErrConfirmationRefused, http.StatusForbidden, "admin.error.cash_confirm_refused"},
		{"login taken", "admin.error.", fmt.Errorf("login x: %w", derrors.Exists), http.StatusConflict, "admin.error.exists"},
		{"operator password", "admin.error.", operator.ErrWeakPassword, http.StatusUnprocessableEntity, "admin.error.operator_password"},
		{"last admin", "admin.error.", operator.ErrLastAdmin, http.StatusConflict, "admin.error.last_admin"},
		{"bad form", "admin.error.", fmt.Errorf("NAS x: %w", derrors.Invalid), http.StatusUnprocessableEntity, "admin.error.invalid"},
		{"no e-mail", "admin.error.", notify.ErrNoAddress, http.StatusUnprocessableEntity, "admin.error.no_email"},
		{"not audited", "admin.error.", backoffice.ErrNotAudited, http.StatusServiceUnavailable, "admin.error.not_audited"},
		{"traffic class", "admin.error.", fmt.Errorf("class x: %w", netflow.ErrClass), http.StatusUnprocessableEntity, "admin.error.traffic_class"},
		{"tariff not offered", "admin.error.", billing.ErrNotOffered, http.StatusNotFound, "admin.error.not_offered"},
		// failed() shows a missing thing as the form's error, failedOn as 404.
		{"missing: no message of its own", "admin.error.", derrors.NotFound, http.StatusNotFound, ""},
		{"role may not", "admin.error.", fmt.Errorf("x may not y: %w", derrors.Forbidden), http.StatusForbidden, ""},
		{"unexpected", "admin.error.", errors.New("disk on fire"), 0, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			if status, id := i18n.Refusal(c.err, c.prefix); status != c.status || id != c.id {
				t.Errorf("Refusal = %d %q, want %d %q", status, id, c.status, c.id)
			}
		})
	}
}
