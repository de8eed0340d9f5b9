package api

import (
	"context"
	"net/http"

	"github.com/danielgtaylor/huma/v2"

	"github.com/kabinet-billing/kabinet/internal/money"
	"github.com/kabinet-billing/kabinet/internal/statement"
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
	reg(a, true, huma.Operation{OperationID: "promise-offer", Method: http.MethodGet, Path: "/promise", Tags: []string{"Money"},
		Summary: "Whether a promised payment may be taken now, for how much and until when, or why not"}, a.promiseOffer)
	reg(a, true, huma.Operation{OperationID: "take-promise", Method: http.MethodPost, Path: "/promise", Tags: []string{"Money"},
		Summary: "Take a promised payment: the debt limit is lifted at once until it ends; the balance does not change",
		Errors:  []int{http.StatusConflict, http.StatusUnprocessableEntity, http.StatusServiceUnavailable}}, a.takePromise)
	reg(a, true, huma.Operation{OperationID: "suspension-quote", Method: http.MethodGet, Path: "/suspension", Tags: []string{"Account"},
		Summary: "The suspension scheduled or running, and what suspending from a date for a number of days would do (tariff fees not charged, fee, end), or why not"}, a.suspensionQuote)
	reg(a, true, huma.Operation{OperationID: "start-suspension", Method: http.MethodPost, Path: "/suspension", Tags: []string{"Account"},
		Summary: "Suspend the account voluntarily from a date (today or later) for a number of days: no tariff fee for the frozen days",
		Errors:  []int{http.StatusConflict, http.StatusUnprocessableEntity, http.StatusServiceUnavailable}}, a.startSuspension)
	reg(a, true, huma.Operation{OperationID: "extend-suspension", Method: http.MethodPatch, Path: "/suspension", Tags: []string{"Account"},
		Summary: "Extend the scheduled or running suspension to a later last day: no tariff fee for the added days; a running one's own fee for them is charged at once",
		Errors:  []int{http.StatusNotFound, http.StatusConflict, http.StatusUnprocessableEntity, http.StatusServiceUnavailable}}, a.extendSuspension)
	reg(a, true, huma.Operation{OperationID: "resume-suspension", Method: http.MethodDelete, Path: "/suspension", Tags: []string{"Account"},
		Summary: "Resume now: a running suspension ends at once (the rest of the month is charged), a scheduled one is called off",
		Errors:  []int{http.StatusNotFound, http.StatusServiceUnavailable}}, a.resumeSuspension)
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
	registerAutopay(a)
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
	reg(a, true, huma.Operation{OperationID: "notifications", Method: http.MethodGet, Path: "/notifications", Tags: []string{"Profile"},
		Summary: "What the subscriber is told, and on which channels"}, a.notifications)
	reg(a, true, huma.Operation{OperationID: "update-notifications", Method: http.MethodPut, Path: "/notifications", Tags: []string{"Profile"},
		Summary: "Choose the channels of each notification", Description: "Topics and channels not named keep their choice.", Errors: []int{422}}, a.updateNotifications)
	reg(a, true, huma.Operation{OperationID: "change-password", Method: http.MethodPost, Path: "/profile/password", Tags: []string{"Profile"},
		Summary: "Change the password", Description: "Every other token and web session of the account ends; the token that made the change stays valid.", DefaultStatus: 204, Errors: []int{422}}, a.changePassword)
	registerPush(a)
}
