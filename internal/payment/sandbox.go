package payment

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"embed"
	"encoding/hex"
	"fmt"
	"html/template"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/kabinet-billing/kabinet/internal/clock"
	"github.com/kabinet-billing/kabinet/internal/money"
)

func init() {
	RegisterProcessor("sandbox", func(cfg ProcessorConfig) (Processor, error) {
		return NewSandbox(cfg, clock.System, nil)
	})
}

// Sandbox is a built-in card processor for the demo and tests. It behaves
// like a real one from Kabinet's side: its hosted page takes the card, and the
// result comes back only as a signed server-to-server callback over HTTP,
// sometimes late and sometimes repeated. It lives in the same binary, but
// the card number stays inside the page handler: it is read, judged and
// dropped, never logged, stored or sent anywhere.
//
// Mount the Sandbox (an http.Handler) at its page path, "/pay/sandbox/" by
// default, and run Run in the background so that callbacks go out.
type Sandbox struct {
	cfg       ProcessorConfig
	clock     clock.Clock
	client    *http.Client
	log       *slog.Logger
	lateAfter time.Duration
	tmpl      *template.Template

	mu    sync.Mutex
	queue []sandboxDelivery // due callbacks, sent by DeliverDue
	// charged remembers recurring charges by key, as a processor does,
	// so that a charge asked again gets its first answer.
	charged map[string]ChargeResult
	// results are the payments decided on the page, by Ref, for Check;
	// refunds are the refunds made, by idempotency key.
	results map[string]Callback
	refunds map[string]RefundResult
}

type sandboxDelivery struct {
	due      time.Time
	url      string
	form     url.Values
	attempts int
}

// Sandbox callback fields and the one sign formula: hex HMAC-SHA256 of the
// fields in sandboxSigned order, joined by "|", under the shared secret.
const (
	sbPayment     = "payment_id"
	sbAccountID   = "account_id"
	sbAccount     = "account"
	sbAmount      = "amount"
	sbCurrency    = "currency"
	sbCallback    = "cb_url"
	sbSuccess     = "success_url"
	sbDecline     = "decline_url"
	sbLang        = "lang"
	sbTxn         = "transaction_id"
	sbType        = "type"
	sbDeclineCode = "decline_code"
	sbSign        = "sign"
	// Remembering the card: the page link asks with save=1; the paid
	// callback then names the saved method.
	sbSave         = "save"
	sbMethodToken  = "method_token"
	sbMethodMasked = "method_masked"
	sbMethodExpiry = "method_expiry"
	sbMethodTitle  = "method_title"

	sandboxDefaultPage   = "/pay/sandbox/"
	sandboxSBPPath       = "sbp" // under the page: the "bank's app" an SBP QR code opens
	sandboxRetryInterval = time.Minute
	sandboxMaxAttempts   = 10
	sandboxRepeats       = 3
)

var (
	sandboxPageSigned     = []string{sbPayment, sbAccountID, sbAccount, sbAmount, sbCurrency, sbCallback, sbSuccess, sbDecline, sbLang, sbSave}
	sandboxPageFields     = append(slices.Clip(sandboxPageSigned), sbSign)
	sandboxCallbackSigned = []string{sbPayment, sbTxn, sbType, sbAmount, sbCurrency, sbDeclineCode, sbMethodToken, sbMethodMasked, sbMethodExpiry, sbMethodTitle}
	sandboxOutcomes       = map[string]Outcome{"paid": OutcomePaid, "declined": OutcomeDeclined, "refund": OutcomeReversed}
)

func sandboxSign(secret string, f url.Values, fields []string) string {
	m := hmac.New(sha256.New, []byte(secret))
	for i, k := range fields {
		if i > 0 {
			m.Write([]byte{'|'})
		}
		m.Write([]byte(f.Get(k)))
	}
	return hex.EncodeToString(m.Sum(nil))
}

func sandboxSignOK(secret string, f url.Values, fields []string) bool {
	want := sandboxSign(secret, f, fields)
	return subtle.ConstantTimeCompare([]byte(strings.ToLower(f.Get(sbSign))), []byte(want)) == 1
}

