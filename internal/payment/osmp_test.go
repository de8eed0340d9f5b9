package payment

import (
	"context"
	"encoding/xml"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/kabinet-billing/kabinet/internal/clock"
)

func TestParseOSMP(t *testing.T) {
	msk := time.FixedZone("MSK", 3*3600)
	tests := []struct {
		query string
		want  OSMPResult
	}{
		{"command=check&txn_id=1234567&account=100045&sum=10.45", OSMPOK},
		{"command=pay&txn_id=12345678901234567890&txn_date=20261201120133&account=100045&sum=10.45", OSMPOK},
		{"command=pay&txn_id=123456789012345678901&txn_date=20261201120133&account=100045&sum=10.45", OSMPOther}, // 21 digits
		{"command=pay&txn_id=12a&txn_date=20261201120133&account=100045&sum=10.45", OSMPOther},
		{"command=pay&txn_id=&txn_date=20261201120133&account=100045&sum=10.45", OSMPOther},
		{"command=pay&txn_id=1&txn_date=2026-12-01&account=100045&sum=10.45", OSMPOther},
		{"command=pay&txn_id=1&account=100045&sum=10.45", OSMPOther}, // pay without a date
		{"command=pay&txn_id=1&txn_date=20261301120133&account=100045&sum=10.45", OSMPOther},
		{"command=refund&txn_id=1&account=100045&sum=10.45", OSMPOther},
		{"command=cancel&txn_id=1&account=100045&sum=10.45", OSMPOther},
		{"command=status&txn_id=1&account=100045&sum=10.45", OSMPOther},
		{"command=check&txn_id=0001234567&account=100045&sum=10.45", OSMPOK},               // a number: 1234567
		{"command=check&txn_id=000000000000000000001&account=100045&sum=10.45", OSMPOther}, // 21 digits
		{"command=check&txn_id=1&account=&sum=10.45", OSMPBadAccount},
		{"command=check&txn_id=1&account=10%200045&sum=10.45", OSMPBadAccount},
		{"command=check&txn_id=1&account=%D0%B0%D0%B1&sum=10.45", OSMPBadAccount},
		{"command=check&txn_id=1&account=100045&sum=10,45", OSMPOther},
		{"command=check&txn_id=1&account=100045&sum=10.456", OSMPOther},
		{"command=check&txn_id=1&account=100045&sum=-1.00", OSMPOther},
		{"command=check&txn_id=1&account=100045&sum=0.00", OSMPSumTooSmall},
	}
	for _, tt := range tests {
		q, _ := url.ParseQuery(tt.query)
		req, got, err := ParseOSMP(q, msk)
		if got != tt.want {
			t.Errorf("%s: result %d (%v), want %d", tt.query, got, err, tt.want)
		}
		if got == OSMPOK && req.Command == "pay" && !req.TxnDate.Equal(time.Date(2026, 12, 1, 9, 1, 33, 0, time.UTC)) {
			t.Errorf("%s: txn_date %v", tt.query, req.TxnDate)
		}
		if got == OSMPOK && req.Sum != 1045 {
			t.Errorf("%s: sum %d", tt.query, req.Sum)
		}
		if got == OSMPOK && req.TxnID != strings.TrimLeft(q.Get("txn_id"), "0") {
			t.Errorf("%s: txn_id %q, want it as a number", tt.query, req.TxnID)
		}
	}
}

func TestOSMPResultsFinal(t *testing.T) {
	// Only 1 and 90 are retried (QIWI's table marks 243 final).
	retry := map[OSMPResult]bool{OSMPTemporary: true, OSMPNotCompleted: true}
	if len(OSMPResults) != 12 {
		t.Fatalf("%d codes, the protocol has 12", len(OSMPResults))
	}
	for _, c := range OSMPResults {
		if c.Final() == retry[c] {
			t.Errorf("code %d final = %v", c, c.Final())
		}
		if strings.HasPrefix(c.Comment(), "code ") {
			t.Errorf("code %d has no comment", c)
		}
	}
}

func TestMarshalOSMP(t *testing.T) {
	got := string(MarshalOSMP(OSMPResponse{Result: OSMPOK, TxnID: "1234567", PrvTxn: 2016, Sum: 1045}))
	want := `<?xml version="1.0" encoding="UTF-8"?>
<response>
  <osmp_txn_id>1234567</osmp_txn_id>
  <prv_txn>2016</prv_txn>
  <sum>10.45</sum>
  <result>0</result>
  <comment>OK</comment>
</response>
`
	if got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
	if strings.Contains(string(MarshalOSMP(OSMPResponse{Result: OSMPAccountNotFound, TxnID: "1"})), "prv_txn") {
		t.Error("check answer carries prv_txn")
	}
}

