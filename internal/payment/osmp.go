package payment

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/xml"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/kabinet-billing/kabinet/internal/metrics"
	"github.com/kabinet-billing/kabinet/internal/money"
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

// Final reports whether the payment system must not retry. Only the codes
// for which a retry can succeed (the database was away) are not final.
func (c OSMPResult) Final() bool {
	switch c {
	case OSMPTemporary, OSMPNotCompleted, OSMPCannotCheck:
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
	TxnID   string // up to 20 digits, the payment system's unique id
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

// ParseOSMP validates a request's query. A failure returns the result code
// the payment system is answered with, and an error saying why for the log.
func ParseOSMP(q url.Values, loc *time.Location) (OSMPRequest, OSMPResult, error) {
	req := OSMPRequest{Command: q.Get("command"), TxnID: q.Get("txn_id"), Account: q.Get("account")}
	if req.Command != "check" && req.Command != "pay" {
		return req, OSMPOther, fmt.Errorf("command %q: want check or pay", req.Command)
	}
	if !digits(req.TxnID, 1, 20) {
		return req, OSMPOther, fmt.Errorf("txn_id %q: want 1 to 20 digits", req.TxnID)
	}
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
	Name     string // "sberbank", "vtb", "localbank": the idempotency scope of txn_id
	Login    string // HTTP basic auth
	Password string
	Allow    []netip.Prefix // the payment system's addresses; empty allows none
	// Proxies are the reverse proxies (TLS terminators) in front of Kabinet
	// whose X-Forwarded-For is believed; from anyone else it is ignored.
	Proxies  []netip.Prefix
	MinSum   money.Amount   // 0: one kopeck
	MaxSum   money.Amount   // 0: no limit
	Location *time.Location // zone of txn_date; nil: UTC
}

// ParseAllow reads an allow list like "194.54.14.0/24, 10.0.0.5".
func ParseAllow(list []string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, s := range list {
		if p, err := netip.ParsePrefix(s); err == nil {
			out = append(out, p.Masked())
			continue
		}
		a, err := netip.ParseAddr(s)
		if err != nil {
			return nil, fmt.Errorf("allowed address %q: %w", s, err)
		}
		out = append(out, netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()))
	}
	return out, nil
}

// allows tells whether the request comes from the channel's addresses.
func (ch *OSMPChannel) allows(r *http.Request) bool {
	a, ok := clientAddr(r, ch.Proxies)
	return ok && inAny(ch.Allow, a)
}

// clientAddr is the address the request came from: the connection's peer,
// or, when that is a trusted proxy, the nearest address in X-Forwarded-For
// that is not one (addresses further left are the client's word, not the
// proxies', and anyone can write them).
func clientAddr(r *http.Request, proxies []netip.Prefix) (netip.Addr, bool) {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	a, err := netip.ParseAddr(host)
	if err != nil {
		return netip.Addr{}, false
	}
	a = a.Unmap()
	if !inAny(proxies, a) {
		return a, true
	}
	hops := strings.Split(strings.Join(r.Header.Values("X-Forwarded-For"), ","), ",")
	for i := len(hops) - 1; i >= 0; i-- {
		h, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
		if err != nil {
			return netip.Addr{}, false
		}
		if h = h.Unmap(); !inAny(proxies, h) {
			return h, true
		}
	}
	return netip.Addr{}, false // only proxies: the client is unknown
}

func inAny(ps []netip.Prefix, a netip.Addr) bool {
	for _, p := range ps {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// OSMPBackend answers validated requests: it finds accounts and records
// payments. The store-backed Service implements it.
type OSMPBackend interface {
	OSMPCheck(ctx context.Context, ch *OSMPChannel, req OSMPRequest) OSMPResponse
	OSMPPay(ctx context.Context, ch *OSMPChannel, req OSMPRequest) OSMPResponse
}

// OSMPHandler serves GET /pay/osmp for every configured channel; the basic
// auth login picks the channel.
type OSMPHandler struct {
	channels map[string]*OSMPChannel
	backend  OSMPBackend
	log      *slog.Logger
}

// NewOSMPHandler checks the channels' settings and builds the handler.
func NewOSMPHandler(channels []OSMPChannel, backend OSMPBackend, log *slog.Logger) (*OSMPHandler, error) {
	if log == nil {
		log = slog.Default()
	}
	h := &OSMPHandler{channels: map[string]*OSMPChannel{}, backend: backend, log: log}
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
	}
	return h, nil
}

func (h *OSMPHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet {
		w.Header().Set("Allow", "GET")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	ch := h.authenticate(r)
	if ch == nil {
		metrics.Payment("osmp", "auth", "rejected")
		w.Header().Set("WWW-Authenticate", `Basic realm="kabinet osmp"`)
		http.Error(w, "unauthorized", http.StatusUnauthorized)
		return
	}
	if !ch.allows(r) {
		metrics.Payment("osmp", "auth", "rejected")
		h.log.Warn("osmp request from an address not allowed", "channel", ch.Name, "remote", r.RemoteAddr, "forwarded_for", r.Header.Get("X-Forwarded-For"))
		http.Error(w, "forbidden", http.StatusForbidden)
		return
	}
	req, code, err := ParseOSMP(r.URL.Query(), ch.Location)
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

// authenticate returns the channel whose credentials the request carries.
func (h *OSMPHandler) authenticate(r *http.Request) *OSMPChannel {
	login, pass, ok := r.BasicAuth()
	if !ok {
		return nil
	}
	ch := h.channels[login]
	if ch == nil {
		return nil
	}
	// Hashing first makes the comparison constant-time in the length too.
	a, b := sha256.Sum256([]byte(pass)), sha256.Sum256([]byte(ch.Password))
	if subtle.ConstantTimeCompare(a[:], b[:]) != 1 {
		return nil
	}
	return ch
}
