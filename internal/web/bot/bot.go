// Package bot is the subscribers' Telegram bot: a surface like the portal.
// It reads updates (long polling, or the webhook when public_url is
// https), links a chat to an account with the portal's one-time token
// (/start <token>), and answers the commands by calling the capabilities:
// /balance, /pay, /promise, /news, /help, /stop. A chat not linked gets
// the linking hint only, never anyone's data. Texts are translations
// (web/translations/bot.{ru,en}.toml): Russian, or English when the user's
// Telegram speaks English.
package bot

import (
	"context"
	"errors"
	"fmt"
	"html"
	"io/fs"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/BurntSushi/toml"

	"github.com/kabinet-billing/kabinet/internal/billing"
	"github.com/kabinet-billing/kabinet/internal/clock"
	"github.com/kabinet-billing/kabinet/internal/content"
	"github.com/kabinet-billing/kabinet/internal/derrors"
	"github.com/kabinet-billing/kabinet/internal/promise"
	"github.com/kabinet-billing/kabinet/internal/store"
	"github.com/kabinet-billing/kabinet/internal/subscriber"
	"github.com/kabinet-billing/kabinet/internal/suspension"
	"github.com/kabinet-billing/kabinet/internal/telegram"
	"github.com/kabinet-billing/kabinet/internal/web/platform"
	assets "github.com/kabinet-billing/kabinet/web"
)

// Deps are what the bot calls.
type Deps struct {
	DB          *store.DB
	Clock       clock.Clock
	Biller      *billing.Biller
	Subscribers *subscriber.Directory
	Promises    *promise.Service // nil: /promise says it is unavailable
	// Suspensions are the voluntary suspensions; nil: no /suspension.
	Suspensions *suspension.Service
	Links       *telegram.Links
	Client      *telegram.Client
	// PortalURL is public_url: the pay button opens its /payments.
	PortalURL string
	// Files holds the translations; nil: the binary's web/ tree.
	Files fs.FS
	Log   *slog.Logger
}

// Bot answers subscribers in Telegram.
type Bot struct {
	d        Deps
	i18n     *platform.I18n
	zone     *time.Location
	mu       sync.Mutex
	username string
}

// New makes the bot; Start learns its username.
func New(d Deps) (*Bot, error) {
	if d.Files == nil {
		d.Files = assets.FS
	}
	if d.Log == nil {
		d.Log = slog.Default()
	}
	if d.Clock == nil {
		d.Clock = clock.System
	}
	t, err := platform.NewI18n(d.Files, "translations")
	if err != nil {
		return nil, fmt.Errorf("bot: %w", err)
	}
	if err := LoadMessages(t, d.Files); err != nil {
		return nil, err
	}
	return &Bot{d: d, i18n: t, zone: d.Biller.Rules.Zone}, nil
}

// LoadMessages adds the bot's translations (translations/bot.{ru,en}.toml)
// to t; each message must have both languages.
func LoadMessages(t *platform.I18n, files fs.FS) error {
	msgs := map[string]map[string]string{}
	for _, lang := range platform.Langs {
		b, err := fs.ReadFile(files, "translations/bot."+lang+".toml")
		if err != nil {
			return fmt.Errorf("bot translations: %w", err)
		}
		m := map[string]string{}
		if err := toml.Unmarshal(b, &m); err != nil {
			return fmt.Errorf("bot translations %s: %w", lang, err)
		}
		msgs[lang] = m
	}
	for id, ru := range msgs["ru"] {
		en, ok := msgs["en"][id]
		if !ok {
			return fmt.Errorf("bot translations: %q has no English", id)
		}
		t.Add(id, ru, en)
	}
	for id := range msgs["en"] {
		if _, ok := msgs["ru"][id]; !ok {
			return fmt.Errorf("bot translations: %q has no Russian", id)
		}
	}
	return nil
}

// commands are the menu, in the order /help lists them.
func (b *Bot) commands() []string {
	if b.d.Suspensions != nil {
		return []string{"balance", "pay", "promise", "suspension", "news", "help", "stop"}
	}
	return []string{"balance", "pay", "promise", "news", "help", "stop"}
}

