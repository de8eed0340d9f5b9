// Package telegram is Kabinet's side of Telegram: a client of the Bot API
// over net/http (the few methods the subscribers' bot uses, from the Bot
// API documentation at core.telegram.org/bots/api), the webhook's check,
// and the links between chats and accounts (Links) with the portal's
// one-time linking tokens.
//
// Every Bot API method is an HTTPS POST to <api_url>/bot<token>/<method>
// with a JSON body; the answer is {"ok": true, "result": ...} or
// {"ok": false, "error_code": N, "description": "...", "parameters":
// {"retry_after": S, "migrate_to_chat_id": ID}}.
package telegram

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

// Client calls the Bot API.
type Client struct {
	Token  string
	APIURL string // default https://api.telegram.org
	HTTP   *http.Client
}

// NewClient makes a client; apiURL "" is the public Bot API.
func NewClient(token, apiURL string) *Client {
	if apiURL == "" {
		apiURL = "https://api.telegram.org"
	}
	return &Client{Token: token, APIURL: strings.TrimRight(apiURL, "/"), HTTP: &http.Client{}}
}

// Error is the Bot API's refusal.
type Error struct {
	Method      string
	Code        int // error_code: 400, 401, 403, 409, 429, 5xx …
	Description string
	RetryAfter  time.Duration // parameters.retry_after, on 429
}

func (e *Error) Error() string {
	s := fmt.Sprintf("telegram %s: %d %s", e.Method, e.Code, e.Description)
	if e.RetryAfter > 0 {
		s += fmt.Sprintf(" (retry after %s)", e.RetryAfter)
	}
	return s
}

// Temporary: flood control (429) and Telegram's own trouble (5xx) pass.
func (e *Error) Temporary() bool { return e.Code == http.StatusTooManyRequests || e.Code >= 500 }

// Blocked tells that the chat cannot be written to any more: the user
// blocked the bot or deleted their account (403 Forbidden). Its link is
// dropped rather than retried.
func (e *Error) Blocked() bool { return e.Code == http.StatusForbidden }

// Unauthorized is a wrong or revoked bot token (401).
func (e *Error) Unauthorized() bool { return e.Code == http.StatusUnauthorized }

// AsError finds the Bot API's refusal in err.
func AsError(err error) (*Error, bool) {
	var e *Error
	ok := errors.As(err, &e)
	return e, ok
}

// Temporary reports whether err may pass by itself: a network failure or
// a temporary refusal. A blocked chat, a bad request or a bad token do not.
func Temporary(err error) bool {
	if err == nil {
		return false
	}
	if e, ok := AsError(err); ok {
		return e.Temporary()
	}
	return !errors.Is(err, context.Canceled)
}

// RetryAfter is how long flood control asks to wait, or 0.
func RetryAfter(err error) time.Duration {
	if e, ok := AsError(err); ok {
		return e.RetryAfter
	}
	return 0
}

type response struct {
	OK          bool            `json:"ok"`
	Result      json.RawMessage `json:"result"`
	Description string          `json:"description"`
	ErrorCode   int             `json:"error_code"`
	Parameters  *struct {
		RetryAfter      int   `json:"retry_after"`
		MigrateToChatID int64 `json:"migrate_to_chat_id"`
	} `json:"parameters"`
}

