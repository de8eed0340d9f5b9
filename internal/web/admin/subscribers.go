package admin

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/kabinet-billing/kabinet/internal/backoffice"
	"github.com/kabinet-billing/kabinet/internal/billing"
	"github.com/kabinet-billing/kabinet/internal/company"
	"github.com/kabinet-billing/kabinet/internal/config"
	"github.com/kabinet-billing/kabinet/internal/derrors"
	"github.com/kabinet-billing/kabinet/internal/importer"
	"github.com/kabinet-billing/kabinet/internal/ledger"
	"github.com/kabinet-billing/kabinet/internal/money"
	"github.com/kabinet-billing/kabinet/internal/notify"
	"github.com/kabinet-billing/kabinet/internal/operator"
	"github.com/kabinet-billing/kabinet/internal/payment"
	"github.com/kabinet-billing/kabinet/internal/promise"
	"github.com/kabinet-billing/kabinet/internal/statement"
	"github.com/kabinet-billing/kabinet/internal/subscriber"
	"github.com/kabinet-billing/kabinet/internal/suspension"
	"github.com/kabinet-billing/kabinet/internal/web/platform"
)

type searchData struct {
	Q        string
	Accounts []subscriber.Account
	L        platform.Listing
}

func (a *Admin) subscribers(w http.ResponseWriter, r *http.Request) {
	l := platform.ListingOf(r, 50, true, "created", "contract", "login", "name", "address", "status")
	list, total, err := a.d.Office.Dir.List(r.Context(), subscriber.ListQuery{Q: l.Q, Sort: l.Sort, Desc: l.Desc, Offset: l.Offset(), Limit: l.Per})
	if err != nil {
		a.p.Fail(w, r, err)
		return
	}
	l.Total = total
	a.render(w, r, http.StatusOK, "subscribers", "admin.subscribers.title", "subscribers", searchData{Q: l.Q, Accounts: list, L: l})
}

type contractFormData struct {
	Cities  []billing.City
	Tariffs []billing.Tariff // the chosen city's; none before a city is chosen
	// The values typed, or a connection application's prefill ("sign a
	// contract" in the applications queue).
	Name, Phone, Email, Address, City, Tariff, Login string
	Passport                                         subscriber.Passport
	PassportMode                                     string // [contract] passport
	// Fields are the errors beside their inputs (name → translated).
	Fields map[string]string
}

// contractPage renders the contract form for f; the tariffs offered are
// those of the chosen city (a city chosen alone when there is only one).
func (a *Admin) contractPage(w http.ResponseWriter, r *http.Request, status int, f contractFormData, errMsg string) {
	ctx := r.Context()
	var err error
	if f.Cities, err = billing.Cities(ctx, a.d.Office.DB); err != nil {
		a.p.Fail(w, r, err)
		return
	}
	if f.City == "" && len(f.Cities) == 1 {
		f.City = f.Cities[0].Code
	}
	for _, c := range f.Cities {
		if c.Code == f.City {
			if f.Tariffs, err = billing.Tariffs(ctx, a.d.Office.DB, c.ID, true); err != nil {
				a.p.Fail(w, r, err)
				return
			}
		}
	}
	f.PassportMode = a.d.Office.Passport
	if f.PassportMode == "" {
		f.PassportMode = config.PassportOptional
	}
	pg := page{Op: opOf(r), Nav: "subscribers", X: f, HasNetwork: a.d.Network != nil, Sandbox: a.d.Sandbox, Error: errMsg}
	v := a.p.NewView(r, "admin.contract.title", pg)
	a.p.HTML(w, r, status, "admin/contract_new", "admin_layout", v)
}

func (a *Admin) contractForm(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	a.contractPage(w, r, http.StatusOK, contractFormData{Name: q.Get("name"), Phone: q.Get("phone"), Address: q.Get("address"),
		City: q.Get("city"), Tariff: q.Get("tariff")}, "")
}

