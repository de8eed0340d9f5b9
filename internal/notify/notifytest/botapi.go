package notifytest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/kabinet-billing/kabinet/internal/notify"
)

// BotAPI is a fake Telegram Bot API on loopback answering sendMessage as
// the Bot API documents (https://core.telegram.org/bots/api): a JSON body
// {"chat_id", "text"} to /bot<token>/sendMessage; {"ok":true,"result":
// {"message_id":…}} on success; {"ok":false,"error_code":429,
// "description":"Too Many Requests: retry after N","parameters":
// {"retry_after":N}} when more than PerSecond messages arrive within a
// second (the "about 30 a second" limit) or more than one to a chat.
// Times come from the real clock: it measures what arrives.
type BotAPI struct {
	URL   string
	Token string
	// PerSecond and PerChat: the limits it enforces (0: none).
	PerSecond int
	PerChat   time.Duration
	// RetryAfter is the retry_after of its 429 answers, in seconds.
	RetryAfter int
	// Blocked chats answer 403 "Forbidden: bot was blocked by the user".
	Blocked map[string]bool
	// Hold, when it returns true for a chat, makes the fake take the
	// message (it counts as delivered, as Telegram would deliver it) and
	// never answer: the sender is caught between the send and its answer,
	// where a test kills it.
	Hold func(chat string) bool

	mu       sync.Mutex
	srv      *http.Server
	sent     []Delivered
	window   []time.Time // arrivals in the last second
	lastChat map[string]time.Time
	tooMany  int
	nextID   int64
}

// Delivered is one message the fake accepted.
type Delivered struct {
	ChatID string
	Text   string
	At     time.Time
}

// StartBotAPI serves the fake on 127.0.0.1 until Close.
func StartBotAPI(token string) (*BotAPI, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	b := &BotAPI{URL: "http://" + ln.Addr().String(), Token: token, RetryAfter: 1, lastChat: map[string]time.Time{}, Blocked: map[string]bool{}}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /bot"+token+"/sendMessage", b.sendMessage)
	b.srv = &http.Server{Handler: mux}
	go b.srv.Serve(ln)
	return b, nil
}

// Close stops the server.
func (b *BotAPI) Close() error { return b.srv.Close() }

func answer(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(v)
}

func (b *BotAPI) sendMessage(w http.ResponseWriter, r *http.Request) {
	var in struct {
		ChatID json.RawMessage `json:"chat_id"`
		Text   string          `json:"text"`
	}
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil || len(in.ChatID) == 0 || in.Text == "" {
		answer(w, 400, map[string]any{"ok": false, "error_code": 400, "description": "Bad Request: message text is empty"})
		return
	}
	chat := strings.Trim(string(in.ChatID), `"`)
	now := time.Now()
	if b.accept(w, chat, in.Text, in.ChatID, now) {
		<-r.Context().Done()
	}
}

// accept answers a sendMessage, or reports that it must hold the answer.
func (b *BotAPI) accept(w http.ResponseWriter, chat, text string, rawChat json.RawMessage, now time.Time) (hold bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.Blocked[chat] {
		answer(w, 403, map[string]any{"ok": false, "error_code": 403, "description": "Forbidden: bot was blocked by the user"})
		return false
	}
	cut := 0
	for cut < len(b.window) && now.Sub(b.window[cut]) >= time.Second {
		cut++
	}
	b.window = b.window[cut:]
	last, seen := b.lastChat[chat]
	if (b.PerSecond > 0 && len(b.window) >= b.PerSecond) || (b.PerChat > 0 && seen && now.Sub(last) < b.PerChat) {
		b.tooMany++
		answer(w, 429, map[string]any{"ok": false, "error_code": 429,
			"description": "Too Many Requests: retry after " + strconv.Itoa(b.RetryAfter), "parameters": map[string]any{"retry_after": b.RetryAfter}})
		return false
	}
	b.window = append(b.window, now)
	b.lastChat[chat] = now
	b.nextID++
	b.sent = append(b.sent, Delivered{ChatID: chat, Text: text, At: now})
	if b.Hold != nil && b.Hold(chat) {
		return true
	}
	answer(w, 200, map[string]any{"ok": true, "result": map[string]any{"message_id": b.nextID, "date": now.Unix(),
		"chat": map[string]any{"id": rawChat}, "text": text}})
	return false
}

// Sent returns what was accepted.
func (b *BotAPI) Sent() []Delivered {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]Delivered(nil), b.sent...)
}

// TooMany is how many 429 answers it gave.
func (b *BotAPI) TooMany() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.tooMany
}

// BotSender is the smallest Bot API client the queue's tests and benchmark
// need (sendMessage only); Kabinet's own bot lives in internal/telegram.
type BotSender struct {
	URL    string // the API's base, e.g. https://api.telegram.org
	Token  string
	Client *http.Client
}

// Send posts m as a sendMessage and classifies the answer: 429 and 5xx
// make the channel wait (retry_after when given), other 4xx fail the
// message for good.
func (s *BotSender) Send(ctx context.Context, m notify.Message) (string, error) {
	body, _ := json.Marshal(map[string]string{"chat_id": m.To, "text": m.Body})
	req, err := http.NewRequestWithContext(ctx, "POST", s.URL+"/bot"+s.Token+"/sendMessage", bytes.NewReader(body))
	if err != nil {
		return "", notify.Fail(notify.Permanent, err)
	}
	req.Header.Set("Content-Type", "application/json")
	c := s.Client
	if c == nil {
		c = http.DefaultClient
	}
	resp, err := c.Do(req)
	if err != nil {
		return "", notify.Fail(notify.Unavailable, err)
	}
	defer resp.Body.Close()
	var out struct {
		OK          bool   `json:"ok"`
		ErrorCode   int    `json:"error_code"`
		Description string `json:"description"`
		Parameters  struct {
			RetryAfter int `json:"retry_after"`
		} `json:"parameters"`
		Result struct {
			MessageID int64 `json:"message_id"`
		} `json:"result"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		return "", notify.Fail(notify.Unavailable, fmt.Errorf("telegram: %s: %w", resp.Status, err))
	}
	if out.OK {
		return strconv.FormatInt(out.Result.MessageID, 10), nil
	}
	e := errors.New("telegram: " + out.Description)
	switch {
	case out.ErrorCode == 429:
		return "", notify.RetryLater(e, time.Duration(out.Parameters.RetryAfter)*time.Second)
	case out.ErrorCode >= 500:
		return "", notify.Fail(notify.Unavailable, e)
	}
	return "", notify.Fail(notify.Permanent, e)
}
