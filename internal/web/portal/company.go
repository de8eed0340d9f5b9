package portal

import (
	"context"
	"errors"
	"net/http"

	"github.com/kabinet-billing/kabinet/internal/company"
	"github.com/kabinet-billing/kabinet/internal/derrors"
	"github.com/kabinet-billing/kabinet/internal/documents"
	"github.com/kabinet-billing/kabinet/internal/web/platform"
)

// The company cabinet: an organisation's employee logs in with their e-mail
// and sees the organisation's connection points, its balance and bank
// payments, and who may log in (and lets colleagues in or out). The
// documents (invoices, acts, reconciliation) are listed by
// internal/documents where the page leaves their place (#documents).

// sessionEmployee holds the logged-in employee's id; it never shares a
// session with platform.SessionAccount.
const sessionEmployee = "company_employee"

func (po *Portal) registerCompany() {
	p := po.p
	p.Page("GET /company", po.employeeAuth(po.companyHome))
	if po.d.Documents != nil {
		pdf := po.employeeAuth(po.companyDocumentPDF)
		p.Page("GET /company/documents/{id}", func(w http.ResponseWriter, r *http.Request) {
			if _, ok := pathID(r, "id"); !ok {
				po.p.NotFound(w, r)
				return
			}
			pdf(w, r)
		})
	}
	p.Page("POST /company/employees", po.employeeAuth(po.companyAddEmployee))
	// A malformed id is no page, logged in or not.
	active := po.employeeAuth(po.companyEmployeeActive)
	p.Page("POST /company/employees/{id}", func(w http.ResponseWriter, r *http.Request) {
		if _, ok := pathID(r, "id"); !ok {
			po.p.NotFound(w, r)
			return
		}
		active(w, r)
	})
}

// employeeLogin logs an employee in; handled false when login is not an
// employee's (not an e-mail address) and the subscriber's login goes on.
func (po *Portal) employeeLogin(w http.ResponseWriter, r *http.Request, login, pw string, v platform.View, attempt platform.Attempt) (handled bool) {
	if po.d.Company == nil || !company.IsEmployeeLogin(login) {
		return false
	}
	now := po.p.Clock.Now()
	e, err := po.d.Company.Authenticate(r.Context(), login, pw)
	if errors.Is(err, company.ErrBadPassword) {
		po.p.Logins.Failed(login, now)
		v.Error = po.p.I18n.T(v.Lang, "login.error.bad", nil)
		po.p.HTML(w, r, http.StatusUnauthorized, "portal/login", "", v)
		return true
	}
	if err != nil {
		po.p.Fail(w, r, err)
		return true
	}
	if err := po.p.Sessions.RenewToken(r.Context()); err != nil {
		po.p.Fail(w, r, err)
		return true
	}
	po.p.Logins.Succeeded(attempt, now)
	po.p.Sessions.Put(r.Context(), sessionEmployee, e.ID)
	http.Redirect(w, r, "/company", http.StatusSeeOther)
	return true
}

// isEmployee tells whether the session is an employee's.
func (po *Portal) isEmployee(ctx context.Context) bool {
	return po.d.Company != nil && po.p.Sessions.GetInt64(ctx, sessionEmployee) != 0
}

// employeeAuth lets only a logged-in, active employee through.
func (po *Portal) employeeAuth(h func(http.ResponseWriter, *http.Request, company.Employee)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		id := po.p.Sessions.GetInt64(r.Context(), sessionEmployee)
		if id == 0 {
			http.Redirect(w, r, "/login", http.StatusSeeOther)
			return
		}
		e, err := po.d.Company.Employee(r.Context(), id)
		if errors.Is(err, derrors.NotFound) || (err == nil && !e.Active) {
			po.loggedOut(w, r)
			return
		}
		if err != nil {
			po.p.Fail(w, r, err)
			return
		}
		h(w, r, e)
	}
}