// createContract signs the contract; with refresh (the city changed: htmx,
// or the button shown without JavaScript) it shows the form again with that
// city's tariffs and signs nothing.
func (a *Admin) createContract(w http.ResponseWriter, r *http.Request) {
	f := r.PostFormValue
	form := contractFormData{Name: f("name"), Phone: f("phone"), Email: f("email"), Address: f("address"), City: f("city"),
		Tariff: f("tariff"), Login: f("login"), Passport: subscriber.Passport{Series: f("passport_series"), Number: f("passport_number"),
			IssuedBy: f("passport_issued_by"), IssuedOn: f("passport_issued_on")}}
	if f("refresh") != "" {
		a.contractPage(w, r, http.StatusOK, form, "")
		return
	}
	s, err := a.d.Office.SignContract(r.Context(), a.who(r), backoffice.NewContract{Login: form.Login, Name: form.Name, Address: form.Address,
		City: form.City, Phone: form.Phone, Email: form.Email, Tariff: form.Tariff, Lang: a.p.LangOf(r), Passport: form.Passport})
	if err != nil {
		status, id := a.p.I18n.Refusal(err, "admin.error.")
		field := derrors.Field(err)
		if errors.Is(err, billing.ErrNotOffered) {
			field = "tariff"
		}
		switch {
		case status == http.StatusForbidden:
			a.forbidden(w, r, opOf(r))
		case id != "" && field != "":
			form.Fields = map[string]string{field: a.p.I18n.T(a.p.LangOf(r), id, nil)}
			a.contractPage(w, r, http.StatusUnprocessableEntity, form, "")
		case id != "" || status == http.StatusNotFound:
			if id == "" {
				id = "admin.error.invalid"
			}
			a.contractPage(w, r, http.StatusUnprocessableEntity, form, a.p.I18n.T(a.p.LangOf(r), id, nil))
		default:
			a.p.Fail(w, r, err)
		}
		return
	}
	mailed := ""
	if s.Mailed {
		mailed = s.Account.Email
	}
	tok := a.issued.put(&issued{operatorID: opOf(r).ID, accountID: s.Account.ID, login: s.Account.Login, contractNo: s.Account.ContractNo,
		password: s.Password, mailedTo: mailed, pdf: s.PDF})
	http.Redirect(w, r, "/admin/issued/"+tok, http.StatusSeeOther)
}

type issuedData struct {
	Token      string
	AccountID  int64
	Login      string
	ContractNo string
	Password   string
	MailedTo   string
	Unsent     bool // no mail server: the letter waits in the queue for good
	HasPDF     bool
}

// issuedPage shows a new password once; reloading it shows that it was
// already shown.
func (a *Admin) issuedPage(w http.ResponseWriter, r *http.Request) {
	tok := r.PathValue("token")
	it, ok := a.issued.take(tok, opOf(r).ID, false)
	if !ok {
		a.render(w, r, http.StatusGone, "issued_gone", "admin.issued.title", "subscribers", nil)
		return
	}
	a.render(w, r, http.StatusOK, "issued", "admin.issued.title", "subscribers", issuedData{Token: tok, AccountID: it.accountID, Login: it.login,
		ContractNo: it.contractNo, Password: it.password, MailedTo: it.mailedTo, Unsent: !a.d.Office.Mail.Sends(), HasPDF: it.pdf != nil})
}

func (a *Admin) issuedPDF(w http.ResponseWriter, r *http.Request) {
	it, ok := a.issued.take(r.PathValue("token"), opOf(r).ID, true)
	if !ok {
		a.render(w, r, http.StatusGone, "issued_gone", "admin.issued.title", "subscribers", nil)
		return
	}
	servePDF(w, "contract-"+it.contractNo+".pdf", it.pdf)
}

type cardData struct {
	Account   subscriber.Account
	Summary   billing.Summary
	Statement statement.Statement
	// CardPayments are the account's card payments that went through, a
	// page (CL) at a time: the ones a refund may concern.
	CardPayments []payment.Payment
	CL           platform.Listing
	Letters      []notify.Queued
	Audit        []auditRow
	Cities       []billing.City
	Statuses     []string
	Key          string       // one-time key of the correction form
	CashLimit    money.Amount // the operator's; 0: none
	// Repeated is the first payment of a receipt the cash form sent again.
	Repeated *payment.Payment
	// Refundable are the payments that can go back through their processor;
	// Refunds the refunds asked for, by payment.
	Refundable map[int64]bool
	Refunds    map[int64]payment.Refund
	// Remaining is what remains refundable of each payment, and Parts its
	// refunds made so far, oldest first.
	Remaining map[int64]money.Amount
	Parts     map[int64][]payment.Refund
	// Origin is the billing the account was imported from; nil if none.
	Origin *importer.Origin
	// Promise is what a promised payment granted now would give, and
	// Promises the account's latest ones.
	Promise        *promise.Offer
	Promises       []promise.Promise
	PromiseRefusal string // message id of why none may be granted
	// Company is the organisation whose connection point the account is;
	// nil for a person's.
	Company *company.Organisation
	// Suspension is the voluntary suspension scheduled or running,
	// Suspensions the latest ones; SQuote what the form's dates would do
	// (SFrom, SDays) when asked, SRefusal (a message id) why not.
	Suspension   *suspension.Suspension
	Suspensions  []suspension.Suspension
	SQuote       *suspension.Quote
	SFrom, SDays string
	SRefusal     string
}

