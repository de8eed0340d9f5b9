package api

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/kabinet-billing/kabinet/internal/apitoken"
	"github.com/kabinet-billing/kabinet/internal/billing"
	"github.com/kabinet-billing/kabinet/internal/content"
	"github.com/kabinet-billing/kabinet/internal/ledger"
	"github.com/kabinet-billing/kabinet/internal/money"
	"github.com/kabinet-billing/kabinet/internal/netflow"
	"github.com/kabinet-billing/kabinet/internal/payment"
	"github.com/kabinet-billing/kabinet/internal/speedtest"
	"github.com/kabinet-billing/kabinet/internal/statement"
	"github.com/kabinet-billing/kabinet/internal/subscriber"
	"github.com/kabinet-billing/kabinet/internal/support"
	"github.com/kabinet-billing/kabinet/internal/traffic"
	"github.com/kabinet-billing/kabinet/internal/web/platform"
)

// Money is an amount in kopecks and as a decimal string in roubles.
type Money struct {
	Kopecks int64  `json:"kopecks"`
	Rub     string `json:"rub" example:"500.00"`
}

func m(a money.Amount) Money { return Money{Kopecks: int64(a), Rub: a.Decimal()} }

func pick(l, ru, en string) string {
	if l == "en" && en != "" {
		return en
	}
	return ru
}

// register adds one operation; secured ones need the bearer token.
func reg[I, O any](a *API, secured bool, op huma.Operation, h func(context.Context, *I) (*O, error)) {
	if secured {
		op.Security = bearer
		op.Errors = append(op.Errors, http.StatusUnauthorized, http.StatusTooManyRequests)
	}
	huma.Register(a.huma, op, h)
}

// --- login and tokens ---

type LoginIn struct {
	Body struct {
		Login    string `json:"login" minLength:"1" maxLength:"64"`
		Password string `json:"password" minLength:"1" maxLength:"128"`
		Device   string `json:"device,omitempty" maxLength:"100" doc:"Shown in the list of tokens, e.g. the phone's name"`
	}
}

type TokenOut struct {
	ID         int64     `json:"id"`
	Device     string    `json:"device"`
	CreatedAt  time.Time `json:"created_at"`
	LastUsedAt time.Time `json:"last_used_at"`
	Current    bool      `json:"current"`
}

type LoginOut struct {
	Body struct {
		Token   string   `json:"token" doc:"Send as Authorization: Bearer <token>; shown only once"`
		TokenID int64    `json:"token_id"`
		Account Identity `json:"account"`
	}
}

type Identity struct {
	ID         int64  `json:"id"`
	Login      string `json:"login"`
	ContractNo string `json:"contract_no"`
	Name       string `json:"name"`
}

type Empty struct{}

type IDPath struct {
	ID int64 `path:"id" minimum:"1"`
}

type CodePath struct {
	Code string `path:"code" maxLength:"40"`
}

type Period struct {
	From string `query:"from" doc:"First day, YYYY-MM-DD (default: the 1st of this month)"`
	To   string `query:"to" doc:"Last day, YYYY-MM-DD, inclusive (default: today)"`
}

// period reads the days in the provider's zone, as the portal does: by
// default this month so far, maxDays days at most. A wrong date is a 422
// whose detail says what is wrong and whose errors name the parameter.
func (a *API) period(ctx context.Context, p Period, maxDays int) (statement.Period, error) {
	per, err := statement.ParsePeriod(p.From, p.To, statement.ThisMonth(a.clock.Now(), a.p.Zone), maxDays)
	if pe, ok := statement.AsPeriodError(err); ok {
		l := lang(ctx)
		msg := a.p.I18n.T(l, pe.ID, pe.Data)
		value := p.From
		if pe.Field == "to" {
			value = p.To
		}
		return per, &huma.ErrorModel{Status: http.StatusUnprocessableEntity, Title: statusTitle(a.p, l, http.StatusUnprocessableEntity),
			Detail: msg, Errors: []*huma.ErrorDetail{{Message: msg, Location: "query." + pe.Field, Value: value}}}
	}
	return per, err
}

// PageIn is a page of a long list (1-based).
type PageIn struct {
	Page int `query:"page" minimum:"1" doc:"Page, from 1 (newest first); next_page in the answer names the next one"`
}

type ListOut[T any] struct {
	Body struct {
		Items []T `json:"items"`
		Next  int `json:"next_page,omitempty" doc:"The page after this one, when the list goes on"`
	}
}

func list[T any](items []T) *ListOut[T] {
	o := &ListOut[T]{}
	o.Body.Items = items
	if o.Body.Items == nil {
		o.Body.Items = []T{}
	}
	return o
}