// Start asks Telegram who the bot is (its username makes the portal's
// links) and sets its command menu in both languages.
func (b *Bot) Start(ctx context.Context) error {
	me, err := b.d.Client.GetMe(ctx)
	if err != nil {
		return fmt.Errorf("bot: %w", err)
	}
	b.mu.Lock()
	b.username = me.Username
	b.mu.Unlock()
	for _, lang := range []string{"", "en"} {
		l := lang
		if l == "" {
			l = "ru"
		}
		cmds := make([]telegram.Command, 0, len(b.commands()))
		for _, c := range b.commands() {
			cmds = append(cmds, telegram.Command{Command: c, Description: b.i18n.T(l, "bot.menu."+c, nil)})
		}
		if err := b.d.Client.SetMyCommands(ctx, cmds, lang); err != nil {
			// The menu is a convenience: typed commands work without it.
			b.d.Log.Warn("telegram: command menu not set", "err", err)
		}
	}
	return nil
}

// Username is the bot's @username, "" before Start.
func (b *Bot) Username() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.username
}

// DeepLink is the t.me link that opens the bot with /start token.
func (b *Bot) DeepLink(token string) string {
	return "https://t.me/" + b.Username() + "?start=" + token
}

// Links are the chat links the portal shows and ends.
func (b *Bot) Links() *telegram.Links { return b.d.Links }

// langOf picks the answer's language from the user's Telegram.
func langOf(u *telegram.User) string {
	if u != nil && strings.HasPrefix(strings.ToLower(u.LanguageCode), "en") {
		return "en"
	}
	return "ru"
}

func (b *Bot) t(lang, id string, data map[string]any) string { return b.i18n.T(lang, id, data) }

// reply is one answer: text (HTML) and, maybe, a button.
type reply struct {
	text   string
	button *telegram.InlineButton
}

// Handle answers one update. Failures are logged: the update is not
// retried (a command typed again is the retry).
func (b *Bot) Handle(ctx context.Context, u telegram.Update) {
	m := u.Message
	if m == nil || m.Chat.Type != "private" || m.Text == "" {
		return
	}
	lang := langOf(m.From)
	r, err := b.answer(ctx, m, lang)
	if err != nil {
		b.d.Log.Error("telegram: command failed", "chat", m.Chat.ID, "err", err)
		r = reply{text: b.t(lang, "bot.error", nil)}
	}
	if r.text == "" {
		return
	}
	if err := b.Send(ctx, m.Chat.ID, r.text, r.button); err != nil {
		b.d.Log.Warn("telegram: answer not sent", "chat", m.Chat.ID, "err", err)
	}
}

// Send writes to a chat; a chat whose user blocked the bot (403) is
// unlinked, so that nothing is queued for it again.
func (b *Bot) Send(ctx context.Context, chatID int64, text string, button *telegram.InlineButton) error {
	s := telegram.Send{ChatID: chatID, Text: text, ParseMode: telegram.ParseHTML, LinkPreview: &telegram.LinkPreview{IsDisabled: true}}
	if button != nil {
		s.ReplyMarkup = &telegram.InlineKeyboard{InlineKeyboard: [][]telegram.InlineButton{{*button}}}
	}
	_, err := b.d.Client.SendMessage(ctx, s)
	if e, ok := telegram.AsError(err); ok && e.Blocked() {
		if uerr := b.d.Links.UnlinkChat(context.WithoutCancel(ctx), chatID, telegram.UnlinkBlocked); uerr != nil {
			b.d.Log.Error("telegram: unlinking a blocked chat", "chat", chatID, "err", uerr)
		}
	}
	return err
}

// Notify sends a notification's plain text (no markup: the text is the
// queue's, not the bot's) to a chat and returns Telegram's message id as
// the reference. Errors are the Bot API's (telegram.AsError): a 403 has
// unlinked the chat and will not pass; telegram.Temporary and
// telegram.RetryAfter tell the queue when to try again.
func (b *Bot) Notify(ctx context.Context, chatID int64, text string) (string, error) {
	m, err := b.d.Client.SendMessage(ctx, telegram.Send{ChatID: chatID, Text: text, LinkPreview: &telegram.LinkPreview{IsDisabled: true}})
	if e, ok := telegram.AsError(err); ok && e.Blocked() {
		if uerr := b.d.Links.UnlinkChat(context.WithoutCancel(ctx), chatID, telegram.UnlinkBlocked); uerr != nil {
			b.d.Log.Error("telegram: unlinking a blocked chat", "chat", chatID, "err", uerr)
		}
	}
	if err != nil {
		return "", err
	}
	return strconv.FormatInt(m.MessageID, 10), nil
}