func (a *Admin) subscriber(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(r, "id")
	if !ok {
		a.p.NotFound(w, r)
		return
	}
	ctx := r.Context()
	o := a.d.Office
	acct, err := o.Dir.ByID(ctx, id)
	if err != nil {
		a.p.NotFound(w, r)
		return
	}
	d := cardData{Account: acct, Statuses: []string{billing.StatusActive, billing.StatusBlocked, billing.StatusFrozen, billing.StatusClosed}}
	if d.Summary, err = o.Biller.Summary(ctx, id); err != nil {
		a.p.Fail(w, r, err)
		return
	}
	if d.Statement, err = a.d.Statements.For(ctx, a.p.LangOf(r), acct, cardPeriod(a.p.Clock.Now(), a.p.Zone), ledger.Page{}); err != nil {
		a.p.Fail(w, r, err)
		return
	}
	if o.Payments != nil {
		d.CL = platform.NamedListing(r, "cards", 20, true, "date")
		if d.CardPayments, d.CL.Total, err = o.Payments.CardPayments(ctx, id, d.CL.Offset(), d.CL.Per); err != nil {
			a.p.Fail(w, r, err)
			return
		}
		d.Refundable, d.Refunds = map[int64]bool{}, map[int64]payment.Refund{}
		d.Remaining, d.Parts = map[int64]money.Amount{}, map[int64][]payment.Refund{}
		for _, p := range d.CardPayments {
			if rf, err := o.Payments.RefundOf(ctx, p.ID); err == nil {
				d.Refunds[p.ID] = rf
			}
			if d.Parts[p.ID], err = o.Payments.Refunds(ctx, p.ID); err != nil {
				a.p.Fail(w, r, err)
				return
			}
			if d.Remaining[p.ID], err = o.Payments.Refundable(ctx, p); err != nil {
				a.p.Fail(w, r, err)
				return
			}
			d.Refundable[p.ID] = o.Payments.CanRefund(p) && (d.Remaining[p.ID] > 0 || d.Refunds[p.ID].Status == payment.RefundPending)
		}
	}
	if o.Mail != nil {
		if d.Letters, err = o.Mail.List(ctx, id, "", 20); err != nil {
			a.p.Fail(w, r, err)
			return
		}
	}
	if opOf(r).Can(operator.ViewAudit) {
		entries, err := o.Operators.Search(ctx, operator.AuditQuery{Object: fmt.Sprintf("account:%d", id), Limit: 20})
		if err != nil {
			a.p.Fail(w, r, err)
			return
		}
		d.Audit = a.auditRows(r, entries)
	}
	if a.d.Company != nil {
		if org, ok, err := a.d.Company.OrganisationOf(ctx, id); err != nil {
			a.p.Fail(w, r, err)
			return
		} else if ok {
			d.Company = &org
		}
	}
	if origin, ok, err := importer.OriginOf(ctx, o.DB, id); err != nil {
		a.p.Fail(w, r, err)
		return
	} else if ok {
		d.Origin = &origin
	}
	if d.Cities, err = billing.Cities(ctx, o.DB); err != nil {
		a.p.Fail(w, r, err)
		return
	}
	if o.Promises != nil {
		offer, err := o.Promises.Offer(ctx, id)
		if err != nil {
			a.p.Fail(w, r, err)
			return
		}
		d.Promise = &offer
		if offer.Refusal != nil {
			_, d.PromiseRefusal = a.p.I18n.Refusal(offer.Refusal, "admin.error.promise_")
		}
		if d.Promises, err = o.Promises.History(ctx, id, 5); err != nil {
			a.p.Fail(w, r, err)
			return
		}
	}
	if o.Suspensions != nil {
		if err := a.suspensionCard(r, id, &d); err != nil {
			a.p.Fail(w, r, err)
			return
		}
	}
	d.CashLimit = o.CashLimit(opOf(r).Role)
	if pid, err := strconv.ParseInt(a.p.Sessions.PopString(ctx, sessionCashRepeated), 10, 64); err == nil && o.Payments != nil {
		if p, err := o.Payments.Get(ctx, id, pid); err == nil {
			d.Repeated = &p
		}
	}
	var k [12]byte
	rand.Read(k[:])
	d.Key = hex.EncodeToString(k[:])
	a.render(w, r, http.StatusOK, "subscriber", "admin.subscriber.title", "subscribers", d)
}

