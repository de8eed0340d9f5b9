package push_test

import (
	"bytes"
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kabinet-billing/kabinet/internal/derrors"
	"github.com/kabinet-billing/kabinet/internal/notify"
	"github.com/kabinet-billing/kabinet/internal/push"
	"github.com/kabinet-billing/kabinet/internal/web/webtest"
)

// device is a browser's side of a subscription: its key pair and auth
// secret, as the Push API makes them.
type device struct {
	key  *ecdh.PrivateKey
	auth []byte
	path string
}

func newDevice(t *testing.T, path string) *device {
	k, err := ecdh.P256().GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	auth := make([]byte, 16)
	rand.Read(auth)
	return &device{key: k, auth: auth, path: path}
}

func (d *device) subscription(base string) push.Subscription {
	return push.Subscription{Endpoint: base + d.path, P256dh: base64.RawURLEncoding.EncodeToString(d.key.PublicKey().Bytes()),
		Auth: base64.RawURLEncoding.EncodeToString(d.auth)}
}

// decrypt opens an aes128gcm message (RFC 8188) encrypted for the device
// as RFC 8291 says: the keys come from ECDH between the device's key and
// the server's one-off key in the header, mixed with the auth secret.
func (d *device) decrypt(body []byte) ([]byte, error) {
	if len(body) < 21 {
		return nil, errors.New("short body")
	}
	salt, rs, idlen := body[:16], binary.BigEndian.Uint32(body[16:20]), int(body[20])
	if len(body) < 21+idlen || idlen != 65 {
		return nil, fmt.Errorf("keyid length %d", idlen)
	}
	asPublic, ciphertext := body[21:21+idlen], body[21+idlen:]
	if uint32(len(body)) > rs {
		return nil, fmt.Errorf("one record expected: %d bytes, record size %d", len(body), rs)
	}
	as, err := ecdh.P256().NewPublicKey(asPublic)
	if err != nil {
		return nil, err
	}
	secret, err := d.key.ECDH(as)
	if err != nil {
		return nil, err
	}
	info := append(append([]byte("WebPush: info\x00"), d.key.PublicKey().Bytes()...), asPublic...)
	ikm, err := hkdf.Key(sha256.New, secret, d.auth, string(info), 32)
	if err != nil {
		return nil, err
	}
	cek, err := hkdf.Key(sha256.New, ikm, salt, "Content-Encoding: aes128gcm\x00", 16)
	if err != nil {
		return nil, err
	}
	nonce, err := hkdf.Key(sha256.New, ikm, salt, "Content-Encoding: nonce\x00", 12)
	if err != nil {
		return nil, err
	}
	block, err := aes.NewCipher(cek)
	if err != nil {
		return nil, err
	}
	gcm, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	plain, err := gcm.Open(nil, nonce, ciphertext, nil)
	if err != nil {
		return nil, err
	}
	// The last record ends with the delimiter 2, then zero padding.
	i := bytes.LastIndexFunc(plain, func(r rune) bool { return r != 0 })
	if i < 0 || plain[i] != 2 {
		return nil, errors.New("no last-record delimiter")
	}
	return plain[:i], nil
}

// pushService is a push service on loopback: it checks the VAPID
// authorization (RFC 8292) and keeps what it was sent; answers[path] sets
// the status for a device (201 by default).
type pushService struct {
	t       *testing.T
	ts      *httptest.Server
	mu      sync.Mutex
	got     map[string][][]byte // path → bodies
	hdr     map[string]http.Header
	answers map[string]int
	pub     string // the server's VAPID public key it expects
}

func newPushService(t *testing.T) *pushService {
	ps := &pushService{t: t, got: map[string][][]byte{}, hdr: map[string]http.Header{}, answers: map[string]int{}}
	ps.ts = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if err := ps.checkVAPID(r); err != nil {
			t.Errorf("push service: %v", err)
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		ps.mu.Lock()
		ps.got[r.URL.Path] = append(ps.got[r.URL.Path], body)
		ps.hdr[r.URL.Path] = r.Header.Clone()
		status := ps.answers[r.URL.Path]
		ps.mu.Unlock()
		if status == 0 {
			status = http.StatusCreated
		}
		w.WriteHeader(status)
	}))
	t.Cleanup(ps.ts.Close)
	return ps
}

