package admin

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/kabinet-billing/kabinet/internal/derrors"
	"github.com/kabinet-billing/kabinet/internal/documents"
	"github.com/kabinet-billing/kabinet/internal/statement"
)

type documentsData struct {
	Docs          []documents.Document
	Total         int
	Filter        documents.Filter
	Kinds         []documents.Kind
	Statuses      []documents.Status
	Organisations []documents.Party
	Prev, Next    string // links to the neighbouring pages; "" at an end
	From, To      string // the reconciliation form's default days
}

const documentsPage = 50

// documentsList lists company clients' documents with filters and pages.
func (a *Admin) documentsList(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	f := documents.Filter{Kind: documents.Kind(q.Get("kind")), Status: documents.Status(q.Get("status")), Period: strings.TrimSpace(q.Get("period")),
		Query: strings.TrimSpace(q.Get("q")), Limit: documentsPage}
	if org, err := strconv.ParseInt(q.Get("org"), 10, 64); err == nil {
		f.OrgID = org
	}
	if off, err := strconv.Atoi(q.Get("offset")); err == nil && off > 0 {
		f.Offset = off
	}
	docs, total, err := a.d.Office.ListDocuments(r.Context(), a.who(r), f)
	if err != nil {
		a.p.Fail(w, r, err)
		return
	}
	orgs, err := a.d.Office.Organisations(r.Context())
	if err != nil {
		a.p.Fail(w, r, err)
		return
	}
	now := a.p.Clock.Now().In(a.p.Zone)
	d := documentsData{Docs: docs, Total: total, Filter: f, Kinds: documents.Kinds, Statuses: []documents.Status{documents.Issued, documents.Sent, documents.Paid},
		Organisations: orgs, From: time.Date(now.Year(), 1, 1, 0, 0, 0, 0, a.p.Zone).Format("2006-01-02"), To: now.Format("2006-01-02")}
	page := func(off int) string {
		v := url.Values{}
		for _, k := range []string{"kind", "status", "period", "q", "org"} {
			if s := q.Get(k); s != "" {
				v.Set(k, s)
			}
		}
		v.Set("offset", strconv.Itoa(off))
		return "/admin/documents?" + v.Encode()
	}
	if f.Offset > 0 {
		d.Prev = page(max(0, f.Offset-documentsPage))
	}
	if f.Offset+len(docs) < total {
		d.Next = page(f.Offset + documentsPage)
	}
	a.render(w, r, http.StatusOK, "documents", "admin.documents.title", "documents", d)
}

// documentPDF downloads a document's PDF as it was issued.
func (a *Admin) documentPDF(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(r, "id")
	if !ok {
		a.p.NotFound(w, r)
		return
	}
	d, pdf, err := a.d.Office.DocumentPDF(r.Context(), a.who(r), id)
	if err != nil {
		a.failedOn(w, r, "/admin/documents", err)
		return
	}
	servePDF(w, d.FileName(), pdf)
}

// sendDocument mails a document to its organisation.
func (a *Admin) sendDocument(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(r, "id")
	if !ok {
		a.p.NotFound(w, r)
		return
	}
	if err := a.d.Office.SendDocument(r.Context(), a.who(r), id, strings.TrimSpace(r.FormValue("to")), a.p.LangOf(r)); err != nil {
		a.failedOn(w, r, "/admin/documents", err)
		return
	}
	a.done(w, r, "/admin/documents", "admin.flash.document_sent")
}

// documentPaid marks an invoice paid by hand.
func (a *Admin) documentPaid(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(r, "id")
	if !ok {
		a.p.NotFound(w, r)
		return
	}
	if err := a.d.Office.MarkDocumentPaid(r.Context(), a.who(r), id); err != nil {
		a.failedOn(w, r, "/admin/documents", err)
		return
	}
	a.done(w, r, "/admin/documents", "admin.flash.document_paid")
}

// reconcile issues a reconciliation act for an organisation and a period.
func (a *Admin) reconcile(w http.ResponseWriter, r *http.Request) {
	org, err := strconv.ParseInt(r.FormValue("org"), 10, 64)
	if err != nil || org <= 0 {
		a.failed(w, r, "/admin/documents", derrors.Invalidf("org", "organisation", "choose an organisation"))
		return
	}
	if strings.TrimSpace(r.FormValue("from")) == "" || strings.TrimSpace(r.FormValue("to")) == "" {
		a.failed(w, r, "/admin/documents", derrors.Invalidf("from", "period", "the period needs both days"))
		return
	}
	p, msg := a.periodOf(r, r.FormValue("from"), r.FormValue("to"), statement.ThisMonth(a.p.Clock.Now(), a.p.Zone), statement.MaxStatementDays)
	if msg != "" {
		a.p.Sessions.Put(r.Context(), sessionErrorText, msg)
		http.Redirect(w, r, "/admin/documents", http.StatusSeeOther)
		return
	}
	d, err := a.d.Office.IssueReconciliation(r.Context(), a.who(r), org, p.From, p.To)
	if err != nil {
		a.failed(w, r, "/admin/documents", err)
		return
	}
	a.done(w, r, fmt.Sprintf("/admin/documents?kind=reconciliation&org=%d", d.OrgID), "admin.flash.reconciliation_issued")
}
