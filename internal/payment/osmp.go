package payment

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/xml"
	"fmt"
	"log/slog"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/kabinet-billing/kabinet/internal/clock"
	"github.com/kabinet-billing/kabinet/internal/metrics"
	"github.com/kabinet-billing/kabinet/internal/money"
	"github.com/kabinet-billing/kabinet/internal/netaddr"
)

// OSMPResult is a result code of the OSMP (QIWI-style) check/pay protocol.
type OSMPResult int

const (
	OSMPOK              OSMPResult = 0
	OSMPTemporary       OSMPResult = 1
	OSMPBadAccount      OSMPResult = 4
	OSMPAccountNotFound OSMPResult = 5
	OSMPForbidden       OSMPResult = 7
	OSMPTechForbidden   OSMPResult = 8
	OSMPAccountInactive OSMPResult = 79
	OSMPNotCompleted    OSMPResult = 90
	OSMPSumTooSmall     OSMPResult = 241
	OSMPSumTooLarge     OSMPResult = 242
	OSMPCannotCheck     OSMPResult = 243
	OSMPOther           OSMPResult = 300
)

// OSMPResults lists every code, for the conformance table.
var OSMPResults = []OSMPResult{
	OSMPOK, OSMPTemporary, OSMPBadAccount, OSMPAccountNotFound, OSMPForbidden, OSMPTechForbidden,
	OSMPAccountInactive, OSMPNotCompleted, OSMPSumTooSmall, OSMPSumTooLarge, OSMPCannotCheck, OSMPOther,
}

// Final reports whether the payment system must not retry: every code but
// 1 and 90 (QIWI's table marks 243 final too, so an outage is answered 1).
func (c OSMPResult) Final() bool {
	switch c {
	case OSMPTemporary, OSMPNotCompleted:
		return false
	}
	return true
}

// Comment is the protocol's <comment>: for the bank's machines and
// operators, so it is not translated.
func (c OSMPResult) Comment() string {
	switch c {
	case OSMPOK:
		return "OK"
	case OSMPTemporary:
		return "temporary error, repeat later"
	case OSMPBadAccount:
		return "account id in a wrong format"
	case OSMPAccountNotFound:
		return "account not found"
	case OSMPForbidden:
		return "payment forbidden by the provider"
	case OSMPTechForbidden:
		return "payment forbidden for technical reasons"
	case OSMPAccountInactive:
		return "account not active"
	case OSMPNotCompleted:
		return "payment not completed"
	case OSMPSumTooSmall:
		return "sum too small"
	case OSMPSumTooLarge:
		return "sum too large"
	case OSMPCannotCheck:
		return "cannot check the account's state"
	case OSMPOther:
		return "other provider error"
	}
	return "code " + strconv.Itoa(int(c))
}

// OSMPRequest is a parsed and validated check or pay request.
type OSMPRequest struct {
	Command string // "check" or "pay"
	// TxnID is the payment system's unique id, a number of up to 20 digits
	// written without leading zeros: "0123" and "123" are one payment.
	TxnID   string
	TxnDate time.Time
	Account string
	Sum     money.Amount
}

// OSMPResponse is the protocol's answer. PrvTxn is Kabinet's payment id,
// sent for pay only.
type OSMPResponse struct {
	Result  OSMPResult
	TxnID   string
	PrvTxn  int64
	Sum     money.Amount
	Comment string // defaults to Result.Comment()
}

const osmpDateLayout = "20060102150405"

