// Package admin is the back office at /admin: operators log in with their
// own accounts (lockout after failed tries), every route checks a
// permission of the operator's role, and every action goes through
// internal/backoffice, which writes the audit entry. Handlers only parse
// forms, call, and render.
package admin

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/BurntSushi/toml"

	"github.com/kabinet-billing/kabinet/internal/backoffice"
	"github.com/kabinet-billing/kabinet/internal/company"
	"github.com/kabinet-billing/kabinet/internal/derrors"
	"github.com/kabinet-billing/kabinet/internal/operator"
	"github.com/kabinet-billing/kabinet/internal/report"
	"github.com/kabinet-billing/kabinet/internal/statement"
	"github.com/kabinet-billing/kabinet/internal/support"
	"github.com/kabinet-billing/kabinet/internal/web/platform"
)

// Deps are what the back office calls.
type Deps struct {
	Office  *backoffice.Office // required: operators, subscribers, money, mail
	Support *support.Service   // nil: the support pages are hidden
	Reports *report.Reports    // nil: made over Office.DB
	Network Network            // nil: the network pages are hidden (RADIUS off)
	// Sandbox is set while the sandbox card processor runs: every page
	// says so in red, since it credits payments without taking money.
	Sandbox bool
	// Statements list the card's movements and print statements; nil: made
	// over Office.
	Statements *statement.Service
	// Files is the web/ tree: translations/admin.{ru,en}.toml are added to
	// the platform's messages from it.
	Files fs.FS
	// Company keeps company clients and their bank transfers; nil: the
	// organisations' and bank pages are hidden.
	Company *company.Service
}

// Session keys of the back office (the portal uses account_id).
const (
	sessionOperator = platform.SessionOperator
	sessionAccount  = platform.SessionAccount
	sessionError    = "admin_error"
	// sessionErrorText holds an error message already translated, for a
	// message with values (a period's limits) that an id cannot carry.
	sessionErrorText = "admin_error_text"
	// sessionCashRepeated holds the id of the first payment of a receipt
	// the cash form sent again, for the card to show.
	sessionCashRepeated = "admin_cash_repeated"
)

// Admin is the registered back office.
type Admin struct {
	p         *platform.Platform
	d         Deps
	byAddress *platform.Limiter
	issued    *issuedStore
}

