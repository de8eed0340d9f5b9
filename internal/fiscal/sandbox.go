package fiscal

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/kabinet-billing/kabinet/internal/clock"
)

// Sandbox is an ATOL Online v5 look-alike: getToken, sell, sell_refund and
// report/{uuid} with the documented JSON, a check page per receipt, and
// switches for the failures the worker must survive. The demo runs it on
// loopback so that its payments get receipts; the tests use it as the fake.
type Sandbox struct {
	Login, Password, GroupCode string
	Clock                      clock.Clock
	TokenLife                  time.Duration // default 24 h
	// WaitReports is how many report requests answer "wait" before "done".
	WaitReports int
	// CheckBase is the sandbox's own address, for the check links.
	CheckBase string

	mu       sync.Mutex
	down     bool // 503 to everything
	hang     bool // no answer until the client gives up
	failNext int  // the next documents registered end "fail"
	tokens   map[string]time.Time
	docs     map[string]*sandboxDoc
	byExt    map[string]string
	fd       int64
	Accepted int // documents accepted (one per external_id)
	Requests int // sell and sell_refund requests, repeats included
	Tokens   int // tokens issued
}

type sandboxDoc struct {
	uuid, kind string
	req        atolRequest
	polls      int
	fail       bool
	fd         int64
	at         time.Time
}

// SetDown makes every request fail with 503 (or not).
func (s *Sandbox) SetDown(v bool) { s.mu.Lock(); s.down = v; s.mu.Unlock() }

// SetHang makes every request hang until the client gives up (or not).
func (s *Sandbox) SetHang(v bool) { s.mu.Lock(); s.hang = v; s.mu.Unlock() }

// FailNext makes the next n documents end with status "fail".
func (s *Sandbox) FailNext(n int) { s.mu.Lock(); s.failNext = n; s.mu.Unlock() }

// Docs lists the documents accepted, by external_id, with their kind.
func (s *Sandbox) Docs() map[string]string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string]string{}
	for ext, u := range s.byExt {
		out[ext] = s.docs[u].kind
	}
	return out
}

// Counts gives the documents accepted, the register requests and the
// tokens issued, read together.
func (s *Sandbox) Counts() (accepted, requests, tokens int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.Accepted, s.Requests, s.Tokens
}

func (s *Sandbox) now() time.Time {
	if s.Clock == nil {
		return time.Now()
	}
	return s.Clock.Now()
}

func sandboxID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	h := hex.EncodeToString(b)
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func (s *Sandbox) ts() string { return s.now().In(moscow).Format("02.01.2006 15:04:05") }

func (s *Sandbox) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	down, hang := s.down, s.hang
	if s.tokens == nil {
		s.tokens, s.docs, s.byExt = map[string]time.Time{}, map[string]*sandboxDoc{}, map[string]string{}
	}
	s.mu.Unlock()
	if hang {
		// Read the request first: only then does the server notice the
		// client hanging up.
		_, _ = io.Copy(io.Discard, r.Body)
		select {
		case <-r.Context().Done():
		case <-time.After(time.Minute):
		}
		return
	}
	if down {
		http.Error(w, "service unavailable", http.StatusServiceUnavailable)
		return
	}
	path := r.URL.Path
	if i := strings.Index(path, "/possystem/v5/"); i >= 0 {
		path = path[i+len("/possystem/v5"):]
	}
	switch {
	case strings.HasPrefix(path, "/check/"):
		s.check(w, strings.TrimPrefix(path, "/check/"))
	case path == "/getToken" && r.Method == http.MethodPost:
		s.getToken(w, r)
	default:
		parts := strings.Split(strings.Trim(path, "/"), "/")
		if len(parts) < 2 || parts[0] != s.GroupCode {
			writeJSON(w, http.StatusBadRequest, atolResponse{Status: "fail", Error: &atolError{Code: 30, Type: "system", Text: "Неизвестный код группы"}, Timestamp: s.ts()})
			return
		}
		if !s.authorized(r) {
			writeJSON(w, http.StatusUnauthorized, atolResponse{Status: "fail", Error: &atolError{Code: 11, Type: "system", Text: "Токен устарел или неверен"}, Timestamp: s.ts()})
			return
		}
		switch {
		case len(parts) == 2 && (parts[1] == KindSell || parts[1] == KindSellRefund) && r.Method == http.MethodPost:
			s.register(w, r, parts[1])
		case len(parts) == 3 && parts[1] == "report" && r.Method == http.MethodGet:
			s.report(w, parts[2])
		default:
			http.NotFound(w, r)
		}
	}
}

func (s *Sandbox) getToken(w http.ResponseWriter, r *http.Request) {
	var in struct{ Login, Pass string }
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
		writeJSON(w, http.StatusBadRequest, atolResponse{Error: &atolError{Code: 2, Type: "system", Text: "Неверный запрос"}, Timestamp: s.ts()})
		return
	}
	if in.Login != s.Login || in.Pass != s.Password {
		writeJSON(w, http.StatusUnauthorized, atolResponse{Error: &atolError{Code: 12, Type: "system", Text: "Неверный логин или пароль"}, Timestamp: s.ts()})
		return
	}
	life := s.TokenLife
	if life == 0 {
		life = 24 * time.Hour
	}
	t := sandboxID()
	s.mu.Lock()
	s.tokens[t] = s.now().Add(life)
	s.Tokens++
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, atolResponse{Token: t, Timestamp: s.ts()})
}