func (a *API) operations() {
	reg(a, false, huma.Operation{OperationID: "login", Method: http.MethodPost, Path: "/login", Tags: []string{"Login"},
		Summary: "Log in and get a bearer token", Errors: []int{401, 429}}, a.login)
	reg(a, true, huma.Operation{OperationID: "logout", Method: http.MethodPost, Path: "/logout", Tags: []string{"Login"},
		Summary: "Revoke the token of this request", DefaultStatus: 204}, a.logout)
	reg(a, true, huma.Operation{OperationID: "list-tokens", Method: http.MethodGet, Path: "/tokens", Tags: []string{"Profile"},
		Summary: "The account's tokens (devices logged in)"}, a.tokens)
	reg(a, true, huma.Operation{OperationID: "revoke-token", Method: http.MethodDelete, Path: "/tokens/{id}", Tags: []string{"Profile"},
		Summary: "Revoke a token", DefaultStatus: 204, Errors: []int{404}}, a.revoke)

	reg(a, true, huma.Operation{OperationID: "home", Method: http.MethodGet, Path: "/home", Tags: []string{"Account"},
		Summary: "Balance, payment due, tariff, speed and packages"}, a.home)
	reg(a, true, huma.Operation{OperationID: "list-tariffs", Method: http.MethodGet, Path: "/tariffs", Tags: []string{"Tariffs"},
		Summary: "Tariffs the subscriber can change to"}, a.tariffs)
	reg(a, true, huma.Operation{OperationID: "quote-tariff", Method: http.MethodGet, Path: "/tariffs/{code}/quote", Tags: []string{"Tariffs"},
		Summary: "What changing to this tariff would do", Errors: []int{404, 409}}, a.quote)
	reg(a, true, huma.Operation{OperationID: "change-tariff", Method: http.MethodPost, Path: "/tariffs/{code}", Tags: []string{"Tariffs"},
		Summary: "Change tariff (after showing the quote)", Errors: []int{404, 409}}, a.changeTariff)
	reg(a, true, huma.Operation{OperationID: "list-packages", Method: http.MethodGet, Path: "/packages", Tags: []string{"Packages"},
		Summary: "Packages offered and connected"}, a.packages)
	reg(a, true, huma.Operation{OperationID: "connect-package", Method: http.MethodPost, Path: "/packages/{code}", Tags: []string{"Packages"},
		Summary: "Connect a package (TV, antivirus, static IP, boost)", Errors: []int{404, 409}}, a.connect)
	reg(a, true, huma.Operation{OperationID: "boost", Method: http.MethodPost, Path: "/boost", Tags: []string{"Packages"},
		Summary: "Turn on the speed boost (the first boost package offered)", Errors: []int{404, 409}}, a.boost)
	reg(a, true, huma.Operation{OperationID: "disconnect-package", Method: http.MethodDelete, Path: "/subscriptions/{id}", Tags: []string{"Packages"},
		Summary: "Disconnect a connected package", DefaultStatus: 204, Errors: []int{404, 409}}, a.disconnect)

	reg(a, true, huma.Operation{OperationID: "list-payments", Method: http.MethodGet, Path: "/payments", Tags: []string{"Money"},
		Summary: "Payments, newest first"}, a.payments)
	reg(a, true, huma.Operation{OperationID: "get-payment", Method: http.MethodGet, Path: "/payments/{id}", Tags: []string{"Money"},
		Summary: "One payment's status", Errors: []int{404}}, a.payment)
	reg(a, true, huma.Operation{OperationID: "start-card-payment", Method: http.MethodPost, Path: "/payments/card", Tags: []string{"Money"},
		Summary: "Start a card payment (open the returned URL) or an SBP payment (show the QR code)", Errors: []int{422, 503}}, a.payCard)
	reg(a, true, huma.Operation{OperationID: "bonus", Method: http.MethodGet, Path: "/bonus", Tags: []string{"Money"},
		Summary: "Bonus points: how many, and what they are worth"}, a.bonus)
	reg(a, true, huma.Operation{OperationID: "spend-bonus", Method: http.MethodPost, Path: "/bonus/spend", Tags: []string{"Money"},
		Summary:     "Pay for services with bonus points: they are credited to the balance",
		Description: "Idempotent by the Idempotency-Key header. Points never go negative: asking for more than there is fails whole (409).",
		Errors:      []int{409, 422, 503}}, a.spendBonus)
	reg(a, true, huma.Operation{OperationID: "balance-history", Method: http.MethodGet, Path: "/balance", Tags: []string{"Money"},
		Summary: "Movements of the balance, newest first"}, a.balance)
	reg(a, true, huma.Operation{OperationID: "statement", Method: http.MethodGet, Path: "/statement", Tags: []string{"Money"},
		Summary: "Account statement for a period", Errors: []int{422}}, a.statement)
	reg(a, true, huma.Operation{OperationID: "statement-file", Method: http.MethodGet, Path: "/statement/{format}", Tags: []string{"Money"},
		Summary: "Account statement as a CSV or PDF document", Errors: []int{422, 503}}, a.statementFile)

	reg(a, true, huma.Operation{OperationID: "traffic", Method: http.MethodGet, Path: "/traffic", Tags: []string{"Traffic"},
		Summary: "Bytes per day", Errors: []int{422}}, a.traffic)
	reg(a, true, huma.Operation{OperationID: "traffic-by-class", Method: http.MethodGet, Path: "/traffic/classes", Tags: []string{"Traffic"},
		Summary: "Bytes per day and class (provider's network, city exchange, internet)", Errors: []int{422}}, a.trafficClasses)
	reg(a, true, huma.Operation{OperationID: "sessions", Method: http.MethodGet, Path: "/sessions", Tags: []string{"Traffic"},
		Summary: "Connection sessions in a period", Errors: []int{422}}, a.sessions)
	reg(a, true, huma.Operation{OperationID: "list-speedtests", Method: http.MethodGet, Path: "/speedtests", Tags: []string{"Traffic"},
		Summary: "Speed-test results compared with the line's speed"}, a.speedtests)
	reg(a, true, huma.Operation{OperationID: "save-speedtest", Method: http.MethodPost, Path: "/speedtests", Tags: []string{"Traffic"},
		Summary: "Save a speed test the app ran against /speedtest/backend", DefaultStatus: 201, Errors: []int{422}}, a.saveSpeedtest)

	reg(a, true, huma.Operation{OperationID: "list-requests", Method: http.MethodGet, Path: "/requests", Tags: []string{"Support"},
		Summary: "The subscriber's requests"}, a.requests)
	reg(a, true, huma.Operation{OperationID: "file-request", Method: http.MethodPost, Path: "/requests", Tags: []string{"Support"},
		Summary: "File a request", DefaultStatus: 201, Errors: []int{422}}, a.fileRequest)
	reg(a, true, huma.Operation{OperationID: "get-request", Method: http.MethodGet, Path: "/requests/{id}", Tags: []string{"Support"},
		Summary: "A request with its messages", Errors: []int{404}}, a.request)
	reg(a, true, huma.Operation{OperationID: "reply-request", Method: http.MethodPost, Path: "/requests/{id}/messages", Tags: []string{"Support"},
		Summary: "Add a message to a request", DefaultStatus: 204, Errors: []int{404, 422}}, a.reply)
	reg(a, true, huma.Operation{OperationID: "chat", Method: http.MethodGet, Path: "/chat", Tags: []string{"Support"},
		Summary: "Chat with the consultant: messages after an id"}, a.chat)
	reg(a, true, huma.Operation{OperationID: "say", Method: http.MethodPost, Path: "/chat", Tags: []string{"Support"},
		Summary: "Write to the consultant", DefaultStatus: 201, Errors: []int{422}}, a.say)
	reg(a, true, huma.Operation{OperationID: "news", Method: http.MethodGet, Path: "/news", Tags: []string{"News"},
		Summary: "News and promotions for the subscriber's city"}, a.news)
	reg(a, true, huma.Operation{OperationID: "profile", Method: http.MethodGet, Path: "/profile", Tags: []string{"Profile"},
		Summary: "Contract, contacts and logged-in devices"}, a.profile)
	reg(a, true, huma.Operation{OperationID: "update-profile", Method: http.MethodPut, Path: "/profile", Tags: []string{"Profile"},
		Summary: "Change contacts and notifications", Errors: []int{422}}, a.updateProfile)
	reg(a, true, huma.Operation{OperationID: "change-password", Method: http.MethodPost, Path: "/profile/password", Tags: []string{"Profile"},
		Summary: "Change the password", Description: "Every other token and web session of the account ends; the token that made the change stays valid.", DefaultStatus: 204, Errors: []int{422}}, a.changePassword)
}

