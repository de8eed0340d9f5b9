// Package telegramtest is a fake Telegram Bot API on loopback for tests. It
// answers the methods Kabinet calls (getMe, sendMessage, getUpdates,
// setWebhook, deleteWebhook, setMyCommands) with the documented JSON,
// including the refusals: 401 for a wrong token, 403 "bot was blocked by
// the user", 429 with parameters.retry_after, 409 for getUpdates while a
// webhook is set. Tests play the user with Say: the update goes to the
// webhook (with its secret token header) when one is set, or waits for
// getUpdates.
package telegramtest

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kabinet-billing/kabinet/internal/telegram"
)

// Token is the fake bot's token.
const Token = "123456:TEST-token_for-kabinet"

// BotUsername is the fake bot's username.
const BotUsername = "kabinet_test_bot"

// Sent is one sendMessage the bot made.
type Sent struct {
	ChatID    int64
	Text      string
	ParseMode string
	Buttons   []telegram.InlineButton
}

// Fake is the Bot API.
type Fake struct {
	T   testing.TB
	srv *httptest.Server

	mu        sync.Mutex
	cond      *sync.Cond
	sent      []Sent
	updates   []telegram.Update
	nextID    int64
	blocked   map[int64]bool
	flood     int // answer the next n sendMessage with 429
	retry     int // retry_after of those
	webhook   string
	secret    string
	commands  map[string][]telegram.Command
	calls     map[string]int
	polling   int
	hookCodes []int // status codes the webhook answered
}

// Start serves the fake on loopback until the test ends.
func Start(t testing.TB) *Fake {
	f := &Fake{T: t, blocked: map[int64]bool{}, commands: map[string][]telegram.Command{}, calls: map[string]int{}, nextID: 100}
	f.cond = sync.NewCond(&f.mu)
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(func() {
		f.mu.Lock()
		f.updates = append(f.updates, telegram.Update{UpdateID: -1}) // wake pollers
		f.cond.Broadcast()
		f.mu.Unlock()
		f.srv.CloseClientConnections()
		f.srv.Close()
	})
	return f
}

// URL is the api_url to configure.
func (f *Fake) URL() string { return f.srv.URL }

// Block makes the user of chat block the bot: sendMessage there is 403.
func (f *Fake) Block(chat int64) { f.mu.Lock(); f.blocked[chat] = true; f.mu.Unlock() }

// Flood answers the next n sendMessage with 429 and retry_after seconds.
func (f *Fake) Flood(n, retryAfter int) { f.mu.Lock(); f.flood, f.retry = n, retryAfter; f.mu.Unlock() }

// Webhook is the webhook set, with its secret.
func (f *Fake) Webhook() (string, string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.webhook, f.secret
}

// Calls counts calls of method.
func (f *Fake) Calls(method string) int { f.mu.Lock(); defer f.mu.Unlock(); return f.calls[method] }

// Commands is the menu set for lang.
func (f *Fake) Commands(lang string) []telegram.Command {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.commands[lang]
}

// Sent lists the messages sent to chat (0: to every chat).
func (f *Fake) Sent(chat int64) []Sent {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []Sent
	for _, s := range f.sent {
		if chat == 0 || s.ChatID == chat {
			out = append(out, s)
		}
	}
	return out
}

