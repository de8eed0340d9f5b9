package api_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/kabinet-billing/kabinet/internal/store/storetest"
	"github.com/kabinet-billing/kabinet/internal/telegram"
	"github.com/kabinet-billing/kabinet/internal/telegram/telegramtest"
	"github.com/kabinet-billing/kabinet/internal/web"
	"github.com/kabinet-billing/kabinet/internal/web/bot"
	"github.com/kabinet-billing/kabinet/internal/web/webtest"
)

// TestTelegramAPI: the app reads whether Telegram is linked, gets a
// one-time link, the bot links the chat with it, and the app unlinks;
// without a bot the state says none and a link is 404.
func TestTelegramAPI(t *testing.T) {
	fake := telegramtest.Start(t)
	var b *bot.Bot
	e := webtest.NewWith(t, storetest.SQLite(t), func(e *webtest.Env, d *web.Deps) {
		links := telegram.NewLinks(e.DB, e.Clock, 15*time.Minute)
		var err error
		b, err = bot.New(bot.Deps{DB: e.DB, Clock: e.Clock, Biller: e.Biller, Subscribers: e.Dir, Links: links,
			Client: telegram.NewClient(telegramtest.Token, fake.URL()), Log: slog.New(slog.DiscardHandler)})
		if err != nil {
			t.Fatal(err)
		}
		if err := b.Start(context.Background()); err != nil {
			t.Fatal(err)
		}
		d.Telegram, d.TelegramLinks = b, links
	})
	call := func(ts, method, path, token string) (int, map[string]any) {
		t.Helper()
		var body io.Reader
		if method == "POST" && path == "/api/v1/login" {
			body = strings.NewReader(`{"login":"alice","password":"` + webtest.Password + `"}`)
		}
		req, _ := http.NewRequest(method, ts+path, body)
		req.Header.Set("Content-Type", "application/json")
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		var m map[string]any
		json.NewDecoder(res.Body).Decode(&m)
		return res.StatusCode, m
	}
	_, login := call(e.TS.URL, "POST", "/api/v1/login", "")
	tok, _ := login["token"].(string)
	if tok == "" {
		t.Fatalf("login: %v", login)
	}
	code, st := call(e.TS.URL, "GET", "/api/v1/telegram", tok)
	if code != 200 || st["available"] != true || st["bot"] != telegramtest.BotUsername || st["linked"] != false {
		t.Fatalf("state: %d %v", code, st)
	}
	code, link := call(e.TS.URL, "POST", "/api/v1/telegram/link", tok)
	href, _ := link["link"].(string)
	token, ok := strings.CutPrefix(href, "https://t.me/"+telegramtest.BotUsername+"?start=")
	if code != 200 || !ok || link["expires_at"] == nil {
		t.Fatalf("link: %d %v", code, link)
	}
	user := telegram.User{ID: 31337, FirstName: "Alice", Username: "alice_app"}
	b.Handle(context.Background(), telegram.Update{UpdateID: 1, Message: &telegram.Message{From: &user, Chat: telegram.Chat{ID: user.ID, Type: "private"}, Text: "/start " + token}})
	if code, st = call(e.TS.URL, "GET", "/api/v1/telegram", tok); st["linked"] != true || st["username"] != "alice_app" {
		t.Errorf("after /start: %d %v", code, st)
	}
	if code, _ = call(e.TS.URL, "DELETE", "/api/v1/telegram", tok); code != 204 {
		t.Errorf("unlink: %d", code)
	}
	if _, st = call(e.TS.URL, "GET", "/api/v1/telegram", tok); st["linked"] != false {
		t.Errorf("after unlink: %v", st)
	}

	plain := webtest.New(t)
	_, login = call(plain.TS.URL, "POST", "/api/v1/login", "")
	tok, _ = login["token"].(string)
	if code, st := call(plain.TS.URL, "GET", "/api/v1/telegram", tok); code != 200 || st["available"] != false {
		t.Errorf("no bot: %d %v", code, st)
	}
	if code, _ := call(plain.TS.URL, "POST", "/api/v1/telegram/link", tok); code != http.StatusNotFound {
		t.Errorf("link without a bot: %d", code)
	}
}