func (a *API) login(ctx context.Context, in *LoginIn) (*LoginOut, error) {
	now := a.clock.Now()
	login := strings.ToLower(strings.TrimSpace(in.Body.Login))
	addr := ""
	if r, ok := ctx.Value(keyRequest).(*http.Request); ok {
		addr = r.RemoteAddr
	}
	// The portal's limits: one budget per login and per address for both.
	if ok, _ := a.p.Logins.Allow(login, addr, now); !ok {
		return nil, a.problem(ctx, http.StatusTooManyRequests, "api.error.login_limited")
	}
	acct, err := a.d.Subscribers.Authenticate(ctx, login, in.Body.Password)
	if errors.Is(err, subscriber.ErrBadPassword) {
		a.p.Logins.Failed(login, now)
		return nil, a.problem(ctx, http.StatusUnauthorized, "api.error.bad_login")
	}
	if err != nil {
		return nil, a.fail(ctx, "login", err)
	}
	secret, tok, err := a.d.Tokens.Issue(ctx, acct.ID, in.Body.Device)
	if err != nil {
		return nil, a.fail(ctx, "login", err)
	}
	out := &LoginOut{}
	out.Body.Token, out.Body.TokenID = secret, tok.ID
	out.Body.Account = Identity{ID: acct.ID, Login: acct.Login, ContractNo: acct.ContractNo, Name: acct.Name}
	return out, nil
}

func (a *API) logout(ctx context.Context, _ *Empty) (*Empty, error) {
	if err := a.d.Tokens.Revoke(ctx, account(ctx).ID, tokenOf(ctx).ID); err != nil {
		return nil, a.fail(ctx, "logout", err)
	}
	return nil, nil
}

func (a *API) tokenList(ctx context.Context) ([]TokenOut, error) {
	ts, err := a.d.Tokens.List(ctx, account(ctx).ID)
	if err != nil {
		return nil, err
	}
	out := make([]TokenOut, len(ts))
	for i, t := range ts {
		out[i] = TokenOut{ID: t.ID, Device: t.Name, CreatedAt: t.CreatedAt, LastUsedAt: t.LastUsedAt, Current: t.ID == tokenOf(ctx).ID}
	}
	return out, nil
}

func (a *API) tokens(ctx context.Context, _ *Empty) (*ListOut[TokenOut], error) {
	ts, err := a.tokenList(ctx)
	if err != nil {
		return nil, a.fail(ctx, "tokens", err)
	}
	return list(ts), nil
}

func (a *API) revoke(ctx context.Context, in *IDPath) (*Empty, error) {
	err := a.d.Tokens.Revoke(ctx, account(ctx).ID, in.ID)
	if errors.Is(err, apitoken.ErrNotFound) {
		return nil, a.problem(ctx, http.StatusNotFound, "api.error.not_found")
	}
	if err != nil {
		return nil, a.fail(ctx, "revoke", err)
	}
	return nil, nil
}

// --- account, tariffs, packages ---

type TariffOut struct {
	Code        string `json:"code"`
	Name        string `json:"name"`
	Description string `json:"description,omitempty"`
	Fee         Money  `json:"fee"`
	DownKbps    int64  `json:"down_kbps"`
	UpKbps      int64  `json:"up_kbps"`
	Current     bool   `json:"current"`
}

func tariffOut(l string, t billing.Tariff, current int64) TariffOut {
	return TariffOut{Code: t.Code, Name: pick(l, t.Name, t.NameEn), Description: t.Description, Fee: m(t.Fee),
		DownKbps: t.DownKbps, UpKbps: t.UpKbps, Current: t.ID == current}
}

type PackageOut struct {
	Code          string `json:"code"`
	Kind          string `json:"kind" enum:"tv,antivirus,static_ip,boost,other"`
	Name          string `json:"name"`
	Description   string `json:"description,omitempty"`
	Price         Money  `json:"price"`
	Pricing       string `json:"pricing" enum:"monthly,once,duration"`
	DurationHours int    `json:"duration_hours,omitempty"`
	SpeedPercent  int    `json:"speed_percent,omitempty"`
}

func packageOut(l string, p billing.Package) PackageOut {
	return PackageOut{Code: p.Code, Kind: p.Kind, Name: pick(l, p.Name, p.NameEn), Description: p.Description, Price: m(p.Price),
		Pricing: p.Pricing, DurationHours: p.DurationHours, SpeedPercent: p.SpeedPercent}
}

type SubscriptionOut struct {
	ID         int64      `json:"id"`
	Package    PackageOut `json:"package"`
	StartedAt  time.Time  `json:"started_at"`
	EndsAt     *time.Time `json:"ends_at,omitempty"`
	LicenseKey string     `json:"license_key,omitempty"`
	StaticIP   string     `json:"static_ip,omitempty"`
}

func subOut(l string, s billing.Subscription) SubscriptionOut {
	o := SubscriptionOut{ID: s.ID, Package: packageOut(l, s.Package), StartedAt: s.StartedAt, LicenseKey: s.LicenseKey, StaticIP: s.StaticIP}
	if !s.EndsAt.IsZero() {
		o.EndsAt = &s.EndsAt
	}
	return o
}

type SpeedOut struct {
	DownKbps    int64      `json:"down_kbps"`
	UpKbps      int64      `json:"up_kbps"`
	Limited     bool       `json:"limited" doc:"At the limit rate for debt"`
	Boosted     bool       `json:"boosted"`
	BoostEndsAt *time.Time `json:"boost_ends_at,omitempty"`
}

type HomeOut struct {
	Body struct {
		Account      Identity          `json:"account"`
		Status       string            `json:"status"`
		Balance      Money             `json:"balance"`
		Debt         Money             `json:"debt"`
		Recommended  Money             `json:"recommended_payment"`
		NextChargeAt time.Time         `json:"next_charge_at"`
		NextCharge   Money             `json:"next_charge"`
		Tariff       TariffOut         `json:"tariff"`
		NextTariff   *TariffOut        `json:"next_tariff,omitempty"`
		Speed        SpeedOut          `json:"speed"`
		LimitKbps    int64             `json:"limit_kbps"`
		Packages     []SubscriptionOut `json:"packages"`
	}
}