// Register mounts /admin on the platform.
func Register(p *platform.Platform, d Deps) (*Admin, error) {
	if d.Office == nil {
		return nil, errors.New("admin: Office is required")
	}
	if d.Reports == nil {
		d.Reports = report.New(d.Office.DB, p.Zone)
	}
	if d.Statements == nil {
		d.Statements = statement.New(d.Office.DB, d.Office.Clock, p.Zone, d.Office.Provider, d.Office.Fonts, p.I18n)
	}
	if d.Files != nil {
		if err := LoadMessages(p.I18n, d.Files); err != nil {
			return nil, err
		}
	}
	a := &Admin{p: p, d: d, byAddress: platform.NewLimiter(6*time.Second, 20), issued: newIssued(p.Clock)}
	p.Page("GET /admin/login", a.loginForm)
	p.Page("POST /admin/login", a.login)
	p.Page("POST /admin/logout", a.logout)
	p.Page("GET /admin/{$}", a.auth("", a.home))

	p.Page("GET /admin/subscribers", a.auth(operator.ViewSubscribers, a.subscribers))
	p.Page("GET /admin/subscribers/new", a.auth(operator.EditSubscribers, a.contractForm))
	p.Page("POST /admin/subscribers", a.auth(operator.EditSubscribers, a.createContract))
	p.Page("GET /admin/issued/{token}", a.auth(operator.EditSubscribers, a.issuedPage))
	p.Page("GET /admin/issued/{token}/pdf", a.auth(operator.EditSubscribers, a.issuedPDF))
	p.Page("GET /admin/subscribers/{id}", a.auth(operator.ViewSubscribers, a.subscriber))
	p.Page("POST /admin/subscribers/{id}/edit", a.auth(operator.EditSubscribers, a.editContract))
	p.Page("POST /admin/subscribers/{id}/status", a.auth(operator.EditSubscribers, a.setStatus))
	p.Page("POST /admin/subscribers/{id}/password", a.auth(operator.EditSubscribers, a.resetPassword))
	p.Page("POST /admin/subscribers/{id}/cash", a.auth(operator.TakeCash, a.cash))
	p.Page("POST /admin/subscribers/{id}/correct", a.auth(operator.CorrectBalance, a.correct))
	p.Page("POST /admin/subscribers/{id}/promise", a.auth(operator.EditSubscribers, a.grantPromise))
	p.Page("POST /admin/subscribers/{id}/suspension", a.auth(operator.EditSubscribers, a.suspend))
	p.Page("POST /admin/subscribers/{id}/suspension/resume", a.auth(operator.EditSubscribers, a.resumeSuspension))
	p.Page("POST /admin/subscribers/{id}/suspension/extend", a.auth(operator.EditSubscribers, a.extendSuspension))
	p.Page("POST /admin/subscribers/{id}/reverse", a.auth(operator.CorrectBalance, a.reverse))
	p.Page("POST /admin/subscribers/{id}/refund", a.auth(operator.CorrectBalance, a.refund))
	p.Page("GET /admin/subscribers/{id}/contract.pdf", a.auth(operator.ViewSubscribers, a.contractPDF))
	p.Page("GET /admin/subscribers/{id}/statement", a.auth(operator.ViewSubscribers, a.statementFile))

	p.Page("GET /admin/catalogue", a.auth(operator.EditCatalogue, a.catalogue))
	p.Page("POST /admin/cities", a.auth(operator.EditCatalogue, a.addCity))
	p.Page("POST /admin/tariffs", a.auth(operator.EditCatalogue, a.addTariff))
	p.Page("POST /admin/tariffs/{id}", a.auth(operator.EditCatalogue, a.updateTariff))
	p.Page("POST /admin/tariffs/{id}/archive", a.auth(operator.EditCatalogue, a.archiveTariff))
	p.Page("POST /admin/cities/{id}", a.auth(operator.EditCatalogue, a.updateCity))
	p.Page("POST /admin/packages", a.auth(operator.EditCatalogue, a.addPackage))
	p.Page("POST /admin/packages/{id}", a.auth(operator.EditCatalogue, a.updatePackage))
	p.Page("POST /admin/packages/{id}/archive", a.auth(operator.EditCatalogue, a.archivePackage))
	p.Page("GET /admin/traffic-classes", a.auth(operator.EditCatalogue, a.trafficClasses))
	p.Page("POST /admin/traffic-classes", a.auth(operator.EditCatalogue, a.addTrafficClass))
	p.Page("POST /admin/traffic-classes/{code}", a.auth(operator.EditCatalogue, a.updateTrafficClass))
	p.Page("GET /admin/news", a.auth(operator.EditContent, a.news))
	p.Page("POST /admin/news", a.auth(operator.EditContent, a.addNews))
	p.Page("POST /admin/news/{id}", a.auth(operator.EditContent, a.updateNews))
	p.Page("POST /admin/news/{id}/expire", a.auth(operator.EditContent, a.expireNews))
	p.Page("POST /admin/news/{id}/delete", a.auth(operator.EditContent, a.deleteNews))

	p.Page("GET /admin/debtors", a.auth(operator.ViewDebt, a.debtors))
	p.Page("GET /admin/reports", a.auth(operator.ViewReports, a.reports))
	p.Page("GET /admin/reports/{file}", a.auth(operator.ViewReports, a.reportCSV))
	p.Page("GET /admin/audit", a.auth(operator.ViewAudit, a.audit))
	p.Page("GET /admin/operators", a.auth(operator.ManageOperators, a.operators))
	p.Page("POST /admin/operators", a.auth(operator.ManageOperators, a.addOperator))
	p.Page("POST /admin/operators/{id}", a.auth(operator.ManageOperators, a.updateOperator))
	p.Page("GET /admin/mail", a.auth(operator.ViewSubscribers, a.mail))
	p.Page("POST /admin/mail/broadcast", a.auth(operator.EditContent, a.broadcast))
	p.Page("GET /admin/receipts", a.auth(operator.ViewSubscribers, a.receipts))
	p.Page("POST /admin/receipts/{id}/resend", a.auth(operator.TakeCash, a.resendReceipt))
	if d.Office.Documents != nil {
		p.Page("GET /admin/documents", a.auth(operator.ViewSubscribers, a.documentsList))
		p.Page("GET /admin/documents/{id}/pdf", a.auth(operator.ViewSubscribers, a.documentPDF))
		p.Page("POST /admin/documents/{id}/send", a.auth(operator.EditSubscribers, a.sendDocument))
		p.Page("POST /admin/documents/{id}/paid", a.auth(operator.CorrectBalance, a.documentPaid))
		p.Page("POST /admin/documents/reconciliation", a.auth(operator.EditSubscribers, a.reconcile))
	}
	p.Page("GET /admin/autopay", a.auth(operator.ViewSubscribers, a.autopays))
	p.Page("POST /admin/autopay/{id}/disable", a.auth(operator.EditSubscribers, a.disableAutopay))

	if d.Network != nil {
		p.Page("GET /admin/network", a.auth(operator.ViewNetwork, a.network))
		p.Page("POST /admin/network/sessions/{id}/disconnect", a.auth(operator.ManageNetwork, a.disconnect))
		p.Page("POST /admin/network/nas", a.auth(operator.ManageNetwork, a.saveNAS))
		p.Page("POST /admin/network/nas/{id}/secret", a.auth(operator.ManageNetwork, a.showSecret))
		p.Page("POST /admin/network/nas/{id}/signing", a.auth(operator.ManageNetwork, a.setSigning))
	}
	if d.Company != nil {
		a.registerCompany()
	}
	if d.Support != nil {
		p.Page("GET /admin/support", a.auth(operator.Support, a.supportQueue))
		p.Page("GET /admin/support/requests/{id}", a.auth(operator.Support, a.request))
		p.Page("POST /admin/support/requests/{id}", a.auth(operator.Support, a.answer))
		p.Page("POST /admin/support/requests/{id}/assign", a.auth(operator.Support, a.assign))
		p.Page("POST /admin/support/applications/{id}", a.auth(operator.Support, a.applicationStatus))
		p.Page("GET /admin/support/chat/{account}", a.auth(operator.Support, a.chat))
		p.Page("POST /admin/support/chat/{account}", a.auth(operator.Support, a.respond))
	}
	return a, nil
}

