package telegram

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
)

// SecretHeader carries the webhook's secret_token on every update
// Telegram posts (setWebhook's documentation).
const SecretHeader = "X-Telegram-Bot-Api-Secret-Token"

// WebhookSecret derives a secret_token from the bot token and Kabinet's
// secret key, so that every instance computes the same one without
// configuring it: 64 hex digits, within the allowed 1–256 characters of
// A-Z, a-z, 0-9, _ and -.
func WebhookSecret(token, secretKey string) string {
	m := hmac.New(sha256.New, []byte("kabinet telegram webhook "+secretKey))
	m.Write([]byte(token))
	return hex.EncodeToString(m.Sum(nil))
}

// Webhook serves Telegram's POSTs: an update without the right secret
// token is refused (403) before its body is read, a malformed one is 400,
// and each good one is handed to handle before the 200 (Telegram sends
// the next only after; a failure inside handle is handle's to report, a
// non-2xx would only make Telegram send the same update again).
func Webhook(secret string, handle func(context.Context, Update)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got := r.Header.Get(SecretHeader)
		if secret == "" || subtle.ConstantTimeCompare([]byte(got), []byte(secret)) != 1 {
			http.Error(w, "forbidden", http.StatusForbidden)
			return
		}
		var u Update
		if err := json.NewDecoder(io.LimitReader(r.Body, 1<<20)).Decode(&u); err != nil {
			http.Error(w, "bad update", http.StatusBadRequest)
			return
		}
		handle(r.Context(), u)
		w.WriteHeader(http.StatusOK)
	})
}