// command splits "/cmd@bot args" into "cmd" and "args".
func command(text string) (string, string) {
	text = strings.TrimSpace(text)
	if !strings.HasPrefix(text, "/") {
		return "", text
	}
	word, args, _ := strings.Cut(text[1:], " ")
	word, _, _ = strings.Cut(word, "@")
	return strings.ToLower(word), strings.TrimSpace(args)
}

func (b *Bot) answer(ctx context.Context, m *telegram.Message, lang string) (reply, error) {
	cmd, args := command(m.Text)
	if cmd == "start" && args != "" {
		return b.link(ctx, m, args, lang)
	}
	link, ok, err := b.d.Links.OfChat(ctx, m.Chat.ID)
	if err != nil {
		return reply{}, err
	}
	var acct subscriber.Account
	if ok {
		acct, err = b.d.Subscribers.ByID(ctx, link.AccountID)
		if errors.Is(err, derrors.NotFound) || (err == nil && acct.Status == billing.StatusClosed) {
			ok = false
		} else if err != nil {
			return reply{}, err
		}
	}
	if !ok {
		// Not linked: the way to link, and nothing else.
		if cmd == "stop" {
			return reply{text: b.t(lang, "bot.stop.none", nil)}, nil
		}
		return reply{text: b.t(lang, "bot.unlinked", nil)}, nil
	}
	switch cmd {
	case "start", "help":
		return reply{text: b.help(lang, acct)}, nil
	case "balance":
		return b.balance(ctx, acct, lang)
	case "pay":
		return b.pay(ctx, acct, lang)
	case "promise":
		return b.promise(ctx, acct, lang)
	case "news":
		return b.news(ctx, acct, lang)
	case "suspension":
		if b.d.Suspensions != nil {
			return b.suspension(ctx, acct, lang)
		}
	case "stop":
		if err := b.d.Links.UnlinkChat(ctx, m.Chat.ID, telegram.UnlinkStop); err != nil {
			return reply{}, err
		}
		return reply{text: b.t(lang, "bot.stop.done", nil)}, nil
	}
	return reply{text: b.t(lang, "bot.unknown", nil) + "\n\n" + b.help(lang, acct)}, nil
}

func (b *Bot) link(ctx context.Context, m *telegram.Message, token, lang string) (reply, error) {
	k := telegram.Link{ChatID: m.Chat.ID, Lang: lang}
	if m.From != nil {
		k.Username = m.From.Username
	}
	acct, err := b.d.Links.Link(ctx, token, k)
	switch {
	case errors.Is(err, telegram.ErrTokenUnknown), errors.Is(err, telegram.ErrTokenUsed), errors.Is(err, telegram.ErrTokenExpired):
		return reply{text: b.t(lang, "bot.link."+derrors.Code(err), nil)}, nil
	case err != nil:
		return reply{}, err
	}
	a, err := b.d.Subscribers.ByID(ctx, acct)
	if err != nil {
		return reply{}, err
	}
	return reply{text: b.t(lang, "bot.link.done", map[string]any{"Contract": html.EscapeString(a.ContractNo)}) + "\n\n" + b.help(lang, a)}, nil
}

func (b *Bot) help(lang string, a subscriber.Account) string {
	var sb strings.Builder
	sb.WriteString(b.t(lang, "bot.help.heading", map[string]any{"Contract": html.EscapeString(a.ContractNo)}))
	for _, c := range b.commands() {
		fmt.Fprintf(&sb, "\n/%s — %s", c, b.t(lang, "bot.menu."+c, nil))
	}
	return sb.String()
}

func (b *Bot) date(t time.Time) string { return t.In(b.zone).Format("02.01.2006") }