// scripted answers every request with a fixed code, to drive the handler.
type scripted struct {
	result OSMPResult
	calls  int
	last   OSMPRequest
}

func (s *scripted) OSMPCheck(_ context.Context, _ *OSMPChannel, req OSMPRequest) OSMPResponse {
	s.calls++
	s.last = req
	return OSMPResponse{Result: s.result, TxnID: req.TxnID, Sum: req.Sum}
}

func (s *scripted) OSMPPay(_ context.Context, _ *OSMPChannel, req OSMPRequest) OSMPResponse {
	s.calls++
	s.last = req
	return OSMPResponse{Result: s.result, TxnID: req.TxnID, Sum: req.Sum, PrvTxn: 99}
}

func testOSMPChannels() []OSMPChannel {
	return []OSMPChannel{
		{Name: "sberbank", Login: "sber", Password: "p1", Allow: []netip.Prefix{netip.MustParsePrefix("192.0.2.0/24")}, MinSum: 100, MaxSum: 1500000},
		{Name: "vtb", Login: "vtb", Password: "p2", Allow: []netip.Prefix{netip.MustParsePrefix("198.51.100.7/32")}},
		{Name: "localbank", Login: "local", Password: "p3", Allow: []netip.Prefix{netip.MustParsePrefix("2001:db8::/64")}},
	}
}

func TestOSMPHandlerAccess(t *testing.T) {
	be := &scripted{}
	h, err := NewOSMPHandler(testOSMPChannels(), be, nil)
	if err != nil {
		t.Fatal(err)
	}
	q := "/pay/osmp?command=check&txn_id=1&account=100045&sum=10.00"
	tests := []struct {
		name, remote, login, pass string
		want                      int
	}{
		{"sber from its net", "192.0.2.10:5555", "sber", "p1", 200},
		{"sber from vtb's address", "198.51.100.7:5555", "sber", "p1", 403},
		{"vtb from its address", "198.51.100.7:1", "vtb", "p2", 200},
		{"local bank over IPv6", "[2001:db8::5]:1", "local", "p3", 200},
		{"IPv4-mapped sber", "[::ffff:192.0.2.1]:1", "sber", "p1", 200},
		{"wrong password", "192.0.2.10:5555", "sber", "p2", 401},
		{"unknown login", "192.0.2.10:5555", "x", "p1", 401},
		{"no credentials", "192.0.2.10:5555", "", "", 401},
		// From outside every bank's network the answer says nothing about
		// the credentials: no password can be tried from there.
		{"wrong password from outside", "203.0.113.9:1", "sber", "wrong", 403},
		{"right password from outside", "203.0.113.9:1", "sber", "p1", 403},
		{"no credentials from outside", "203.0.113.9:1", "", "", 403},
		// A bank's network cannot try another bank's password either.
		{"vtb's password from sber's net", "192.0.2.10:5555", "vtb", "p2", 403},
		{"a guess at vtb's from sber's net", "192.0.2.10:5555", "vtb", "guess", 403},
	}
	for _, tt := range tests {
		r := httptest.NewRequest(http.MethodGet, q, nil)
		r.RemoteAddr = tt.remote
		if tt.login != "" {
			r.SetBasicAuth(tt.login, tt.pass)
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code != tt.want {
			t.Errorf("%s: %d, want %d", tt.name, w.Code, tt.want)
		}
	}
	if be.calls != 4 {
		t.Errorf("backend called %d times, want 4 (only for admitted requests)", be.calls)
	}
}

// TestOSMPFailedLoginLimit: failed logins from one address are limited; the
// limit is per address (an IPv6 /64), and refills with time.
func TestOSMPFailedLoginLimit(t *testing.T) {
	clk := clock.NewFake(time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC))
	be := &scripted{}
	h, _ := NewOSMPHandler(testOSMPChannels(), be, nil)
	h.Clock = clk
	try := func(remote, login, pass string) int {
		r := httptest.NewRequest(http.MethodGet, "/pay/osmp?command=check&txn_id=1&account=100045&sum=10.00", nil)
		r.RemoteAddr = remote
		r.SetBasicAuth(login, pass)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		return w.Code
	}
	for i := range osmpFailBurst {
		if c := try("192.0.2.10:1", "sber", fmt.Sprintf("guess%d", i)); c != http.StatusUnauthorized {
			t.Fatalf("guess %d: %d, want 401", i, c)
		}
	}
	for _, tc := range []struct {
		name, remote, login, pass string
		want                      int
	}{
		{"one guess too many", "192.0.2.10:2", "sber", "guess", http.StatusTooManyRequests},
		{"the right password is not tried either", "192.0.2.10:3", "sber", "p1", http.StatusTooManyRequests},
		{"another address of the bank's network", "192.0.2.11:1", "sber", "p1", http.StatusOK},
	} {
		if c := try(tc.remote, tc.login, tc.pass); c != tc.want {
			t.Errorf("%s: %d, want %d", tc.name, c, tc.want)
		}
	}
	// A /64 is one client.
	for i := range osmpFailBurst {
		try(fmt.Sprintf("[2001:db8::%x]:1", i+1), "local", "guess")
	}
	if c := try("[2001:db8::ffff]:1", "local", "p3"); c != http.StatusTooManyRequests {
		t.Errorf("another address in the same /64: %d, want 429", c)
	}
	clk.Advance(osmpFailEvery)
	if c := try("192.0.2.10:4", "sber", "p1"); c != http.StatusOK {
		t.Errorf("after a minute: %d, want 200", c)
	}
	if c := try("192.0.2.10:4", "sber", "guess"); c != http.StatusUnauthorized {
		t.Errorf("a guess after a minute: %d, want 401", c)
	}
	if c := try("192.0.2.10:4", "sber", "p1"); c != http.StatusTooManyRequests {
		t.Errorf("the minute's allowance spent: %d, want 429", c)
	}
}