// call posts params to method and decodes the result into out.
func (c *Client) call(ctx context.Context, method string, params, out any) error {
	body, err := json.Marshal(params)
	if err != nil {
		return fmt.Errorf("telegram %s: %w", method, err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.APIURL+"/bot"+c.Token+"/"+method, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("telegram %s: bad api_url", method)
	}
	req.Header.Set("Content-Type", "application/json")
	hc := c.HTTP
	if hc == nil {
		hc = http.DefaultClient
	}
	res, err := hc.Do(req)
	if err != nil {
		// The error quotes the URL, and the URL holds the token: say
		// what failed without it.
		var ue interface{ Unwrap() error }
		if errors.As(err, &ue) && ue.Unwrap() != nil {
			err = ue.Unwrap()
		}
		return fmt.Errorf("telegram %s: %s", method, strings.ReplaceAll(err.Error(), c.Token, "<token>"))
	}
	defer res.Body.Close()
	data, err := io.ReadAll(io.LimitReader(res.Body, 16<<20))
	if err != nil {
		return fmt.Errorf("telegram %s: %w", method, err)
	}
	var r response
	if err := json.Unmarshal(data, &r); err != nil {
		// Not the Bot API's JSON: a proxy's error page.
		return &Error{Method: method, Code: res.StatusCode, Description: "not a Bot API answer: " + http.StatusText(res.StatusCode)}
	}
	if !r.OK {
		e := &Error{Method: method, Code: r.ErrorCode, Description: r.Description}
		if e.Code == 0 {
			e.Code = res.StatusCode
		}
		if r.Parameters != nil && r.Parameters.RetryAfter > 0 {
			e.RetryAfter = time.Duration(r.Parameters.RetryAfter) * time.Second
		}
		return e
	}
	if out != nil {
		if err := json.Unmarshal(r.Result, out); err != nil {
			return fmt.Errorf("telegram %s: result: %w", method, err)
		}
	}
	return nil
}

// User is a Telegram user or bot.
type User struct {
	ID           int64  `json:"id"`
	IsBot        bool   `json:"is_bot"`
	FirstName    string `json:"first_name"`
	LastName     string `json:"last_name,omitempty"`
	Username     string `json:"username,omitempty"`
	LanguageCode string `json:"language_code,omitempty"`
}

// Chat is where a message was written.
type Chat struct {
	ID       int64  `json:"id"`
	Type     string `json:"type"` // private, group, supergroup, channel
	Username string `json:"username,omitempty"`
}

// Message is a message in a chat.
type Message struct {
	MessageID int64  `json:"message_id"`
	From      *User  `json:"from,omitempty"`
	Chat      Chat   `json:"chat"`
	Date      int64  `json:"date"`
	Text      string `json:"text,omitempty"`
}

// Update is one incoming event; the bot reads only messages.
type Update struct {
	UpdateID int64    `json:"update_id"`
	Message  *Message `json:"message,omitempty"`
}

// InlineButton is a button under a message; the bot's open a URL.
type InlineButton struct {
	Text string `json:"text"`
	URL  string `json:"url,omitempty"`
}

// InlineKeyboard is a message's reply_markup of buttons.
type InlineKeyboard struct {
	InlineKeyboard [][]InlineButton `json:"inline_keyboard"`
}

// Parse modes.
const (
	ParseHTML = "HTML"
)

// Send is a sendMessage request.
type Send struct {
	ChatID      int64           `json:"chat_id"`
	Text        string          `json:"text"`
	ParseMode   string          `json:"parse_mode,omitempty"`
	ReplyMarkup *InlineKeyboard `json:"reply_markup,omitempty"`
	// LinkPreview off: a pay link would otherwise unfold into a card.
	LinkPreview *LinkPreview `json:"link_preview_options,omitempty"`
}

// LinkPreview is link_preview_options.
type LinkPreview struct {
	IsDisabled bool `json:"is_disabled"`
}

// SendMessage sends a text message and returns it as sent.
func (c *Client) SendMessage(ctx context.Context, s Send) (Message, error) {
	var m Message
	err := c.call(ctx, "sendMessage", s, &m)
	return m, err
}

// GetMe is the bot itself: its username makes the t.me links.
func (c *Client) GetMe(ctx context.Context) (User, error) {
	var u User
	err := c.call(ctx, "getMe", struct{}{}, &u)
	return u, err
}

// GetUpdates long-polls for updates after offset-1 (offset confirms every
// update before it), waiting up to timeout for one to come.
func (c *Client) GetUpdates(ctx context.Context, offset int64, timeout time.Duration) ([]Update, error) {
	// The HTTP request must outlive Telegram's wait.
	ctx, cancel := context.WithTimeout(ctx, timeout+30*time.Second)
	defer cancel()
	var us []Update
	err := c.call(ctx, "getUpdates", map[string]any{"offset": offset, "timeout": int(timeout / time.Second),
		"allowed_updates": []string{"message"}}, &us)
	return us, err
}

// SetWebhook has Telegram POST updates to url with secret in the
// X-Telegram-Bot-Api-Secret-Token header.
func (c *Client) SetWebhook(ctx context.Context, url, secret string) error {
	return c.call(ctx, "setWebhook", map[string]any{"url": url, "secret_token": secret,
		"allowed_updates": []string{"message"}}, nil)
}

// DeleteWebhook goes back to getUpdates; pending updates are kept.
func (c *Client) DeleteWebhook(ctx context.Context) error {
	return c.call(ctx, "deleteWebhook", map[string]any{"drop_pending_updates": false}, nil)
}

// Command is one entry of the bot's menu.
type Command struct {
	Command     string `json:"command"`
	Description string `json:"description"`
}

// SetMyCommands sets the command menu for users of language lang ("" for
// everyone else).
func (c *Client) SetMyCommands(ctx context.Context, cmds []Command, lang string) error {
	p := map[string]any{"commands": cmds}
	if lang != "" {
		p["language_code"] = lang
	}
	return c.call(ctx, "setMyCommands", p, nil)
}