func (b *Bot) balance(ctx context.Context, a subscriber.Account, lang string) (reply, error) {
	s, err := b.d.Biller.Summary(ctx, a.ID)
	if err != nil {
		return reply{}, err
	}
	var sb strings.Builder
	sb.WriteString(b.t(lang, "bot.balance", map[string]any{"Contract": html.EscapeString(a.ContractNo), "Balance": s.Balance.Format(lang),
		"Status": b.t(lang, "bot.status."+s.Status, nil), "Tariff": html.EscapeString(tariffName(s.Tariff, lang))}))
	if !s.PromisedUntil.IsZero() && s.PromisedUntil.After(b.d.Clock.Now()) {
		sb.WriteString("\n" + b.t(lang, "bot.balance.promised", map[string]any{"Date": b.date(s.PromisedUntil)}))
	}
	if s.Status == billing.StatusLimited {
		sb.WriteString("\n" + b.t(lang, "bot.balance.limited", map[string]any{"Kbps": s.LimitKbps}))
	}
	if !s.NextChargeAt.IsZero() {
		sb.WriteString("\n" + b.t(lang, "bot.balance.next", map[string]any{"Date": b.date(s.NextChargeAt), "Amount": s.NextChargeAmount.Format(lang)}))
	}
	if s.Recommended > 0 {
		sb.WriteString("\n" + b.t(lang, "bot.balance.recommended", map[string]any{"Amount": s.Recommended.Format(lang)}))
	}
	return reply{text: sb.String()}, nil
}

func tariffName(t billing.Tariff, lang string) string {
	if lang == "en" && t.NameEn != "" {
		return t.NameEn
	}
	return t.Name
}

func (b *Bot) payButton(lang string) *telegram.InlineButton {
	if b.d.PortalURL == "" {
		return nil
	}
	return &telegram.InlineButton{Text: b.t(lang, "bot.pay.button", nil), URL: strings.TrimRight(b.d.PortalURL, "/") + "/payments"}
}

func (b *Bot) pay(ctx context.Context, a subscriber.Account, lang string) (reply, error) {
	s, err := b.d.Biller.Summary(ctx, a.ID)
	if err != nil {
		return reply{}, err
	}
	due := ""
	if !s.NextChargeAt.IsZero() {
		due = b.date(s.NextChargeAt)
	}
	text := b.t(lang, "bot.pay.none", map[string]any{"Balance": s.Balance.Format(lang), "Date": due})
	if s.Recommended > 0 {
		text = b.t(lang, "bot.pay.recommended", map[string]any{"Amount": s.Recommended.Format(lang), "Balance": s.Balance.Format(lang), "Date": due})
	}
	if b.d.PortalURL == "" {
		text += "\n" + b.t(lang, "bot.pay.portal", nil)
	}
	return reply{text: text, button: b.payButton(lang)}, nil
}

func (b *Bot) promise(ctx context.Context, a subscriber.Account, lang string) (reply, error) {
	if b.d.Promises == nil {
		return reply{text: b.t(lang, "promise.error.disabled", nil)}, nil
	}
	o, err := b.d.Promises.Offer(ctx, a.ID)
	if err != nil {
		return reply{}, err
	}
	figures := o.Figures(lang, b.zone)
	if o.Open != nil {
		return reply{text: b.t(lang, "promise.open.until", figures), button: b.payButton(lang)}, nil
	}
	if !o.Available {
		return reply{text: b.t(lang, "promise.error."+derrors.Code(o.Refusal), figures)}, nil
	}
	p, err := b.d.Promises.Take(ctx, promise.Request{AccountID: a.ID, Amount: o.Amount, Channel: promise.ChannelTelegram})
	if code := derrors.Code(err); code != "" {
		// Refused between the offer and the take (a payment came in).
		return reply{text: b.t(lang, "promise.error."+code, figures)}, nil
	}
	if err != nil {
		return reply{}, err
	}
	return reply{text: b.t(lang, "bot.promise.taken", map[string]any{"Amount": p.Amount.Format(lang), "Date": b.date(p.EndsAt)}), button: b.payButton(lang)}, nil
}

