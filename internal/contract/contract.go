// Package contract prints the subscriber's contract: a one-page PDF with the
// provider's details, the subscriber's, the tariff, and the login and
// password. The password is printed only at signing (or at a reset without
// e-mail): Kabinet never shows it again, so the paper is the one copy.
package contract

import (
	"bytes"
	"fmt"
	"io"
	"io/fs"
	"strings"
	"time"

	"github.com/signintech/gopdf"

	"github.com/kabinet-billing/kabinet/internal/config"
)

// Fonts are the TrueType faces Kabinet's PDFs (contracts, statements)
// embed; they must cover Cyrillic.
type Fonts struct {
	Regular, Bold []byte
}

// LoadFonts reads fonts/DejaVuSans.ttf and fonts/DejaVuSans-Bold.ttf from
// fsys (the embedded web.FS in the binary, a directory in tests). The binary
// reads them once, for every PDF it makes.
func LoadFonts(fsys fs.FS) (Fonts, error) {
	r, err := fs.ReadFile(fsys, "fonts/DejaVuSans.ttf")
	if err != nil {
		return Fonts{}, fmt.Errorf("pdf font: %w", err)
	}
	b, err := fs.ReadFile(fsys, "fonts/DejaVuSans-Bold.ttf")
	if err != nil {
		return Fonts{}, fmt.Errorf("pdf font: %w", err)
	}
	return Fonts{Regular: r, Bold: b}, nil
}

// Add registers the faces with pdf as "dejavu" and "dejavu-bold".
func (f Fonts) Add(pdf *gopdf.GoPdf) error {
	if err := pdf.AddTTFFontData("dejavu", f.Regular); err != nil {
		return fmt.Errorf("pdf font: %w", err)
	}
	if err := pdf.AddTTFFontData("dejavu-bold", f.Bold); err != nil {
		return fmt.Errorf("pdf font: %w", err)
	}
	return nil
}

// Document is what the contract says.
type Document struct {
	Lang       string // ru (default) or en
	Provider   config.Provider
	ContractNo string
	Date       time.Time // the contract date, in the provider's zone
	Name       string
	Address    string
	City       string
	Phone      string
	Email      string
	Passport   string // formatted; empty: not stated
	Tariff     string
	TariffFee  string // formatted
	Speed      string // formatted, e.g. "100 Мбит/с": download
	UpSpeed    string // upload; empty: not printed
	Login      string
	Password   string // empty: the credentials block says the password was mailed
	PortalURL  string
	// Kind is "contract" for a new contract, "reset" for the sheet handed
	// out when a password is reset for a subscriber without e-mail.
	Kind string
}

// labels are the PDF's words in each language.
var labels = map[string]map[string]string{
	"ru": {
		"title":           "Договор на оказание услуг связи № %s",
		"reset_title":     "Новый пароль к договору № %s",
		"date":            "Дата: %s",
		"provider":        "Оператор",
		"inn":             "ИНН",
		"legal_name":      "Наименование",
		"legal_address":   "Юридический адрес",
		"passport":        "Паспорт",
		"up_speed":        "Скорость отдачи",
		"subscriber":      "Абонент",
		"name":            "ФИО",
		"address":         "Адрес подключения",
		"phone":           "Телефон",
		"email":           "Эл. почта",
		"service":         "Услуга",
		"tariff":          "Тариф",
		"fee":             "Абонентская плата в месяц",
		"speed":           "Скорость загрузки",
		"credentials":     "Данные для входа в интернет и личный кабинет",
		"login":           "Логин",
		"password":        "Пароль",
		"no_password":     "отправлен на адрес эл. почты абонента",
		"portal":          "Личный кабинет",
		"keep":            "Храните пароль в тайне. Оператор не показывает его повторно; сменить его можно в личном кабинете.",
		"terms":           "Абонентская плата списывается 1-го числа каждого месяца. При задолженности, не погашенной до 1-го числа следующего месяца, скорость ограничивается; после оплаты ограничение снимается автоматически.",
		"sign_provider":   "Оператор: ____________________",
		"sign_subscriber": "Абонент: ____________________",
	},
	"en": {
		"title":           "Communication services contract No. %s",
		"reset_title":     "New password for contract No. %s",
		"date":            "Date: %s",
		"provider":        "Provider",
		"inn":             "Tax ID",
		"legal_name":      "Name",
		"legal_address":   "Registered address",
		"passport":        "Passport",
		"up_speed":        "Upload speed",
		"subscriber":      "Subscriber",
		"name":            "Name",
		"address":         "Service address",
		"phone":           "Phone",
		"email":           "E-mail",
		"service":         "Service",
		"tariff":          "Tariff",
		"fee":             "Monthly fee",
		"speed":           "Download speed",
		"credentials":     "Login for the internet and the personal account",
		"login":           "Login",
		"password":        "Password",
		"no_password":     "sent to the subscriber's e-mail",
		"portal":          "Personal account",
		"keep":            "Keep the password secret. The provider never shows it again; you can change it in your personal account.",
		"terms":           "The monthly fee is charged on the 1st of every month. Debt not paid by the next 1st limits the speed; a payment lifts the limit at once.",
		"sign_provider":   "Provider: ____________________",
		"sign_subscriber": "Subscriber: ____________________",
	},
}

