package portal

import (
	"bytes"
	"fmt"
	"net/http"
	"time"

	"github.com/signintech/gopdf"

	"github.com/kabinet-billing/kabinet/internal/config"
	"github.com/kabinet-billing/kabinet/internal/csvfile"
	"github.com/kabinet-billing/kabinet/internal/ledger"
	"github.com/kabinet-billing/kabinet/internal/money"
	"github.com/kabinet-billing/kabinet/internal/subscriber"
)

type statementData struct {
	From, To string // YYYY-MM-DD, both inclusive
	S        ledger.Statement
	Names    map[string]string
	Query    string
}

// period reads from/to (dates in the provider's zone, inclusive); the
// default is this month so far.
func (po *Portal) period(r *http.Request) (from, to time.Time, ok bool) {
	zone := po.p.Zone
	now := po.p.Clock.Now().In(zone)
	from = time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, zone)
	to = time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, zone)
	if s := r.URL.Query().Get("from"); s != "" {
		t, err := time.ParseInLocation("2006-01-02", s, zone)
		if err != nil {
			return from, to, false
		}
		from = t
	}
	if s := r.URL.Query().Get("to"); s != "" {
		t, err := time.ParseInLocation("2006-01-02", s, zone)
		if err != nil {
			return from, to, false
		}
		to = t
	}
	return from, to, !to.Before(from) && to.Sub(from) < 10*366*24*time.Hour
}

// describe is a statement line as the subscriber reads it.
func (po *Portal) describe(lang string, names map[string]string, l ledger.Line) string {
	s := po.p.I18n.T(lang, "ledger.kind."+l.Kind, nil)
	if n := names[l.Service]; n != "" {
		s += ": " + n
	} else if l.Service != "" {
		s += ": " + l.Service
	}
	if l.Period != "" {
		s += " (" + l.Period + ")"
	}
	return s
}

func (po *Portal) statement(w http.ResponseWriter, r *http.Request, a subscriber.Account) {
	from, to, ok := po.period(r)
	lang := po.p.LangOf(r)
	d := statementData{From: from.Format("2006-01-02"), To: to.Format("2006-01-02")}
	if !ok {
		v := po.view(r, a, "statement.title", "payments", d)
		v.Error = po.p.I18n.T(lang, "statement.error.period", nil)
		po.render(w, r, http.StatusUnprocessableEntity, "statement", v)
		return
	}
	var err error
	if d.S, err = ledger.StatementFor(r.Context(), po.d.DB, a.ID, from, to.AddDate(0, 0, 1)); err != nil {
		po.p.Fail(w, r, err)
		return
	}
	if d.Names, err = po.serviceNames(r, lang); err != nil {
		po.p.Fail(w, r, err)
		return
	}
	po.channelNames(lang, d.Names, d.S.Lines)
	d.Query = "from=" + d.From + "&to=" + d.To
	filename := fmt.Sprintf("statement-%s-%s-%s", a.ContractNo, d.From, d.To)
	switch r.URL.Query().Get("format") {
	case "csv":
		b, err := po.statementCSV(lang, a, d)
		if err != nil {
			po.p.Fail(w, r, err)
			return
		}
		w.Header().Set("Content-Type", "text/csv; charset=utf-8")
		w.Header().Set("Content-Disposition", `attachment; filename="`+filename+`.csv"`)
		w.Write(b)
	case "pdf":
		b, err := po.statementPDF(lang, a, d)
		if err != nil {
			po.p.Fail(w, r, err)
			return
		}
		w.Header().Set("Content-Type", "application/pdf")
		w.Header().Set("Content-Disposition", `attachment; filename="`+filename+`.pdf"`)
		w.Write(b)
	default:
		po.render(w, r, http.StatusOK, "statement", po.view(r, a, "statement.title", "payments", d))
	}
}

func (po *Portal) statementCSV(lang string, a subscriber.Account, d statementData) ([]byte, error) {
	var buf bytes.Buffer
	c := csvfile.NewWriter(&buf, lang)
	t := func(id string) string { return po.p.I18n.T(lang, id, nil) }
	c.Write(t("statement.contract"), a.ContractNo, t("statement.period"), d.From, d.To)
	c.Write(t("statement.date"), t("statement.description"), t("statement.amount"), t("statement.balance"))
	c.Write(d.From, t("statement.opening"), "", d.S.Opening)
	for _, l := range d.S.Lines {
		c.Write(l.EffectiveAt.In(po.p.Zone).Format("2006-01-02 15:04"), po.describe(lang, d.Names, l), l.Amount, l.Balance)
	}
	c.Write("", t("statement.credits"), d.S.Credits, "")
	c.Write("", t("statement.debits"), d.S.Debits, "")
	c.Write(d.To, t("statement.closing"), "", d.S.Closing)
	if err := c.Flush(); err != nil {
		return nil, fmt.Errorf("statement csv: %w", err)
	}
	return buf.Bytes(), nil
}

