package notify

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/textproto"
	"strconv"
	"time"
)

// Channels a message goes out on.
const (
	ChannelEmail    = "email"
	ChannelTelegram = "telegram"
	ChannelSMS      = "sms"
	ChannelPush     = "push"
)

// Channels lists every channel in the order pages show them.
var Channels = []string{ChannelEmail, ChannelTelegram, ChannelSMS, ChannelPush}

// Message is one queued message as a Sender gets it.
type Message struct {
	ID        int64
	Channel   string
	Kind      string
	AccountID int64
	To        string // e-mail address, Telegram chat id, phone number, push subscription
	Subject   string // e-mail only
	Body      string
	Attempts  int // attempts before this one
	CreatedAt time.Time
}

// Sender hands one message to a channel's outside service and returns the
// service's reference for it (a Telegram message id, an SMPP message id).
// Its errors say what to do next: Permanent (never), Temporary (this
// message later) or Unavailable (the channel, later); any other error is
// taken as Temporary.
type Sender interface {
	Send(ctx context.Context, m Message) (ref string, err error)
}

// SenderFunc adapts a function to Sender.
type SenderFunc func(ctx context.Context, m Message) (string, error)

// Send calls f.
func (f SenderFunc) Send(ctx context.Context, m Message) (string, error) { return f(ctx, m) }

// FailKind tells what a failed send means for the queue.
type FailKind int

const (
	// Temporary: this message may go later (a greylisting 451); the
	// attempt counts against MaxAttempts and the message backs off.
	Temporary FailKind = iota
	// Permanent: this message can never go (no such mailbox, the bot was
	// blocked, a bad number); it fails at once.
	Permanent
	// Unavailable: the channel could not take anything now (connection
	// refused, 5xx, 429 Too Many Requests). The message waits without the
	// attempt counting, and the channel pauses (RetryAfter, or a backoff)
	// so that an outage of any length loses nothing.
	Unavailable
)

func (k FailKind) String() string {
	switch k {
	case Permanent:
		return "permanent"
	case Unavailable:
		return "unavailable"
	}
	return "temporary"
}

// SendError is a Sender's failure with its kind.
type SendError struct {
	Kind FailKind
	// RetryAfter is how long the service asked to wait (Telegram's
	// parameters.retry_after); zero: the queue's backoff.
	RetryAfter time.Duration
	Err        error
}

func (e *SendError) Error() string {
	if e.RetryAfter > 0 {
		return fmt.Sprintf("%v (%s, retry after %s)", e.Err, e.Kind, e.RetryAfter)
	}
	return fmt.Sprintf("%v (%s)", e.Err, e.Kind)
}

func (e *SendError) Unwrap() error { return e.Err }

// Fail wraps err as a failure of kind k.
func Fail(k FailKind, err error) error { return &SendError{Kind: k, Err: err} }

// RetryLater is an Unavailable failure with the wait the service asked for.
func RetryLater(err error, after time.Duration) error {
	return &SendError{Kind: Unavailable, RetryAfter: after, Err: err}
}

// failure classifies a Sender's error; a plain error is Temporary.
func failure(err error) *SendError {
	var se *SendError
	if errors.As(err, &se) {
		return se
	}
	return &SendError{Kind: Temporary, Err: err}
}

// Email is the e-mail channel: each message becomes a letter handed to the
// mail server by t.
type Email struct {
	Transport Transport
	From      string
	FromName  string
	// Files reads a queued letter's attachments; nil: none.
	Files func(ctx context.Context, id int64) ([]Attachment, error)
}

// Transport hands a composed letter to a mail server; *SMTP is one.
type Transport interface {
	Send(ctx context.Context, from string, to []string, msg []byte) error
}

// Send composes m as a letter whose Message-ID is the row's, so that a
// letter sent again after a crash is the same letter to the mail system.
func (e *Email) Send(ctx context.Context, m Message) (string, error) {
	var atts []Attachment
	if e.Files != nil {
		var err error
		if atts, err = e.Files(ctx, m.ID); err != nil {
			return "", Fail(Temporary, err)
		}
	}
	msg, id := composeID(e.FromName, e.From, m.To, m.Subject, m.Body, m.CreatedAt, m.ID, atts)
	err := e.Transport.Send(ctx, e.From, []string{m.To}, msg)
	if err == nil {
		return id, nil
	}
	var te *textproto.Error
	var ne net.Error
	var oe *net.OpError
	switch {
	case errors.As(err, &te) && te.Code >= 500:
		// 5xx: no such mailbox, refused: repeating only repeats it.
		return "", Fail(Permanent, err)
	case errors.As(err, &te):
		return "", Fail(Temporary, err)
	case errors.As(err, &oe), errors.As(err, &ne):
		return "", Fail(Unavailable, err)
	}
	return "", Fail(Temporary, err)
}

// messageID is the stable Message-ID of queue row id.
func messageID(id int64, created time.Time, host string) string {
	return "<kabinet." + strconv.FormatInt(id, 10) + "." + strconv.FormatInt(created.Unix(), 10) + "@" + host + ">"
}