// SandboxCard is a test card of the sandbox page.
type SandboxCard struct {
	Number  string
	Outcome Outcome
	Reason  Reason
	Late    bool // the callback arrives late, after the browser is back
	Repeat  bool // the callback is sent several times
	RU, EN  string
	// Later is what a later charge of the card, saved by a paid payment,
	// meets: ReasonNone is paid. A saved card past its expiry always
	// meets ReasonCardExpired.
	Later Reason
}

// SandboxCards are the sandbox's test cards: one for each outcome a
// subscriber can meet. Any other number fails as wrong card data.
var SandboxCards = []SandboxCard{
	{"4111 1111 1111 1111", OutcomePaid, ReasonNone, false, false, "успешная оплата", "payment succeeds", ReasonNone},
	{"5555 5555 5555 4444", OutcomePaid, ReasonNone, false, true, "успешная оплата, уведомление приходит трижды", "payment succeeds, callback sent three times", ReasonNone},
	{"4000 0000 0000 0077", OutcomePaid, ReasonNone, true, false, "успешная оплата, уведомление приходит с опозданием", "payment succeeds, callback arrives late", ReasonNone},
	{"4000 0000 0000 0069", OutcomeDeclined, ReasonWrongCardData, false, false, "неверные данные карты", "wrong card data", ReasonNone},
	{"4000 0000 0000 9995", OutcomeDeclined, ReasonNoFunds, false, false, "недостаточно средств", "insufficient funds", ReasonNone},
	{"4000 0000 0000 0119", OutcomeDeclined, ReasonSecurity, false, false, "отказ службы безопасности", "rejected by the security service", ReasonNone},
	{"4000 0000 0000 0002", OutcomeDeclined, ReasonIssuerDecline, false, false, "отказ банка-эмитента", "declined by the issuing bank", ReasonNone},
	{"4242 4242 4242 4242", OutcomePaid, ReasonNone, false, false, "успешная оплата, автоплатежи проходят", "payment succeeds, autopay charges succeed", ReasonNone},
	{"4000 0000 0000 0341", OutcomePaid, ReasonNone, false, false, "успешная оплата, автоплатежам не хватает средств", "payment succeeds, autopay charges meet insufficient funds", ReasonNoFunds},
	{"4000 0000 0000 3055", OutcomePaid, ReasonNone, false, false, "успешная оплата, к автоплатежу срок карты истёк", "payment succeeds, the card has expired by the autopay charge", ReasonCardExpired},
	{"4000 0000 0000 9987", OutcomePaid, ReasonNone, false, false, "успешная оплата, к автоплатежу банк заблокировал карту", "payment succeeds, the bank has blocked the card by the autopay charge", ReasonCardBlocked},
}

//go:embed sandbox.html
var sandboxFS embed.FS

// NewSandbox builds the sandbox processor. client may be nil for a default
// with a timeout. Options: "late_after" (a Go duration, default 10m) is how
// late the late card's callback comes.
func NewSandbox(cfg ProcessorConfig, clk clock.Clock, client *http.Client) (*Sandbox, error) {
	if cfg.Name == "" {
		cfg.Name = "sandbox"
	}
	if cfg.Currency == "" {
		cfg.Currency = "RUB"
	}
	if cfg.Secret == "" {
		return nil, fmt.Errorf("sandbox: a shared secret is required")
	}
	if cfg.PageURL == "" {
		cfg.PageURL = sandboxDefaultPage
	}
	if clk == nil {
		clk = clock.System
	}
	if client == nil {
		client = &http.Client{Timeout: 10 * time.Second}
	}
	late := 10 * time.Minute
	if s := cfg.Options["late_after"]; s != "" {
		d, err := time.ParseDuration(s)
		if err != nil || d < 0 {
			return nil, fmt.Errorf("sandbox: late_after %q: not a duration", s)
		}
		late = d
	}
	tmpl, err := template.ParseFS(sandboxFS, "sandbox.html")
	if err != nil {
		return nil, fmt.Errorf("sandbox: page template: %w", err)
	}
	return &Sandbox{cfg: cfg, clock: clk, client: client, log: slog.Default(), lateAfter: late, tmpl: tmpl}, nil
}

func (s *Sandbox) Name() string          { return s.cfg.Name }
func (s *Sandbox) SecurityPhone() string { return s.cfg.SecurityPhone }
func (s *Sandbox) Reason(code string) Reason {
	if code == "" {
		return ReasonIssuerDecline
	}
	return ParseReason(code)
}

