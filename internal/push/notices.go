package push

import (
	"context"
	"log/slog"
	"strconv"
	"strings"

	"github.com/kabinet-billing/kabinet/internal/notify"
)

// notice is a push's text in one language; {field} is replaced by the
// letter's field of that name.
type notice struct{ title, body string }

// notices are the pushes for the notices e-mail also sends (notify's
// kinds), Russian and English, short enough for a lock screen.
var notices = map[string]map[string]notice{
	notify.KindPaymentReceived: {
		"ru": {"Платёж зачислен", "Зачислено {amount}. Баланс: {balance}."},
		"en": {"Payment received", "{amount} credited. Balance: {balance}."},
	},
	notify.KindLowBalance: {
		"ru": {"Пополните счёт до {due}", "На счёте {balance}, {due} спишется {fees}. Рекомендуем внести {recommended}."},
		"en": {"Top up before {due}", "Balance {balance}; {fees} is charged on {due}. We suggest paying {recommended}."},
	},
	notify.KindLimited: {
		"ru": {"Скорость ограничена", "Долг {debt}: скорость снижена до {limit} Кбит/с. Оплатите — ограничение снимется сразу."},
		"en": {"Speed limited", "Debt {debt}: the speed is limited to {limit} kbit/s. Pay and the limit is lifted at once."},
	},
	notify.KindUnlimited: {
		"ru": {"Ограничение снято", "Скорость восстановлена. Баланс: {balance}."},
		"en": {"Limit lifted", "Full speed again. Balance: {balance}."},
	},
	notify.KindRequestAnswered: {
		"ru": {"Ответ на обращение № {request}", "«{subject}»: ответ — в личном кабинете."},
		"en": {"Request No. {request} answered", "“{subject}”: read the answer in your account."},
	},
}

// Notice is the push for a notice of kind in lang (Russian when lang is
// unknown); false for a kind that makes no push.
func Notice(kind, lang string, l notify.Letter) (Message, bool) {
	byLang, ok := notices[kind]
	if !ok {
		return Message{}, false
	}
	n, ok := byLang[lang]
	if !ok {
		n = byLang["ru"]
	}
	r := strings.NewReplacer("{amount}", l.Amount, "{balance}", l.Balance, "{due}", l.Due, "{fees}", l.Fees,
		"{recommended}", l.Recommended, "{debt}", l.Debt, "{limit}", strconv.FormatInt(l.LimitKbps, 10),
		"{request}", l.RequestID, "{subject}", l.Subject)
	m := Message{Title: r.Replace(n.title), Body: r.Replace(n.body), URL: "/", Tag: kind}
	switch kind {
	case notify.KindPaymentReceived, notify.KindLowBalance:
		m.URL = "/payments"
	case notify.KindLimited, notify.KindUnlimited:
		m.Tag = "limit" // the lift replaces the limit's notice
	case notify.KindRequestAnswered:
		m.URL, m.Tag = "/requests/"+l.RequestID, "request-"+l.RequestID
	}
	return m, true
}

// Notices sends notify's notices as pushes: it is notify.Pusher.
type Notices struct {
	S   *Service
	Log *slog.Logger
}

// Has reports whether the account has a device.
func (n Notices) Has(ctx context.Context, accountID int64) (bool, error) {
	return n.S.Has(ctx, accountID)
}

// Push sends the notice to the account's devices; failures are logged.
func (n Notices) Push(ctx context.Context, accountID int64, kind, lang string, l notify.Letter) {
	m, ok := Notice(kind, lang, l)
	if !ok {
		return
	}
	r, err := n.S.Send(ctx, accountID, m)
	if err != nil {
		log := n.Log
		if log == nil {
			log = slog.Default()
		}
		log.Warn("push", "account", accountID, "kind", kind, "sent", r.Sent, "removed", r.Removed, "failed", r.Failed, "err", err)
	}
}

var _ notify.Pusher = Notices{}
