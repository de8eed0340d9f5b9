package portal

import (
	"net/http"
	"net/url"
	"strconv"

	"github.com/kabinet-billing/kabinet/internal/importer"
	"github.com/kabinet-billing/kabinet/internal/ledger"
	"github.com/kabinet-billing/kabinet/internal/statement"
	"github.com/kabinet-billing/kabinet/internal/subscriber"
)

// statementPage is how many lines the statement's table shows at once.
const statementPage = 100

// PeriodForm is a page's from/to inputs: the days shown, or what was typed
// with the message beside the field it concerns.
type PeriodForm struct {
	From, To string // YYYY-MM-DD, both inclusive
	Field    string // "from" or "to": the input Error concerns
	Error    string
	Earlier  []importer.HistoryRow // the old billing's payments in the period
}

// period reads the page's ?from= and ?to= (def when absent), maxDays at
// most. A mistake comes back in the form, with def to show meanwhile.
func (po *Portal) period(r *http.Request, def statement.Period, maxDays int) (statement.Period, PeriodForm, bool) {
	q := r.URL.Query()
	p, err := statement.ParsePeriod(q.Get("from"), q.Get("to"), def, maxDays)
	if pe, ok := statement.AsPeriodError(err); ok {
		return p, PeriodForm{From: q.Get("from"), To: q.Get("to"), Field: pe.Field, Error: po.p.I18n.T(po.p.LangOf(r), pe.ID, pe.Data)}, false
	}
	return p, PeriodForm{From: p.FromISO(), To: p.ToISO()}, true
}

type statementData struct {
	PeriodForm
	S     statement.Statement
	Pager pager
	Shown bool // the period is valid and read
}

func (po *Portal) statement(w http.ResponseWriter, r *http.Request, a subscriber.Account) {
	q := r.URL.Query()
	lang := po.p.LangOf(r)
	p, form, ok := po.period(r, statement.ThisMonth(po.p.Clock.Now(), po.p.Zone), statement.MaxStatementDays)
	if !ok {
		po.render(w, r, http.StatusUnprocessableEntity, "statement", po.view(r, a, "statement.title", "payments", statementData{PeriodForm: form}))
		return
	}
	if f := q.Get("format"); f == "csv" || f == "pdf" {
		file, err := po.d.Statements.File(r.Context(), lang, a, p, f)
		if err != nil {
			po.p.Fail(w, r, err)
			return
		}
		w.Header().Set("Content-Type", file.ContentType)
		w.Header().Set("Content-Disposition", `attachment; filename="`+file.Name+`"`)
		w.Write(file.Body)
		return
	}
	page := pageOf(q, "page")
	d := statementData{PeriodForm: form, Shown: true}
	var err error
	if d.S, err = po.d.Statements.For(r.Context(), lang, a, p, ledger.Page{Offset: (page - 1) * statementPage, Limit: statementPage}); err != nil {
		po.p.Fail(w, r, err)
		return
	}
	d.Pager = newPager(r.URL, "page", page, d.S.More())
	if d.Earlier, err = po.earlier(r, a, p.From, p.End(), 0); err != nil {
		po.p.Fail(w, r, err)
		return
	}
	po.render(w, r, http.StatusOK, "statement", po.view(r, a, "statement.title", "payments", d))
}

// pager links the pages of a table whose page number is in the query
// parameter param (1-based; the first page drops it from the link).
type pager struct {
	Page       int
	Prev, Next string // links; empty at either end
}

func newPager(u *url.URL, param string, page int, more bool) pager {
	link := func(n int) string {
		q := u.Query()
		q.Del(param)
		if n > 1 {
			q.Set(param, strconv.Itoa(n))
		}
		if len(q) == 0 {
			return u.Path
		}
		return u.Path + "?" + q.Encode()
	}
	p := pager{Page: page}
	if page > 1 {
		p.Prev = link(page - 1)
	}
	if more {
		p.Next = link(page + 1)
	}
	return p
}

// pageOf reads a 1-based page number; anything else is the first page.
func pageOf(q url.Values, param string) int {
	n, err := strconv.Atoi(q.Get(param))
	if err != nil || n < 1 || n > 1_000_000 {
		return 1
	}
	return n
}