// cardPeriod is the days whose movements the subscriber's card lists.
func cardPeriod(now time.Time, zone *time.Location) statement.Period {
	return statement.LastDays(now, zone, 92)
}

// statementFile hands the operator the subscriber's statement as CSV or PDF
// (to print for a subscriber at the office), for from..to, by default the
// card's period.
func (a *Admin) statementFile(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(r, "id")
	q := r.URL.Query()
	if f := q.Get("format"); !ok || (f != "csv" && f != "pdf") {
		a.p.NotFound(w, r)
		return
	}
	ctx := r.Context()
	acct, err := a.d.Office.Dir.ByID(ctx, id)
	if err != nil {
		a.p.NotFound(w, r)
		return
	}
	lang := a.p.LangOf(r)
	p, err := statement.ParsePeriod(q.Get("from"), q.Get("to"), cardPeriod(a.p.Clock.Now(), a.p.Zone), statement.MaxStatementDays)
	if pe, ok := statement.AsPeriodError(err); ok {
		http.Error(w, a.p.I18n.T(lang, pe.ID, pe.Data), http.StatusUnprocessableEntity)
		return
	}
	f, err := a.d.Statements.File(ctx, lang, acct, p, q.Get("format"))
	if err != nil {
		a.p.Fail(w, r, err)
		return
	}
	w.Header().Set("Content-Type", f.ContentType)
	w.Header().Set("Content-Disposition", `attachment; filename="`+f.Name+`"`)
	w.Header().Set("Cache-Control", "no-store")
	w.Write(f.Body)
}

func back(id int64) string { return fmt.Sprintf("/admin/subscribers/%d", id) }

func (a *Admin) editContract(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(r, "id")
	if !ok {
		a.p.NotFound(w, r)
		return
	}
	f := r.PostFormValue
	err := a.d.Office.EditContract(r.Context(), a.who(r), id, subscriber.ContractEdit{Name: f("name"), Address: f("address"), City: f("city"), Phone: f("phone"), Email: f("email")})
	if err != nil {
		a.failed(w, r, back(id), err)
		return
	}
	a.done(w, r, back(id), "admin.flash.saved")
}

func (a *Admin) setStatus(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(r, "id")
	if !ok {
		a.p.NotFound(w, r)
		return
	}
	if err := a.d.Office.SetStatus(r.Context(), a.who(r), id, r.PostFormValue("status"), r.PostFormValue("note")); err != nil {
		a.failed(w, r, back(id), err)
		return
	}
	a.done(w, r, back(id), "admin.flash.status")
}

func (a *Admin) resetPassword(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(r, "id")
	if !ok {
		a.p.NotFound(w, r)
		return
	}
	res, err := a.d.Office.ResetPassword(r.Context(), a.who(r), id, r.PostFormValue("confirmed_by"))
	if err == nil {
		err = a.p.EndSessions(r.Context(), sessionAccount, id) // the API tokens ended with the reset
	}
	if err != nil {
		a.failed(w, r, back(id), err)
		return
	}
	if res.Password == "" {
		msg := "admin.flash.password_queued"
		if !a.d.Office.Mail.Sends() {
			msg = "admin.flash.password_unsent"
		}
		a.done(w, r, back(id), msg)
		return
	}
	acct, err := a.d.Office.Dir.ByID(r.Context(), id)
	if err != nil {
		a.p.Fail(w, r, err)
		return
	}
	tok := a.issued.put(&issued{operatorID: opOf(r).ID, accountID: id, login: acct.Login, contractNo: acct.ContractNo, password: res.Password, pdf: res.PDF})
	http.Redirect(w, r, "/admin/issued/"+tok, http.StatusSeeOther)
}

func (a *Admin) cash(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(r, "id")
	if !ok {
		a.p.NotFound(w, r)
		return
	}
	amt, err := money.Parse(r.PostFormValue("amount"))
	if err != nil || amt <= 0 {
		a.failed(w, r, back(id), payment.ErrBadAmount)
		return
	}
	res, err := a.d.Office.CashPayment(r.Context(), a.who(r), backoffice.Cash{
		CashIn:  payment.CashIn{AccountID: id, Amount: amt, Receipt: r.PostFormValue("receipt"), Memo: r.PostFormValue("memo")},
		Manager: r.PostFormValue("manager"), ManagerPassword: r.PostFormValue("manager_password")})
	if err != nil {
		a.failed(w, r, back(id), err)
		return
	}
	if res.Repeated {
		// Nothing was credited: the card shows the first payment instead
		// of "accepted".
		a.p.Sessions.Put(r.Context(), sessionCashRepeated, strconv.FormatInt(res.Payment.ID, 10))
		http.Redirect(w, r, back(id), http.StatusSeeOther)
		return
	}
	a.done(w, r, back(id), "admin.flash.cash")
}

