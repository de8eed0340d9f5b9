package bot_test

import (
	"context"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/kabinet-billing/kabinet/internal/billing"
	"github.com/kabinet-billing/kabinet/internal/clock"
	"github.com/kabinet-billing/kabinet/internal/content"
	"github.com/kabinet-billing/kabinet/internal/money"
	"github.com/kabinet-billing/kabinet/internal/promise"
	"github.com/kabinet-billing/kabinet/internal/store"
	"github.com/kabinet-billing/kabinet/internal/store/storetest"
	"github.com/kabinet-billing/kabinet/internal/subscriber"
	"github.com/kabinet-billing/kabinet/internal/suspension"
	"github.com/kabinet-billing/kabinet/internal/telegram"
	"github.com/kabinet-billing/kabinet/internal/telegram/telegramtest"
	"github.com/kabinet-billing/kabinet/internal/web/bot"
)

type env struct {
	t      *testing.T
	db     *store.DB
	clk    *clock.Fake
	biller *billing.Biller
	dir    *subscriber.Directory
	links  *telegram.Links
	fake   *telegramtest.Fake
	bot    *bot.Bot
	susp   *suspension.Service
	ids    map[string]int64
}

// newEnv: alice has money, bob owes for March and April and is limited on
// 16 April 2026, when the clock stands.
func newEnv(t *testing.T, db *store.DB) *env {
	t.Helper()
	ctx := context.Background()
	start := time.Date(2026, 3, 15, 9, 0, 0, 0, time.UTC)
	clk := clock.NewFake(start)
	b := billing.New(db, clk, billing.DefaultRules())
	sealer, _ := subscriber.NewSealer(make([]byte, 32))
	e := &env{t: t, db: db, clk: clk, biller: b, dir: subscriber.New(db, clk, sealer, b), ids: map[string]int64{}}
	city, err := billing.AddCity(ctx, db, billing.City{Code: "tver", Name: "Тверь", NameEn: "Tver"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := billing.AddTariff(ctx, db, billing.Tariff{Code: "home100", Name: "Домашний 100", NameEn: "Home 100", Fee: money.Rub(500),
		DownKbps: 100000, UpKbps: 100000, Public: true, Prorate: true}, start); err != nil {
		t.Fatal(err)
	}
	for _, login := range []string{"alice", "bob"} {
		a, err := e.dir.Create(ctx, subscriber.NewAccount{Login: login, Password: "secret-pass-1", Name: "Абонент " + login,
			Tariff: "home100", City: "tver"})
		if err != nil {
			t.Fatal(err)
		}
		e.ids[login] = a.ID
	}
	if err := db.Write(ctx, func(tx *store.Tx) error {
		_, err := b.Credit(ctx, tx, e.ids["alice"], "cash", "a1", money.Rub(1500), "", start)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := content.Add(ctx, db, content.Item{Kind: content.KindNews, Title: "Плановые работы 20 апреля", TitleEn: "Planned works on 20 April",
		Body: "С 2:00 до 4:00 возможны перерывы <связи>.", CityID: city.ID, PublishedAt: start}, start); err != nil {
		t.Fatal(err)
	}
	clk.Set(time.Date(2026, 4, 16, 9, 0, 0, 0, time.UTC))
	if _, err := b.Run(ctx, clk.Now(), nil); err != nil {
		t.Fatal(err)
	}
	e.fake = telegramtest.Start(t)
	e.links = telegram.NewLinks(db, clk, 15*time.Minute)
	e.susp = suspension.New(db, clk, b, suspension.DefaultRules())
	e.bot, err = bot.New(bot.Deps{DB: db, Clock: clk, Biller: b, Subscribers: e.dir, Promises: promise.New(db, clk, b, promise.DefaultRules()),
		Suspensions: e.susp,
		Links:       e.links, Client: telegram.NewClient(telegramtest.Token, e.fake.URL()), PortalURL: "https://lk.example",
		Log: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.bot.Start(ctx); err != nil {
		t.Fatal(err)
	}
	return e
}

// say has user type text and returns the bot's answer.
func (e *env) say(u telegram.User, text string) telegramtest.Sent {
	e.t.Helper()
	n := len(e.fake.Sent(u.ID))
	e.bot.Handle(context.Background(), telegram.Update{UpdateID: 1, Message: &telegram.Message{MessageID: 1, From: &u,
		Chat: telegram.Chat{ID: u.ID, Type: "private"}, Text: text}})
	return e.fake.Last(u.ID, n+1)
}

// link makes a token for login as the portal would and sends /start with it.
func (e *env) link(login string, u telegram.User) telegramtest.Sent {
	e.t.Helper()
	tok, _, err := e.links.NewToken(context.Background(), e.ids[login])
	if err != nil {
		e.t.Fatal(err)
	}
	return e.say(u, "/start "+tok)
}

func has(t *testing.T, what string, s telegramtest.Sent, want ...string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(s.Text, w) {
			t.Errorf("%s: %q lacks %q", what, s.Text, w)
		}
	}
}

func TestBot(t *testing.T) {
	e := newEnv(t, storetest.SQLite(t))
	ctx := context.Background()
	if e.bot.Username() != telegramtest.BotUsername || e.bot.DeepLink("abc") != "https://t.me/"+telegramtest.BotUsername+"?start=abc" {
		t.Errorf("bot %q, link %q", e.bot.Username(), e.bot.DeepLink("abc"))
	}
	if len(e.fake.Commands("")) == 0 || e.fake.Commands("en")[0].Description != "balance and account status" {
		t.Errorf("menu ru %v, en %v", e.fake.Commands(""), e.fake.Commands("en"))
	}
	stranger := telegram.User{ID: 900, FirstName: "Stranger", LanguageCode: "ru"}
	bob := telegram.User{ID: 200, FirstName: "Bob", Username: "bob_tg", LanguageCode: "ru"}
	alice := telegram.User{ID: 100, FirstName: "Alice", LanguageCode: "en-US"}

	t.Run("unlinked chats get the hint only", func(t *testing.T) {
		for _, cmd := range []string{"/start", "/balance", "/pay", "/promise", "/news", "hello"} {
			r := e.say(stranger, cmd)
			has(t, cmd, r, "Профиль")
			if strings.Contains(r.Text, "₽") || strings.Contains(r.Text, "Плановые") || len(r.Buttons) > 0 {
				t.Errorf("%s: an unlinked chat was told %q", cmd, r.Text)
			}
		}
		has(t, "bad token", e.say(stranger, "/start nosuchtoken"), "не подходит")
	})

	t.Run("link", func(t *testing.T) {
		has(t, "link", e.link("bob", bob), "Готово", "/balance", "/promise")
		k, ok, err := e.links.OfAccount(ctx, e.ids["bob"])
		if err != nil || !ok || k.ChatID != bob.ID || k.Username != "bob_tg" {
			t.Errorf("bob's link %+v %v %v", k, ok, err)
		}
		has(t, "alice in English", e.link("alice", alice), "Done", "contract No.")
		rows, err := e.db.Query(ctx, telegram.ChatAddresses)
		if err != nil {
			t.Fatal(err)
		}
		addrs := map[int64]string{}
		for rows.Next() {
			var id int64
			var chat string
			rows.Scan(&id, &chat)
			addrs[id] = chat
		}
		rows.Close()
		if addrs[e.ids["bob"]] != "200" || addrs[e.ids["alice"]] != "100" {
			t.Errorf("chat addresses %v", addrs)
		}
	})

	t.Run("balance", func(t *testing.T) {
		r := e.say(bob, "/balance")
		has(t, "bob", r, "Баланс: <b>−", "скорость ограничена", "Домашний 100", "Рекомендуемый платёж")
		has(t, "alice", e.say(alice, "/balance@"+telegramtest.BotUsername), "Balance: <b>", "Status: active", "Home 100")
	})

	t.Run("pay", func(t *testing.T) {
		r := e.say(bob, "/pay")
		has(t, "pay", r, "Рекомендуемый платёж")
		if len(r.Buttons) != 1 || r.Buttons[0].URL != "https://lk.example/payments" {
			t.Errorf("pay button %+v", r.Buttons)
		}
	})

	t.Run("promise", func(t *testing.T) {
		has(t, "alice has no debt", e.say(alice, "/promise"), "There is no debt")
		has(t, "bob takes it", e.say(bob, "/promise"), "Обещанный платёж на", "до 19.04.2026")
		s, _ := e.biller.Summary(ctx, e.ids["bob"])
		if s.Status != billing.StatusActive {
			t.Errorf("bob is %s after the promise, want active", s.Status)
		}
		var ch string
		e.db.QueryRow(ctx, `SELECT channel FROM promises WHERE account_id = ?`, e.ids["bob"]).Scan(&ch)
		if ch != promise.ChannelTelegram {
			t.Errorf("promise taken through %q", ch)
		}
		has(t, "again", e.say(bob, "/promise"), "без ограничений до 19.04.2026")
		has(t, "balance shows it", e.say(bob, "/balance"), "Обещанный платёж: без ограничений до 19.04.2026")
	})

	t.Run("news", func(t *testing.T) {
		has(t, "news", e.say(bob, "/news"), "<b>Плановые работы 20 апреля</b>", "&lt;связи&gt;")
		has(t, "news en", e.say(alice, "/news"), "Planned works on 20 April")
	})

	t.Run("suspension", func(t *testing.T) {
		r := e.say(alice, "/suspension")
		has(t, "none", r, "not suspended")
		if len(r.Buttons) != 1 || r.Buttons[0].URL != "https://lk.example/suspension" {
			t.Errorf("suspension button %+v", r.Buttons)
		}
		from := time.Date(2026, 4, 20, 12, 0, 0, 0, time.UTC)
		if _, err := e.susp.Start(ctx, suspension.Request{AccountID: e.ids["alice"], From: from, Days: 14, Channel: "portal"}); err != nil {
			t.Fatal(err)
		}
		has(t, "scheduled", e.say(alice, "/suspension"), "will be suspended from 20.04.2026 to 03.05.2026", "from 04.05.2026")
		has(t, "help lists it", e.say(alice, "/help"), "/suspension —")
	})

	t.Run("help and unknown", func(t *testing.T) {
		has(t, "help", e.say(bob, "/help"), "/balance —", "/stop —")
		has(t, "unknown", e.say(bob, "что-то"), "Не понял", "/help")
	})

	t.Run("blocked by the user unlinks", func(t *testing.T) {
		e.fake.Block(alice.ID)
		err := e.bot.Send(ctx, alice.ID, "test", nil)
		if te, ok := telegram.AsError(err); !ok || !te.Blocked() {
			t.Fatalf("send to a blocked chat: %v", err)
		}
		if _, ok, _ := e.links.OfAccount(ctx, e.ids["alice"]); ok {
			t.Error("alice's chat is still linked after 403")
		}
		var reason string
		e.db.QueryRow(ctx, `SELECT data FROM events WHERE kind = ? AND account_id = ? ORDER BY id DESC LIMIT 1`, telegram.EventUnlinked, e.ids["alice"]).Scan(&reason)
		if !strings.Contains(reason, telegram.UnlinkBlocked) {
			t.Errorf("unlink event %q", reason)
		}
	})

	t.Run("notify", func(t *testing.T) {
		ref, err := e.bot.Notify(ctx, bob.ID, "Платёж 500 ₽ получен <спасибо>")
		if err != nil || ref == "" {
			t.Fatalf("notify: %q %v", ref, err)
		}
		if got := e.fake.Last(bob.ID, len(e.fake.Sent(bob.ID))); got.ParseMode != "" || got.Text != "Платёж 500 ₽ получен <спасибо>" {
			t.Errorf("sent %+v: want the text as it is, without markup", got)
		}
		e.fake.Flood(1, 2)
		if _, err := e.bot.Notify(ctx, bob.ID, "x"); !telegram.Temporary(err) || telegram.RetryAfter(err) != 2*time.Second {
			t.Errorf("flood: %v", err)
		}
	})

	t.Run("stop", func(t *testing.T) {
		has(t, "stop", e.say(bob, "/stop"), "отключён")
		if _, ok, _ := e.links.OfAccount(ctx, e.ids["bob"]); ok {
			t.Error("bob is linked after /stop")
		}
		r := e.say(bob, "/balance")
		if strings.Contains(r.Text, "₽") {
			t.Errorf("after /stop the chat was told %q", r.Text)
		}
		has(t, "stop again", e.say(bob, "/stop"), "не подключён")
	})
}

// TestLinkTokens: a token links once, until it expires (moving the
// clock); a newer token retires the older; linking another chat to the
// account, or the chat to another account, replaces the link.
func TestLinkTokens(t *testing.T) {
	for name, open := range map[string]func(testing.TB) *store.DB{"sqlite": storetest.SQLite, "postgres": storetest.Postgres} {
		t.Run(name, func(t *testing.T) {
			db := open(t)
			e := newEnv(t, db)
			ctx := context.Background()
			chat := func(id int64) telegram.Link { return telegram.Link{ChatID: id} }
			tok, exp, err := e.links.NewToken(ctx, e.ids["alice"])
			if err != nil || len(tok) < 20 || len(tok) > 64 || strings.Trim(tok, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-") != "" {
				t.Fatalf("token %q %v", tok, err)
			}
			if !exp.Equal(e.clk.Now().Add(15 * time.Minute)) {
				t.Errorf("expires %s", exp)
			}
			var stored string
			db.QueryRow(ctx, `SELECT token_hash FROM telegram_link_tokens`).Scan(&stored)
			if stored == tok || stored == "" {
				t.Errorf("stored %q for token %q: want its hash", stored, tok)
			}
			if acct, err := e.links.Link(ctx, tok, chat(1)); err != nil || acct != e.ids["alice"] {
				t.Fatalf("link: %d %v", acct, err)
			}
			if _, err := e.links.Link(ctx, tok, chat(2)); err != telegram.ErrTokenUsed && !strings.Contains(err.Error(), "used") {
				t.Errorf("second use: %v", err)
			}
			// Expiry.
			tok2, _, _ := e.links.NewToken(ctx, e.ids["bob"])
			e.clk.Advance(15*time.Minute + time.Second)
			if _, err := e.links.Link(ctx, tok2, chat(3)); err == nil || !strings.Contains(err.Error(), "expired") {
				t.Errorf("expired token: %v", err)
			}
			// A newer token retires the older one.
			old, _, _ := e.links.NewToken(ctx, e.ids["bob"])
			e.clk.Advance(time.Minute)
			fresh, _, _ := e.links.NewToken(ctx, e.ids["bob"])
			if _, err := e.links.Link(ctx, old, chat(3)); err == nil {
				t.Error("an older token linked after a newer was made")
			}
			if _, err := e.links.Link(ctx, fresh, chat(3)); err != nil {
				t.Fatal(err)
			}
			// Chat 1 (alice's) now links to bob: alice loses it, bob's chat 3 goes.
			again, _, _ := e.links.NewToken(ctx, e.ids["bob"])
			if _, err := e.links.Link(ctx, again, chat(1)); err != nil {
				t.Fatal(err)
			}
			if _, ok, _ := e.links.OfAccount(ctx, e.ids["alice"]); ok {
				t.Error("alice keeps a chat now linked to bob")
			}
			if k, ok, _ := e.links.OfChat(ctx, 3); ok {
				t.Errorf("bob's old chat still linked: %+v", k)
			}
			var linked, unlinked int
			db.QueryRow(ctx, `SELECT COUNT(*) FROM events WHERE kind = ?`, telegram.EventLinked).Scan(&linked)
			db.QueryRow(ctx, `SELECT COUNT(*) FROM events WHERE kind = ?`, telegram.EventUnlinked).Scan(&unlinked)
			if linked != 3 || unlinked != 2 {
				t.Errorf("%d linked and %d unlinked events, want 3 and 2", linked, unlinked)
			}
		})
	}
}

// TestPollingAndWebhook: the bot answers over getUpdates, and, with a
// webhook, only updates carrying the secret token.
func TestPollingAndWebhook(t *testing.T) {
	e := newEnv(t, storetest.SQLite(t))
	stranger := telegram.User{ID: 901, FirstName: "S"}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { e.bot.Run(ctx, "", ""); close(done) }()
	e.fake.Say(stranger, "/help")
	has(t, "polling", e.fake.Last(stranger.ID, 1), "Профиль")
	cancel()
	<-done

	srv := httptest.NewServer(e.bot.Webhook("hook-secret"))
	defer srv.Close()
	ctx, cancel = context.WithCancel(context.Background())
	defer cancel()
	go e.bot.Run(ctx, srv.URL, "hook-secret")
	deadline := time.Now().Add(5 * time.Second)
	for url, _ := e.fake.Webhook(); url != srv.URL; url, _ = e.fake.Webhook() {
		if time.Now().After(deadline) {
			t.Fatal("webhook not set")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if code := e.fake.Say(stranger, "/balance"); code != 200 {
		t.Errorf("webhook answered %d", code)
	}
	has(t, "webhook", e.fake.Last(stranger.ID, 2), "Профиль")
	if code := e.fake.Post(srv.URL, "wrong", telegram.Update{UpdateID: 5, Message: &telegram.Message{Chat: telegram.Chat{ID: 1, Type: "private"}, Text: "/help"}}); code != 403 {
		t.Errorf("wrong secret: %d", code)
	}
	if n := len(e.fake.Sent(1)); n != 0 {
		t.Errorf("an update with a wrong secret was answered")
	}
}
