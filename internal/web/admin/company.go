package admin

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/kabinet-billing/kabinet/internal/company"
	"github.com/kabinet-billing/kabinet/internal/derrors"
	"github.com/kabinet-billing/kabinet/internal/operator"
)

// The company clients' pages: organisations, their card (details, points,
// employees, balance, bank payments), the form with each check beside its
// field, debtors by organisation, and the bank statements' upload with the
// payments waiting to be sorted.

func (a *Admin) registerCompany() {
	p := a.p
	p.Page("GET /admin/companies", a.auth(operator.ViewSubscribers, a.companies))
	p.Page("GET /admin/companies/new", a.auth(operator.EditSubscribers, a.companyNew))
	p.Page("POST /admin/companies", a.auth(operator.EditSubscribers, a.companyCreate))
	p.Page("GET /admin/companies/debtors", a.auth(operator.ViewDebt, a.companyDebtors))
	p.Page("GET /admin/companies/{id}", a.auth(operator.ViewSubscribers, a.companyCard))
	p.Page("GET /admin/companies/{id}/edit", a.auth(operator.EditSubscribers, a.companyEdit))
	p.Page("POST /admin/companies/{id}", a.auth(operator.EditSubscribers, a.companyUpdate))
	p.Page("POST /admin/companies/{id}/points", a.auth(operator.EditSubscribers, a.companyAttach))
	p.Page("POST /admin/companies/{id}/points/{account}/detach", a.auth(operator.EditSubscribers, a.companyDetach))
	p.Page("POST /admin/companies/{id}/employees", a.auth(operator.EditSubscribers, a.companyAddEmployee))
	p.Page("POST /admin/companies/{id}/employees/{emp}", a.auth(operator.EditSubscribers, a.companyEmployeeActive))
	p.Page("POST /admin/companies/{id}/employees/{emp}/password", a.auth(operator.EditSubscribers, a.companyEmployeePassword))
	p.Page("GET /admin/bank", a.auth(operator.CorrectBalance, a.bank))
	p.Upload("POST /admin/bank/import", maxStatementBytes, a.auth(operator.CorrectBalance, a.bankImport))
	p.Page("POST /admin/bank/{id}/assign", a.auth(operator.CorrectBalance, a.bankAssign))
}

// maxStatementBytes bounds an uploaded 1C statement: 50,000 payment orders
// are about 35 MB.
const maxStatementBytes = 64 << 20

const companiesPerPage = 50

type companiesData struct {
	Q        string
	Page     company.Page
	From, To int
	Prev     string
	Next     string
}

func (a *Admin) companies(w http.ResponseWriter, r *http.Request) {
	q := strings.TrimSpace(r.URL.Query().Get("q"))
	off, _ := strconv.Atoi(r.URL.Query().Get("from"))
	off = max(off, 0)
	pg, err := a.d.Company.List(r.Context(), company.Query{Q: q, Offset: off, Limit: companiesPerPage})
	if err != nil {
		a.p.Fail(w, r, err)
		return
	}
	d := companiesData{Q: q, Page: pg, From: off + 1, To: off + len(pg.Items)}
	link := func(from int) string {
		v := url.Values{}
		if q != "" {
			v.Set("q", q)
		}
		if from > 0 {
			v.Set("from", strconv.Itoa(from))
		}
		if len(v) == 0 {
			return "/admin/companies"
		}
		return "/admin/companies?" + v.Encode()
	}
	if off > 0 {
		d.Prev = link(max(off-companiesPerPage, 0))
	}
	if off+len(pg.Items) < pg.Total {
		d.Next = link(off + companiesPerPage)
	}
	a.render(w, r, http.StatusOK, "companies", "admin.companies.title", "companies", d)
}

// companyFormData is the form, its values and an error per field.
type companyFormData struct {
	ID     int64 // 0: a new organisation
	D      company.Details
	Errors map[string]string // field → translated message
}

func (f companyFormData) Err(field string) string { return f.Errors[field] }

// formField is one input of the form with its error.
type formField struct {
	Name, Value, Type, Mode string
	Required                bool
	Err                     string
}

