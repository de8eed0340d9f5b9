package telegram_test

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/kabinet-billing/kabinet/internal/telegram"
	"github.com/kabinet-billing/kabinet/internal/telegram/telegramtest"
)

func TestClient(t *testing.T) {
	f := telegramtest.Start(t)
	ctx := context.Background()
	c := telegram.NewClient(telegramtest.Token, f.URL())

	me, err := c.GetMe(ctx)
	if err != nil || me.Username != telegramtest.BotUsername || !me.IsBot {
		t.Fatalf("getMe: %+v %v", me, err)
	}

	t.Run("wrong token", func(t *testing.T) {
		bad := telegram.NewClient("999:WRONG-secret-token", f.URL())
		_, err := bad.GetMe(ctx)
		e, ok := telegram.AsError(err)
		if !ok || !e.Unauthorized() || telegram.Temporary(err) {
			t.Errorf("wrong token: %v", err)
		}
		if strings.Contains(err.Error(), "WRONG-secret") {
			t.Errorf("the error shows the token: %v", err)
		}
	})

	t.Run("send", func(t *testing.T) {
		m, err := c.SendMessage(ctx, telegram.Send{ChatID: 42, Text: "<b>Баланс</b>: 100,00 ₽", ParseMode: telegram.ParseHTML,
			ReplyMarkup: &telegram.InlineKeyboard{InlineKeyboard: [][]telegram.InlineButton{{{Text: "Оплатить", URL: "https://lk.example/payments"}}}}})
		if err != nil || m.Chat.ID != 42 || m.MessageID == 0 {
			t.Fatalf("sendMessage: %+v %v", m, err)
		}
		got := f.Last(42, 1)
		if got.ParseMode != "HTML" || len(got.Buttons) != 1 || got.Buttons[0].URL != "https://lk.example/payments" {
			t.Errorf("sent %+v", got)
		}
	})

	t.Run("flood control", func(t *testing.T) {
		f.Flood(1, 3)
		_, err := c.SendMessage(ctx, telegram.Send{ChatID: 42, Text: "x"})
		if e, ok := telegram.AsError(err); !ok || e.Code != 429 || !telegram.Temporary(err) || telegram.RetryAfter(err) != 3*time.Second {
			t.Errorf("429: %v (retry after %s)", err, telegram.RetryAfter(err))
		}
		if _, err := c.SendMessage(ctx, telegram.Send{ChatID: 42, Text: "x"}); err != nil {
			t.Errorf("after the wait: %v", err)
		}
	})

	t.Run("blocked", func(t *testing.T) {
		f.Block(7)
		_, err := c.SendMessage(ctx, telegram.Send{ChatID: 7, Text: "x"})
		if e, ok := telegram.AsError(err); !ok || !e.Blocked() || telegram.Temporary(err) {
			t.Errorf("blocked: %v", err)
		}
	})

	t.Run("long polling", func(t *testing.T) {
		user := telegram.User{ID: 555, FirstName: "Ivan", LanguageCode: "ru"}
		f.Say(user, "/help")
		us, err := c.GetUpdates(ctx, 0, time.Second)
		if err != nil || len(us) != 1 || us[0].Message.Text != "/help" || us[0].Message.Chat.ID != 555 || us[0].Message.From.LanguageCode != "ru" {
			t.Fatalf("getUpdates: %+v %v", us, err)
		}
		// The next offset confirms it: it does not come again.
		us, err = c.GetUpdates(ctx, us[0].UpdateID+1, 0)
		if err != nil || len(us) != 0 {
			t.Errorf("after confirming: %+v %v", us, err)
		}
	})

	t.Run("webhook", func(t *testing.T) {
		if err := c.SetWebhook(ctx, "https://lk.example/telegram/webhook", "s3cret"); err != nil {
			t.Fatal(err)
		}
		if url, secret := f.Webhook(); url != "https://lk.example/telegram/webhook" || secret != "s3cret" {
			t.Errorf("webhook %q %q", url, secret)
		}
		_, err := c.GetUpdates(ctx, 0, 0)
		if e, ok := telegram.AsError(err); !ok || e.Code != 409 {
			t.Errorf("getUpdates with a webhook: %v", err)
		}
		if err := c.SetWebhook(ctx, "ftp://x", "s"); err == nil {
			t.Error("a non-HTTPS webhook was accepted")
		}
		if err := c.DeleteWebhook(ctx); err != nil {
			t.Fatal(err)
		}
		if url, _ := f.Webhook(); url != "" {
			t.Errorf("webhook still %q", url)
		}
	})

	t.Run("Telegram unreachable", func(t *testing.T) {
		ln, _ := net.Listen("tcp", "127.0.0.1:0")
		addr := ln.Addr().String()
		ln.Close()
		down := telegram.NewClient(telegramtest.Token, "http://"+addr)
		_, err := down.GetMe(ctx)
		if err == nil || !telegram.Temporary(err) || strings.Contains(err.Error(), telegramtest.Token) {
			t.Errorf("unreachable: %v", err)
		}
	})
}

func TestWebhook(t *testing.T) {
	var got []telegram.Update
	h := telegram.Webhook("right-secret", func(_ context.Context, u telegram.Update) { got = append(got, u) })
	srv := httptest.NewServer(h)
	defer srv.Close()
	post := func(secret, body string) int {
		req, _ := http.NewRequest("POST", srv.URL, strings.NewReader(body))
		if secret != "" {
			req.Header.Set(telegram.SecretHeader, secret)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res.StatusCode
	}
	update := `{"update_id":1,"message":{"message_id":1,"chat":{"id":5,"type":"private"},"date":1,"text":"/balance"}}`
	for _, c := range []struct {
		name, secret, body string
		want               int
	}{
		{"no secret", "", update, 403},
		{"wrong secret", "wrong-secret", update, 403},
		{"bad json", "right-secret", "{", 400},
		{"good", "right-secret", update, 200},
	} {
		if code := post(c.secret, c.body); code != c.want {
			t.Errorf("%s: %d, want %d", c.name, code, c.want)
		}
	}
	if len(got) != 1 || got[0].Message.Text != "/balance" {
		t.Errorf("handled %+v, want the one good update", got)
	}
	// An empty secret configured never matches an empty header.
	if telegram.Webhook("", func(context.Context, telegram.Update) { t.Error("handled") }) == nil {
		t.Fatal("no handler")
	}
	s1, s2 := telegram.WebhookSecret("1:a", "k"), telegram.WebhookSecret("1:a", "other")
	if s1 == s2 || len(s1) != 64 || strings.ContainsAny(s1, ":/+=") {
		t.Errorf("secrets %q %q", s1, s2)
	}
}