func (a *API) home(ctx context.Context, _ *Empty) (*HomeOut, error) {
	acct, l := account(ctx), lang(ctx)
	s, err := a.d.Biller.Summary(ctx, acct.ID)
	if err != nil {
		return nil, a.fail(ctx, "home", err)
	}
	o := &HomeOut{}
	b := &o.Body
	b.Account = Identity{ID: acct.ID, Login: acct.Login, ContractNo: acct.ContractNo, Name: acct.Name}
	b.Status, b.Balance, b.Debt, b.Recommended = s.Status, m(s.Balance), m(s.Debt), m(s.Recommended)
	b.NextChargeAt, b.NextCharge, b.LimitKbps = s.NextChargeAt, m(s.NextChargeAmount), s.LimitKbps
	b.Tariff = tariffOut(l, s.Tariff, s.Tariff.ID)
	if s.NextTariff != nil {
		t := tariffOut(l, *s.NextTariff, s.Tariff.ID)
		b.NextTariff = &t
	}
	b.Speed = SpeedOut{DownKbps: s.Speed.DownKbps, UpKbps: s.Speed.UpKbps, Limited: s.Speed.Limited, Boosted: s.Speed.Boosted}
	if s.Speed.Boosted && !s.Speed.BoostEndsAt.IsZero() {
		b.Speed.BoostEndsAt = &s.Speed.BoostEndsAt
	}
	b.Packages = []SubscriptionOut{}
	for _, p := range s.Packages {
		b.Packages = append(b.Packages, subOut(l, p))
	}
	return o, nil
}

func (a *API) tariffs(ctx context.Context, _ *Empty) (*ListOut[TariffOut], error) {
	acct := account(ctx)
	ts, err := billing.Tariffs(ctx, a.d.DB, acct.CityID, true)
	if err != nil {
		return nil, a.fail(ctx, "tariffs", err)
	}
	out := make([]TariffOut, 0, len(ts))
	for _, t := range ts {
		out = append(out, tariffOut(lang(ctx), t, acct.TariffID))
	}
	return list(out), nil
}

type QuoteOut struct {
	Body struct {
		From        TariffOut `json:"from"`
		To          TariffOut `json:"to"`
		Immediate   bool      `json:"immediate" doc:"Prorated now; otherwise from the next 1st"`
		EffectiveAt time.Time `json:"effective_at"`
		DaysLeft    int       `json:"days_left"`
		Refund      Money     `json:"refund"`
		Charge      Money     `json:"charge"`
		Net         Money     `json:"net" doc:"What the balance moves by now"`
	}
}

func (a *API) quoteOut(ctx context.Context, q billing.TariffChange) *QuoteOut {
	o := &QuoteOut{}
	l, cur := lang(ctx), account(ctx).TariffID
	o.Body.From, o.Body.To = tariffOut(l, q.From, cur), tariffOut(l, q.To, cur)
	o.Body.Immediate, o.Body.EffectiveAt, o.Body.DaysLeft = q.Immediate, q.EffectiveAt, q.DaysLeft
	o.Body.Refund, o.Body.Charge, o.Body.Net = m(q.Refund), m(q.Charge), m(q.Net)
	return o
}

func (a *API) quote(ctx context.Context, in *CodePath) (*QuoteOut, error) {
	q, err := a.d.Biller.QuoteTariffChange(ctx, account(ctx).ID, in.Code)
	if err != nil {
		return nil, a.refused(ctx, "quote", err)
	}
	return a.quoteOut(ctx, q), nil
}

func (a *API) changeTariff(ctx context.Context, in *CodePath) (*QuoteOut, error) {
	q, err := a.d.Biller.ChangeTariff(ctx, account(ctx).ID, in.Code)
	if err != nil {
		return nil, a.refused(ctx, "change tariff", err)
	}
	return a.quoteOut(ctx, q), nil
}

type PackagesOut struct {
	Body struct {
		Offered   []PackageOut      `json:"offered"`
		Connected []SubscriptionOut `json:"connected"`
	}
}

func (a *API) packages(ctx context.Context, _ *Empty) (*PackagesOut, error) {
	acct, l := account(ctx), lang(ctx)
	ps, err := billing.Packages(ctx, a.d.DB, acct.CityID, true)
	if err != nil {
		return nil, a.fail(ctx, "packages", err)
	}
	subs, err := a.d.Biller.Subscriptions(ctx, a.d.DB, acct.ID, false)
	if err != nil {
		return nil, a.fail(ctx, "packages", err)
	}
	o := &PackagesOut{}
	o.Body.Offered, o.Body.Connected = []PackageOut{}, []SubscriptionOut{}
	for _, p := range ps {
		o.Body.Offered = append(o.Body.Offered, packageOut(l, p))
	}
	for _, s := range subs {
		o.Body.Connected = append(o.Body.Connected, subOut(l, s))
	}
	return o, nil
}

type SubOut struct{ Body SubscriptionOut }

func (a *API) connect(ctx context.Context, in *CodePath) (*SubOut, error) {
	s, err := a.d.Biller.Connect(ctx, account(ctx).ID, in.Code)
	if err != nil {
		return nil, a.refused(ctx, "connect", err)
	}
	return &SubOut{Body: subOut(lang(ctx), s)}, nil
}

type BoostIn struct {
	Body *struct {
		Code string `json:"code,omitempty" doc:"A boost package's code; empty: the first one offered"`
	} `required:"false"`
}

func (a *API) boost(ctx context.Context, in *BoostIn) (*SubOut, error) {
	code := ""
	if in.Body != nil {
		code = in.Body.Code
	}
	ps, err := billing.Packages(ctx, a.d.DB, account(ctx).CityID, true)
	if err != nil {
		return nil, a.fail(ctx, "boost", err)
	}
	i := slices.IndexFunc(ps, func(p billing.Package) bool {
		return p.Kind == billing.PackageBoost && (code == "" || p.Code == code)
	})
	if i < 0 {
		return nil, a.problem(ctx, http.StatusNotFound, "api.error.no_boost")
	}
	return a.connect(ctx, &CodePath{Code: ps[i].Code})
}

func (a *API) disconnect(ctx context.Context, in *IDPath) (*Empty, error) {
	if err := a.d.Biller.Disconnect(ctx, account(ctx).ID, in.ID); err != nil {
		return nil, a.refused(ctx, "disconnect", err)
	}
	return nil, nil
}

// --- money ---

type PaymentOut struct {
	ID        int64      `json:"id"`
	Channel   string     `json:"channel"`
	Amount    Money      `json:"amount"`
	Status    string     `json:"status" enum:"pending,succeeded,failed,reversed"`
	Reason    string     `json:"reason,omitempty" doc:"Why a card payment failed, in the client's language"`
	CreatedAt time.Time  `json:"created_at"`
	PaidAt    *time.Time `json:"paid_at,omitempty"`
}