// ParseOSMP validates a request's parameters. A failure returns the result
// code the payment system is answered with, and an error saying why for the
// log. Commands other than check and pay (cancel, status) are answered 300:
// a payment once made is not cancelled through the protocol.
func ParseOSMP(q url.Values, loc *time.Location) (OSMPRequest, OSMPResult, error) {
	req := OSMPRequest{Command: q.Get("command"), TxnID: q.Get("txn_id"), Account: q.Get("account")}
	if req.Command != "check" && req.Command != "pay" {
		return req, OSMPOther, fmt.Errorf("command %q: want check or pay", req.Command)
	}
	id, ok := txnNumber(req.TxnID)
	if !ok {
		return req, OSMPOther, fmt.Errorf("txn_id %q: want 1 to 20 digits", req.TxnID)
	}
	req.TxnID = id
	if !validAccountID(req.Account) {
		return req, OSMPBadAccount, fmt.Errorf("account %q: wrong format", req.Account)
	}
	sum, err := parseWireAmount(q.Get("sum"))
	if err != nil {
		return req, OSMPOther, fmt.Errorf("sum: %w", err)
	}
	req.Sum = sum
	if sum <= 0 {
		return req, OSMPSumTooSmall, fmt.Errorf("sum %s is not positive", sum)
	}
	if req.Command == "pay" {
		if loc == nil {
			loc = time.UTC
		}
		d := q.Get("txn_date")
		t, err := time.ParseInLocation(osmpDateLayout, d, loc)
		if err != nil || len(d) != len(osmpDateLayout) {
			return req, OSMPOther, fmt.Errorf("txn_date %q: want YYYYMMDDHHMMSS", d)
		}
		req.TxnDate = t
	}
	return req, OSMPOK, nil
}

// txnNumber is a bank's transaction id as the number it is: 1 to 20 digits,
// leading zeros dropped ("0" stays), so that a bank writing "0123" once and
// "123" on a retry is recognised as repeating one payment.
func txnNumber(s string) (string, bool) {
	if !digits(s, 1, 20) {
		return "", false
	}
	if t := strings.TrimLeft(s, "0"); t != "" {
		return t, true
	}
	return "0", true
}

