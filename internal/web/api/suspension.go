package api

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/kabinet-billing/kabinet/internal/derrors"
	"github.com/kabinet-billing/kabinet/internal/suspension"
)

// --- voluntary suspension ---

// SuspensionOut is a voluntary suspension.
type SuspensionOut struct {
	ID        int64     `json:"id"`
	State     string    `json:"state" enum:"scheduled,active,ended,cancelled" doc:"scheduled: not started yet; active: the account is frozen"`
	From      time.Time `json:"from" doc:"The first frozen day, 00:00 in the provider's zone"`
	Until     time.Time `json:"until" doc:"When the line resumes (00:00 of the day after the last frozen day, or the early resume)"`
	Days      int       `json:"days"`
	Fee       Money     `json:"fee" doc:"The suspension's own fee for the planned days"`
	EndReason string    `json:"end_reason,omitempty" enum:"expired,early,cancelled,inactive"`
}

func suspensionOut(u suspension.Suspension) *SuspensionOut {
	return &SuspensionOut{ID: u.ID, State: u.State, From: u.StartsAt, Until: u.EndsAt, Days: u.Days, Fee: m(u.Fee), EndReason: u.EndReason}
}

// SuspensionMonthOut is what a suspension does to one month's tariff fee.
type SuspensionMonthOut struct {
	Period   string `json:"period" example:"2027-07"`
	Days     int    `json:"days" doc:"Frozen days of the month"`
	Refund   Money  `json:"refund" doc:"Returned when the suspension starts"`
	Unbilled Money  `json:"unbilled" doc:"Not charged on the 1st"`
	Charge   Money  `json:"charge" doc:"Charged at the resume for the rest of the month"`
	Saved    Money  `json:"saved" doc:"Not paid for this month's frozen days"`
}

type SuspensionQuoteIn struct {
	From string `query:"from" example:"2027-07-01" doc:"The first frozen day (YYYY-MM-DD); default today"`
	Days int    `query:"days" doc:"How many days; default the shortest allowed"`
	Last string `query:"last" example:"2027-07-20" doc:"Quote extending the current suspension to this last frozen day instead (YYYY-MM-DD): the quote is of the whole suspension so extended"`
}

type SuspensionQuoteOut struct {
	Body struct {
		Current   *SuspensionOut       `json:"current,omitempty" doc:"The suspension scheduled or running now"`
		Available bool                 `json:"available" doc:"This suspension may be had"`
		Reason    string               `json:"reason,omitempty" doc:"Why not, in the client's language"`
		Field     string               `json:"field,omitempty" doc:"The parameter at fault (from, days), when it is one"`
		From      time.Time            `json:"from"`
		Until     time.Time            `json:"until" doc:"When the line would resume"`
		Days      int                  `json:"days"`
		TariffFee Money                `json:"tariff_fee" doc:"The tariff's monthly fee"`
		Saved     Money                `json:"saved" doc:"Tariff fees not charged for the frozen days"`
		Fee       Money                `json:"fee" doc:"The suspension's own fee, charged when it starts"`
		Months    []SuspensionMonthOut `json:"months"`
		MinDays   int                  `json:"min_days"`
		MaxDays   int                  `json:"max_days"`
		PerYear   int                  `json:"max_per_year" doc:"0: no limit"`
		AheadDays int                  `json:"ahead_days" doc:"How far ahead a start may be"`
	}
}

type SuspensionIn struct {
	Body struct {
		From string `json:"from" example:"2027-07-01" doc:"The first frozen day (YYYY-MM-DD), today or later"`
		Days int    `json:"days" example:"14" doc:"How many days, within min_days..max_days of GET /suspension"`
	}
}

type SuspensionOne struct{ Body *SuspensionOut }

// suspensionRefused translates a refusal with the quote's figures; "" for
// an error that is no refusal.
func (a *API) suspensionRefused(ctx context.Context, q suspension.Quote, err error) string {
	id := "suspension.error." + derrors.Code(err)
	if derrors.Code(err) == "" || !a.p.I18n.Has(id) {
		return ""
	}
	l := lang(ctx)
	return a.p.I18n.T(l, id, q.Figures(l, a.p.Zone))
}