// TestOSMPPost: QIWI's provider protocol calls the same URL with POST and the
// parameters in a form body. cancel and status are not part of it here:
// answered 300, they never reach the backend.
func TestOSMPPost(t *testing.T) {
	be := &scripted{}
	h, _ := NewOSMPHandler(testOSMPChannels(), be, nil)
	for _, tc := range []struct {
		name, method, query, body string
		code                      int
		result                    OSMPResult
	}{
		{"pay in the body", http.MethodPost, "", "command=pay&txn_id=55&txn_date=20261201120133&account=100045&sum=10.00", 200, OSMPOK},
		{"check in the body", http.MethodPost, "", "command=check&txn_id=56&account=100045&sum=10.00", 200, OSMPOK},
		{"cancel is not supported", http.MethodPost, "", "command=cancel&txn_id=55&account=100045&sum=10.00", 200, OSMPOther},
		{"status is not supported", http.MethodGet, "command=status&txn_id=55&account=100045&sum=10.00", "", 200, OSMPOther},
		{"PUT", http.MethodPut, "", "command=check&txn_id=56&account=100045&sum=10.00", 405, 0},
	} {
		be.calls = 0
		r := httptest.NewRequest(tc.method, "/pay/osmp?"+tc.query, strings.NewReader(tc.body))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		r.RemoteAddr = "192.0.2.1:1"
		r.SetBasicAuth("sber", "p1")
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code != tc.code {
			t.Errorf("%s: %d, want %d", tc.name, w.Code, tc.code)
			continue
		}
		if tc.code != 200 {
			continue
		}
		var x osmpXML
		if err := xml.Unmarshal(w.Body.Bytes(), &x); err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if OSMPResult(x.Result) != tc.result {
			t.Errorf("%s: result %d, want %d", tc.name, x.Result, tc.result)
		}
		if tc.result == OSMPOK && (be.calls != 1 || be.last.Sum != 1000 || be.last.Account != "100045") {
			t.Errorf("%s: backend saw %d calls, %+v", tc.name, be.calls, be.last)
		}
		if tc.result == OSMPOther && be.calls != 0 {
			t.Errorf("%s: reached the backend", tc.name)
		}
	}
}

// TestOSMPConformance drives every result code through the handler's XML.
func TestOSMPConformance(t *testing.T) {
	for _, code := range OSMPResults {
		be := &scripted{result: code}
		h, _ := NewOSMPHandler(testOSMPChannels(), be, nil)
		r := httptest.NewRequest(http.MethodGet, "/pay/osmp?command=pay&txn_id=55&txn_date=20261201120133&account=100045&sum=10.00", nil)
		r.RemoteAddr = "192.0.2.1:1"
		r.SetBasicAuth("sber", "p1")
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if ct := w.Header().Get("Content-Type"); ct != "text/xml; charset=utf-8" {
			t.Errorf("content type %q", ct)
		}
		var x osmpXML
		if err := xml.Unmarshal(w.Body.Bytes(), &x); err != nil {
			t.Fatalf("code %d: %v\n%s", code, err, w.Body)
		}
		if x.Result != int(code) || x.TxnID != "55" || x.Sum != "10.00" || x.Comment != code.Comment() {
			t.Errorf("code %d: %+v", code, x)
		}
	}
}

