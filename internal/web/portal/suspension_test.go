package portal_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/kabinet-billing/kabinet/internal/billing"
	"github.com/kabinet-billing/kabinet/internal/money"
	"github.com/kabinet-billing/kabinet/internal/store"
	"github.com/kabinet-billing/kabinet/internal/web/webtest"
)

// TestSuspensionPortal: alice finds the suspension from the home page and
// the services page, is told beside the field what is wrong, reads the
// quote (the tariff fee not charged, to the kopeck), schedules it and
// calls it off, then suspends from today (the account frozen, RADIUS
// told) and comes back at once; bob, in debt, is told why not, in English.
func TestSuspensionPortal(t *testing.T) {
	e := webtest.New(t)
	ctx := context.Background()
	alice := e.Login("alice")
	webtest.Must(t, alice.Get("/"), http.StatusOK, `href="/suspension"`, "Добровольная блокировка")
	webtest.Must(t, alice.Get("/packages"), http.StatusOK, `href="/suspension"`)
	webtest.Must(t, alice.Get("/suspension"), http.StatusOK, `type="date" name="from" value="2026-03-15" min="2026-03-15" max="2026-04-14"`, `name="days" value="7"`)
	webtest.Must(t, alice.Get("/suspension?from=2026-03-20&days=3"), http.StatusUnprocessableEntity,
		`aria-invalid="true" aria-describedby="days-error"`, `id="days-error" role="alert">Укажите от 7 до 90 дней.`, `value="3"`)
	webtest.Must(t, alice.Get("/suspension?from=2026-03-01&days=14"), http.StatusUnprocessableEntity, `id="from-error" role="alert">Выберите дату`)
	// 20 March – 2 April: 193.55 of March returned, April charged 466.67
	// instead of 500.00.
	webtest.Must(t, alice.Get("/suspension?from=2026-03-20&days=14"), http.StatusOK, `data-testid="suspension-saved">226,88`,
		"03.04.2026", `action="/suspension"`, `name="days" value="14"`, "Не спишется за март 2026 (12 дн.)", "Не спишется за апрель 2026 (2 дн.)")

	r := alice.Post("/suspension", url.Values{"from": {"2026-03-20"}, "days": {"14"}})
	if r.Status != http.StatusSeeOther || r.Header.Get("Location") != "/suspension" {
		t.Fatalf("schedule: %d %s", r.Status, webtest.Snippet(r.Body))
	}
	webtest.Must(t, alice.Get("/suspension"), http.StatusOK, "Блокировка запланирована", "с 20.03.2026 по 02.04.2026", "Отменить блокировку")
	webtest.Must(t, alice.Post("/suspension", url.Values{"from": {"2026-03-25"}, "days": {"7"}}), http.StatusConflict, `role="alert"`, "уже запланирована")
	alice.Post("/suspension/resume", nil)
	webtest.Must(t, alice.Get("/suspension"), http.StatusOK, "Запланированная блокировка отменена.")

	before, _ := e.Biller.Summary(ctx, e.IDs["alice"])
	alice.Post("/suspension", url.Values{"from": {"2026-03-15"}, "days": {"7"}})
	s, _ := e.Biller.Summary(ctx, e.IDs["alice"])
	if s.Status != billing.StatusFrozen {
		t.Fatalf("suspended from today: %s", s.Status)
	}
	// 17 of March's days (from the 15th) returned.
	if d := s.Balance - before.Balance; d != money.Prorate(money.Rub(500), 17, 31) {
		t.Errorf("the balance moved by %s, want March's rest returned", d.Decimal())
	}
	home := alice.Get("/")
	webtest.Must(t, home, http.StatusOK, "Приостановлен", `data-testid="suspended"`, "интернет вернётся 22.03.2026")
	// The tariff card tells the speeds the line comes back with, not the
	// limit rate a frozen line is admitted at.
	if strings.Contains(home.Body, "128 Кбит/с ↓") {
		t.Errorf("the frozen account's tariff card shows the limit rate")
	}
	webtest.Must(t, alice.Get("/suspension"), http.StatusOK, "Договор приостановлен", "Вернуться сейчас",
		`name="last" value="2026-03-22" min="2026-03-22" max="2026-06-12"`)
	// Staying away longer: the last day moves from the 21st to the 31st,
	// quoted first; a day not after the current last one is the field's
	// refusal.
	webtest.Must(t, alice.Get("/suspension?last=2026-03-20"), http.StatusUnprocessableEntity,
		`aria-invalid="true" aria-describedby="last-error"`, "Выберите день позже нынешнего последнего дня блокировки.")
	webtest.Must(t, alice.Get("/suspension?last=2026-03-31"), http.StatusOK, "Продление: проверьте и подтвердите",
		"31.03.2026", `name="days" value="17"`, "Не спишется за март 2026 (17 дн.)")
	r = alice.Post("/suspension/extend", url.Values{"days": {"17"}})
	if r.Status != http.StatusSeeOther {
		t.Fatalf("extend: %d %s", r.Status, webtest.Snippet(r.Body))
	}
	webtest.Must(t, alice.Get("/suspension"), http.StatusOK, "Блокировка продлена.", "по 31.03.2026 включительно", "Интернет снова заработает 01.04.2026")
	webtest.Must(t, alice.Post("/suspension/extend", url.Values{"days": {"17"}}), http.StatusUnprocessableEntity, `data-testid="suspension-error">Выберите день позже`)
	var n int
	e.DB.QueryRow(ctx, `SELECT COUNT(*) FROM events WHERE kind = ? AND account_id = ?`, store.EventAccountStatus, e.IDs["alice"]).Scan(&n)
	if n != 1 {
		t.Errorf("%d account.status events (RADIUS's CoA), want 1", n)
	}
	alice.Post("/suspension/resume", nil)
	webtest.Must(t, alice.Get("/suspension"), http.StatusOK, "С возвращением")
	// The statement says what the refund and the charge were for.
	webtest.Must(t, alice.Get("/statement?from=2026-03-01&to=2026-03-31"), http.StatusOK,
		"Возврат: Домашний 100 (2026-03) — добровольная блокировка: перерасчёт абонентской платы за дни блокировки")
	if s, _ := e.Biller.Summary(ctx, e.IDs["alice"]); s.Status != billing.StatusActive || s.Balance != before.Balance {
		t.Errorf("back the same day: %s, balance %s, want active and %s", s.Status, s.Balance.Decimal(), before.Balance.Decimal())
	}

	bob := e.Login("bob")
	bob.Post("/lang", url.Values{"lang": {"en"}, "back": {"/suspension"}})
	r = bob.Post("/suspension", url.Values{"from": {"2026-03-20"}, "days": {"10"}})
	if r.Status != http.StatusConflict || !strings.Contains(r.Body, `data-testid="suspension-error">The account is in debt`) {
		t.Errorf("bob in debt: %d %s", r.Status, webtest.Snippet(r.Body))
	}
}