func (a *API) paymentOut(ctx context.Context, p payment.Payment) PaymentOut {
	o := PaymentOut{ID: p.ID, Channel: p.Channel, Amount: m(p.Amount), Status: string(p.Status), CreatedAt: p.CreatedAt}
	if !p.PaidAt.IsZero() {
		o.PaidAt = &p.PaidAt
	}
	if id, phone := a.d.Payments.ReasonText(p); id != "" {
		o.Reason = a.p.I18n.T(lang(ctx), id, map[string]any{"Phone": phone})
	}
	return o
}

// paymentsPage and balancePage are how many items a page of payments and
// of balance history holds.
const paymentsPage, balancePage = 100, 200

func (a *API) payments(ctx context.Context, in *PageIn) (*ListOut[PaymentOut], error) {
	if a.d.Payments == nil {
		return list([]PaymentOut{}), nil
	}
	page := max(in.Page, 1)
	// One more than a page tells whether another follows.
	ps, err := a.d.Payments.History(ctx, account(ctx).ID, (page-1)*paymentsPage, paymentsPage+1)
	if err != nil {
		return nil, a.fail(ctx, "payments", err)
	}
	out := make([]PaymentOut, min(len(ps), paymentsPage))
	for i := range out {
		out[i] = a.paymentOut(ctx, ps[i])
	}
	o := list(out)
	if len(ps) > paymentsPage {
		o.Body.Next = page + 1
	}
	return o, nil
}

type PaymentOne struct{ Body PaymentOut }

func (a *API) payment(ctx context.Context, in *IDPath) (*PaymentOne, error) {
	if a.d.Payments == nil {
		return nil, a.problem(ctx, http.StatusNotFound, "api.error.not_found")
	}
	// Refresh asks the processor about a pending payment, so that an app
	// polling here sees the result as soon as the processor knows it.
	p, err := a.d.Payments.Refresh(ctx, account(ctx).ID, in.ID)
	if errors.Is(err, payment.ErrNotFound) {
		return nil, a.problem(ctx, http.StatusNotFound, "api.error.not_found")
	}
	if err != nil {
		return nil, a.fail(ctx, "payment", err)
	}
	return &PaymentOne{Body: a.paymentOut(ctx, p)}, nil
}

type CardIn struct {
	Body struct {
		Amount    string `json:"amount" example:"500.00" doc:"Roubles"`
		ReturnURL string `json:"return_url,omitempty" format:"uri" doc:"Where the processor's page sends the browser back; {id} becomes the payment id"`
		Method    string `json:"method,omitempty" enum:"card,sbp" doc:"card (the default): the processor's page; sbp: a QR code for any bank's app, where the processor offers it"`
	}
}

type CardOut struct {
	Body struct {
		PaymentID int64  `json:"payment_id"`
		Method    string `json:"method" enum:"card,sbp"`
		URL       string `json:"url,omitempty" doc:"card: the processor's page; open it in a browser"`
		QR        string `json:"qr,omitempty" doc:"sbp: the payment link; show it as a QR code, or open it on the phone to choose the bank's app. Then poll GET /payments/{id}"`
		QRSVG     string `json:"qr_svg,omitempty" doc:"sbp: the same link drawn as a QR code (SVG)"`
	}
}

func (a *API) payCard(ctx context.Context, in *CardIn) (*CardOut, error) {
	if a.d.Payments == nil || a.d.Processor == "" {
		return nil, a.problem(ctx, http.StatusServiceUnavailable, "api.error.unavailable")
	}
	amount, err := money.Parse(strings.ReplaceAll(strings.TrimSpace(in.Body.Amount), " ", ""))
	if err != nil || amount <= 0 || amount > money.Rub(100000) {
		return nil, a.problem(ctx, http.StatusUnprocessableEntity, "api.error.amount")
	}
	ret := in.Body.ReturnURL
	if ret == "" {
		ret = strings.TrimRight(a.p.Config.PublicURL, "/") + "/payments/{id}"
	} else if !a.returnAllowed(ret) {
		return nil, a.problem(ctx, http.StatusUnprocessableEntity, "api.error.return_url")
	}
	p, c, err := a.d.Payments.Start(ctx, payment.CardStart{AccountID: account(ctx).ID, Amount: amount, Processor: a.d.Processor,
		Lang: lang(ctx), ReturnURL: ret, Method: in.Body.Method})
	switch {
	case errors.Is(err, payment.ErrBadAmount):
		return nil, a.problem(ctx, http.StatusUnprocessableEntity, "api.error.amount")
	case errors.Is(err, payment.ErrMethodUnsupported):
		return nil, a.problem(ctx, http.StatusUnprocessableEntity, "api.error.method")
	case errors.Is(err, payment.ErrProcessorUnavailable):
		return nil, a.problem(ctx, http.StatusServiceUnavailable, "api.error.processor")
	case err != nil:
		return nil, a.fail(ctx, "card payment", err)
	}
	o := &CardOut{}
	o.Body.PaymentID, o.Body.Method, o.Body.URL, o.Body.QR = p.ID, c.Method, c.URL, c.QR
	if c.QR != "" {
		svg, err := platform.QRCodeSVG(c.QR)
		if err != nil {
			return nil, a.fail(ctx, "sbp qr code", err)
		}
		o.Body.QRSVG = string(svg)
	}
	return o, nil
}

// returnAllowed tells whether the processor's page may send the browser to
// ret: a page under public_url, or a link into the app (one of its
// configured schemes). Anything else would make Kabinet's payment an open
// redirect to another site.
func (a *API) returnAllowed(ret string) bool {
	u, err := url.Parse(ret)
	if err != nil || u.Scheme == "" || strings.ContainsFunc(ret, func(r rune) bool { return r < 0x20 || r == 0x7f || r == '\\' }) {
		return false
	}
	for _, s := range a.d.AppSchemes {
		if strings.EqualFold(u.Scheme, s) {
			return true
		}
	}
	pub, err := url.Parse(strings.TrimRight(a.p.Config.PublicURL, "/"))
	if a.p.Config.PublicURL == "" || err != nil || u.User != nil {
		return false
	}
	return strings.EqualFold(u.Scheme, pub.Scheme) && strings.EqualFold(u.Host, pub.Host) &&
		(u.Path == pub.Path || strings.HasPrefix(u.Path, pub.Path+"/"))
}

