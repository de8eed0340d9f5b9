package portal_test

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/kabinet-billing/kabinet/internal/store"
	"github.com/kabinet-billing/kabinet/internal/web/webtest"
)

// saveCard gives the account a card saved the way a paid "remember the
// card" payment saves it.
func saveCard(t *testing.T, e *webtest.Env, acct int64, last4 string) int64 {
	t.Helper()
	ctx := context.Background()
	var id int64
	err := e.DB.Write(ctx, func(tx *store.Tx) error {
		return tx.QueryRow(ctx, `INSERT INTO saved_methods (account_id, processor, token, masked, expiry, title, created_at) VALUES (?, 'sandbox', ?, ?, '12/28', 'Visa', ?) RETURNING id`,
			acct, "sbm-"+last4+"-1228-aa", "•••• "+last4, e.Clock.Now().UTC()).Scan(&id)
	})
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// TestAutopayPortal: the subscriber starts autopay by paying with "remember
// the card", turns it on with a saved card, sees the card, the day and the
// amount, and turns it off; a wrong sum is named beside its field.
func TestAutopayPortal(t *testing.T) {
	e := webtest.New(t)
	c := e.Login("alice")
	webtest.Must(t, c.Get("/payments"), http.StatusOK, `href="/autopay"`)
	webtest.Must(t, c.Get("/autopay"), http.StatusOK, "Автоплатёж выключен", "Оплатить и запомнить карту")

	// A fixed rule without a sum: the page comes back with the error beside
	// the field, announced, and what was typed kept.
	r := c.Post("/autopay/start", url.Values{"amount": {"300"}, "rule": {"fixed"}, "fixed_amount": {""}})
	webtest.Must(t, r, http.StatusUnprocessableEntity, "Укажите сумму больше нуля", `role="alert"`, `aria-invalid="true"`, `aria-describedby="fixed-error-n"`)
	if !strings.Contains(r.Body, `value="300"`) {
		t.Errorf("the first payment's amount was not kept")
	}
	webtest.Must(t, c.Post("/autopay/start", url.Values{"amount": {"-1"}, "rule": {"recommended"}}), http.StatusUnprocessableEntity, `id="amount-error" role="alert"`)

	// Paying once with "remember the card" goes to the processor's page,
	// asking it to save the card.
	r = c.Post("/autopay/start", url.Values{"amount": {"300"}, "rule": {"fixed"}, "fixed_amount": {"700"}})
	loc, _ := url.Parse(r.Header.Get("Location"))
	if r.Status != http.StatusSeeOther || !strings.HasPrefix(loc.Path, "/pay/sandbox/") || loc.Query().Get("save") != "1" {
		t.Fatalf("start: %d %s", r.Status, r.Header.Get("Location"))
	}

	// With a saved card autopay turns on from the page.
	card := saveCard(t, e, e.IDs["alice"], "4242")
	webtest.Must(t, c.Get("/autopay"), http.StatusOK, "Включить с сохранённой картой", "Visa •••• 4242")
	webtest.Must(t, c.Post("/autopay", url.Values{"method": {strconv.FormatInt(card, 10)}, "rule": {"fixed"}, "fixed_amount": {"0"}}),
		http.StatusUnprocessableEntity, "Укажите сумму больше нуля", `id="fixed-error-s" role="alert"`)
	// Bob's card is not Alice's.
	bobs := saveCard(t, e, e.IDs["bob"], "1111")
	webtest.Must(t, c.Post("/autopay", url.Values{"method": {strconv.FormatInt(bobs, 10)}, "rule": {"recommended"}}),
		http.StatusUnprocessableEntity, "Выберите одну из сохранённых карт")
	webtest.Must(t, c.Post("/autopay", url.Values{"method": {strconv.FormatInt(card, 10)}, "rule": {"fixed"}, "fixed_amount": {"700"}}), http.StatusSeeOther)
	webtest.Must(t, c.Get("/autopay"), http.StatusOK, "Автоплатёж включён", "Visa •••• 4242", "12/28", "700", "Отключить автоплатёж")
	st, _ := e.Autopay.Get(context.Background(), e.IDs["alice"])
	if !st.Enabled || st.Fixed != 70000 || st.Method.ID != card {
		t.Fatalf("settings %+v", st)
	}

	webtest.Must(t, c.Post("/autopay/off", nil), http.StatusSeeOther)
	webtest.Must(t, c.Get("/autopay"), http.StatusOK, "Автоплатёж отключён", "Автоплатёж выключен")
	if st, _ := e.Autopay.Get(context.Background(), e.IDs["alice"]); st.Enabled {
		t.Fatal("still on")
	}

	// In English too.
	c.Post("/lang", url.Values{"lang": {"en"}, "back": {"/autopay"}})
	webtest.Must(t, c.Get("/autopay"), http.StatusOK, "Autopay is off", "Pay and remember the card")
}
