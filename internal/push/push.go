// Package push sends Web Push notifications to the subscribers' devices:
// the Push API's subscriptions (one per browser or installed app, listed in
// the profile), the server's VAPID key pair (RFC 8292), made once at the
// first start and kept in the database, and delivery through the browsers'
// push services (RFC 8030) with the message encrypted for the device
// (aes128gcm, RFC 8291) by github.com/SherClockHolmes/webpush-go. A
// subscription the push service says is gone (404, 410) is removed.
package push

import (
	"context"
	"crypto/ecdh"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"syscall"
	"time"

	"github.com/SherClockHolmes/webpush-go"

	"github.com/kabinet-billing/kabinet/internal/clock"
	"github.com/kabinet-billing/kabinet/internal/derrors"
	"github.com/kabinet-billing/kabinet/internal/store"
)

// MaxDevices bounds an account's subscriptions.
const MaxDevices = 20

// Refusals, shown beside the profile's notifications card.
var (
	ErrSubscription = derrors.New(derrors.Invalid, "push_subscription", "not a push subscription")
	ErrTooMany      = derrors.New(derrors.Invalid, "push_devices", "too many devices")
)

// Subscription is one device's: where its push service takes messages for
// it, and the keys to encrypt them with (the Push API's p256dh and auth,
// base64url).
type Subscription struct {
	ID         int64
	AccountID  int64
	Endpoint   string
	P256dh     string
	Auth       string
	Device     string // "Chrome · Android", from the browser's User-Agent
	CreatedAt  time.Time
	LastSentAt time.Time // zero: nothing sent yet
}

// Message is what the service worker shows (web/pwa/sw.js reads these
// fields).
type Message struct {
	Title string `json:"title"`
	Body  string `json:"body"`
	URL   string `json:"url"`           // the portal page a tap opens
	Tag   string `json:"tag,omitempty"` // a newer message with the same tag replaces the older
}

// Options tune the Service.
type Options struct {
	// Contact is the VAPID "sub" (RFC 8292 section 2.1): an e-mail
	// address (webpush-go adds "mailto:") or an https: URL the push
	// service may write to about this server's traffic.
	Contact string
	// TTL is how long a push service keeps a message for a device that is
	// off (default one day).
	TTL time.Duration
	// HTTPClient sends to the push services (default: a client with a
	// timeout that refuses private and loopback addresses).
	HTTPClient *http.Client
	// AllowPrivate accepts endpoints on loopback and private addresses
	// (tests, a push service on the inside network).
	AllowPrivate bool
	Log          *slog.Logger
}

// Service keeps subscriptions and sends to them.
type Service struct {
	db       *store.DB
	clock    clock.Clock
	opts     Options
	pub, key string // VAPID, base64url (the public key uncompressed)
}