type LineOut struct {
	At          time.Time `json:"at"`
	Kind        string    `json:"kind"`
	Service     string    `json:"service,omitempty"`
	Period      string    `json:"period,omitempty"`
	Description string    `json:"description"`
	Amount      Money     `json:"amount"`
	Balance     Money     `json:"balance" doc:"After this movement"`
}

func lines(ls []statement.Line) []LineOut {
	out := make([]LineOut, len(ls))
	for i, l := range ls {
		out[i] = LineOut{At: l.EffectiveAt, Kind: l.Kind, Service: l.Service, Period: l.Period, Description: l.Description, Amount: m(l.Amount), Balance: m(l.Balance)}
	}
	return out
}

func (a *API) balance(ctx context.Context, in *PageIn) (*ListOut[LineOut], error) {
	page := max(in.Page, 1)
	st, err := a.d.Statements.History(ctx, lang(ctx), account(ctx), ledger.Page{Offset: (page - 1) * balancePage, Limit: balancePage})
	if err != nil {
		return nil, a.fail(ctx, "balance", err)
	}
	o := list(lines(st.Lines))
	if st.More() {
		o.Body.Next = page + 1
	}
	return o, nil
}

type StatementOut struct {
	Body struct {
		From    string    `json:"from"`
		To      string    `json:"to"`
		Opening Money     `json:"opening"`
		Closing Money     `json:"closing"`
		Credits Money     `json:"credits"`
		Debits  Money     `json:"debits"`
		Lines   []LineOut `json:"lines"`
	}
}

func (a *API) statement(ctx context.Context, in *Period) (*StatementOut, error) {
	p, err := a.period(ctx, *in, statement.MaxStatementDays)
	if err != nil {
		return nil, err
	}
	st, err := a.d.Statements.For(ctx, lang(ctx), account(ctx), p, ledger.Page{})
	if err != nil {
		return nil, a.fail(ctx, "statement", err)
	}
	o := &StatementOut{}
	b := &o.Body
	b.From, b.To = p.FromISO(), p.ToISO()
	b.Opening, b.Closing, b.Credits, b.Debits = m(st.Opening), m(st.Closing), m(st.Credits), m(st.Debits)
	b.Lines = lines(st.Lines)
	return o, nil
}

type FileIn struct {
	Period
	Format string `path:"format" enum:"csv,pdf"`
}

type FileOut struct {
	ContentType        string `header:"Content-Type"`
	ContentDisposition string `header:"Content-Disposition"`
	Body               []byte
}

func (a *API) statementFile(ctx context.Context, in *FileIn) (*FileOut, error) {
	p, err := a.period(ctx, in.Period, statement.MaxStatementDays)
	if err != nil {
		return nil, err
	}
	f, err := a.d.Statements.File(ctx, lang(ctx), account(ctx), p, in.Format)
	if err != nil {
		return nil, a.fail(ctx, "statement file", err)
	}
	return &FileOut{ContentType: f.ContentType, ContentDisposition: `attachment; filename="` + f.Name + `"`, Body: f.Body}, nil
}

// --- traffic ---

type DayOut struct {
	Day      string `json:"day"`
	Upload   int64  `json:"upload_bytes"`
	Download int64  `json:"download_bytes"`
}

func (a *API) traffic(ctx context.Context, in *Period) (*ListOut[DayOut], error) {
	p, err := a.period(ctx, *in, statement.MaxTrafficDays)
	if err != nil {
		return nil, err
	}
	if a.d.Traffic == nil {
		return list([]DayOut{}), nil
	}
	us, err := a.d.Traffic.Usage(ctx, account(ctx).ID, p.FromISO(), p.ToISO())
	if err != nil {
		return nil, a.fail(ctx, "traffic", err)
	}
	out := make([]DayOut, len(us))
	for i, u := range us {
		out[i] = DayOut{Day: u.Day, Upload: u.InputOctets, Download: u.OutputOctets}
	}
	return list(out), nil
}

type ClassOut struct {
	Code string `json:"code"`
	Name string `json:"name"`
}

type ClassDayOut struct {
	Day      string `json:"day"`
	Class    string `json:"class"`
	Upload   int64  `json:"upload_bytes"`
	Download int64  `json:"download_bytes"`
}

type ClassesOut struct {
	Body struct {
		Classes []ClassOut    `json:"classes" doc:"In the order charts show them"`
		Days    []ClassDayOut `json:"days"`
	}
}

func (a *API) trafficClasses(ctx context.Context, in *Period) (*ClassesOut, error) {
	p, err := a.period(ctx, *in, statement.MaxTrafficDays)
	if err != nil {
		return nil, err
	}
	cs, err := netflow.Classes(ctx, a.d.DB)
	if err != nil {
		return nil, a.fail(ctx, "classes", err)
	}
	us, err := netflow.Usage(ctx, a.d.DB, account(ctx).ID, p.FromISO(), p.ToISO())
	if err != nil {
		return nil, a.fail(ctx, "classes", err)
	}
	o := &ClassesOut{}
	o.Body.Classes, o.Body.Days = []ClassOut{}, []ClassDayOut{}
	for _, c := range cs {
		o.Body.Classes = append(o.Body.Classes, ClassOut{Code: c.Code, Name: pick(lang(ctx), c.Name, c.NameEn)})
	}
	for _, u := range us {
		o.Body.Days = append(o.Body.Days, ClassDayOut{Day: u.Day, Class: u.Class, Upload: u.InputOctets, Download: u.OutputOctets})
	}
	return o, nil
}

type SessionOut struct {
	ID        int64      `json:"id"`
	StartedAt time.Time  `json:"started_at"`
	StoppedAt *time.Time `json:"stopped_at,omitempty" doc:"Absent while the session is open"`
	IP        string     `json:"ip,omitempty"`
	MAC       string     `json:"mac,omitempty"`
	Upload    int64      `json:"upload_bytes"`
	Download  int64      `json:"download_bytes"`
	Seconds   int64      `json:"seconds"`
}

func (a *API) sessions(ctx context.Context, in *Period) (*ListOut[SessionOut], error) {
	p, err := a.period(ctx, *in, statement.MaxTrafficDays)
	if err != nil {
		return nil, err
	}
	if a.d.Traffic == nil {
		return list([]SessionOut{}), nil
	}
	ss, err := a.d.Traffic.Sessions(ctx, account(ctx).ID, p.From, p.End(), 200)
	if err != nil {
		return nil, a.fail(ctx, "sessions", err)
	}
	out := make([]SessionOut, len(ss))
	for i, s := range ss {
		out[i] = SessionOut{ID: s.ID, StartedAt: s.StartedAt, MAC: s.CallingStationID, Upload: s.InputOctets, Download: s.OutputOctets,
			Seconds: int64(s.SessionTime / time.Second)}
		if s.FramedIP.IsValid() {
			out[i].IP = s.FramedIP.String()
		}
		if !s.Open() {
			out[i].StoppedAt = &ss[i].StoppedAt
		}
	}
	return list(out), nil
}