// checkVAPID verifies "Authorization: vapid t=JWT, k=KEY": k is the
// server's key and signs the ES256 JWT, whose audience is this origin.
func (ps *pushService) checkVAPID(r *http.Request) error {
	a, ok := strings.CutPrefix(r.Header.Get("Authorization"), "vapid ")
	if !ok {
		return fmt.Errorf("authorization %q", r.Header.Get("Authorization"))
	}
	var tok, k string
	for _, part := range strings.Split(a, ",") {
		part = strings.TrimSpace(part)
		if v, ok := strings.CutPrefix(part, "t="); ok {
			tok = v
		}
		if v, ok := strings.CutPrefix(part, "k="); ok {
			k = v
		}
	}
	if ps.pub != "" && k != ps.pub {
		return fmt.Errorf("k=%s, the server's key is %s", k, ps.pub)
	}
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		return fmt.Errorf("token %q", tok)
	}
	pubBytes, err := base64.RawURLEncoding.DecodeString(k)
	if err != nil || len(pubBytes) != 65 {
		return fmt.Errorf("key %q", k)
	}
	pub := &ecdsa.PublicKey{Curve: elliptic.P256(), X: new(big.Int).SetBytes(pubBytes[1:33]), Y: new(big.Int).SetBytes(pubBytes[33:])}
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil || len(sig) != 64 {
		return fmt.Errorf("signature %q", parts[2])
	}
	h := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	if !ecdsa.Verify(pub, h[:], new(big.Int).SetBytes(sig[:32]), new(big.Int).SetBytes(sig[32:])) {
		return errors.New("VAPID signature does not verify")
	}
	claims, _ := base64.RawURLEncoding.DecodeString(parts[1])
	var c struct {
		Aud string `json:"aud"`
		Sub string `json:"sub"`
		Exp int64  `json:"exp"`
	}
	if err := json.Unmarshal(claims, &c); err != nil || c.Aud != "http://"+r.Host || !strings.HasPrefix(c.Sub, "mailto:") || c.Exp == 0 {
		return fmt.Errorf("claims %s", claims)
	}
	return nil
}

func (ps *pushService) messages(d *device) []push.Message {
	ps.t.Helper()
	ps.mu.Lock()
	defer ps.mu.Unlock()
	var out []push.Message
	for _, b := range ps.got[d.path] {
		plain, err := d.decrypt(b)
		if err != nil {
			ps.t.Fatalf("decrypt: %v", err)
		}
		var m push.Message
		if err := json.Unmarshal(plain, &m); err != nil {
			ps.t.Fatalf("message %q: %v", plain, err)
		}
		out = append(out, m)
	}
	return out
}