// LoadMessages adds the back office's and the public site's translations
// (web/translations/admin.{ru,en}.toml) to t.
func LoadMessages(t *platform.I18n, files fs.FS) error {
	msgs := map[string]map[string]string{}
	for _, lang := range platform.Langs {
		b, err := fs.ReadFile(files, "translations/admin."+lang+".toml")
		if err != nil {
			return fmt.Errorf("admin translations: %w", err)
		}
		m := map[string]string{}
		if err := toml.Unmarshal(b, &m); err != nil {
			return fmt.Errorf("admin translations %s: %w", lang, err)
		}
		msgs[lang] = m
	}
	for id, ru := range msgs["ru"] {
		en, ok := msgs["en"][id]
		if !ok {
			return fmt.Errorf("admin translations: %q has no English", id)
		}
		t.Add(id, ru, en)
	}
	for id := range msgs["en"] {
		if _, ok := msgs["ru"][id]; !ok {
			return fmt.Errorf("admin translations: %q has no Russian", id)
		}
	}
	return nil
}

type opKey struct{}

// auth requires a logged-in, enabled operator and (unless perm is empty)
// the permission; a refusal is a 403 page, never a hidden redirect, so the
// operator knows to ask an admin.
func (a *Admin) auth(perm operator.Permission, h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		id := a.p.Sessions.GetInt64(r.Context(), sessionOperator)
		if id == 0 {
			http.Redirect(w, r, "/admin/login", http.StatusSeeOther)
			return
		}
		op, err := a.d.Office.Operators.ByID(r.Context(), id)
		if errors.Is(err, derrors.NotFound) || (err == nil && op.Disabled) {
			a.p.Sessions.Remove(r.Context(), sessionOperator)
			http.Redirect(w, r, "/admin/login", http.StatusSeeOther)
			return
		}
		if err != nil {
			a.p.Fail(w, r, err)
			return
		}
		if perm != "" && !op.Can(perm) {
			a.forbidden(w, r, op)
			return
		}
		h(w, r.WithContext(context.WithValue(r.Context(), opKey{}, op)))
	}
}

func opOf(r *http.Request) operator.Operator {
	op, _ := r.Context().Value(opKey{}).(operator.Operator)
	return op
}

func (a *Admin) who(r *http.Request) backoffice.Who {
	return backoffice.Who{Op: opOf(r), Address: platform.AddressKey(r.RemoteAddr)}
}

// page is the D of every back-office view.
type page struct {
	Op           operator.Operator
	HasNetwork   bool // RADIUS runs: show the network section
	HasCompany   bool // company clients are kept: show their sections
	HasDocuments bool // company documents are wired: show them
	Sandbox      bool // the sandbox card processor runs: warn on every page
	Nav          string
	Error        string // translated
	X            any    // the page's own data
}

// Can lets templates hide what the role may not do.
func (p page) Can(perm string) bool { return p.Op.Can(operator.Permission(perm)) }

func (a *Admin) render(w http.ResponseWriter, r *http.Request, status int, name, title, nav string, x any) {
	a.renderError(w, r, status, name, title, nav, x, "")
}

// renderError is render with msg, a translated message of what was wrong
// with the page's own query, shown as the page's error.
func (a *Admin) renderError(w http.ResponseWriter, r *http.Request, status int, name, title, nav string, x any, msg string) {
	pg := page{Op: opOf(r), Nav: nav, X: x, HasNetwork: a.d.Network != nil, HasCompany: a.d.Company != nil, HasDocuments: a.d.Office.Documents != nil, Sandbox: a.d.Sandbox,
		Error: msg}
	v := a.p.NewView(r, title, nil)
	if id := a.p.Sessions.PopString(r.Context(), sessionError); id != "" {
		pg.Error = a.p.I18n.T(v.Lang, id, nil)
	}
	if s := a.p.Sessions.PopString(r.Context(), sessionErrorText); s != "" {
		pg.Error = s
	}
	v.D = pg
	a.p.HTML(w, r, status, "admin/"+name, "admin_layout", v)
}