// Open loads the VAPID keys, making them on the first start (once, however
// many instances start together).
func Open(ctx context.Context, db *store.DB, clk clock.Clock, opts Options) (*Service, error) {
	if opts.TTL <= 0 {
		opts.TTL = 24 * time.Hour
	}
	if opts.Log == nil {
		opts.Log = slog.Default()
	}
	if opts.HTTPClient == nil {
		opts.HTTPClient = publicClient(opts.AllowPrivate)
	}
	s := &Service{db: db, clock: clk, opts: opts}
	err := db.QueryRow(ctx, `SELECT public_key, private_key FROM push_vapid WHERE id = 1`).Scan(&s.pub, &s.key)
	if errors.Is(err, sql.ErrNoRows) {
		priv, pub, gerr := webpush.GenerateVAPIDKeys()
		if gerr != nil {
			return nil, fmt.Errorf("push: VAPID keys: %w", gerr)
		}
		err = db.Write(ctx, func(tx *store.Tx) error {
			_, err := tx.Exec(ctx, `INSERT INTO push_vapid (id, public_key, private_key, created_at) VALUES (1, ?, ?, ?) ON CONFLICT (id) DO NOTHING`,
				pub, priv, clk.Now().UTC())
			return err
		})
		if err == nil {
			err = db.QueryRow(ctx, `SELECT public_key, private_key FROM push_vapid WHERE id = 1`).Scan(&s.pub, &s.key)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("push: VAPID keys: %w", err)
	}
	return s, nil
}

// PublicKey is the VAPID public key (base64url, uncompressed P-256 point):
// the Push API's applicationServerKey.
func (s *Service) PublicKey() string { return s.pub }

// decodeKey reads a key as the Push API gives it (base64url, padded or
// not; some clients send standard base64).
func decodeKey(k string) ([]byte, error) {
	k = strings.TrimRight(strings.TrimSpace(k), "=")
	if b, err := base64.RawURLEncoding.DecodeString(k); err == nil {
		return b, nil
	}
	return base64.RawStdEncoding.DecodeString(k)
}

// check validates a subscription as the browser gave it.
func (s *Service) check(sub Subscription) error {
	u, err := url.Parse(sub.Endpoint)
	if err != nil || len(sub.Endpoint) > 2048 || u.Host == "" || u.User != nil {
		return fmt.Errorf("endpoint %q: %w", sub.Endpoint, ErrSubscription)
	}
	if u.Scheme != "https" && !(s.opts.AllowPrivate && u.Scheme == "http") {
		return fmt.Errorf("endpoint %q: not https: %w", sub.Endpoint, ErrSubscription)
	}
	p, err := decodeKey(sub.P256dh)
	if err == nil {
		_, err = ecdh.P256().NewPublicKey(p)
	}
	if err != nil {
		return fmt.Errorf("p256dh: %v: %w", err, ErrSubscription)
	}
	if a, err := decodeKey(sub.Auth); err != nil || len(a) != 16 {
		return fmt.Errorf("auth: %w", ErrSubscription)
	}
	return nil
}

// Subscribe keeps a device's subscription for the account. The endpoint
// is the device's: subscribing it again (a new key, another subscriber
// logged in on the same browser) replaces what was kept for it.
func (s *Service) Subscribe(ctx context.Context, accountID int64, sub Subscription) (Subscription, error) {
	if err := s.check(sub); err != nil {
		return Subscription{}, err
	}
	sub.AccountID, sub.CreatedAt = accountID, s.clock.Now().UTC()
	if len(sub.Device) > 100 {
		sub.Device = sub.Device[:100]
	}
	err := s.db.Write(ctx, func(tx *store.Tx) error {
		var n int
		if err := tx.QueryRow(ctx, `SELECT COUNT(*) FROM push_subscriptions WHERE account_id = ? AND endpoint <> ?`, accountID, sub.Endpoint).Scan(&n); err != nil {
			return err
		}
		if n >= MaxDevices {
			return ErrTooMany
		}
		return tx.QueryRow(ctx, `INSERT INTO push_subscriptions (account_id, endpoint, p256dh, auth, device, created_at) VALUES (?, ?, ?, ?, ?, ?)
			ON CONFLICT (endpoint) DO UPDATE SET account_id = excluded.account_id, p256dh = excluded.p256dh, auth = excluded.auth,
			device = excluded.device, created_at = excluded.created_at, last_sent_at = NULL RETURNING id`,
			accountID, sub.Endpoint, sub.P256dh, sub.Auth, sub.Device, sub.CreatedAt).Scan(&sub.ID)
	})
	if err != nil {
		return Subscription{}, fmt.Errorf("push subscription of %d: %w", accountID, err)
	}
	return sub, nil
}

// List is the account's devices, newest first.
func (s *Service) List(ctx context.Context, accountID int64) ([]Subscription, error) {
	rows, err := s.db.Query(ctx, `SELECT id, account_id, endpoint, p256dh, auth, device, created_at, last_sent_at
		FROM push_subscriptions WHERE account_id = ? ORDER BY id DESC`, accountID)
	if err != nil {
		return nil, fmt.Errorf("push subscriptions of %d: %w", accountID, err)
	}
	defer rows.Close()
	var out []Subscription
	for rows.Next() {
		var x Subscription
		var last sql.NullTime
		if err := rows.Scan(&x.ID, &x.AccountID, &x.Endpoint, &x.P256dh, &x.Auth, &x.Device, &x.CreatedAt, &last); err != nil {
			return nil, fmt.Errorf("push subscriptions of %d: %w", accountID, err)
		}
		x.LastSentAt = last.Time
		out = append(out, x)
	}
	return out, rows.Err()
}

// Has reports whether the account has a device to send to.
func (s *Service) Has(ctx context.Context, accountID int64) (bool, error) {
	var n int
	err := s.db.QueryRow(ctx, `SELECT COUNT(*) FROM push_subscriptions WHERE account_id = ?`, accountID).Scan(&n)
	return n > 0, err
}

// Remove deletes one of the account's subscriptions; another account's is
// not found.
func (s *Service) Remove(ctx context.Context, accountID, id int64) error {
	err := s.db.Write(ctx, func(tx *store.Tx) error {
		res, err := tx.Exec(ctx, `DELETE FROM push_subscriptions WHERE id = ? AND account_id = ?`, id, accountID)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return derrors.NotFound
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("push subscription %d of %d: %w", id, accountID, err)
	}
	return nil
}

// Result is what one Send did.
type Result struct {
	Sent    int // accepted by the push service
	Removed int // gone (404, 410): deleted
	Failed  int // refused or unreachable: kept, the message is lost
}

// Send delivers m to every device of the account. A failure on one device
// does not stop the others; the error joins the failures.
func (s *Service) Send(ctx context.Context, accountID int64, m Message) (Result, error) {
	var r Result
	subs, err := s.List(ctx, accountID)
	if err != nil {
		return r, err
	}
	payload, err := json.Marshal(m)
	if err != nil {
		return r, err
	}
	var errs []error
	for _, sub := range subs {
		gone, err := s.sendOne(ctx, sub, payload, m.Tag)
		switch {
		case gone:
			r.Removed++
		case err != nil:
			r.Failed++
			errs = append(errs, err)
		default:
			r.Sent++
		}
	}
	return r, errors.Join(errs...)
}

// topicOK is a Topic header RFC 8030 accepts: at most 32 characters of
// the base64url alphabet.
func topicOK(t string) bool {
	if t == "" || len(t) > 32 {
		return false
	}
	for _, c := range t {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

func (s *Service) sendOne(ctx context.Context, sub Subscription, payload []byte, tag string) (gone bool, err error) {
	o := &webpush.Options{HTTPClient: s.opts.HTTPClient, Subscriber: s.opts.Contact, VAPIDPublicKey: s.pub, VAPIDPrivateKey: s.key,
		TTL: int(s.opts.TTL / time.Second), Urgency: webpush.UrgencyNormal}
	if topicOK(tag) {
		o.Topic = tag
	}
	// The library pads the message in place: give it its own copy.
	res, err := webpush.SendNotificationWithContext(ctx, append([]byte(nil), payload...),
		&webpush.Subscription{Endpoint: sub.Endpoint, Keys: webpush.Keys{P256dh: sub.P256dh, Auth: sub.Auth}}, o)
	host := sub.Endpoint
	if u, perr := url.Parse(sub.Endpoint); perr == nil {
		host = u.Host
	}
	if err != nil {
		return false, fmt.Errorf("push to %s (subscription %d): %w", host, sub.ID, err)
	}
	io.Copy(io.Discard, io.LimitReader(res.Body, 64<<10))
	res.Body.Close()
	switch {
	case res.StatusCode == http.StatusNotFound || res.StatusCode == http.StatusGone:
		// The device unsubscribed or the subscription expired (RFC 8030
		// section 7.3): it will never take a message again.
		err := s.db.Write(ctx, func(tx *store.Tx) error {
			_, err := tx.Exec(ctx, `DELETE FROM push_subscriptions WHERE id = ? AND endpoint = ?`, sub.ID, sub.Endpoint)
			return err
		})
		if err != nil {
			return false, fmt.Errorf("push subscription %d gone: %w", sub.ID, err)
		}
		s.opts.Log.Info("push subscription gone", "account", sub.AccountID, "subscription", sub.ID, "host", host, "status", res.StatusCode)
		return true, nil
	case res.StatusCode < 200 || res.StatusCode > 299:
		return false, fmt.Errorf("push to %s (subscription %d): %s", host, sub.ID, res.Status)
	}
	// Best effort: a lost "last sent" only shows an older time.
	s.db.Write(ctx, func(tx *store.Tx) error {
		_, err := tx.Exec(ctx, `UPDATE push_subscriptions SET last_sent_at = ? WHERE id = ?`, s.clock.Now().UTC(), sub.ID)
		return err
	})
	return false, nil
}

// publicClient is an HTTP client for the push services: bounded in time,
// and, unless private is set, refusing to connect to loopback, private and
// link-local addresses, since the endpoint is a URL the browser (or
// whoever posts to the profile) chose.
func publicClient(private bool) *http.Client {
	d := &net.Dialer{Timeout: 10 * time.Second}
	if !private {
		d.Control = func(network, address string, _ syscall.RawConn) error {
			host, _, err := net.SplitHostPort(address)
			if err != nil {
				return err
			}
			ip := net.ParseIP(host)
			if ip == nil || ip.IsLoopback() || ip.IsPrivate() || ip.IsLinkLocalUnicast() || ip.IsUnspecified() || ip.IsMulticast() {
				return fmt.Errorf("push endpoint address %s refused: not a public address", host)
			}
			return nil
		}
	}
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.DialContext = d.DialContext
	t.Proxy = nil
	return &http.Client{Transport: t, Timeout: 30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// DeviceName names a device by its browser's User-Agent: "Chrome ·
// Android". Only for the subscriber to tell their devices apart.
func DeviceName(ua string) string {
	browser := ""
	for _, b := range []struct{ token, name string }{
		{"YaBrowser/", "Яндекс Браузер"}, {"Edg/", "Edge"}, {"OPR/", "Opera"}, {"SamsungBrowser/", "Samsung Internet"},
		{"Firefox/", "Firefox"}, {"Chrome/", "Chrome"}, {"Safari/", "Safari"},
	} {
		if strings.Contains(ua, b.token) {
			browser = b.name
			break
		}
	}
	system := ""
	for _, o := range []struct{ token, name string }{
		{"Android", "Android"}, {"iPhone", "iPhone"}, {"iPad", "iPad"}, {"Windows", "Windows"},
		{"Mac OS X", "macOS"}, {"CrOS", "ChromeOS"}, {"Linux", "Linux"},
	} {
		if strings.Contains(ua, o.token) {
			system = o.name
			break
		}
	}
	switch {
	case browser != "" && system != "":
		return browser + " · " + system
	case browser != "":
		return browser
	}
	return system
}