var _ = traffic.Session{}

type SpeedTestOut struct {
	ID             int64     `json:"id"`
	At             time.Time `json:"at"`
	DownKbps       int64     `json:"down_kbps"`
	UpKbps         int64     `json:"up_kbps"`
	PingMs         float64   `json:"ping_ms"`
	JitterMs       float64   `json:"jitter_ms"`
	TariffDownKbps int64     `json:"tariff_down_kbps" doc:"The line's speed when the test ran"`
	TariffUpKbps   int64     `json:"tariff_up_kbps"`
	Limited        bool      `json:"limited"`
	DownPercent    int       `json:"down_percent" doc:"Measured download as a percent of the line's speed"`
	Verdict        string    `json:"verdict" enum:"good,slow,limited,unknown"`
}

func speedOut(r speedtest.Result) SpeedTestOut {
	return SpeedTestOut{ID: r.ID, At: r.At, DownKbps: r.DownKbps, UpKbps: r.UpKbps,
		PingMs: float64(r.Ping.Microseconds()) / 1000, JitterMs: float64(r.Jitter.Microseconds()) / 1000,
		TariffDownKbps: r.TariffDownKbps, TariffUpKbps: r.TariffUpKbps, Limited: r.Limited, DownPercent: r.DownPercent(), Verdict: string(r.Verdict())}
}

func (a *API) speedtests(ctx context.Context, _ *Empty) (*ListOut[SpeedTestOut], error) {
	if a.d.SpeedTests == nil {
		return list([]SpeedTestOut{}), nil
	}
	rs, err := a.d.SpeedTests.History(ctx, account(ctx).ID, 100)
	if err != nil {
		return nil, a.fail(ctx, "speed tests", err)
	}
	out := make([]SpeedTestOut, len(rs))
	for i, r := range rs {
		out[i] = speedOut(r)
	}
	return list(out), nil
}

type SpeedTestIn struct {
	Body struct {
		DownMbps float64 `json:"dl" minimum:"0" doc:"Download, Mbit/s (LibreSpeed's dl)"`
		UpMbps   float64 `json:"ul" minimum:"0" doc:"Upload, Mbit/s"`
		PingMs   float64 `json:"ping" minimum:"0"`
		JitterMs float64 `json:"jitter" minimum:"0"`
	}
}

type SpeedTestOne struct{ Body SpeedTestOut }

func (a *API) saveSpeedtest(ctx context.Context, in *SpeedTestIn) (*SpeedTestOne, error) {
	if a.d.SpeedTests == nil {
		return nil, a.problem(ctx, http.StatusServiceUnavailable, "api.error.unavailable")
	}
	var ip string
	if r, ok := ctx.Value(keyRequest).(*http.Request); ok {
		ip = r.RemoteAddr
	}
	r, err := a.d.SpeedTests.Save(ctx, account(ctx).ID, speedtest.Measured{DownMbps: in.Body.DownMbps, UpMbps: in.Body.UpMbps,
		PingMs: in.Body.PingMs, JitterMs: in.Body.JitterMs, IP: ip, UserAgent: "api"})
	if errors.Is(err, speedtest.ErrInvalid) {
		return nil, a.problem(ctx, http.StatusUnprocessableEntity, "api.error.speedtest")
	}
	if err != nil {
		return nil, a.fail(ctx, "save speed test", err)
	}
	return &SpeedTestOne{Body: speedOut(r)}, nil
}

// --- support, news ---

type MessageOut struct {
	ID           int64     `json:"id"`
	FromOperator bool      `json:"from_operator"`
	Operator     string    `json:"operator,omitempty"`
	Body         string    `json:"body"`
	CreatedAt    time.Time `json:"created_at"`
}

type RequestOut struct {
	ID        int64        `json:"id"`
	Kind      string       `json:"kind" enum:"question,fault,connect,disconnect,other"`
	Subject   string       `json:"subject"`
	Status    string       `json:"status" enum:"new,in_progress,answered,closed"`
	CreatedAt time.Time    `json:"created_at"`
	UpdatedAt time.Time    `json:"updated_at"`
	Messages  []MessageOut `json:"messages,omitempty"`
}

func msgs(ms []support.Message) []MessageOut {
	out := make([]MessageOut, len(ms))
	for i, x := range ms {
		out[i] = MessageOut{ID: x.ID, FromOperator: x.FromOperator(), Operator: x.Operator, Body: x.Body, CreatedAt: x.CreatedAt}
	}
	return out
}

func reqOut(r support.Request) RequestOut {
	return RequestOut{ID: r.ID, Kind: r.Kind, Subject: r.Subject, Status: r.Status, CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt, Messages: msgs(r.Messages)}
}

func (a *API) supportErr(ctx context.Context, op string, err error) error {
	switch {
	case errors.Is(err, support.ErrNotFound):
		return a.problem(ctx, http.StatusNotFound, "api.error.not_found")
	case errors.Is(err, support.ErrInvalid):
		return a.problem(ctx, http.StatusUnprocessableEntity, "api.error.invalid")
	}
	return a.fail(ctx, op, err)
}

func (a *API) requests(ctx context.Context, _ *Empty) (*ListOut[RequestOut], error) {
	rs, err := a.d.Support.Requests(ctx, account(ctx).ID)
	if err != nil {
		return nil, a.fail(ctx, "requests", err)
	}
	out := make([]RequestOut, len(rs))
	for i, r := range rs {
		out[i] = reqOut(r)
	}
	return list(out), nil
}

type NewRequestIn struct {
	Body struct {
		Kind    string `json:"kind" enum:"question,fault,connect,disconnect,other"`
		Subject string `json:"subject" minLength:"1" maxLength:"200"`
		Body    string `json:"body" minLength:"1" maxLength:"4000"`
	}
}

type RequestOne struct{ Body RequestOut }

func (a *API) fileRequest(ctx context.Context, in *NewRequestIn) (*RequestOne, error) {
	r, err := a.d.Support.File(ctx, account(ctx).ID, in.Body.Kind, in.Body.Subject, in.Body.Body)
	if err != nil {
		return nil, a.supportErr(ctx, "file request", err)
	}
	return &RequestOne{Body: reqOut(r)}, nil
}