type companyCabinet struct {
	Me        company.Employee
	Org       company.Organisation
	Balance   company.Balance
	Points    []company.Point
	Employees []company.Employee
	Payments  []company.BankPayment
	Documents []documents.Document // newest first
	Error     string               // a refusal of the employees' form
	Errors    map[string]string    // field → message
}

func (po *Portal) companyHome(w http.ResponseWriter, r *http.Request, e company.Employee) {
	po.renderCompany(w, r, e, http.StatusOK, nil)
}

func (po *Portal) renderCompany(w http.ResponseWriter, r *http.Request, e company.Employee, status int, formErr error) {
	ctx := r.Context()
	svc := po.d.Company
	d := companyCabinet{Me: e}
	var err error
	if d.Org, err = svc.Get(ctx, e.OrganisationID); err == nil {
		if d.Balance, err = svc.Balance(ctx, e.OrganisationID); err == nil {
			if d.Points, err = svc.Points(ctx, e.OrganisationID); err == nil {
				if d.Employees, err = svc.Employees(ctx, e.OrganisationID); err == nil {
					d.Payments, err = svc.Payments(ctx, e.OrganisationID, 20)
				}
			}
		}
	}
	if err == nil && po.d.Documents != nil {
		d.Documents, _, err = po.d.Documents.OfOrganisation(ctx, e.OrganisationID, 0, 50)
	}
	if err != nil {
		po.p.Fail(w, r, err)
		return
	}
	v := po.p.NewView(r, "company.title", nil)
	if formErr != nil {
		id := po.refusal(formErr)
		if id == "" {
			id = "company.invalid"
		}
		d.Errors = map[string]string{derrors.Field(formErr): po.p.I18n.T(v.Lang, id, nil)}
	}
	v.D = d
	po.render(w, r, status, "company", v)
}

// companyDocumentPDF downloads one of the organisation's documents as it
// was issued; another organisation's is not found.
func (po *Portal) companyDocumentPDF(w http.ResponseWriter, r *http.Request, e company.Employee) {
	id, _ := pathID(r, "id")
	d, pdf, err := po.d.Documents.OrganisationPDF(r.Context(), e.OrganisationID, id)
	if errors.Is(err, derrors.NotFound) {
		po.p.NotFound(w, r)
		return
	}
	if err != nil {
		po.p.Fail(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "application/pdf")
	w.Header().Set("Content-Disposition", `attachment; filename="`+d.FileName()+`"`)
	w.Header().Set("Cache-Control", "private, no-store")
	w.Write(pdf)
}

func (po *Portal) companyAddEmployee(w http.ResponseWriter, r *http.Request, e company.Employee) {
	_, err := po.d.Company.AddEmployee(r.Context(), company.EmployeeActor(e, platform.AddressKey(r.RemoteAddr)), e.OrganisationID,
		r.PostFormValue("login"), r.PostFormValue("name"), r.PostFormValue("password"))
	if err != nil {
		if k := derrors.Kind(err); k == derrors.Invalid || k == derrors.Conflict {
			po.renderCompany(w, r, e, http.StatusUnprocessableEntity, err)
			return
		}
		po.p.Fail(w, r, err)
		return
	}
	po.redirect(w, r, "/company", "company.employee_added")
}

func (po *Portal) companyEmployeeActive(w http.ResponseWriter, r *http.Request, e company.Employee) {
	id, ok := pathID(r, "id")
	// An employee cannot lock themselves out: a colleague or the provider does.
	if !ok || id == e.ID {
		po.p.NotFound(w, r)
		return
	}
	err := po.d.Company.SetEmployeeActive(r.Context(), company.EmployeeActor(e, platform.AddressKey(r.RemoteAddr)), e.OrganisationID, id, r.PostFormValue("active") == "1")
	if errors.Is(err, derrors.NotFound) {
		po.p.NotFound(w, r)
		return
	}
	if err != nil {
		po.p.Fail(w, r, err)
		return
	}
	po.redirect(w, r, "/company", "company.saved")
}