// statementPDF lays the statement out on A4 pages with the provider's
// details, the opening and closing balance and the totals.
func (po *Portal) statementPDF(lang string, a subscriber.Account, d statementData) ([]byte, error) {
	if len(po.d.Fonts.Regular) == 0 {
		return nil, fmt.Errorf("statement pdf: no font")
	}
	pdf := &gopdf.GoPdf{}
	pdf.Start(gopdf.Config{PageSize: *gopdf.PageSizeA4})
	if err := pdf.AddTTFFontData("r", po.d.Fonts.Regular); err != nil {
		return nil, fmt.Errorf("statement pdf: %w", err)
	}
	bold := "r"
	if len(po.d.Fonts.Bold) > 0 {
		if err := pdf.AddTTFFontData("b", po.d.Fonts.Bold); err != nil {
			return nil, fmt.Errorf("statement pdf: %w", err)
		}
		bold = "b"
	}
	t := func(id string) string { return po.p.I18n.T(lang, id, nil) }
	fmtMoney := func(m money.Amount) string { return m.Format(lang) }
	const left, right, bottom = 40.0, 555.0, 800.0
	var y float64
	text := func(font string, size float64, x float64, s string) {
		pdf.SetFont(font, "", size)
		pdf.SetXY(x, y)
		pdf.Text(s)
	}
	textRight := func(font string, size float64, x float64, s string) {
		pdf.SetFont(font, "", size)
		wd, _ := pdf.MeasureTextWidth(s)
		pdf.SetXY(x-wd, y)
		pdf.Text(s)
	}
	newPage := func() {
		pdf.AddPage()
		y = 50
	}
	newPage()
	prov := po.p.Config.Provider
	text(bold, 14, left, prov.LegalName)
	y += 16
	for _, s := range providerLines(prov) {
		text("r", 9, left, s)
		y += 12
	}
	y += 14
	text(bold, 16, left, t("statement.title"))
	y += 20
	text("r", 10, left, fmt.Sprintf("%s: %s    %s: %s", t("statement.contract"), a.ContractNo, t("statement.subscriber"), a.Name))
	y += 14
	text("r", 10, left, fmt.Sprintf("%s: %s — %s", t("statement.period"), dotDate(d.From), dotDate(d.To)))
	y += 22
	header := func() {
		pdf.SetLineWidth(0.5)
		text(bold, 9, left, t("statement.date"))
		text(bold, 9, left+90, t("statement.description"))
		textRight(bold, 9, right-80, t("statement.amount"))
		textRight(bold, 9, right, t("statement.balance"))
		y += 5
		pdf.Line(left, y, right, y)
		y += 13
	}
	header()
	row := func(date, desc string, amount, balance string) {
		if y > bottom {
			newPage()
			header()
		}
		text("r", 9, left, date)
		text("r", 9, left+90, truncate(desc, 62))
		textRight("r", 9, right-80, amount)
		textRight("r", 9, right, balance)
		y += 14
	}
	row(dotDate(d.From), t("statement.opening"), "", fmtMoney(d.S.Opening))
	for _, l := range d.S.Lines {
		row(l.EffectiveAt.In(po.p.Zone).Format("02.01.2006 15:04"), po.describe(lang, d.Names, l), fmtMoney(l.Amount), fmtMoney(l.Balance))
	}
	pdf.Line(left, y-9, right, y-9)
	y += 4
	row("", t("statement.credits"), fmtMoney(d.S.Credits), "")
	row("", t("statement.debits"), fmtMoney(d.S.Debits), "")
	row(dotDate(d.To), t("statement.closing"), "", fmtMoney(d.S.Closing))
	y += 10
	text("r", 8, left, fmt.Sprintf("%s %s", t("statement.generated"), po.p.Clock.Now().In(po.p.Zone).Format("02.01.2006 15:04")))
	var buf bytes.Buffer
	if err := pdf.Write(&buf); err != nil {
		return nil, fmt.Errorf("statement pdf: %w", err)
	}
	return buf.Bytes(), nil
}

func providerLines(p config.Provider) []string {
	var out []string
	if p.INN != "" {
		out = append(out, "ИНН "+p.INN)
	}
	for _, s := range []string{p.Address, p.Phone, p.Email, p.Site} {
		if s != "" {
			out = append(out, s)
		}
	}
	return out
}

func dotDate(iso string) string {
	t, err := time.Parse("2006-01-02", iso)
	if err != nil {
		return iso
	}
	return t.Format("02.01.2006")
}

func truncate(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}
