package payment

import (
	"context"
	"errors"
	"log/slog"
	"net/http"

	"github.com/kabinet-billing/kabinet/internal/metrics"
)

// CardBook records verified card callbacks. The store-backed Service
// implements it; it refuses a callback for a payment it never started
// (ErrUnknownPayment) or for another amount (ErrAmountMismatch), and applies
// a repeated callback once.
type CardBook interface {
	ApplyCardCallback(ctx context.Context, processor string, cb Callback) error
}

// CallbackHandler serves a processor's server-to-server callback. It answers
// 200 only after the payment is durably recorded, because processors repeat
// callbacks that fail; it answers 500 when a repeat can help (the database was
// away) and 400/403 when it cannot.
func CallbackHandler(p Processor, book CardBook, log *slog.Logger) http.Handler {
	if log == nil {
		log = slog.Default()
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
		cb, err := p.VerifyCallback(r)
		if err != nil {
			status := http.StatusBadRequest
			switch {
			case errors.Is(err, ErrBadSignature):
				status = http.StatusForbidden
			case errors.Is(err, ErrProcessorUnavailable):
				// The processor's API, asked to confirm, did not answer:
				// its repeat of the notification may find it back.
				metrics.Payment("card", "callback", "error")
				log.Error("card callback not confirmed: the processor's API is unavailable; it will repeat", "processor", p.Name(), "err", err)
				http.Error(w, http.StatusText(http.StatusServiceUnavailable), http.StatusServiceUnavailable)
				return
			}
			metrics.Payment("card", "callback", "rejected")
			log.Warn("card callback refused", "processor", p.Name(), "remote", r.RemoteAddr, "err", err)
			http.Error(w, http.StatusText(status), status)
			return
		}
		if err := book.ApplyCardCallback(r.Context(), p.Name(), cb); err != nil {
			status := http.StatusInternalServerError
			if errors.Is(err, ErrUnknownPayment) || errors.Is(err, ErrAmountMismatch) || errors.Is(err, ErrBadCallback) {
				status = http.StatusBadRequest
				metrics.Payment("card", "callback", "rejected")
				log.Warn("card callback refused", "processor", p.Name(), "payment", cb.PaymentID,
					"transaction", cb.ExternalID, "amount", cb.Amount, "err", err)
			} else {
				metrics.Payment("card", "callback", "error")
				log.Error("card callback not recorded; the processor will repeat it", "processor", p.Name(),
					"payment", cb.PaymentID, "transaction", cb.ExternalID, "err", err)
			}
			http.Error(w, http.StatusText(status), status)
			return
		}
		metrics.Payment("card", "callback", "accepted")
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Write([]byte("OK"))
	})
}