func (a *Admin) correct(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(r, "id")
	if !ok {
		a.p.NotFound(w, r)
		return
	}
	amt, err := money.Parse(r.PostFormValue("amount"))
	if err != nil || amt == 0 {
		a.failed(w, r, back(id), payment.ErrBadAmount)
		return
	}
	_, err = a.d.Office.Correct(r.Context(), a.who(r), payment.Correction{AccountID: id, Amount: amt, Reason: r.PostFormValue("reason"), Key: r.PostFormValue("key")})
	if err != nil {
		a.failed(w, r, back(id), err)
		return
	}
	a.done(w, r, back(id), "admin.flash.corrected")
}

// contractPDF reprints the contract without the password.
func (a *Admin) contractPDF(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(r, "id")
	if !ok {
		a.p.NotFound(w, r)
		return
	}
	acct, err := a.d.Office.Dir.ByID(r.Context(), id)
	if err != nil {
		a.p.NotFound(w, r)
		return
	}
	b, err := a.d.Office.ContractPDF(r.Context(), acct, "", "contract", a.p.LangOf(r))
	if err != nil {
		a.p.Fail(w, r, err)
		return
	}
	servePDF(w, "contract-"+acct.ContractNo+".pdf", b)
}

// refund sends a card or SBP payment back through its processor.
func (a *Admin) refund(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(r, "id")
	pid, err := strconv.ParseInt(r.PostFormValue("payment"), 10, 64)
	if !ok || err != nil || pid <= 0 {
		a.p.NotFound(w, r)
		return
	}
	// An empty amount refunds all that remains; a part is written as on the
	// form ("150,50").
	var amt money.Amount
	if s := strings.TrimSpace(r.PostFormValue("amount")); s != "" {
		if amt, err = money.Parse(s); err != nil || amt <= 0 {
			a.failed(w, r, back(id), payment.ErrRefundAmount)
			return
		}
	}
	rf, err := a.d.Office.Refund(r.Context(), a.who(r), id, pid, amt, r.PostFormValue("key"), r.PostFormValue("reason"))
	if errors.Is(err, derrors.NotFound) {
		a.p.NotFound(w, r)
		return
	}
	if err != nil {
		a.failed(w, r, back(id), err)
		return
	}
	if rf.Status == payment.RefundSucceeded {
		a.done(w, r, back(id), "admin.flash.refunded")
		return
	}
	a.done(w, r, back(id), "admin.flash.refund_pending")
}

// reverse undoes a payment or correction by its mirror image, with a reason.
func (a *Admin) reverse(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(r, "id")
	if !ok {
		a.p.NotFound(w, r)
		return
	}
	txn, err := strconv.ParseInt(r.PostFormValue("txn"), 10, 64)
	if err != nil || txn <= 0 {
		a.failed(w, r, back(id), derrors.Invalid)
		return
	}
	if _, err := a.d.Office.Reverse(r.Context(), a.who(r), id, txn, r.PostFormValue("reason")); err != nil {
		a.failedOn(w, r, back(id), err)
		return
	}
	a.done(w, r, back(id), "admin.flash.reversed")
}

// grantPromise gives the subscriber a promised payment; a refusal by the
// rules comes back to the card with its reason.
func (a *Admin) grantPromise(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(r, "id")
	if !ok || a.d.Office.Promises == nil {
		a.p.NotFound(w, r)
		return
	}
	amt, err := money.Parse(r.PostFormValue("amount"))
	if err != nil {
		amt = 0 // refused by the rules as the amount's
	}
	if _, err := a.d.Office.GrantPromise(r.Context(), a.who(r), id, amt, r.PostFormValue("note")); err != nil {
		if _, msg := a.p.I18n.Refusal(err, "admin.error.promise_"); msg != "" {
			a.p.Sessions.Put(r.Context(), sessionError, msg)
			http.Redirect(w, r, back(id), http.StatusSeeOther)
			return
		}
		a.failed(w, r, back(id), err)
		return
	}
	a.done(w, r, back(id), "admin.flash.promise")
}
