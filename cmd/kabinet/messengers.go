package main

import (
	"strings"

	"github.com/kabinet-billing/kabinet/internal/sms"
	"github.com/kabinet-billing/kabinet/internal/telegram"
	"github.com/kabinet-billing/kabinet/internal/web/bot"
)

// buildMessengers wires [telegram] and [sms]: the bot when a token is
// set (webhook mode when public_url is https, unless polling is forced)
// and the SMPP sender when a host is.
func (a *app) buildMessengers() error {
	cfg := a.e.cfg
	a.tgLinks = telegram.NewLinks(a.e.db, a.e.clock, cfg.Telegram.LinkTTL)
	if tc := cfg.Telegram; tc.Token != "" {
		b, err := bot.New(bot.Deps{DB: a.e.db, Clock: a.e.clock, Biller: a.biller, Subscribers: a.subs, Promises: a.promises, Suspensions: a.suspends,
			Links: a.tgLinks, Client: telegram.NewClient(tc.Token, tc.APIURL), PortalURL: cfg.PublicURL, Log: a.log})
		if err != nil {
			return err
		}
		a.bot = b
		a.tgSecret = tc.WebhookSecret
		if a.tgSecret == "" {
			a.tgSecret = telegram.WebhookSecret(tc.Token, cfg.SecretKey)
		}
		if strings.HasPrefix(cfg.PublicURL, "https://") && !tc.Polling {
			a.tgWebhook = strings.TrimRight(cfg.PublicURL, "/") + "/telegram/webhook"
		}
	}
	a.sms = sms.New(a.e.db, a.e.clock, cfg.SMS, a.log)
	return nil
}