// WaitSent waits (up to 5 s) until chat has n messages and returns them.
func (f *Fake) WaitSent(chat int64, n int) []Sent {
	f.T.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		if s := f.Sent(chat); len(s) >= n || time.Now().After(deadline) {
			if len(s) < n {
				f.T.Fatalf("chat %d got %d messages, want %d: %+v", chat, len(s), n, s)
			}
			return s
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// Last is the last message sent to chat, waiting for the nth.
func (f *Fake) Last(chat int64, n int) Sent {
	f.T.Helper()
	s := f.WaitSent(chat, n)
	return s[len(s)-1]
}

// Say has user write text in their private chat with the bot (the chat's
// id is the user's). With a webhook set the update is posted to it at
// once (and Say returns the webhook's status); otherwise it waits for
// getUpdates and Say returns 0.
func (f *Fake) Say(user telegram.User, text string) int {
	f.mu.Lock()
	f.nextID++
	u := telegram.Update{UpdateID: f.nextID, Message: &telegram.Message{MessageID: f.nextID, From: &user,
		Chat: telegram.Chat{ID: user.ID, Type: "private", Username: user.Username}, Date: time.Now().Unix(), Text: text}}
	hook, secret := f.webhook, f.secret
	if hook == "" {
		f.updates = append(f.updates, u)
		f.cond.Broadcast()
		f.mu.Unlock()
		return 0
	}
	f.mu.Unlock()
	return f.Post(hook, secret, u)
}

// Post delivers u to a webhook with the secret header as Telegram does.
func (f *Fake) Post(url, secret string, u telegram.Update) int {
	f.T.Helper()
	body, _ := json.Marshal(u)
	req, _ := http.NewRequest("POST", url, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if secret != "" {
		req.Header.Set(telegram.SecretHeader, secret)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		f.T.Fatalf("webhook: %v", err)
	}
	res.Body.Close()
	f.mu.Lock()
	f.hookCodes = append(f.hookCodes, res.StatusCode)
	f.mu.Unlock()
	return res.StatusCode
}

type answer struct {
	OK          bool   `json:"ok"`
	Result      any    `json:"result,omitempty"`
	ErrorCode   int    `json:"error_code,omitempty"`
	Description string `json:"description,omitempty"`
	Parameters  any    `json:"parameters,omitempty"`
}

func reply(w http.ResponseWriter, code int, a answer) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(a)
}

func refuse(w http.ResponseWriter, code int, desc string) {
	reply(w, code, answer{ErrorCode: code, Description: desc})
}

func (f *Fake) serve(w http.ResponseWriter, r *http.Request) {
	rest, ok := strings.CutPrefix(r.URL.Path, "/bot")
	token, method, ok2 := strings.Cut(rest, "/")
	if !ok || !ok2 {
		refuse(w, http.StatusNotFound, "Not Found")
		return
	}
	if token != Token {
		refuse(w, http.StatusUnauthorized, "Unauthorized")
		return
	}
	var p map[string]json.RawMessage
	if err := json.NewDecoder(r.Body).Decode(&p); err != nil && r.ContentLength != 0 {
		refuse(w, http.StatusBadRequest, "Bad Request: can't parse JSON")
		return
	}
	str := func(k string) string {
		var s string
		json.Unmarshal(p[k], &s)
		return s
	}
	f.mu.Lock()
	f.calls[method]++
	f.mu.Unlock()
	switch method {
	case "getMe":
		reply(w, 200, answer{OK: true, Result: telegram.User{ID: 123456, IsBot: true, FirstName: "Kabinet", Username: BotUsername}})
	case "sendMessage":
		var s telegram.Send
		if err := json.Unmarshal(mustJSON(p), &s); err != nil || s.ChatID == 0 || s.Text == "" {
			refuse(w, http.StatusBadRequest, "Bad Request: message text is empty")
			return
		}
		if len([]rune(s.Text)) > 4096 {
			refuse(w, http.StatusBadRequest, "Bad Request: message is too long")
			return
		}
		f.mu.Lock()
		defer f.mu.Unlock()
		if f.flood > 0 {
			f.flood--
			reply(w, http.StatusTooManyRequests, answer{ErrorCode: 429, Description: "Too Many Requests: retry after " + itoa(f.retry),
				Parameters: map[string]int{"retry_after": f.retry}})
			return
		}
		if f.blocked[s.ChatID] {
			refuse(w, http.StatusForbidden, "Forbidden: bot was blocked by the user")
			return
		}
		sent := Sent{ChatID: s.ChatID, Text: s.Text, ParseMode: s.ParseMode}
		if s.ReplyMarkup != nil {
			for _, row := range s.ReplyMarkup.InlineKeyboard {
				sent.Buttons = append(sent.Buttons, row...)
			}
		}
		f.sent = append(f.sent, sent)
		f.nextID++
		reply(w, 200, answer{OK: true, Result: telegram.Message{MessageID: f.nextID, Chat: telegram.Chat{ID: s.ChatID, Type: "private"},
			Date: time.Now().Unix(), Text: s.Text}})
	case "getUpdates":
		f.getUpdates(w, r, p)
	case "setWebhook":
		url, secret := str("url"), str("secret_token")
		if url != "" && !strings.HasPrefix(url, "https://") && !strings.HasPrefix(url, "http://127.0.0.1") {
			refuse(w, http.StatusBadRequest, "Bad Request: bad webhook: An HTTPS URL must be provided for webhook")
			return
		}
		f.mu.Lock()
		f.webhook, f.secret = url, secret
		f.mu.Unlock()
		reply(w, 200, answer{OK: true, Result: true, Description: "Webhook was set"})
	case "deleteWebhook":
		f.mu.Lock()
		f.webhook, f.secret = "", ""
		f.mu.Unlock()
		reply(w, 200, answer{OK: true, Result: true, Description: "Webhook was deleted"})
	case "setMyCommands":
		var cmds []telegram.Command
		json.Unmarshal(p["commands"], &cmds)
		f.mu.Lock()
		f.commands[str("language_code")] = cmds
		f.mu.Unlock()
		reply(w, 200, answer{OK: true, Result: true})
	default:
		refuse(w, http.StatusNotFound, "Not Found")
	}
}

func (f *Fake) getUpdates(w http.ResponseWriter, r *http.Request, p map[string]json.RawMessage) {
	var offset int64
	var timeout int
	json.Unmarshal(p["offset"], &offset)
	json.Unmarshal(p["timeout"], &timeout)
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.webhook != "" {
		reply(w, http.StatusConflict, answer{ErrorCode: 409, Description: "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first"})
		return
	}
	// offset confirms every update before it: Telegram forgets them.
	f.updates = slices.DeleteFunc(f.updates, func(u telegram.Update) bool { return u.UpdateID >= 0 && u.UpdateID < offset })
	deadline := time.Now().Add(time.Duration(min(timeout, 2)) * time.Second)
	stop := cancelled(r)
	for len(f.updates) == 0 && time.Now().Before(deadline) && !stop() {
		// Woken by Say, by the test ending, or by this timer.
		t := time.AfterFunc(50*time.Millisecond, func() { f.mu.Lock(); f.cond.Broadcast(); f.mu.Unlock() })
		f.cond.Wait()
		t.Stop()
	}
	out := []telegram.Update{}
	for _, u := range f.updates {
		if u.UpdateID >= 0 {
			out = append(out, u)
		}
	}
	reply(w, 200, answer{OK: true, Result: out})
}

func cancelled(r *http.Request) func() bool {
	return func() bool { return r.Context().Err() != nil }
}

func mustJSON(p map[string]json.RawMessage) []byte { b, _ := json.Marshal(p); return b }

func itoa(n int) string {
	b, _ := json.Marshal(n)
	return string(b)
}
