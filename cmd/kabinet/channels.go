package main

import (
	"context"
	"strconv"

	"github.com/kabinet-billing/kabinet/internal/notify"
	"github.com/kabinet-billing/kabinet/internal/sms"
	"github.com/kabinet-billing/kabinet/internal/telegram"
)

// addChannels puts Telegram and SMS on the notification queue when they
// are configured: the bot's Notify and the SMPP service each become a
// notify.Sender, their errors sorted into the queue's kinds. Telegram runs
// at the Bot API's limits (30 a second, one a second per chat); SMS at
// [sms] rate with [sms] window sends under way.
func (a *app) addChannels() {
	if a.bot != nil {
		a.mail.AddChannel(notify.Channel{Name: notify.ChannelTelegram, Limits: notify.TelegramLimits,
			Addresses: telegram.ChatAddresses,
			Sender: notify.SenderFunc(func(ctx context.Context, m notify.Message) (string, error) {
				chat, err := strconv.ParseInt(m.To, 10, 64)
				if err != nil {
					return "", notify.Fail(notify.Permanent, err)
				}
				ref, err := a.bot.Notify(ctx, chat, m.Body)
				switch {
				case err == nil:
					return ref, nil
				case telegram.RetryAfter(err) > 0:
					return "", notify.RetryLater(err, telegram.RetryAfter(err))
				case telegram.Temporary(err):
					return "", notify.Fail(notify.Unavailable, err)
				}
				if e, ok := telegram.AsError(err); ok && e.Unauthorized() {
					// A revoked or wrong token stops the whole channel until
					// [telegram] is fixed; the message itself is fine.
					return "", notify.Fail(notify.Unavailable, err)
				}
				if _, ok := telegram.AsError(err); ok {
					return "", notify.Fail(notify.Permanent, err) // 400 chat not found, 403 blocked
				}
				return "", notify.Fail(notify.Unavailable, err) // no answer: the network
			})})
	}
	if a.sms != nil {
		c := a.e.cfg.SMS
		a.mail.AddChannel(notify.Channel{Name: notify.ChannelSMS, Limits: notify.Limits{PerSecond: c.Rate, Window: max(c.Window, 1)},
			Sender: notify.SenderFunc(func(ctx context.Context, m notify.Message) (string, error) {
				ref := "n" + strconv.FormatInt(m.ID, 10)
				_, err := a.sms.Send(ctx, sms.Message{Ref: ref, AccountID: m.AccountID, Phone: m.To, Text: m.Body})
				switch {
				case err == nil:
					return ref, nil
				case sms.Permanent(err):
					return "", notify.Fail(notify.Permanent, err)
				}
				return "", notify.Fail(notify.Unavailable, err)
			})})
	}
}