func open(t *testing.T, e *webtest.Env) *push.Service {
	s, err := push.Open(context.Background(), e.DB, e.Clock, push.Options{Contact: "support@example.com", AllowPrivate: true,
		Log: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// A push reaches the device encrypted for it: the push service on
// loopback gets an aes128gcm body with a VAPID authorization it can
// verify, and the device's keys open the message.
func TestSendIsEncryptedForTheDevice(t *testing.T) {
	ctx := context.Background()
	e := webtest.New(t)
	s := open(t, e)
	if s.PublicKey() != e.Push.PublicKey() {
		t.Fatalf("a second start made new VAPID keys: %s, %s", s.PublicKey(), e.Push.PublicKey())
	}
	ps := newPushService(t)
	ps.pub = s.PublicKey()
	phone, laptop := newDevice(t, "/sub/phone"), newDevice(t, "/sub/laptop")
	for _, d := range []*device{phone, laptop} {
		if _, err := s.Subscribe(ctx, e.IDs["alice"], d.subscription(ps.ts.URL)); err != nil {
			t.Fatal(err)
		}
	}
	want := push.Message{Title: "Платёж зачислен", Body: "Зачислено 300,00 ₽.", URL: "/payments", Tag: "payment_received"}
	r, err := s.Send(ctx, e.IDs["alice"], want)
	if err != nil || r.Sent != 2 {
		t.Fatalf("send: %+v %v", r, err)
	}
	for _, d := range []*device{phone, laptop} {
		got := ps.messages(d)
		if len(got) != 1 || got[0] != want {
			t.Errorf("%s got %+v", d.path, got)
		}
		h := ps.hdr[d.path]
		if h.Get("Content-Encoding") != "aes128gcm" || h.Get("TTL") != "86400" || h.Get("Topic") != "payment_received" || h.Get("Urgency") != "normal" {
			t.Errorf("%s headers %v", d.path, h)
		}
	}
	// Bob has no device: nothing is sent.
	if r, err := s.Send(ctx, e.IDs["bob"], want); err != nil || r != (push.Result{}) {
		t.Errorf("bob: %+v %v", r, err)
	}
	subs, _ := s.List(ctx, e.IDs["alice"])
	if len(subs) != 2 || subs[0].LastSentAt.IsZero() {
		t.Errorf("subscriptions %+v", subs)
	}
}

// A subscription the push service says is gone (410, 404) is removed; one
// it fails on for another reason is kept.
func TestGoneSubscriptionIsRemoved(t *testing.T) {
	ctx := context.Background()
	e := webtest.New(t)
	ps := newPushService(t)
	gone, missing, broken, fine := newDevice(t, "/gone"), newDevice(t, "/missing"), newDevice(t, "/broken"), newDevice(t, "/fine")
	ps.answers["/gone"], ps.answers["/missing"], ps.answers["/broken"] = http.StatusGone, http.StatusNotFound, http.StatusInternalServerError
	for _, d := range []*device{gone, missing, broken, fine} {
		if _, err := e.Push.Subscribe(ctx, e.IDs["alice"], d.subscription(ps.ts.URL)); err != nil {
			t.Fatal(err)
		}
	}
	r, err := e.Push.Send(ctx, e.IDs["alice"], push.Message{Title: "t", Body: "b", URL: "/"})
	if r != (push.Result{Sent: 1, Removed: 2, Failed: 1}) || err == nil || !strings.Contains(err.Error(), "500") {
		t.Errorf("send: %+v %v", r, err)
	}
	subs, _ := e.Push.List(ctx, e.IDs["alice"])
	var left []string
	for _, s := range subs {
		left = append(left, strings.TrimPrefix(s.Endpoint, ps.ts.URL))
	}
	if strings.Join(left, " ") != "/fine /broken" {
		t.Errorf("left %v", left)
	}
}

// Only a real subscription is kept: an https endpoint (http only where
// private addresses are allowed) and keys the Push API would give; a
// device subscribed again replaces its old keys, and an account has at
// most MaxDevices; one subscriber cannot remove another's device.
func TestSubscribeChecks(t *testing.T) {
	ctx := context.Background()
	e := webtest.New(t)
	strict, err := push.Open(ctx, e.DB, e.Clock, push.Options{})
	if err != nil {
		t.Fatal(err)
	}
	d := newDevice(t, "/x")
	good := d.subscription("https://push.example")
	for name, tc := range map[string]struct {
		s    *push.Service
		edit func(*push.Subscription)
	}{
		"http endpoint":   {strict, func(s *push.Subscription) { s.Endpoint = "http://push.example/x" }},
		"no endpoint":     {strict, func(s *push.Subscription) { s.Endpoint = "" }},
		"relative":        {strict, func(s *push.Subscription) { s.Endpoint = "/x" }},
		"short auth":      {strict, func(s *push.Subscription) { s.Auth = "AAAA" }},
		"not a point":     {strict, func(s *push.Subscription) { s.P256dh = base64.RawURLEncoding.EncodeToString(make([]byte, 65)) }},
		"no key":          {e.Push, func(s *push.Subscription) { s.P256dh = "" }},
		"ftp on loopback": {e.Push, func(s *push.Subscription) { s.Endpoint = "ftp://127.0.0.1/x" }},
	} {
		s := good
		tc.edit(&s)
		if _, err := tc.s.Subscribe(ctx, e.IDs["alice"], s); !errors.Is(err, push.ErrSubscription) || !errors.Is(err, derrors.Invalid) {
			t.Errorf("%s: %v", name, err)
		}
	}
	first, err := strict.Subscribe(ctx, e.IDs["alice"], good)
	if err != nil {
		t.Fatal(err)
	}
	// The same browser, now bob's, with new keys: one row, bob's.
	again := newDevice(t, "/x").subscription("https://push.example")
	second, err := strict.Subscribe(ctx, e.IDs["bob"], again)
	if err != nil || second.ID != first.ID {
		t.Fatalf("again: %+v %v (first %d)", second, err, first.ID)
	}
	if a, _ := strict.List(ctx, e.IDs["alice"]); len(a) != 0 {
		t.Errorf("alice still has %+v", a)
	}
	if b, _ := strict.List(ctx, e.IDs["bob"]); len(b) != 1 || b[0].P256dh != again.P256dh {
		t.Errorf("bob has %+v", b)
	}
	if err := strict.Remove(ctx, e.IDs["alice"], second.ID); !errors.Is(err, derrors.NotFound) {
		t.Errorf("alice removed bob's device: %v", err)
	}
	for i := range push.MaxDevices - 1 {
		if _, err := strict.Subscribe(ctx, e.IDs["bob"], newDevice(t, fmt.Sprintf("/d%d", i)).subscription("https://push.example")); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := strict.Subscribe(ctx, e.IDs["bob"], newDevice(t, "/one-too-many").subscription("https://push.example")); !errors.Is(err, push.ErrTooMany) {
		t.Errorf("device %d: %v", push.MaxDevices+1, err)
	}
}

// By default the client refuses to send to loopback and private addresses:
// the endpoint is a URL from the browser.
func TestPrivateEndpointRefused(t *testing.T) {
	ctx := context.Background()
	e := webtest.New(t)
	strict, err := push.Open(ctx, e.DB, e.Clock, push.Options{Log: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	ps := newPushService(t)
	d := newDevice(t, "/x")
	s := d.subscription(strings.Replace(ps.ts.URL, "http://", "https://", 1))
	if _, err := strict.Subscribe(ctx, e.IDs["alice"], s); err != nil {
		t.Fatal(err)
	}
	r, err := strict.Send(ctx, e.IDs["alice"], push.Message{Title: "t"})
	if r.Failed != 1 || err == nil || !strings.Contains(err.Error(), "not a public address") {
		t.Errorf("send to loopback: %+v %v", r, err)
	}
}

// The same events as e-mail reach the devices: a payment credited, an
// answer to a request, the speed limited; in the subscriber's language,
// whether or not they take letters.
func TestNoticesArePushed(t *testing.T) {
	ctx := context.Background()
	e := webtest.New(t)
	ps := newPushService(t)
	phone := newDevice(t, "/phone")
	if _, err := e.Push.Subscribe(ctx, e.IDs["alice"], phone.subscription(ps.ts.URL)); err != nil {
		t.Fatal(err)
	}
	n := notify.New(e.DB, e.Clock, nil, e.Biller, notify.Options{Log: slog.New(slog.DiscardHandler)})
	n.Pusher = push.Notices{S: e.Push, Log: slog.New(slog.DiscardHandler)}
	if _, err := n.HandleEvents(ctx); err != nil { // the first pass only sets the cursor
		t.Fatal(err)
	}
	e.Credit("alice", 300, "push-1")
	req, err := e.Support.File(ctx, e.IDs["alice"], "question", "Нет интернета", "С утра нет связи")
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Support.Answer(ctx, req.ID, "anna", "Перезагрузите роутер", ""); err != nil {
		t.Fatal(err)
	}
	e.Credit("bob", 100, "push-2") // bob has no device
	if _, err := n.HandleEvents(ctx); err != nil {
		t.Fatal(err)
	}
	s, err := e.Biller.Summary(ctx, e.IDs["alice"])
	if err != nil {
		t.Fatal(err)
	}
	got := ps.messages(phone)
	if len(got) != 2 {
		t.Fatalf("pushes %+v", got)
	}
	if m := got[0]; m.Title != "Платёж зачислен" || !strings.Contains(m.Body, "Зачислено 300,00") || !strings.Contains(m.Body, "Баланс: "+s.Balance.Format("ru")) || m.URL != "/payments" {
		t.Errorf("payment push %+v", m)
	}
	id := fmt.Sprint(req.ID)
	if m := got[1]; m.Title != "Ответ на обращение № "+id || !strings.Contains(m.Body, "«Нет интернета»") || m.URL != "/requests/"+id || m.Tag != "request-"+id {
		t.Errorf("answer push %+v", m)
	}
	// Three days before the 1st, bob's empty balance will not cover the
	// fees: his phone is told once, as his letter is.
	bobPhone := newDevice(t, "/bob")
	if _, err := e.Push.Subscribe(ctx, e.IDs["bob"], bobPhone.subscription(ps.ts.URL)); err != nil {
		t.Fatal(err)
	}
	e.Clock.Set(time.Date(2026, 3, 29, 9, 0, 0, 0, time.UTC))
	for range 2 {
		if _, err := n.Reminders(ctx, e.Clock.Now()); err != nil {
			t.Fatal(err)
		}
	}
	if got := ps.messages(bobPhone); len(got) != 1 || got[0].Title != "Пополните счёт до 01.04.2026" || got[0].URL != "/payments" {
		t.Errorf("low-balance pushes %+v", got)
	}
	// English for a subscriber who reads English.
	if m, ok := push.Notice(notify.KindLimited, "en", notify.Letter{Debt: "200.00 ₽", LimitKbps: 128}); !ok || m.Title != "Speed limited" ||
		!strings.Contains(m.Body, "Debt 200.00 ₽: the speed is limited to 128 kbit/s") {
		t.Errorf("limited, English: %+v", m)
	}
}