func TestOSMPHandlerSumLimits(t *testing.T) {
	be := &scripted{}
	h, _ := NewOSMPHandler(testOSMPChannels(), be, nil)
	for sum, want := range map[string]OSMPResult{"0.99": OSMPSumTooSmall, "15000.01": OSMPSumTooLarge, "15000.00": OSMPOK, "1.00": OSMPOK} {
		r := httptest.NewRequest(http.MethodGet, "/pay/osmp?command=check&txn_id=5&account=100045&sum="+sum, nil)
		r.RemoteAddr = "192.0.2.1:1"
		r.SetBasicAuth("sber", "p1")
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		var x osmpXML
		xml.Unmarshal(w.Body.Bytes(), &x)
		if x.Result != int(want) {
			t.Errorf("sum %s: result %d, want %d", sum, x.Result, want)
		}
	}
}

func TestNewOSMPHandlerConfigErrors(t *testing.T) {
	for name, chs := range map[string][]OSMPChannel{
		"no name":     {{Login: "a", Password: "b"}},
		"no password": {{Name: "a", Login: "a"}},
		"same name":   {{Name: "a", Login: "a", Password: "b"}, {Name: "a", Login: "c", Password: "d"}},
		"same login":  {{Name: "a", Login: "a", Password: "b"}, {Name: "b", Login: "a", Password: "d"}},
	} {
		if _, err := NewOSMPHandler(chs, &scripted{}, nil); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

// TestOSMPBehindProxy: the bank's address comes from [web] trusted_proxies'
// X-Forwarded-For by the same rules as everywhere else (netaddr.Client).
func TestOSMPBehindProxy(t *testing.T) {
	h, _ := NewOSMPHandler(testOSMPChannels(), &scripted{}, nil)
	h.Proxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32"), netip.MustParsePrefix("10.0.0.0/8")}
	tests := []struct {
		name, remote string
		xff          []string
		want         int
	}{
		{"bank through the proxy", "127.0.0.1:1", []string{"192.0.2.7"}, 200},
		{"through two proxies", "127.0.0.1:1", []string{"192.0.2.7, 10.1.1.1"}, 200},
		{"header split over lines", "127.0.0.1:1", []string{"192.0.2.7", "10.1.1.1"}, 200},
		{"an empty hop, skipped as the platform skips it", "127.0.0.1:1", []string{"192.0.2.7, "}, 200},
		{"client forges a bank address on the left", "127.0.0.1:1", []string{"192.0.2.7, 203.0.113.9"}, 403},
		{"proxy without the header", "127.0.0.1:1", nil, 403},
		{"garbage in the header", "127.0.0.1:1", []string{"bank"}, 403},
		{"not a proxy: the header is ignored", "203.0.113.9:1", []string{"192.0.2.7"}, 403},
		{"bank directly", "192.0.2.7:1", nil, 200},
	}
	for _, tt := range tests {
		r := httptest.NewRequest(http.MethodGet, "/pay/osmp?command=check&txn_id=1&account=100045&sum=10.00", nil)
		r.RemoteAddr = tt.remote
		for _, v := range tt.xff {
			r.Header.Add("X-Forwarded-For", v)
		}
		r.SetBasicAuth("sber", "p1")
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code != tt.want {
			t.Errorf("%s: %d, want %d", tt.name, w.Code, tt.want)
		}
	}
}

// TestOSMPRefusedAddressLog: a bank's login from an unknown address is a
// warning naming the bank; the internet's scanners are not.
func TestOSMPRefusedAddressLog(t *testing.T) {
	var buf strings.Builder
	h, _ := NewOSMPHandler(testOSMPChannels(), &scripted{}, slog.New(slog.NewTextHandler(&buf, nil)))
	for _, login := range []string{"", "admin", "sber"} {
		r := httptest.NewRequest(http.MethodGet, "/pay/osmp?command=check&txn_id=1&account=100045&sum=10.00", nil)
		r.RemoteAddr = "203.0.113.9:1"
		if login != "" {
			r.SetBasicAuth(login, "secret-guess")
		}
		h.ServeHTTP(httptest.NewRecorder(), r)
	}
	if n := strings.Count(buf.String(), "level=WARN"); n != 1 || !strings.Contains(buf.String(), "channel=sberbank") {
		t.Errorf("want one warning naming sberbank:\n%s", buf.String())
	}
	if strings.Contains(buf.String(), "secret-guess") || strings.Contains(buf.String(), "admin") {
		t.Errorf("credentials in the log:\n%s", buf.String())
	}
}
