package portal

import (
	"encoding/base64"
	"html/template"
	"net/http"

	"github.com/kabinet-billing/kabinet/internal/subscriber"
	"github.com/kabinet-billing/kabinet/internal/telegram"
	"github.com/kabinet-billing/kabinet/internal/web/platform"
)

// TelegramBot is the subscribers' bot as the profile needs it: its name
// and the deep link that carries a linking token.
type TelegramBot interface {
	Username() string
	DeepLink(token string) string
}

// telegramData is the profile's Telegram card.
type telegramData struct {
	On      bool          // a bot is configured
	Bot     string        // @username
	Linked  bool          // this account has a chat
	Link    telegram.Link // the chat, when Linked
	Since   string        // when it was linked, in the provider's zone
	Deep    string        // the one-time link just made
	QR      template.URL  // its QR code (an SVG data URL)
	Expires string        // when the link stops working
}

// telegram fills the card for the account.
func (po *Portal) telegram(r *http.Request, a subscriber.Account) (telegramData, error) {
	if po.d.Telegram == nil || po.d.TelegramLinks == nil || po.d.Telegram.Username() == "" {
		// No bot, or Telegram has not told serve its name yet (getMe
		// is retried): nothing to link to.
		return telegramData{}, nil
	}
	d := telegramData{On: true, Bot: po.d.Telegram.Username()}
	k, ok, err := po.d.TelegramLinks.OfAccount(r.Context(), a.ID)
	if err != nil {
		return d, err
	}
	if ok {
		d.Linked, d.Link, d.Since = true, k, k.LinkedAt.In(po.p.Zone).Format("02.01.2006 15:04")
	}
	return d, nil
}

// linkTelegram makes a one-time token and shows its deep link (and QR code
// for a phone) on the profile; the bot links the chat on /start <token>.
func (po *Portal) linkTelegram(w http.ResponseWriter, r *http.Request, a subscriber.Account) {
	if po.d.Telegram == nil || po.d.Telegram.Username() == "" {
		po.p.NotFound(w, r)
		return
	}
	token, expires, err := po.d.TelegramLinks.NewToken(r.Context(), a.ID)
	if err != nil {
		po.p.Fail(w, r, err)
		return
	}
	tg, err := po.telegram(r, a)
	if err != nil {
		po.p.Fail(w, r, err)
		return
	}
	tg.Deep = po.d.Telegram.DeepLink(token)
	tg.Expires = expires.In(po.p.Zone).Format("15:04")
	if svg, err := platform.QRCodeSVG(tg.Deep); err == nil {
		tg.QR = template.URL("data:image/svg+xml;base64," + base64.StdEncoding.EncodeToString(svg))
	}
	v := po.view(r, a, "profile.title", "profile", profileData{Account: a, Telegram: tg})
	// The link works once and briefly: no cache may keep the page.
	w.Header().Set("Cache-Control", "no-store")
	po.render(w, r, http.StatusOK, "profile", v)
}

func (po *Portal) unlinkTelegram(w http.ResponseWriter, r *http.Request, a subscriber.Account) {
	if po.d.TelegramLinks == nil {
		po.p.NotFound(w, r)
		return
	}
	if err := po.d.TelegramLinks.Unlink(r.Context(), a.ID, telegram.UnlinkPortal); err != nil {
		po.p.Fail(w, r, err)
		return
	}
	po.redirect(w, r, "/profile", "profile.telegram.unlinked")
}