func (a *API) request(ctx context.Context, in *IDPath) (*RequestOne, error) {
	r, err := a.d.Support.RequestOf(ctx, account(ctx).ID, in.ID)
	if err != nil {
		return nil, a.supportErr(ctx, "request", err)
	}
	return &RequestOne{Body: reqOut(r)}, nil
}

type ReplyIn struct {
	IDPath
	Body struct {
		Body string `json:"body" minLength:"1" maxLength:"4000"`
	}
}

func (a *API) reply(ctx context.Context, in *ReplyIn) (*Empty, error) {
	if err := a.d.Support.Reply(ctx, account(ctx).ID, in.ID, in.Body.Body); err != nil {
		return nil, a.supportErr(ctx, "reply", err)
	}
	return nil, nil
}

type ChatIn struct {
	After int64 `query:"after" minimum:"0" doc:"Only messages with a larger id (polling)"`
}

func (a *API) chat(ctx context.Context, in *ChatIn) (*ListOut[MessageOut], error) {
	ms, err := a.d.Support.Chat(ctx, account(ctx).ID, in.After)
	if err != nil {
		return nil, a.fail(ctx, "chat", err)
	}
	return list(msgs(ms)), nil
}

type SayIn struct {
	Body struct {
		Body string `json:"body" minLength:"1" maxLength:"4000"`
	}
}

type MessageOne struct{ Body MessageOut }

func (a *API) say(ctx context.Context, in *SayIn) (*MessageOne, error) {
	msg, err := a.d.Support.Say(ctx, account(ctx).ID, in.Body.Body)
	if err != nil {
		return nil, a.supportErr(ctx, "say", err)
	}
	return &MessageOne{Body: msgs([]support.Message{msg})[0]}, nil
}

type NewsOut struct {
	ID          int64     `json:"id"`
	Kind        string    `json:"kind" enum:"news,promo"`
	Title       string    `json:"title"`
	Body        string    `json:"body"`
	PublishedAt time.Time `json:"published_at"`
}

func (a *API) news(ctx context.Context, _ *Empty) (*ListOut[NewsOut], error) {
	items, err := content.Current(ctx, a.d.DB, account(ctx).CityID, "", a.clock.Now(), 30)
	if err != nil {
		return nil, a.fail(ctx, "news", err)
	}
	out := make([]NewsOut, len(items))
	for i, it := range items {
		out[i] = NewsOut{ID: it.ID, Kind: it.Kind, Title: it.TitleIn(lang(ctx)), Body: it.BodyIn(lang(ctx)), PublishedAt: it.PublishedAt}
	}
	return list(out), nil
}

// --- profile ---

type ProfileBody struct {
	Login        string     `json:"login" readOnly:"true"`
	ContractNo   string     `json:"contract_no" readOnly:"true"`
	ContractDate string     `json:"contract_date" readOnly:"true"`
	Name         string     `json:"name" readOnly:"true"`
	Address      string     `json:"address" readOnly:"true"`
	City         string     `json:"city" readOnly:"true"`
	Email        string     `json:"email"`
	Phone        string     `json:"phone"`
	NotifyEmail  bool       `json:"notify_email"`
	NotifySMS    bool       `json:"notify_sms"`
	Lang         string     `json:"lang" enum:"ru,en"`
	Tokens       []TokenOut `json:"tokens" readOnly:"true" doc:"Devices logged in; revoke with DELETE /tokens/{id}"`
}

type ProfileOut struct{ Body ProfileBody }

func (a *API) profileOf(ctx context.Context, acct subscriber.Account) (*ProfileOut, error) {
	ts, err := a.tokenList(ctx)
	if err != nil {
		return nil, a.fail(ctx, "profile", err)
	}
	return &ProfileOut{Body: ProfileBody{Login: acct.Login, ContractNo: acct.ContractNo, ContractDate: acct.ContractDate, Name: acct.Name,
		Address: acct.Address, City: acct.CityName, Email: acct.Email, Phone: acct.Phone, NotifyEmail: acct.NotifyEmail,
		NotifySMS: acct.NotifySMS, Lang: acct.Lang, Tokens: ts}}, nil
}

func (a *API) profile(ctx context.Context, _ *Empty) (*ProfileOut, error) {
	return a.profileOf(ctx, account(ctx))
}

type ProfileIn struct {
	Body struct {
		Email       string `json:"email" maxLength:"200"`
		Phone       string `json:"phone" maxLength:"40"`
		NotifyEmail bool   `json:"notify_email"`
		NotifySMS   bool   `json:"notify_sms"`
		Lang        string `json:"lang" enum:"ru,en"`
	}
}

func (a *API) updateProfile(ctx context.Context, in *ProfileIn) (*ProfileOut, error) {
	acct := account(ctx)
	err := a.d.Subscribers.UpdateProfile(ctx, acct.ID, subscriber.Profile{Email: in.Body.Email, Phone: in.Body.Phone,
		NotifyEmail: in.Body.NotifyEmail, NotifySMS: in.Body.NotifySMS, Lang: in.Body.Lang})
	if errors.Is(err, subscriber.ErrInvalid) {
		return nil, a.problem(ctx, http.StatusUnprocessableEntity, "api.error.invalid")
	}
	if err != nil {
		return nil, a.fail(ctx, "update profile", err)
	}
	if acct, err = a.d.Subscribers.ByID(ctx, acct.ID); err != nil {
		return nil, a.fail(ctx, "update profile", err)
	}
	return a.profileOf(ctx, acct)
}

type PasswordIn struct {
	Body struct {
		Current string `json:"current" minLength:"1" maxLength:"128"`
		New     string `json:"new" minLength:"1" maxLength:"128"`
	}
}

func (a *API) changePassword(ctx context.Context, in *PasswordIn) (*Empty, error) {
	// Every other token of the account ends with the old password (in the
	// same transaction), and so does every web session.
	err := a.d.Subscribers.ChangePassword(ctx, account(ctx).ID, in.Body.Current, in.Body.New, tokenOf(ctx).ID)
	if err == nil {
		err = a.p.EndSessions(ctx, platform.SessionAccount, account(ctx).ID)
	}
	switch {
	case errors.Is(err, subscriber.ErrBadPassword):
		return nil, a.problem(ctx, http.StatusUnprocessableEntity, "api.error.password")
	case errors.Is(err, subscriber.ErrWeakPassword):
		return nil, a.problem(ctx, http.StatusUnprocessableEntity, "api.error.weak_password")
	case err != nil:
		return nil, a.fail(ctx, "change password", err)
	}
	return nil, nil
}