// Start returns the sandbox page's address with the payment in signed query
// fields, the way hosted pages of real processors are started.
func (s *Sandbox) Start(_ context.Context, p CardPayment) (string, error) {
	if p.Amount <= 0 {
		return "", fmt.Errorf("sandbox: amount %s is not positive", p.Amount)
	}
	if p.CallbackURL == "" {
		return "", fmt.Errorf("sandbox: payment %d has no callback URL", p.ID)
	}
	u, err := url.Parse(s.cfg.PageURL)
	if err != nil {
		return "", fmt.Errorf("sandbox: page URL: %w", err)
	}
	q := url.Values{}
	q.Set(sbPayment, strconv.FormatInt(p.ID, 10))
	q.Set(sbAccountID, strconv.FormatInt(p.AccountID, 10))
	q.Set(sbAccount, p.Account)
	q.Set(sbAmount, p.Amount.Decimal())
	q.Set(sbCurrency, s.cfg.Currency)
	q.Set(sbCallback, p.CallbackURL)
	q.Set(sbSuccess, p.SuccessURL)
	q.Set(sbDecline, p.DeclineURL)
	q.Set(sbLang, p.Lang)
	if p.SaveMethod {
		q.Set(sbSave, "1")
	}
	q.Set(sbSign, sandboxSign(s.cfg.Secret, q, sandboxPageSigned))
	u.RawQuery = q.Encode()
	return u.String(), nil
}

func (s *Sandbox) VerifyCallback(r *http.Request) (Callback, error) {
	if r.Method != http.MethodPost {
		return Callback{}, fmt.Errorf("sandbox: method %s: %w", r.Method, ErrBadCallback)
	}
	if err := r.ParseForm(); err != nil {
		return Callback{}, fmt.Errorf("sandbox: %v: %w", err, ErrBadCallback)
	}
	f := r.PostForm
	if !sandboxSignOK(s.cfg.Secret, f, sandboxCallbackSigned) {
		return Callback{}, fmt.Errorf("sandbox: transaction %q: %w", f.Get(sbTxn), ErrBadSignature)
	}
	cb, err := decodeCallback(s, callbackFields{
		paymentID: f.Get(sbPayment), externalID: f.Get(sbTxn), kind: f.Get(sbType), total: f.Get(sbAmount),
		currency: f.Get(sbCurrency), declineCode: f.Get(sbDeclineCode), wantCurrency: s.cfg.Currency,
	}, sandboxOutcomes)
	if err == nil && cb.Outcome == OutcomePaid && f.Get(sbMethodToken) != "" {
		cb.Method = &SavedMethod{Token: f.Get(sbMethodToken), Masked: f.Get(sbMethodMasked), Expiry: f.Get(sbMethodExpiry), Title: f.Get(sbMethodTitle)}
	}
	return cb, err
}

type sandboxPage struct {
	Lang     string
	T        map[string]string
	Fields   url.Values
	Keys     []string
	Amount   string
	Account  string
	Cards    []sandboxCardView
	Error    string
	Security string
	SBP      bool // the bank's app confirming an SBP payment, not the card page
}

type sandboxCardView struct{ Number, Text string }