func (f companyFormData) field(name, value, typ, mode string, required bool) formField {
	return formField{Name: name, Value: value, Type: typ, Mode: mode, Required: required, Err: f.Errors[name]}
}

// Head are the names, before the kind's choice.
func (f companyFormData) Head() []formField {
	return []formField{f.field("full_name", f.D.FullName, "", "", true), f.field("short_name", f.D.ShortName, "", "", false)}
}

// Body are the registration, bank and contract fields.
func (f companyFormData) Body() []formField {
	d := f.D
	return []formField{
		f.field("inn", d.INN, "", "numeric", true), f.field("kpp", d.KPP, "", "", false), f.field("ogrn", d.OGRN, "", "numeric", false),
		f.field("legal_address", d.LegalAddress, "", "", false), f.field("postal_address", d.PostalAddress, "", "", false),
		f.field("bank_name", d.BankName, "", "", false), f.field("bik", d.BIK, "", "numeric", false),
		f.field("account", d.SettlementAccount, "", "numeric", false), f.field("corr_account", d.CorrAccount, "", "numeric", false),
		f.field("director", d.Director, "", "", false), f.field("accountant", d.Accountant, "", "", false),
		f.field("email", d.Email, "email", "", false), f.field("phone", d.Phone, "tel", "", false),
		f.field("contract_no", d.ContractNo, "", "", false), f.field("contract_date", d.ContractDate, "date", "", false),
	}
}

func detailsOf(r *http.Request) company.Details {
	f := func(k string) string { return strings.TrimSpace(r.PostFormValue(k)) }
	return company.Details{Kind: f("kind"), FullName: f("full_name"), ShortName: f("short_name"), INN: f("inn"), KPP: f("kpp"), OGRN: f("ogrn"),
		LegalAddress: f("legal_address"), PostalAddress: f("postal_address"), BankName: f("bank_name"), BIK: f("bik"),
		SettlementAccount: f("account"), CorrAccount: f("corr_account"), Director: f("director"), Accountant: f("accountant"),
		Email: f("email"), Phone: f("phone"), VATMode: f("vat_mode"), ContractNo: f("contract_no"), ContractDate: f("contract_date"),
		BalanceMode: f("balance_mode"), Closing: f("closing")}
}

// formErrors words errs by field; an error naming no field goes under "".
func (a *Admin) formErrors(r *http.Request, errs []error) map[string]string {
	lang := a.p.LangOf(r)
	out := map[string]string{}
	for _, err := range errs {
		id := "admin.error." + derrors.Code(err)
		if !a.p.I18n.Has(id) {
			id = "admin.error.invalid"
		}
		field := derrors.Field(err)
		if _, seen := out[field]; !seen {
			out[field] = a.p.I18n.T(lang, id, nil)
		}
	}
	return out
}

func (a *Admin) companyNew(w http.ResponseWriter, r *http.Request) {
	a.render(w, r, http.StatusOK, "company_form", "admin.company.new", "companies",
		companyFormData{D: company.Details{VATMode: company.VATRate, BalanceMode: company.BalanceContract}})
}

// companySave checks the form; a bad field shows the form again with its
// message beside the field (422), nothing saved.
func (a *Admin) companySave(w http.ResponseWriter, r *http.Request, id int64) {
	d := detailsOf(r)
	title := "admin.company.new"
	if id != 0 {
		title = "admin.company.edit"
	}
	if errs := d.CheckAll(); len(errs) > 0 {
		a.render(w, r, http.StatusUnprocessableEntity, "company_form", title, "companies", companyFormData{ID: id, D: d, Errors: a.formErrors(r, errs)})
		return
	}
	actor := a.who(r).Actor()
	var o company.Organisation
	var err error
	if id == 0 {
		o, err = a.d.Company.Create(r.Context(), actor, d)
	} else {
		o, err = a.d.Company.Update(r.Context(), actor, id, d)
	}
	if errors.Is(err, derrors.Conflict) {
		a.render(w, r, http.StatusConflict, "company_form", title, "companies",
			companyFormData{ID: id, D: d, Errors: map[string]string{"inn": a.p.I18n.T(a.p.LangOf(r), "admin.error.company_exists", nil)}})
		return
	}
	if err != nil {
		if id != 0 {
			a.failedOn(w, r, fmt.Sprintf("/admin/companies/%d/edit", id), err)
		} else {
			a.failed(w, r, "/admin/companies/new", err)
		}
		return
	}
	a.done(w, r, fmt.Sprintf("/admin/companies/%d", o.ID), "admin.company.saved")
}