func digits(s string, min, max int) bool {
	if len(s) < min || len(s) > max {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// validAccountID accepts what a contract number or login can be: letters,
// digits and . _ - @, at most 64 characters.
func validAccountID(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for _, r := range s {
		ok := r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r == '.' || r == '_' || r == '-' || r == '@'
		if !ok {
			return false
		}
	}
	return true
}

type osmpXML struct {
	XMLName xml.Name `xml:"response"`
	TxnID   string   `xml:"osmp_txn_id"`
	PrvTxn  string   `xml:"prv_txn,omitempty"`
	Sum     string   `xml:"sum"`
	Result  int      `xml:"result"`
	Comment string   `xml:"comment"`
}

// MarshalOSMP renders the XML answer.
func MarshalOSMP(resp OSMPResponse) []byte {
	x := osmpXML{TxnID: resp.TxnID, Sum: resp.Sum.Decimal(), Result: int(resp.Result), Comment: resp.Comment}
	if resp.PrvTxn != 0 {
		x.PrvTxn = strconv.FormatInt(resp.PrvTxn, 10)
	}
	if x.Comment == "" {
		x.Comment = resp.Result.Comment()
	}
	out, err := xml.MarshalIndent(x, "", "  ")
	if err != nil { // only strings and ints: cannot happen
		panic(err)
	}
	return append([]byte(xml.Header), append(out, '\n')...)
}

// OSMPChannel is one bank or terminal network: its credentials, its
// addresses and its own cash account in the ledger.
type OSMPChannel struct {
	Name     string         // "sberbank", "vtb", "localbank": the idempotency scope of txn_id
	Login    string         // HTTP basic auth
	Password string         //
	Allow    []netip.Prefix // the payment system's addresses; empty allows none
	MinSum   money.Amount   // 0: one kopeck
	MaxSum   money.Amount   // 0: no limit
	Location *time.Location // zone of txn_date; nil: UTC
}

// OSMPBackend answers validated requests: it finds accounts and records
// payments. The store-backed Service implements it.
type OSMPBackend interface {
	OSMPCheck(ctx context.Context, ch *OSMPChannel, req OSMPRequest) OSMPResponse
	OSMPPay(ctx context.Context, ch *OSMPChannel, req OSMPRequest) OSMPResponse
}

// OSMPHandler serves /pay/osmp for every configured channel; the basic
// auth login picks the channel.
type OSMPHandler struct {
	channels map[string]*OSMPChannel
	allowed  []netip.Prefix // every channel's addresses
	backend  OSMPBackend
	log      *slog.Logger
	// Proxies are [web] trusted_proxies: only their X-Forwarded-For names
	// the client. Set before serving.
	Proxies []netip.Prefix
	// Clock times the failed-login limit; nil is the system clock.
	Clock    clock.Clock
	failures failureLimit
}

// Failed logins from one address: osmpFailBurst at once, then one more
// every osmpFailEvery. A bank that mistyped its password recovers within
// minutes of fixing it; guessing a password from a bank's network takes
// years.
const (
	osmpFailBurst = 10
	osmpFailEvery = time.Minute
)

// NewOSMPHandler checks the channels' settings and builds the handler.
func NewOSMPHandler(channels []OSMPChannel, backend OSMPBackend, log *slog.Logger) (*OSMPHandler, error) {
	if log == nil {
		log = slog.Default()
	}
	h := &OSMPHandler{channels: map[string]*OSMPChannel{}, backend: backend, log: log,
		failures: failureLimit{every: osmpFailEvery, burst: osmpFailBurst}}
	names := map[string]bool{}
	for i := range channels {
		ch := &channels[i]
		switch {
		case ch.Name == "":
			return nil, fmt.Errorf("osmp channel %d: a name is required", i+1)
		case ch.Login == "" || ch.Password == "":
			return nil, fmt.Errorf("osmp channel %q: login and password are required", ch.Name)
		case names[ch.Name]:
			return nil, fmt.Errorf("osmp channel %q configured twice", ch.Name)
		case h.channels[ch.Login] != nil:
			return nil, fmt.Errorf("osmp channel %q: login %q already used by %q", ch.Name, ch.Login, h.channels[ch.Login].Name)
		}
		if len(ch.Allow) == 0 {
			log.Warn("osmp channel allows no addresses: every request will be refused", "channel", ch.Name)
		}
		names[ch.Name] = true
		h.channels[ch.Login] = ch
		h.allowed = append(h.allowed, ch.Allow...)
	}
	return h, nil
}

// maxOSMPBody bounds a POST's form: the parameters are a few dozen bytes.
const maxOSMPBody = 4 << 10

// ServeHTTP answers GET with the parameters in the query, and POST with
// them in an application/x-www-form-urlencoded body, as QIWI's provider
// protocol allows both.
//
// The address is checked before the credentials, so that nobody outside
// the banks' networks learns anything about a password (no 401/403
// oracle), and failed logins are limited per address.
func (h *OSMPHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodPost {
		w.Header().Set("Allow", "GET, POST")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	addr, known := netaddr.Client(r.RemoteAddr, r.Header.Values("X-Forwarded-For"), h.Proxies)
	if !known || !netaddr.In(h.allowed, addr) {
		metrics.Payment("osmp", "auth", "rejected")
		// A bank's login from an unknown address is a bank to connect (or
		// a leaked login): worth a warning. Anything else is the internet's
		// scanners, kept out of the log's warnings.
		level, channel := slog.LevelDebug, ""
		if ch := h.channels[loginOf(r)]; ch != nil {
			level, channel = slog.LevelWarn, ch.Name
		}
		h.log.Log(r.Context(), level, "osmp request from an address not allowed", "channel", channel, "remote", r.RemoteAddr, "forwarded_for", r.Header.Get("X-Forwarded-For"))
		http.Error(w, "forbidden", http.StatusForbidden)
		return
	}
	now := h.now()
	key := netaddr.Key(addr)
	if blocked, wait := h.failures.blocked(key, now); blocked {
		metrics.Payment("osmp", "auth", "rejected")
		w.Header().Set("Retry-After", strconv.Itoa(int(wait.Round(time.Second)/time.Second)+1))
		http.Error(w, "too many failed logins", http.StatusTooManyRequests)
		return
	}
	ch, foreign := h.authenticate(r, addr)
	if ch == nil {
		h.failures.spend(key, now)
		metrics.Payment("osmp", "auth", "rejected")
		if foreign {
			h.log.Warn("osmp login from another channel's address", "channel", h.channels[loginOf(r)].Name, "addr", addr)
			http.Error(w, "forbidden", http.StatusForbidden)
			return
		}
		h.log.Warn("osmp login failed", "addr", addr)
		w.Header().Set("WWW-Authenticate", `Basic realm="kabinet osmp"`)
		http.Error(w, "unauthorized", http.StatusUnauthorized)
		return
	}
	params := r.URL.Query()
	if r.Method == http.MethodPost {
		r.Body = http.MaxBytesReader(w, r.Body, maxOSMPBody)
		if err := r.ParseForm(); err != nil {
			h.log.Info("osmp request refused", "channel", ch.Name, "err", err)
			http.Error(w, "bad request", http.StatusBadRequest)
			return
		}
		params = r.Form // the body's values first, then the query's
	}
	req, code, err := ParseOSMP(params, ch.Location)
	var resp OSMPResponse
	switch {
	case err != nil:
		h.log.Info("osmp request refused", "channel", ch.Name, "txn_id", req.TxnID, "result", int(code), "err", err)
		resp = OSMPResponse{Result: code, TxnID: req.TxnID, Sum: req.Sum}
	case req.Sum < ch.MinSum:
		resp = OSMPResponse{Result: OSMPSumTooSmall, TxnID: req.TxnID, Sum: req.Sum}
	case ch.MaxSum > 0 && req.Sum > ch.MaxSum:
		resp = OSMPResponse{Result: OSMPSumTooLarge, TxnID: req.TxnID, Sum: req.Sum}
	case req.Command == "check":
		resp = h.backend.OSMPCheck(r.Context(), ch, req)
	default:
		resp = h.backend.OSMPPay(r.Context(), ch, req)
	}
	metrics.Payment("osmp", req.Command, metrics.OSMPResult(int(resp.Result)))
	w.Header().Set("Content-Type", "text/xml; charset=utf-8")
	w.Write(MarshalOSMP(resp))
}

func (h *OSMPHandler) now() time.Time {
	if h.Clock == nil {
		return time.Now()
	}
	return h.Clock.Now()
}

func loginOf(r *http.Request) string {
	login, _, _ := r.BasicAuth()
	return login
}

// authenticate returns the channel whose credentials the request carries,
// when addr is one of that channel's. Otherwise it returns nil, and
// foreign=true when the login is a channel's that addr may not use: the
// password of a channel is not compared from another channel's address.
func (h *OSMPHandler) authenticate(r *http.Request, addr netip.Addr) (ch *OSMPChannel, foreign bool) {
	login, pass, ok := r.BasicAuth()
	if !ok {
		return nil, false
	}
	ch = h.channels[login]
	if ch == nil {
		return nil, false
	}
	if !netaddr.In(ch.Allow, addr) {
		return nil, true
	}
	// Hashing first makes the comparison constant-time in the length too.
	a, b := sha256.Sum256([]byte(pass)), sha256.Sum256([]byte(ch.Password))
	if subtle.ConstantTimeCompare(a[:], b[:]) != 1 {
		return nil, false
	}
	return ch, false
}

// failureLimit is a token bucket per address key for failed logins.
type failureLimit struct {
	every time.Duration
	burst int
	mu    sync.Mutex
	keys  map[string]*rate.Limiter
	swept time.Time
}

func (l *failureLimit) get(key string, now time.Time) *rate.Limiter {
	if l.keys == nil {
		l.keys = map[string]*rate.Limiter{}
	}
	// Forget buckets that have filled up again, so that the map stays small.
	if now.Sub(l.swept) > 10*time.Minute {
		for k, b := range l.keys {
			if b.TokensAt(now) >= float64(l.burst) {
				delete(l.keys, k)
			}
		}
		l.swept = now
	}
	b := l.keys[key]
	if b == nil {
		b = rate.NewLimiter(rate.Every(l.every), l.burst)
		l.keys[key] = b
	}
	return b
}

// blocked tells whether key has no failures left, and when the next one is.
func (l *failureLimit) blocked(key string, now time.Time) (bool, time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.get(key, now)
	if t := b.TokensAt(now); t < 1 {
		return true, time.Duration((1 - t) * float64(l.every))
	}
	return false, 0
}

func (l *failureLimit) spend(key string, now time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.get(key, now).AllowN(now, 1)
}