// ServeHTTP is the hosted page: GET shows the card form, POST takes it.
func (s *Sandbox) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		http.Error(w, "bad request", http.StatusBadRequest)
		return
	}
	f := url.Values{}
	for _, k := range sandboxPageFields {
		f.Set(k, r.Form.Get(k))
	}
	if !sandboxSignOK(s.cfg.Secret, f, sandboxPageSigned) {
		http.Error(w, "sandbox: the payment link is not signed", http.StatusBadRequest)
		return
	}
	amount, err := parseWireAmount(f.Get(sbAmount))
	if err != nil {
		http.Error(w, "sandbox: bad amount", http.StatusBadRequest)
		return
	}
	lang := f.Get(sbLang)
	if lang != "en" {
		lang = "ru"
	}
	sbpPage := strings.HasSuffix(r.URL.Path, "/"+sandboxSBPPath)
	switch r.Method {
	case http.MethodGet, http.MethodHead:
		s.render(w, lang, f, amount, "", sbpPage)
	case http.MethodPost:
		if sbpPage {
			// The bank's app: the subscriber confirms or the bank refuses; the
			// result reaches Kabinet only as the callback (and Check).
			outcome := SandboxCard{Outcome: OutcomePaid}
			switch r.PostForm.Get("sbp") {
			case "paid":
			case string(ReasonNoFunds):
				outcome = SandboxCard{Outcome: OutcomeDeclined, Reason: ReasonNoFunds}
			default:
				outcome = SandboxCard{Outcome: OutcomeDeclined, Reason: ReasonExpired}
			}
			s.enqueue(f, outcome, "")
			s.render(w, lang, f, amount, sandboxText(lang, "sbp_done"), true)
			return
		}
		card := sandboxJudge(r.PostForm.Get("card"), r.PostForm.Get("expiry"), r.PostForm.Get("cvc"), s.clock.Now())
		s.enqueue(f, card, r.PostForm.Get("expiry"))
		next := f.Get(sbSuccess)
		if card.Outcome != OutcomePaid {
			next = f.Get(sbDecline)
		}
		if next == "" {
			s.render(w, lang, f, amount, sandboxText(lang, "done"), false)
			return
		}
		http.Redirect(w, r, next, http.StatusSeeOther)
	default:
		w.Header().Set("Allow", "GET, POST")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
	}
}