func (a *Admin) companyCreate(w http.ResponseWriter, r *http.Request) { a.companySave(w, r, 0) }

func (a *Admin) companyUpdate(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(r, "id")
	if !ok {
		a.p.NotFound(w, r)
		return
	}
	if _, err := a.d.Company.Get(r.Context(), id); err != nil {
		a.failedOn(w, r, "/admin/companies", err)
		return
	}
	a.companySave(w, r, id)
}

func (a *Admin) companyEdit(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(r, "id")
	if !ok {
		a.p.NotFound(w, r)
		return
	}
	o, err := a.d.Company.Get(r.Context(), id)
	if err != nil {
		a.failedOn(w, r, "/admin/companies", err)
		return
	}
	a.render(w, r, http.StatusOK, "company_form", "admin.company.edit", "companies", companyFormData{ID: id, D: o.Details})
}

type companyCardData struct {
	Org       company.Organisation
	Balance   company.Balance
	Points    []company.Point
	Employees []company.Employee
	Payments  []company.BankPayment
	Audit     []auditRow
}

func (a *Admin) companyCard(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(r, "id")
	if !ok {
		a.p.NotFound(w, r)
		return
	}
	ctx := r.Context()
	svc := a.d.Company
	var d companyCardData
	var err error
	if d.Org, err = svc.Get(ctx, id); err != nil {
		a.failedOn(w, r, "/admin/companies", err)
		return
	}
	if d.Balance, err = svc.Balance(ctx, id); err == nil {
		if d.Points, err = svc.Points(ctx, id); err == nil {
			if d.Employees, err = svc.Employees(ctx, id); err == nil {
				d.Payments, err = svc.Payments(ctx, id, 50)
			}
		}
	}
	if err != nil {
		a.p.Fail(w, r, err)
		return
	}
	if opOf(r).Can(operator.ViewAudit) {
		entries, err := a.d.Office.Operators.Search(ctx, operator.AuditQuery{Object: fmt.Sprintf("organisation:%d", id), Limit: 20})
		if err != nil {
			a.p.Fail(w, r, err)
			return
		}
		d.Audit = a.auditRows(r, entries)
	}
	a.render(w, r, http.StatusOK, "company", "admin.company.title", "companies", d)
}

func (a *Admin) companyAttach(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(r, "id")
	if !ok {
		a.p.NotFound(w, r)
		return
	}
	back := fmt.Sprintf("/admin/companies/%d", id)
	acct, err := a.d.Office.Dir.ByLoginOrContract(r.Context(), r.PostFormValue("login"))
	if err != nil {
		a.failed(w, r, back, derrors.Invalidf("login", "company_point_unknown", "no account %q", r.PostFormValue("login")))
		return
	}
	if err := a.d.Company.AttachPoint(r.Context(), a.who(r).Actor(), id, acct.ID, r.PostFormValue("label")); err != nil {
		a.failedOn(w, r, back, err)
		return
	}
	a.done(w, r, back, "admin.company.point_added")
}

// companyDetach takes a point out of the contract; it becomes an ordinary
// subscriber's account.
func (a *Admin) companyDetach(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(r, "id")
	acct, ok2 := pathID(r, "account")
	if !ok || !ok2 {
		a.p.NotFound(w, r)
		return
	}
	back := fmt.Sprintf("/admin/companies/%d", id)
	if err := a.d.Company.DetachPoint(r.Context(), a.who(r).Actor(), id, acct); err != nil {
		a.failed(w, r, back, err)
		return
	}
	a.done(w, r, back, "admin.company.point_removed")
}