// suspension tells the voluntary suspension's state; taking or ending
// one is the portal's (it needs a quote confirmed), the button goes there.
func (b *Bot) suspension(ctx context.Context, a subscriber.Account, lang string) (reply, error) {
	s, err := b.d.Suspensions.Current(ctx, a.ID)
	if err != nil {
		return reply{}, err
	}
	var button *telegram.InlineButton
	if b.d.PortalURL != "" {
		button = &telegram.InlineButton{Text: b.t(lang, "bot.suspension.button", nil), URL: strings.TrimRight(b.d.PortalURL, "/") + "/suspension"}
	}
	if s == nil {
		return reply{text: b.t(lang, "bot.suspension.none", nil), button: button}, nil
	}
	dates := map[string]any{"From": b.date(s.StartsAt), "Last": b.date(s.LastDay()), "Until": b.date(s.EndsAt)}
	state := "scheduled"
	if s.Frozen() {
		state = "active"
	}
	text := "<b>" + b.t(lang, "suspension."+state+".heading", nil) + "</b>\n" + b.t(lang, "suspension."+state+".text", dates)
	return reply{text: text, button: button}, nil
}

func (b *Bot) news(ctx context.Context, a subscriber.Account, lang string) (reply, error) {
	items, err := content.Current(ctx, b.d.DB, a.CityID, content.KindNews, b.d.Clock.Now(), 3)
	if err != nil {
		return reply{}, err
	}
	if len(items) == 0 {
		return reply{text: b.t(lang, "bot.news.none", nil)}, nil
	}
	var sb strings.Builder
	for i, it := range items {
		if i > 0 {
			sb.WriteString("\n\n")
		}
		body := it.BodyIn(lang)
		if r := []rune(body); len(r) > 600 {
			body = string(r[:600]) + "…"
		}
		fmt.Fprintf(&sb, "<b>%s</b> · %s\n%s", html.EscapeString(it.TitleIn(lang)), b.date(it.PublishedAt), html.EscapeString(body))
	}
	return reply{text: sb.String()}, nil
}

// Webhook serves Telegram's updates, checking the secret token.
func (b *Bot) Webhook(secret string) http.Handler { return telegram.Webhook(secret, b.Handle) }

// Run reads updates until ctx ends: with webhookURL set it registers the
// webhook (Telegram then posts to Webhook's handler), otherwise it long
// polls. On PostgreSQL with several instances one polls at a time (two
// getUpdates would make Telegram refuse one with 409).
func (b *Bot) Run(ctx context.Context, webhookURL, secret string) {
	for ctx.Err() == nil {
		if err := b.Start(ctx); err != nil {
			b.d.Log.Error("telegram: bot not started, trying again in a minute", "err", err)
			if sleep(ctx, time.Minute) {
				continue
			}
			return
		}
		break
	}
	if webhookURL != "" {
		for ctx.Err() == nil {
			err := b.d.Client.SetWebhook(ctx, webhookURL, secret)
			if err == nil {
				b.d.Log.Info("telegram: webhook set", "bot", b.Username(), "url", webhookURL)
				<-ctx.Done()
				return
			}
			b.d.Log.Error("telegram: webhook not set, trying again in a minute", "err", err)
			sleep(ctx, time.Minute)
		}
		return
	}
	for ctx.Err() == nil {
		release, ok, err := b.d.DB.TryLock(ctx, "telegram-poll")
		if err != nil || !ok {
			sleep(ctx, 30*time.Second)
			continue
		}
		b.poll(ctx)
		release()
	}
}

// poll long-polls until ctx ends.
func (b *Bot) poll(ctx context.Context) {
	if err := b.d.Client.DeleteWebhook(ctx); err != nil && ctx.Err() == nil {
		b.d.Log.Warn("telegram: deleteWebhook", "err", err)
	}
	b.d.Log.Info("telegram: long polling", "bot", b.Username())
	var offset int64
	for ctx.Err() == nil {
		us, err := b.d.Client.GetUpdates(ctx, offset, 25*time.Second)
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			wait := telegram.RetryAfter(err)
			if wait == 0 {
				wait = 5 * time.Second
			}
			b.d.Log.Warn("telegram: getUpdates", "err", err, "retry_in", wait)
			sleep(ctx, wait)
			continue
		}
		for _, u := range us {
			b.Handle(ctx, u)
			offset = max(offset, u.UpdateID+1)
		}
	}
	if offset > 0 {
		// Confirm what was handled, so that a restart does not answer it again.
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		b.d.Client.GetUpdates(cctx, offset, 0)
		cancel()
	}
}

// sleep waits d or until ctx ends; it reports whether to go on.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