// Render writes the PDF of d to w.
func Render(w io.Writer, d Document, f Fonts) error {
	L, ok := labels[d.Lang]
	if !ok {
		L = labels["ru"]
	}
	pdf := &gopdf.GoPdf{}
	pdf.Start(gopdf.Config{PageSize: *gopdf.PageSizeA4, Unit: gopdf.UnitPT})
	pdf.SetInfo(gopdf.PdfInfo{Title: fmt.Sprintf(L["title"], d.ContractNo), Author: d.Provider.LegalName, Creator: "Kabinet", CreationDate: d.Date})
	if err := f.Add(pdf); err != nil {
		return fmt.Errorf("contract pdf: %w", err)
	}
	pdf.AddPage()
	p := &page{pdf: pdf, x: 50, width: 495}
	p.y = 50
	title := L["title"]
	if d.Kind == "reset" {
		title = L["reset_title"]
	}
	p.text("dejavu-bold", 15, fmt.Sprintf(title, d.ContractNo))
	p.text("dejavu", 10, fmt.Sprintf(L["date"], d.Date.Format("02.01.2006")))
	p.gap(8)

	p.heading(L["provider"])
	p.pair(L["legal_name"], d.Provider.LegalName)
	p.pair(L["inn"], d.Provider.INN)
	p.pair(L["legal_address"], d.Provider.Address)
	p.pair(L["phone"], d.Provider.Phone)
	p.gap(6)

	p.heading(L["subscriber"])
	p.pair(L["name"], d.Name)
	addr := d.Address
	if d.City != "" && addr != "" {
		addr = d.City + ", " + addr
	}
	p.pair(L["address"], addr)
	p.pair(L["phone"], d.Phone)
	p.pair(L["email"], d.Email)
	if d.Passport != "" {
		p.pair(L["passport"], d.Passport)
	}
	p.gap(6)

	if d.Kind != "reset" {
		p.heading(L["service"])
		p.pair(L["tariff"], d.Tariff)
		p.pair(L["fee"], d.TariffFee)
		p.pair(L["speed"], d.Speed)
		if d.UpSpeed != "" {
			p.pair(L["up_speed"], d.UpSpeed)
		}
		p.gap(6)
	}

	// The credentials in a box, large, so they are typed right from paper.
	p.heading(L["credentials"])
	top := p.y
	p.y += 8
	p.pairSize(L["login"], d.Login, 14)
	pw := d.Password
	if pw == "" {
		p.pair(L["password"], L["no_password"])
	} else {
		p.pairSize(L["password"], pw, 14)
	}
	if d.PortalURL != "" {
		p.pair(L["portal"], d.PortalURL)
	}
	p.y += 4
	pdf.SetLineWidth(1)
	pdf.RectFromUpperLeftWithStyle(p.x-6, top, p.width+12, p.y-top, "D")
	p.gap(8)
	p.para("dejavu", 9, L["keep"])
	if d.Kind != "reset" {
		p.gap(4)
		p.para("dejavu", 9, L["terms"])
	}
	p.gap(40)
	pdf.SetFont("dejavu", "", 10)
	pdf.SetXY(p.x, p.y)
	pdf.Text(L["sign_provider"])
	pdf.SetXY(p.x+260, p.y)
	pdf.Text(L["sign_subscriber"])

	var buf bytes.Buffer
	if err := pdf.Write(&buf); err != nil {
		return fmt.Errorf("contract pdf: %w", err)
	}
	_, err := w.Write(buf.Bytes())
	return err
}

// page lays text out top to bottom.
type page struct {
	pdf   *gopdf.GoPdf
	x, y  float64
	width float64
}

func (p *page) gap(h float64) { p.y += h }

func (p *page) text(font string, size float64, s string) {
	p.pdf.SetFont(font, "", size)
	p.pdf.SetXY(p.x, p.y)
	p.pdf.Cell(&gopdf.Rect{W: p.width, H: size + 4}, s)
	p.y += size + 6
}

func (p *page) heading(s string) {
	p.text("dejavu-bold", 11, s)
}

func (p *page) pair(label, value string) { p.pairSize(label, value, 10) }

func (p *page) pairSize(label, value string, size float64) {
	if value == "" {
		value = "—"
	}
	p.pdf.SetFont("dejavu", "", 10)
	p.pdf.SetXY(p.x, p.y+(size-10))
	p.pdf.Cell(&gopdf.Rect{W: 170, H: size + 4}, label+":")
	font := "dejavu"
	if size > 10 {
		font = "dejavu-bold"
	}
	p.pdf.SetFont(font, "", size)
	p.pdf.SetXY(p.x+175, p.y)
	p.pdf.Cell(&gopdf.Rect{W: p.width - 175, H: size + 4}, value)
	p.y += size + 6
}

func (p *page) para(font string, size float64, s string) {
	p.pdf.SetFont(font, "", size)
	for _, l := range p.wrap(s) {
		p.pdf.SetXY(p.x, p.y)
		p.pdf.Cell(&gopdf.Rect{W: p.width, H: size + 3}, l)
		p.y += size + 3
	}
}

// wrap breaks s into lines that fit the page at the current font, at spaces
// (gopdf's SplitText breaks inside words).
func (p *page) wrap(s string) []string {
	var lines []string
	line := ""
	for _, word := range strings.Fields(s) {
		try := word
		if line != "" {
			try = line + " " + word
		}
		if w, err := p.pdf.MeasureTextWidth(try); err == nil && w > p.width && line != "" {
			lines = append(lines, line)
			line = word
			continue
		}
		line = try
	}
	if line != "" {
		lines = append(lines, line)
	}
	return lines
}