func (a *Admin) companyAddEmployee(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(r, "id")
	if !ok {
		a.p.NotFound(w, r)
		return
	}
	back := fmt.Sprintf("/admin/companies/%d", id)
	if _, err := a.d.Company.AddEmployee(r.Context(), a.who(r).Actor(), id, r.PostFormValue("login"), r.PostFormValue("name"), r.PostFormValue("password")); err != nil {
		a.failedOn(w, r, back, err)
		return
	}
	a.done(w, r, back, "admin.company.employee_added")
}

func (a *Admin) companyEmployeeActive(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(r, "id")
	emp, ok2 := pathID(r, "emp")
	if !ok || !ok2 {
		a.p.NotFound(w, r)
		return
	}
	back := fmt.Sprintf("/admin/companies/%d", id)
	if err := a.d.Company.SetEmployeeActive(r.Context(), a.who(r).Actor(), id, emp, r.PostFormValue("active") == "1"); err != nil {
		a.failedOn(w, r, back, err)
		return
	}
	a.done(w, r, back, "admin.company.saved")
}

// companyEmployeePassword sets a new password an operator agreed with the
// employee (a forgotten one is never shown: there is none to show).
func (a *Admin) companyEmployeePassword(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(r, "id")
	emp, ok2 := pathID(r, "emp")
	if !ok || !ok2 {
		a.p.NotFound(w, r)
		return
	}
	back := fmt.Sprintf("/admin/companies/%d", id)
	if err := a.d.Company.SetEmployeePassword(r.Context(), a.who(r).Actor(), id, emp, r.PostFormValue("password")); err != nil {
		a.failedOn(w, r, back, err)
		return
	}
	a.done(w, r, back, "admin.company.password_set")
}

func (a *Admin) companyDebtors(w http.ResponseWriter, r *http.Request) {
	list, err := a.d.Company.Debtors(r.Context(), 500)
	if err != nil {
		a.p.Fail(w, r, err)
		return
	}
	a.render(w, r, http.StatusOK, "company_debtors", "admin.company.debtors", "companies", list)
}

type bankData struct {
	Unsorted []company.BankPayment
	Total    int
	Report   *company.ImportReport
}

func (a *Admin) bank(w http.ResponseWriter, r *http.Request) {
	a.bankPage(w, r, http.StatusOK, nil)
}

func (a *Admin) bankPage(w http.ResponseWriter, r *http.Request, status int, rep *company.ImportReport) {
	list, total, err := a.d.Company.Unsorted(r.Context(), 200, 0)
	if err != nil {
		a.p.Fail(w, r, err)
		return
	}
	a.render(w, r, status, "bank", "admin.bank.title", "bank", bankData{Unsorted: list, Total: total, Report: rep})
}

func (a *Admin) bankImport(w http.ResponseWriter, r *http.Request) {
	f, h, err := r.FormFile("file")
	if err != nil {
		a.failed(w, r, "/admin/bank", derrors.Invalidf("file", "bank_file", "no file: %v", err))
		return
	}
	defer f.Close()
	rep, err := a.d.Company.ImportStatement(r.Context(), a.who(r).Actor(), h.Filename, f, nil)
	if err != nil {
		a.failed(w, r, "/admin/bank", err)
		return
	}
	a.bankPage(w, r, http.StatusOK, &rep)
}

func (a *Admin) bankAssign(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(r, "id")
	if !ok {
		a.p.NotFound(w, r)
		return
	}
	q := strings.TrimSpace(r.PostFormValue("organisation"))
	o, err := a.d.Company.ByINN(r.Context(), q)
	if err != nil {
		if o, err = a.d.Company.ByContract(r.Context(), q); err != nil {
			a.failed(w, r, "/admin/bank", derrors.Invalidf("organisation", "company_not_found", "no organisation %q", q))
			return
		}
	}
	if err := a.d.Company.Assign(r.Context(), a.who(r).Actor(), id, o.ID, r.PostFormValue("note")); err != nil {
		a.failedOn(w, r, "/admin/bank", err)
		return
	}
	a.done(w, r, "/admin/bank", "admin.bank.assigned")
}
