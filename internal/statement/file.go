package statement

import (
	"bytes"
	"context"
	"fmt"

	"github.com/signintech/gopdf"

	"github.com/kabinet-billing/kabinet/internal/config"
	"github.com/kabinet-billing/kabinet/internal/csvfile"
	"github.com/kabinet-billing/kabinet/internal/money"
	"github.com/kabinet-billing/kabinet/internal/subscriber"
)

// File is a statement as a document to download.
type File struct {
	Name        string // statement-<contract>-<from>-<to>.<format>
	ContentType string
	Body        []byte
}

// File renders the account's whole statement for p as "csv" or "pdf".
func (s *Service) File(ctx context.Context, lang string, a subscriber.Account, p Period, format string) (File, error) {
	if format != "csv" && format != "pdf" {
		return File{}, fmt.Errorf("statement format %q", format)
	}
	st, err := s.For(ctx, lang, a, p, zeroPage)
	if err != nil {
		return File{}, err
	}
	f := File{Name: fmt.Sprintf("statement-%s-%s-%s.%s", a.ContractNo, p.FromISO(), p.ToISO(), format)}
	if format == "csv" {
		f.ContentType = "text/csv; charset=utf-8"
		f.Body, err = s.CSV(lang, st)
		return f, err
	}
	f.ContentType = "application/pdf"
	f.Body, err = s.PDF(lang, st)
	return f, err
}

// CSV is the statement as a spreadsheet in lang's locale reads it (see
// csvfile).
func (s *Service) CSV(lang string, st Statement) ([]byte, error) {
	var buf bytes.Buffer
	c := csvfile.NewWriter(&buf, lang)
	t := func(id string) string { return s.words.T(lang, id, nil) }
	from, to := st.Period.FromISO(), st.Period.ToISO()
	c.Write(t("statement.contract"), st.Account.ContractNo, t("statement.period"), from, to)
	c.Write(t("statement.date"), t("statement.description"), t("statement.amount"), t("statement.balance"))
	c.Write(from, t("statement.opening"), "", st.Opening)
	for _, l := range st.Lines {
		c.Write(l.EffectiveAt.In(s.zone).Format("2006-01-02 15:04"), l.Description, l.Amount, l.Balance)
	}
	c.Write("", t("statement.credits"), st.Credits, "")
	c.Write("", t("statement.debits"), st.Debits, "")
	c.Write(to, t("statement.closing"), "", st.Closing)
	if err := c.Flush(); err != nil {
		return nil, fmt.Errorf("statement csv: %w", err)
	}
	return buf.Bytes(), nil
}

// PDF lays the statement out on A4 pages with the provider's details, the
// opening and closing balance and the totals.
func (s *Service) PDF(lang string, st Statement) ([]byte, error) {
	pdf := &gopdf.GoPdf{}
	pdf.Start(gopdf.Config{PageSize: *gopdf.PageSizeA4})
	if err := s.fonts.Add(pdf); err != nil {
		return nil, fmt.Errorf("statement pdf: %w", err)
	}
	const regular, bold = "dejavu", "dejavu-bold"
	t := func(id string) string { return s.words.T(lang, id, nil) }
	fmtMoney := func(m money.Amount) string { return m.Format(lang) }
	const left, right, bottom = 40.0, 555.0, 800.0
	var y float64
	text := func(font string, size float64, x float64, str string) {
		pdf.SetFont(font, "", size)
		pdf.SetXY(x, y)
		pdf.Text(str)
	}
	textRight := func(font string, size float64, x float64, str string) {
		pdf.SetFont(font, "", size)
		wd, _ := pdf.MeasureTextWidth(str)
		pdf.SetXY(x-wd, y)
		pdf.Text(str)
	}
	newPage := func() {
		pdf.AddPage()
		y = 50
	}
	newPage()
	text(bold, 14, left, s.provider.LegalName)
	y += 16
	for _, str := range providerLines(s.provider) {
		text(regular, 9, left, str)
		y += 12
	}
	y += 14
	text(bold, 16, left, t("statement.title"))
	y += 20
	text(regular, 10, left, fmt.Sprintf("%s: %s    %s: %s", t("statement.contract"), st.Account.ContractNo, t("statement.subscriber"), st.Account.Name))
	y += 14
	from, to := st.Period.From.Format("02.01.2006"), st.Period.To.Format("02.01.2006")
	text(regular, 10, left, fmt.Sprintf("%s: %s — %s", t("statement.period"), from, to))
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
		text(regular, 9, left, date)
		text(regular, 9, left+90, truncate(desc, 62))
		textRight(regular, 9, right-80, amount)
		textRight(regular, 9, right, balance)
		y += 14
	}
	row(from, t("statement.opening"), "", fmtMoney(st.Opening))
	for _, l := range st.Lines {
		row(l.EffectiveAt.In(s.zone).Format("02.01.2006 15:04"), l.Description, fmtMoney(l.Amount), fmtMoney(l.Balance))
	}
	pdf.Line(left, y-9, right, y-9)
	y += 4
	row("", t("statement.credits"), fmtMoney(st.Credits), "")
	row("", t("statement.debits"), fmtMoney(st.Debits), "")
	row(to, t("statement.closing"), "", fmtMoney(st.Closing))
	y += 10
	text(regular, 8, left, fmt.Sprintf("%s %s", t("statement.generated"), s.clock.Now().In(s.zone).Format("02.01.2006 15:04")))
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

func truncate(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}