func (a *API) suspensionQuote(ctx context.Context, in *SuspensionQuoteIn) (*SuspensionQuoteOut, error) {
	if a.d.Suspensions == nil {
		return nil, a.problem(ctx, http.StatusServiceUnavailable, "api.error.unavailable")
	}
	acct, svc := account(ctx), a.d.Suspensions
	from := svc.Day(svc.Clock.Now())
	var fromErr error
	if in.From != "" {
		from, fromErr = svc.ParseDate(in.From)
	}
	days := in.Days
	if days == 0 {
		days = svc.Rules.MinDays
	}
	cur, err := svc.Current(ctx, acct.ID)
	if err != nil {
		return nil, a.fail(ctx, "suspension quote", err)
	}
	var q suspension.Quote
	if in.Last != "" {
		q, err = a.extensionQuote(ctx, acct.ID, in.Last)
	} else {
		q, err = svc.Quote(ctx, acct.ID, from, days)
	}
	if err != nil {
		return nil, a.fail(ctx, "suspension quote", err)
	}
	out := &SuspensionQuoteOut{}
	b := &out.Body
	if cur != nil {
		b.Current = suspensionOut(*cur)
	}
	if fromErr != nil && q.Refusal == nil {
		q.Refusal = fromErr
	}
	b.Available = q.Refusal == nil
	if q.Refusal != nil {
		b.Reason, b.Field = a.suspensionRefused(ctx, q, q.Refusal), derrors.Field(q.Refusal)
	}
	b.From, b.Until, b.Days, b.TariffFee, b.Saved, b.Fee = q.From, q.Until, q.Days, m(q.TariffFee), m(q.Saved), m(q.Fee)
	b.Months = []SuspensionMonthOut{}
	for _, mo := range q.Months {
		b.Months = append(b.Months, SuspensionMonthOut{Period: mo.Period.Key, Days: mo.Days, Refund: m(mo.Refund), Unbilled: m(mo.Unbilled),
			Charge: m(mo.Charge), Saved: m(mo.Saved())})
	}
	r := svc.Rules
	b.MinDays, b.MaxDays, b.PerYear, b.AheadDays = r.MinDays, r.MaxDays, r.MaxPerYear, r.AheadDays
	return out, nil
}

// suspensionProblem answers a refusal as RFC 9457 with the field at fault.
func (a *API) suspensionProblem(ctx context.Context, op string, q suspension.Quote, err error, value any) error {
	status, _ := a.p.I18n.Refusal(err, "suspension.error.")
	if status == 0 {
		return a.fail(ctx, op, err)
	}
	l := lang(ctx)
	detail := a.suspensionRefused(ctx, q, err)
	if detail == "" {
		detail = a.t(l, "api.error.invalid")
	}
	e := &huma.ErrorModel{Status: status, Title: statusTitle(a.p, l, status), Detail: detail}
	if f := derrors.Field(err); f != "" {
		e.Errors = []*huma.ErrorDetail{{Message: detail, Location: "body." + f, Value: value}}
	}
	return e
}

func (a *API) startSuspension(ctx context.Context, in *SuspensionIn) (*SuspensionOne, error) {
	if a.d.Suspensions == nil {
		return nil, a.problem(ctx, http.StatusServiceUnavailable, "api.error.unavailable")
	}
	acct, svc := account(ctx), a.d.Suspensions
	from, err := svc.ParseDate(in.Body.From)
	if err == nil {
		var u suspension.Suspension
		if u, err = svc.Start(ctx, suspension.Request{AccountID: acct.ID, From: from, Days: in.Body.Days, Channel: suspension.ChannelAPI}); err == nil {
			return &SuspensionOne{Body: suspensionOut(u)}, nil
		}
	}
	q, qerr := svc.Quote(ctx, acct.ID, from, in.Body.Days)
	if qerr != nil {
		return nil, a.fail(ctx, "suspension", qerr)
	}
	var value any = in.Body.From
	if derrors.Field(err) == "days" {
		value = strconv.Itoa(in.Body.Days)
	}
	return nil, a.suspensionProblem(ctx, "suspension", q, err, value)
}

// extensionQuote is the quote of extending the account's suspension to
// the last day last, its Refusal set when it may not be had (or there is
// nothing to extend).
func (a *API) extensionQuote(ctx context.Context, accountID int64, last string) (suspension.Quote, error) {
	svc := a.d.Suspensions
	t, err := svc.ParseDate(last)
	if err != nil {
		return suspension.Quote{Rules: svc.Rules, Refusal: suspension.ErrLonger}, nil
	}
	q, _, err := svc.QuoteExtension(ctx, suspension.Request{AccountID: accountID, Last: t})
	return q, err
}

type SuspensionExtendIn struct {
	Body struct {
		Last string `json:"last" example:"2027-07-20" doc:"The new last frozen day (YYYY-MM-DD), after the current one; at most max_days in all"`
	}
}

func (a *API) extendSuspension(ctx context.Context, in *SuspensionExtendIn) (*SuspensionOne, error) {
	if a.d.Suspensions == nil {
		return nil, a.problem(ctx, http.StatusServiceUnavailable, "api.error.unavailable")
	}
	svc, acct := a.d.Suspensions, account(ctx)
	t, err := svc.ParseDate(in.Body.Last)
	if err != nil {
		err = suspension.ErrLonger
	} else {
		var u suspension.Suspension
		if u, err = svc.Extend(ctx, suspension.Request{AccountID: acct.ID, Last: t, Channel: suspension.ChannelAPI}); err == nil {
			return &SuspensionOne{Body: suspensionOut(u)}, nil
		}
	}
	return nil, a.suspensionProblem(ctx, "extend suspension", suspension.Quote{Rules: svc.Rules}, err, in.Body.Last)
}

func (a *API) resumeSuspension(ctx context.Context, _ *Empty) (*SuspensionOne, error) {
	if a.d.Suspensions == nil {
		return nil, a.problem(ctx, http.StatusServiceUnavailable, "api.error.unavailable")
	}
	u, err := a.d.Suspensions.Resume(ctx, account(ctx).ID, suspension.ChannelAPI, "")
	if err != nil {
		return nil, a.suspensionProblem(ctx, "resume suspension", suspension.Quote{Rules: a.d.Suspensions.Rules}, err, nil)
	}
	return &SuspensionOne{Body: suspensionOut(u)}, nil
}