// periodOf reads a period from the request's from and to (either may be
// empty: def's day is used) with the one parser of periods; a mistake is
// the translated message, and def is used instead.
func (a *Admin) periodOf(r *http.Request, from, to string, def statement.Period, maxDays int) (statement.Period, string) {
	p, err := statement.ParsePeriod(from, to, def, maxDays)
	if pe, ok := statement.AsPeriodError(err); ok {
		return def, a.p.I18n.T(a.p.LangOf(r), pe.ID, pe.Data)
	}
	return p, ""
}

func (a *Admin) forbidden(w http.ResponseWriter, r *http.Request, op operator.Operator) {
	r = r.WithContext(context.WithValue(r.Context(), opKey{}, op))
	a.render(w, r, http.StatusForbidden, "forbidden", "admin.forbidden.title", "", nil)
}

// done redirects after a successful action with a message.
func (a *Admin) done(w http.ResponseWriter, r *http.Request, to, msg string) {
	a.p.Flash(r, msg)
	http.Redirect(w, r, to, http.StatusSeeOther)
}

// failed redirects back with the message for err: the operator sees what
// was wrong with the form; unexpected errors get the generic page. A
// the list was shown) is the form's error.
func (a *Admin) failed(w http.ResponseWriter, r *http.Request, to string, err error) {
	status, id := a.p.I18n.Refusal(err, "admin.error.")
	if status == http.StatusNotFound && id == "" {
		id = "admin.error.invalid"
	}
	switch {
	case id != "":
		a.p.Sessions.Put(r.Context(), sessionError, id)
		http.Redirect(w, r, to, http.StatusSeeOther)
	case status == http.StatusForbidden:
		a.forbidden(w, r, opOf(r))
	default:
		a.p.Fail(w, r, err)
	}
}

// failedOn is failed for an action on the thing the page is about: when
// that thing is missing, so is the page.
func (a *Admin) failedOn(w http.ResponseWriter, r *http.Request, to string, err error) {
	if errors.Is(err, derrors.NotFound) {
		a.p.NotFound(w, r)
		return
	}
	a.failed(w, r, to, err)
}

func pathID(r *http.Request, name string) (int64, bool) {
	id, err := strconv.ParseInt(r.PathValue(name), 10, 64)
	return id, err == nil && id > 0
}

// issuedStore keeps what is shown once — a new contract's or a reset's
// password and PDF — in memory for a few minutes, for the operator who made
// it. A restart forgets it, which is the point: the password is never stored
// in a form it could be shown from again.
type issuedStore struct {
	mu    sync.Mutex
	clock interface{ Now() time.Time }
	m     map[string]*issued
}

type issued struct {
	operatorID int64
	accountID  int64
	login      string
	contractNo string
	password   string
	mailedTo   string
	pdf        []byte
	pageShown  bool
	expires    time.Time
}

func newIssued(clk interface{ Now() time.Time }) *issuedStore {
	return &issuedStore{clock: clk, m: map[string]*issued{}}
}

const issuedTTL = 15 * time.Minute

func (s *issuedStore) put(it *issued) string {
	var b [16]byte
	rand.Read(b[:])
	tok := hex.EncodeToString(b[:])
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.clock.Now()
	for k, v := range s.m {
		if now.After(v.expires) {
			delete(s.m, k)
		}
	}
	it.expires = now.Add(issuedTTL)
	s.m[tok] = it
	return tok
}

// take returns the entry for the page (once) or the PDF (once).
func (s *issuedStore) take(tok string, operatorID int64, pdf bool) (issued, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	it, ok := s.m[tok]
	if !ok || it.operatorID != operatorID || s.clock.Now().After(it.expires) {
		return issued{}, false
	}
	if pdf {
		if it.pdf == nil {
			return issued{}, false
		}
		out := *it
		it.pdf = nil
		if it.pageShown {
			delete(s.m, tok)
		}
		return out, true
	}
	if it.pageShown {
		return issued{}, false
	}
	it.pageShown = true
	out := *it
	if it.pdf == nil {
		delete(s.m, tok)
	}
	return out, true
}

func servePDF(w http.ResponseWriter, name string, b []byte) {
	w.Header().Set("Content-Type", "application/pdf")
	w.Header().Set("Content-Disposition", fmt.Sprintf(`inline; filename="%s"`, name))
	w.Header().Set("Cache-Control", "no-store")
	w.Write(b)
}