func (s *Sandbox) render(w http.ResponseWriter, lang string, f url.Values, amount money.Amount, msg string, sbp bool) {
	page := sandboxPage{
		Lang: lang, T: sandboxTexts[lang], Fields: f, Keys: sandboxPageFields,
		Amount: amount.Format(lang), Account: f.Get(sbAccount), Error: msg, Security: s.cfg.SecurityPhone, SBP: sbp,
	}
	for _, c := range SandboxCards {
		t := c.RU
		if lang == "en" {
			t = c.EN
		}
		page.Cards = append(page.Cards, sandboxCardView{c.Number, t})
	}
	var buf bytes.Buffer
	if err := s.tmpl.Execute(&buf, page); err != nil {
		s.log.Error("sandbox page", "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	// A card form: never cached, never framed by another site.
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Frame-Options", "DENY")
	w.Write(buf.Bytes())
}

// sandboxJudge decides a card's fate the way an acquirer would, roughly:
// malformed data first, then the test card's scripted answer.
func sandboxJudge(number, expiry, cvc string, now time.Time) SandboxCard {
	digits := strings.Map(func(r rune) rune {
		if r == ' ' || r == '-' {
			return -1
		}
		return r
	}, number)
	wrong := SandboxCard{Outcome: OutcomeDeclined, Reason: ReasonWrongCardData}
	if !luhn(digits) || !validCVC(cvc) || !validExpiry(expiry, now) {
		return wrong
	}
	for _, c := range SandboxCards {
		if strings.ReplaceAll(c.Number, " ", "") == digits {
			return c
		}
	}
	return wrong
}

func luhn(d string) bool {
	if len(d) < 12 || len(d) > 19 {
		return false
	}
	sum := 0
	for i := 0; i < len(d); i++ {
		c := d[len(d)-1-i]
		if c < '0' || c > '9' {
			return false
		}
		n := int(c - '0')
		if i%2 == 1 {
			if n *= 2; n > 9 {
				n -= 9
			}
		}
		sum += n
	}
	return sum%10 == 0
}

func validCVC(s string) bool {
	if len(s) != 3 {
		return false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// validExpiry accepts "MM/YY" not in the past.
func validExpiry(s string, now time.Time) bool {
	mm, yy, ok := strings.Cut(strings.TrimSpace(s), "/")
	if !ok {
		return false
	}
	m, err1 := strconv.Atoi(strings.TrimSpace(mm))
	y, err2 := strconv.Atoi(strings.TrimSpace(yy))
	if err1 != nil || err2 != nil || m < 1 || m > 12 || y < 0 || y > 99 {
		return false
	}
	ny, nm := now.Year()%100, int(now.Month())
	return y > ny || (y == ny && m >= nm)
}

func (s *Sandbox) enqueue(f url.Values, card SandboxCard, expiry string) {
	cb := url.Values{}
	cb.Set(sbPayment, f.Get(sbPayment))
	cb.Set(sbTxn, "sb-"+randomHex(8))
	cb.Set(sbType, string(card.Outcome))
	cb.Set(sbAmount, f.Get(sbAmount))
	cb.Set(sbCurrency, f.Get(sbCurrency))
	if card.Outcome == OutcomeDeclined {
		cb.Set(sbDeclineCode, string(card.Reason))
	}
	if card.Outcome == OutcomePaid && f.Get(sbSave) == "1" {
		m := sandboxSave(card, expiry)
		cb.Set(sbMethodToken, m.Token)
		cb.Set(sbMethodMasked, m.Masked)
		cb.Set(sbMethodExpiry, m.Expiry)
		cb.Set(sbMethodTitle, m.Title)
	}
	cb.Set(sbSign, sandboxSign(s.cfg.Secret, cb, sandboxCallbackSigned))
	// What Check answers is exactly what the callback will say.
	if decided, err := s.VerifyCallback(&http.Request{Method: http.MethodPost, PostForm: cb, Form: cb}); err == nil {
		s.mu.Lock()
		if s.results == nil {
			s.results = map[string]Callback{}
		}
		s.results[sandboxRef(decided.PaymentID)] = decided
		s.mu.Unlock()
	}
	now := s.clock.Now()
	due := now
	if card.Late {
		due = now.Add(s.lateAfter)
	}
	n := 1
	if card.Repeat {
		n = sandboxRepeats
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := range n {
		s.queue = append(s.queue, sandboxDelivery{due: due.Add(time.Duration(i) * time.Second), url: f.Get(sbCallback), form: cb})
	}
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// Pending is the number of callbacks not yet delivered.
func (s *Sandbox) Pending() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.queue)
}

// DeliverDue sends every callback that is due by the sandbox's clock. A
// callback that is not answered 200 is tried again a minute later, the way
// processors repeat callbacks that fail; it returns how many were accepted.
func (s *Sandbox) DeliverDue(ctx context.Context) int {
	now := s.clock.Now()
	s.mu.Lock()
	sort.SliceStable(s.queue, func(i, j int) bool { return s.queue[i].due.Before(s.queue[j].due) })
	var due []sandboxDelivery
	rest := s.queue[:0]
	for _, d := range s.queue {
		if d.due.After(now) {
			rest = append(rest, d)
		} else {
			due = append(due, d)
		}
	}
	s.queue = rest
	s.mu.Unlock()

	sent := 0
	for _, d := range due {
		if err := s.post(ctx, d); err == nil {
			sent++
			continue
		} else if d.attempts++; d.attempts >= sandboxMaxAttempts {
			s.log.Warn("sandbox callback given up", "payment", d.form.Get(sbPayment), "attempts", d.attempts, "err", err)
			continue
		} else {
			s.log.Info("sandbox callback failed, will repeat", "payment", d.form.Get(sbPayment), "err", err)
		}
		d.due = now.Add(sandboxRetryInterval)
		s.mu.Lock()
		s.queue = append(s.queue, d)
		s.mu.Unlock()
	}
	return sent
}

func (s *Sandbox) post(ctx context.Context, d sandboxDelivery) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, d.url, strings.NewReader(d.form.Encode()))
	if err != nil {
		return fmt.Errorf("callback request: %w", err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := s.client.Do(req)
	if err != nil {
		return fmt.Errorf("callback: %w", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("callback answered %s", resp.Status)
	}
	return nil
}

// Run delivers callbacks every second until ctx ends.
func (s *Sandbox) Run(ctx context.Context) {
	clock.Every(ctx, time.Second, func(ctx context.Context) { s.DeliverDue(ctx) })
}

// The sandbox page is a stand-in for a processor's own page, so it carries
// its own two-language texts instead of Kabinet's translation bundle.
var sandboxTexts = map[string]map[string]string{
	"ru": {
		"title": "Тестовая платёжная страница", "notice": "Это песочница: деньги не списываются. Используйте тестовые карты.",
		"amount": "Сумма", "account": "Лицевой счёт", "card": "Номер карты", "expiry": "Срок действия (ММ/ГГ)",
		"cvc": "CVC", "pay": "Оплатить", "cards": "Тестовые карты (любой будущий срок, любой CVC из 3 цифр)",
		"support": "Служба безопасности", "done": "Платёж обработан. Можно закрыть страницу.",
		"sbp_title": "Тестовое приложение банка (СБП)", "sbp_notice": "Так выглядит подтверждение платежа по QR-коду в приложении банка. Деньги не списываются.",
		"sbp_pay": "Подтвердить оплату", "sbp_no_funds": "Банк: недостаточно средств", "sbp_expire": "Не подтверждать (QR-код истёк)",
		"sbp_done": "Готово. Вернитесь на страницу оплаты: она покажет результат.",
	},
	"en": {
		"title": "Test payment page", "notice": "This is a sandbox: no money moves. Use the test cards.",
		"amount": "Amount", "account": "Account", "card": "Card number", "expiry": "Expiry (MM/YY)",
		"cvc": "CVC", "pay": "Pay", "cards": "Test cards (any future expiry, any 3-digit CVC)",
		"support": "Security service", "done": "The payment was processed. You may close this page.",
		"sbp_title": "Test bank app (SBP)", "sbp_notice": "This is how a bank's app confirms a payment by QR code. No money moves.",
		"sbp_pay": "Confirm the payment", "sbp_no_funds": "Bank: insufficient funds", "sbp_expire": "Do not confirm (the QR code expires)",
		"sbp_done": "Done. Go back to the payment page: it shows the result.",
	},
}

func sandboxText(lang, key string) string { return sandboxTexts[lang][key] }

func sandboxRef(paymentID int64) string { return "sandbox-" + strconv.FormatInt(paymentID, 10) }

// Methods: the sandbox offers the card and SBP (unless sbp = false), so that
// the demo shows both.
func (s *Sandbox) Methods() []string {
	if s.cfg.SBP != nil && !*s.cfg.SBP {
		return []string{MethodCard}
	}
	return []string{MethodCard, MethodSBP}
}

// StartMethod starts a card payment on the sandbox page, or an SBP payment
// whose QR code opens the sandbox's "bank app" page on this same server.
func (s *Sandbox) StartMethod(ctx context.Context, p CardPayment, method string) (Confirmation, error) {
	page, err := s.Start(ctx, p)
	if err != nil {
		return Confirmation{}, err
	}
	c := Confirmation{Method: method, Ref: sandboxRef(p.ID)}
	switch method {
	case MethodCard:
		c.URL = page
	case MethodSBP:
		if !slices.Contains(s.Methods(), MethodSBP) {
			return Confirmation{}, fmt.Errorf("sandbox: sbp: %w", ErrMethodUnsupported)
		}
		// A phone scanning the code must reach this server, so the link is
		// absolute, on the origin the processor's callbacks go to.
		u, err := url.Parse(page)
		if err != nil {
			return Confirmation{}, err
		}
		cb, err := url.Parse(p.CallbackURL)
		if err != nil || cb.Host == "" {
			return Confirmation{}, fmt.Errorf("sandbox: payment %d: the callback URL %q is not absolute", p.ID, p.CallbackURL)
		}
		u.Scheme, u.Host = cb.Scheme, cb.Host
		u.Path = strings.TrimSuffix(u.Path, "/") + "/" + sandboxSBPPath
		c.QR = u.String()
	default:
		return Confirmation{}, fmt.Errorf("sandbox: method %q: %w", method, ErrMethodUnsupported)
	}
	return c, nil
}

// Check answers what the page decided for the payment, before its callback.
func (s *Sandbox) Check(_ context.Context, ref string) (Callback, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.results[ref], nil
}

// Refund succeeds at once; a repeated key returns the first refund.
func (s *Sandbox) Refund(_ context.Context, r RefundRequest) (RefundResult, error) {
	if r.Amount <= 0 || r.Ref == "" {
		return RefundResult{}, fmt.Errorf("sandbox: refund of payment %d: nothing to refund", r.PaymentID)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.refunds == nil {
		s.refunds = map[string]RefundResult{}
	}
	if res, ok := s.refunds[r.Key]; ok && r.Key != "" {
		return res, nil
	}
	res := RefundResult{Ref: "sb-refund-" + randomHex(8), Status: RefundSucceeded}
	s.refunds[r.Key] = res
	return res, nil
}