func (s *Sandbox) authorized(r *http.Request) bool {
	t := r.Header.Get("Token")
	s.mu.Lock()
	defer s.mu.Unlock()
	exp, ok := s.tokens[t]
	return ok && s.now().Before(exp)
}

func (s *Sandbox) register(w http.ResponseWriter, r *http.Request, kind string) {
	var req atolRequest
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		writeJSON(w, http.StatusBadRequest, atolResponse{Status: "fail", Error: &atolError{Code: 1, Type: "system", Text: "Ошибка парсинга JSON"}, Timestamp: s.ts()})
		return
	}
	rc := req.Receipt
	if req.ExternalID == "" || len(rc.Items) == 0 || len(rc.Payments) == 0 || rc.Company.INN == "" ||
		(rc.Client.Email == "" && rc.Client.Phone == "") || rc.Total <= 0 {
		writeJSON(w, http.StatusBadRequest, atolResponse{Status: "fail", Error: &atolError{Code: 2, Type: "system", Text: "Переданы пустые значения обязательных параметров"}, Timestamp: s.ts()})
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.Requests++
	if u, ok := s.byExt[req.ExternalID]; ok {
		writeJSON(w, http.StatusConflict, atolResponse{UUID: u, Status: "fail", Timestamp: s.ts(),
			Error: &atolError{Code: 33, Type: "system", Text: fmt.Sprintf("В системе существует чек с external_id: %s и group_code: %s", req.ExternalID, s.GroupCode)}})
		return
	}
	d := &sandboxDoc{uuid: sandboxID(), kind: kind, req: req, at: s.now()}
	if s.failNext > 0 {
		s.failNext--
		d.fail = true
	}
	s.docs[d.uuid], s.byExt[req.ExternalID] = d, d.uuid
	s.Accepted++
	writeJSON(w, http.StatusOK, atolResponse{UUID: d.uuid, Status: "wait", Timestamp: s.ts()})
}

func (s *Sandbox) report(w http.ResponseWriter, uuid string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	d, ok := s.docs[uuid]
	if !ok {
		writeJSON(w, http.StatusNotFound, atolResponse{Status: "fail", Error: &atolError{Code: 34, Type: "system", Text: "Документ не найден"}, Timestamp: s.ts()})
		return
	}
	d.polls++
	switch {
	case d.polls <= s.WaitReports:
		writeJSON(w, http.StatusOK, atolResponse{UUID: uuid, Status: "wait", Timestamp: s.ts()})
	case d.fail:
		writeJSON(w, http.StatusOK, atolResponse{UUID: uuid, Status: "fail", Timestamp: s.ts(),
			Error: &atolError{Code: 1006, Type: "driver", Text: "Ошибка ККТ: сумма оплаты меньше итога чека"}})
	default:
		if d.fd == 0 {
			s.fd++
			d.fd = s.fd
		}
		link := ""
		if s.CheckBase != "" {
			link = strings.TrimRight(s.CheckBase, "/") + "/check/" + uuid
		}
		writeJSON(w, http.StatusOK, map[string]any{"uuid": uuid, "status": "done", "error": nil, "timestamp": s.ts(),
			"group_code": s.GroupCode, "daemon_code": "sandbox-1", "device_code": "SANDBOX-1",
			"payload": map[string]any{"total": d.req.Receipt.Total, "fns_site": "www.nalog.gov.ru", "fn_number": "9999078900001234",
				"shift_number": 1, "receipt_datetime": d.at.In(moscow).Format("02.01.2006 15:04:05"), "fiscal_receipt_number": d.fd,
				"fiscal_document_number": d.fd, "ecr_registration_number": "0000000001002003",
				"fiscal_document_attribute": 1000000000 + d.fd*7919, "ofd_receipt_url": link}})
	}
}

// check is the sandbox's stand-in for the fiscal data operator's check page.
func (s *Sandbox) check(w http.ResponseWriter, uuid string) {
	s.mu.Lock()
	d, ok := s.docs[uuid]
	s.mu.Unlock()
	if !ok || d.fd == 0 {
		http.NotFound(w, nil)
		return
	}
	kind := "Приход"
	if d.kind == KindSellRefund {
		kind = "Возврат прихода"
	}
	rc := d.req.Receipt
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	fmt.Fprintf(w, `<!doctype html><meta charset="utf-8"><title>Кассовый чек</title><pre>
КАССОВЫЙ ЧЕК (песочница, не фискальный документ)
%s
%s
ИНН %s, %s
Итого: %s ₽
ФН 9999078900001234  ФД %d  ФП %d
</pre>`, kind, html.EscapeString(rc.Items[0].Name), html.EscapeString(rc.Company.INN), html.EscapeString(rc.Company.PaymentAddress),
		mustJSON(rc.Total), d.fd, 1000000000+d.fd*7919)
}

func mustJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}
