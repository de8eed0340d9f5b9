package portal

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/kabinet-billing/kabinet/internal/billing"
	"github.com/kabinet-billing/kabinet/internal/money"
	"github.com/kabinet-billing/kabinet/internal/payment"
	"github.com/kabinet-billing/kabinet/internal/subscriber"
)

// Bonus points: one point is one kopeck of services (payment.SpendBonus).
// The subscriber enters whole points, confirms, and the points become money
// on the balance. The form carries a one-time key made when it is shown: it
// is SpendBonus's idempotency key, so a confirmation sent twice (a double
// click, a reload) spends once.

type bonusData struct {
	Points  Points // the balance of points
	Spend   Points // asked for: the confirmation step when > 0
	Key     string
	Entered string // what was typed, kept on an error
}

// Points are bonus points as templates show them: {{.}} is the number
// ("12 345"), {{rub .Money}} what they are worth.
type Points money.Amount

// Money is what the points pay for.
func (p Points) Money() money.Amount { return money.Amount(p) }

// String formats points as a whole number grouped by thousands.
func (p Points) String() string {
	s := strconv.FormatInt(int64(p), 10)
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 && c != '-' && s[i-1] != '-' {
			b.WriteString("\u00a0")
		}
		b.WriteRune(c)
	}
	return b.String()
}

// ParsePoints reads a whole, positive number of points ("1 500").
func ParsePoints(s string) (money.Amount, bool) {
	s = strings.NewReplacer(" ", "", "\u00a0", "", "\u202f", "").Replace(strings.TrimSpace(s))
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n <= 0 || n > 1e12 {
		return 0, false
	}
	return money.Amount(n), true
}

func formKey() string {
	var k [16]byte
	rand.Read(k[:])
	return hex.EncodeToString(k[:])
}

// validKey: what formKey makes; anything else is a forged or stale form.
func validKey(k string) bool {
	if len(k) != 32 {
		return false
	}
	_, err := hex.DecodeString(k)
	return err == nil
}

func (po *Portal) bonusPoints(r *http.Request, a subscriber.Account) (Points, error) {
	if po.d.Payments == nil {
		return 0, nil
	}
	b, err := po.d.Payments.BonusBalance(r.Context(), a.ID)
	return Points(b), err
}

// bonusPage renders the points page: the form, or with d.Spend the
// confirmation; msg is an error message id.
func (po *Portal) bonusPage(w http.ResponseWriter, r *http.Request, a subscriber.Account, status int, d bonusData, msg string) {
	var err error
	if d.Points, err = po.bonusPoints(r, a); err != nil {
		po.p.Fail(w, r, err)
		return
	}
	if d.Key == "" || msg != "" {
		d.Key = formKey() // a new form after a refusal
	}
	v := po.view(r, a, "bonus.title", "payments", d)
	switch {
	case msg == "":
	case msg == "bonus.error.stale" || d.Spend != 0 || d.Points == 0: // no form to mark
		v.Error = po.p.I18n.T(v.Lang, msg, map[string]any{"Points": d.Points.String()})
	default:
		po.p.FieldError(&v, "points", msg, map[string]any{"Points": d.Points.String()})
	}
	po.render(w, r, status, "bonus", v)
}

func (po *Portal) bonus(w http.ResponseWriter, r *http.Request, a subscriber.Account) {
	po.bonusPage(w, r, a, http.StatusOK, bonusData{}, "")
}

// bonusBalance is the fragment the home page loads (htmx) so that the home
// page's own data stays one query lighter.
func (po *Portal) bonusBalance(w http.ResponseWriter, r *http.Request, a subscriber.Account) {
	pts, err := po.bonusPoints(r, a)
	if err != nil {
		po.p.Fail(w, r, err)
		return
	}
	po.p.HTML(w, r, http.StatusOK, "portal/bonus", "bonus-balance", po.view(r, a, "bonus.title", "home", bonusData{Points: pts}))
}

// spendBonus is both steps: without confirm=1 it shows what will happen;
// with it, it spends.
func (po *Portal) spendBonus(w http.ResponseWriter, r *http.Request, a subscriber.Account) {
	if po.d.Payments == nil {
		po.redirectErr(w, r, "/payments", "bonus.unavailable")
		return
	}
	entered := r.PostFormValue("points")
	key := r.PostFormValue("key")
	d := bonusData{Entered: entered, Key: key}
	if !validKey(key) {
		po.bonusPage(w, r, a, http.StatusBadRequest, d, "bonus.error.stale")
		return
	}
	pts, ok := ParsePoints(entered)
	if !ok {
		po.bonusPage(w, r, a, http.StatusUnprocessableEntity, d, "bonus.error.amount")
		return
	}
	have, err := po.bonusPoints(r, a)
	if err != nil {
		po.p.Fail(w, r, err)
		return
	}
	if Points(pts) > have {
		po.bonusPage(w, r, a, http.StatusUnprocessableEntity, d, "bonus.error.insufficient")
		return
	}
	if r.PostFormValue("confirm") != "1" {
		d.Spend = Points(pts)
		po.bonusPage(w, r, a, http.StatusOK, d, "")
		return
	}
	err = po.d.Payments.SpendBonus(r.Context(), a.ID, pts, key)
	switch {
	case errors.Is(err, payment.ErrInsufficientBonus):
		// spent meanwhile, from another tab or the app
		po.bonusPage(w, r, a, http.StatusConflict, bonusData{Entered: entered}, "bonus.error.insufficient")
		return
	case errors.Is(err, billing.ErrAccountInactive):
		po.bonusPage(w, r, a, http.StatusConflict, bonusData{Entered: entered}, "refused.inactive")
		return
	case err != nil:
		po.p.Fail(w, r, err)
		return
	}
	po.redirect(w, r, "/payments", "bonus.spent")
}
