package documents

import (
	"bytes"
	"fmt"
	"strings"

	"github.com/signintech/gopdf"

	"github.com/kabinet-billing/kabinet/internal/money"
)

// Render draws a document's PDF from its data. Issuing stores the result;
// the same data draws the same pages again.
func (s *Service) Render(d Data) ([]byte, error) {
	fonts := s.fonts
	if s.subset.covers(d) {
		fonts = s.subset.fonts
	}
	return render(d, fonts)
}

func render(d Data, fonts *gopdf.FontContainer) ([]byte, error) {
	pdf := &gopdf.GoPdf{}
	size := *gopdf.PageSizeA4
	if d.Kind == UPD {
		size = *gopdf.PageSizeA4Landscape
	}
	pdf.Start(gopdf.Config{PageSize: size, Unit: gopdf.UnitPT})
	// zlib's fastest level: most of a run's CPU is compressing the
	// embedded fonts, and the best level saves little on them.
	pdf.SetCompressLevel(1)
	date := parseDay(d.Date)
	pdf.SetInfo(gopdf.PdfInfo{Title: fmt.Sprintf("%s № %s от %s", TitleOf(d.Kind), d.Number, date.Format("02.01.2006")),
		Author: d.Seller.Name, Creator: "Kabinet", CreationDate: date})
	for _, f := range []string{regular, bold} {
		if err := pdf.AddTTFFontFromFontContainer(f, fonts); err != nil {
			return nil, fmt.Errorf("pdf font: %w", err)
		}
	}
	pdf.AddPage()
	c := &sheet{pdf: pdf, left: 40, right: size.W - 40, top: 36, bottom: size.H - 40}
	c.y = c.top
	switch d.Kind {
	case Invoice:
		drawInvoice(c, d)
	case Act:
		drawAct(c, d)
	case UPD:
		drawUPD(c, d)
	case Reconciliation:
		drawReconciliation(c, d)
	default:
		return nil, fmt.Errorf("document kind %q", d.Kind)
	}
	var buf bytes.Buffer
	if err := pdf.Write(&buf); err != nil {
		return nil, fmt.Errorf("pdf: %w", err)
	}
	return buf.Bytes(), nil
}

// details is a party's line on an invoice or act: name, INN, KPP, address.
func details(p Party, bank bool) string {
	parts := []string{p.Name}
	if p.INN != "" {
		parts = append(parts, "ИНН "+p.INN)
	}
	if p.KPP != "" {
		parts = append(parts, "КПП "+p.KPP)
	}
	if p.Address != "" {
		parts = append(parts, p.Address)
	}
	if p.Phone != "" {
		parts = append(parts, "тел.: "+p.Phone)
	}
	if bank && p.Account != "" {
		parts = append(parts, "р/с "+p.Account)
		if p.Bank != "" {
			parts = append(parts, "в банке "+p.Bank)
		}
		if p.BIK != "" {
			parts = append(parts, "БИК "+p.BIK)
		}
		if p.CorrAccount != "" {
			parts = append(parts, "к/с "+p.CorrAccount)
		}
	}
	return strings.Join(parts, ", ")
}

func orDash(s string) string {
	if strings.TrimSpace(s) == "" {
		return "—"
	}
	return s
}

// title writes a document's title with the thick rule under it.
func title(c *sheet, s string) {
	c.font(bold, 14)
	c.para(c.left, c.width(), s, gopdf.Left)
	c.y += 2
	c.hline(c.left, c.right, c.y, 1.5)
	c.y += 8
}

// labelled writes "label: value" with the label in a column of its own.
func labelled(c *sheet, label, value string, labelW float64) {
	c.font(regular, 9)
	ly := c.y
	for _, l := range strings.Split(label, "\n") {
		c.text(c.left, ly, labelW, l, gopdf.Left)
		ly += c.lineH()
	}
	c.font(bold, 9)
	c.para(c.left+labelW, c.width()-labelW, value, gopdf.Left)
	c.y = max(c.y, ly) + 3
}

// itemsTable is the №, name, qty, unit, price, sum table of an invoice or
// act, followed by its totals.
func itemsTable(c *sheet, d Data, nameTitle string) {
	w := c.width()
	cols := []column{{"№", 24, gopdf.Center}, {nameTitle, w - 24 - 44 - 36 - 70 - 76, gopdf.Left}, {"Кол-во", 44, gopdf.Right},
		{"Ед.", 36, gopdf.Center}, {"Цена", 70, gopdf.Right}, {"Сумма", 76, gopdf.Right}}
	rows := make([][]string, len(d.Lines))
	for i, l := range d.Lines {
		rows[i] = []string{fmt.Sprint(i + 1), l.Name, fmt.Sprint(l.Qty), l.Unit, num(l.Price), num(l.Sum)}
	}
	c.table(cols, rows, 8.5, nil)
	c.y += 4
	totals := [][2]string{{"Итого:", num(d.Total)}}
	if d.WithoutVAT() {
		totals = append(totals, [2]string{"Без налога (НДС)", "—"})
	} else {
		totals = append(totals, [2]string{fmt.Sprintf("В том числе НДС (%d%%):", d.VATRate), num(d.VAT)})
	}
	if d.Kind == Invoice {
		totals = append(totals, [2]string{"Всего к оплате:", num(d.Total)})
	}
	c.font(bold, 9)
	for _, t := range totals {
		c.need(c.lineH())
		c.text(c.left, c.y, w-80, t[0], gopdf.Right)
		c.text(c.right-76, c.y, 76-2.5, t[1], gopdf.Right)
		c.y += c.lineH()
	}
	c.y += 6
}

// signature writes "role ____ (name)" at x in width w.
func signature(c *sheet, x, w float64, role, name string) {
	c.font(bold, 9)
	c.text(x, c.y, 90, role, gopdf.Left)
	c.font(regular, 9)
	lineX := x + 92
	lineW := w - 92
	c.hline(lineX, lineX+lineW*0.45, c.y+c.lineH(), 0.5)
	c.hline(lineX+lineW*0.5, lineX+lineW, c.y+c.lineH(), 0.5)
	c.text(lineX+lineW*0.5, c.y, lineW*0.5, name, gopdf.Center)
	c.font(regular, 6.5)
	c.text(lineX, c.y+c.lineH()*2.1, lineW*0.45, "подпись", gopdf.Center)
	c.text(lineX+lineW*0.5, c.y+c.lineH()*2.1, lineW*0.5, "расшифровка подписи", gopdf.Center)
}

// boxed writes s wrapped to w, at most n lines, from y down.
func boxed(c *sheet, x, y, w float64, n int, s string) {
	lines := c.wrap(s, w)
	if len(lines) > n {
		lines = lines[:n]
	}
	for i, l := range lines {
		c.text(x, y+float64(i)*c.lineH(), w, l, gopdf.Left)
	}
}

func drawInvoice(c *sheet, d Data) {
	s := d.Seller
	// The bank's block: where to pay, as a payment order is filled in.
	c.font(regular, 8)
	c.para(c.left, c.width(), "Внимание! Оплата данного счёта означает согласие с условиями оказания услуг. В назначении платежа, пожалуйста, укажите номер счёта: «Оплата по счёту № "+d.Number+"».", gopdf.Left)
	c.y += 4
	x0, top := c.left, c.y
	wName, wLabel := c.width()*0.56, c.width()*0.09
	wValue := c.width() - wName - wLabel
	rowH := 13.0
	c.font(regular, 9)
	// Bank row (two lines high) with BIK and the correspondent account.
	c.box(x0, top, wName, rowH*2.4)
	boxed(c, x0+3, top+2, wName-6, 2, s.Bank)
	c.font(regular, 7)
	c.text(x0+3, top+rowH*2.4-10, wName-6, "Банк получателя", gopdf.Left)
	c.font(regular, 9)
	c.box(x0+wName, top, wLabel, rowH)
	c.text(x0+wName+3, top+2, wLabel-6, "БИК", gopdf.Left)
	c.box(x0+wName+wLabel, top, wValue, rowH)
	c.text(x0+wName+wLabel+3, top+2, wValue-6, s.BIK, gopdf.Left)
	c.box(x0+wName, top+rowH, wLabel, rowH*1.4)
	c.text(x0+wName+3, top+rowH+2, wLabel-6, "Сч. №", gopdf.Left)
	c.box(x0+wName+wLabel, top+rowH, wValue, rowH*1.4)
	c.text(x0+wName+wLabel+3, top+rowH+2, wValue-6, s.CorrAccount, gopdf.Left)
	// Recipient rows: INN and KPP, then the name; the account beside.
	y2 := top + rowH*2.4
	c.box(x0, y2, wName/2, rowH)
	c.text(x0+3, y2+2, wName/2-6, "ИНН "+s.INN, gopdf.Left)
	c.box(x0+wName/2, y2, wName/2, rowH)
	c.text(x0+wName/2+3, y2+2, wName/2-6, "КПП "+s.KPP, gopdf.Left)
	c.box(x0, y2+rowH, wName, rowH*2.4)
	boxed(c, x0+3, y2+rowH+2, wName-6, 2, s.Name)
	c.font(regular, 7)
	c.text(x0+3, y2+rowH*3.4-10, wName-6, "Получатель", gopdf.Left)
	c.font(regular, 9)
	c.box(x0+wName, y2, wLabel, rowH*3.4)
	c.text(x0+wName+3, y2+2, wLabel-6, "Сч. №", gopdf.Left)
	c.box(x0+wName+wLabel, y2, wValue, rowH*3.4)
	c.text(x0+wName+wLabel+3, y2+2, wValue-6, s.Account, gopdf.Left)
	c.y = y2 + rowH*3.4 + 14

	title(c, fmt.Sprintf("Счёт на оплату № %s от %s", d.Number, DateRu(parseDay(d.Date))))
	labelled(c, "Поставщик\n(Исполнитель):", details(s, false), 90)
	labelled(c, "Покупатель\n(Заказчик):", details(d.Buyer, false), 90)
	if d.Basis != "" {
		labelled(c, "Основание:", d.Basis, 90)
	}
	c.y += 4
	itemsTable(c, d, "Товары (работы, услуги)")
	c.font(regular, 9)
	c.para(c.left, c.width(), fmt.Sprintf("Всего наименований %d, на сумму %s руб.", len(d.Lines), num(d.Total)), gopdf.Left)
	c.font(bold, 9)
	c.para(c.left, c.width(), InWords(d.Total), gopdf.Left)
	c.y += 6
	c.font(regular, 8)
	if d.PayBy != "" {
		c.para(c.left, c.width(), "Оплатить не позднее "+parseDay(d.PayBy).Format("02.01.2006")+".", gopdf.Left)
	}
	c.para(c.left, c.width(), "Счёт за услуги на "+MonthRu(parseDay(d.From))+" Акт оказанных услуг направляется по окончании месяца.", gopdf.Left)
	c.y += 4
	c.hline(c.left, c.right, c.y, 1.5)
	c.y += 14
	c.need(60)
	half := c.width() / 2
	signature(c, c.left, half-10, "Руководитель", s.Director)
	signature(c, c.left+half+10, half-10, "Бухгалтер", s.Accountant)
	c.y += 38
	c.font(bold, 10)
	c.text(c.left+92, c.y, 60, "М.П.", gopdf.Left)
	c.y += 14
}

func drawAct(c *sheet, d Data) {
	title(c, fmt.Sprintf("Акт оказанных услуг № %s от %s", d.Number, DateRu(parseDay(d.Date))))
	labelled(c, "Исполнитель:", details(d.Seller, true), 80)
	labelled(c, "Заказчик:", details(d.Buyer, false), 80)
	if d.Basis != "" {
		labelled(c, "Основание:", d.Basis, 80)
	}
	c.y += 4
	itemsTable(c, d, "Наименование работ, услуг")
	c.font(regular, 9)
	c.para(c.left, c.width(), fmt.Sprintf("Всего оказано услуг %d, на сумму %s руб.", len(d.Lines), num(d.Total)), gopdf.Left)
	c.font(bold, 9)
	c.para(c.left, c.width(), InWords(d.Total), gopdf.Left)
	c.y += 6
	c.font(regular, 8.5)
	c.para(c.left, c.width(), "Вышеперечисленные услуги выполнены полностью и в срок. Заказчик претензий по объёму, качеству и срокам оказания услуг не имеет.", gopdf.Left)
	c.y += 4
	c.hline(c.left, c.right, c.y, 1.5)
	c.y += 12
	c.need(90)
	half := c.width() / 2
	c.font(bold, 9)
	c.text(c.left, c.y, half, "ИСПОЛНИТЕЛЬ", gopdf.Left)
	c.text(c.left+half+10, c.y, half, "ЗАКАЗЧИК", gopdf.Left)
	c.y += c.lineH()
	c.font(regular, 8.5)
	c.text(c.left, c.y, half-10, orDash(d.Seller.DirectorTitle)+", "+d.Seller.Title(), gopdf.Left)
	c.text(c.left+half+10, c.y, half-10, d.Buyer.Title(), gopdf.Left)
	c.y += c.lineH() + 8
	signature(c, c.left, half-10, "", d.Seller.Director)
	signature(c, c.left+half+10, half-10, "", d.Buyer.Director)
	c.y += 38
	c.font(bold, 10)
	c.text(c.left+92, c.y, 60, "М.П.", gopdf.Left)
	c.text(c.left+half+10+92, c.y, 60, "М.П.", gopdf.Left)
	c.y += 14
}

func drawUPD(c *sheet, d Data) {
	// Left: the status box; right: the invoice's (счёт-фактура's) header.
	leftW := 118.0
	x := c.left + leftW + 8
	w := c.right - x
	top := c.y
	c.font(bold, 9)
	c.text(c.left, top, leftW, "Универсальный", gopdf.Left)
	c.text(c.left, top+11, leftW, "передаточный", gopdf.Left)
	c.text(c.left, top+22, leftW, "документ", gopdf.Left)
	c.font(regular, 8)
	c.text(c.left, top+40, 40, "Статус:", gopdf.Left)
	c.box(c.left+40, top+37, 22, 16)
	c.font(bold, 11)
	c.text(c.left+40, top+39, 22, fmt.Sprint(d.UPDStatus), gopdf.Center)
	c.font(regular, 6.5)
	c.y = top + 58
	for _, l := range []string{"1 — счёт-фактура и передаточный", "документ (акт)", "2 — передаточный документ (акт)"} {
		c.text(c.left, c.y, leftW, l, gopdf.Left)
		c.y += 8.5
	}
	date := parseDay(d.Date).Format("02.01.2006")
	c.y = top
	c.font(bold, 10)
	c.text(x, c.y, w, fmt.Sprintf("Счёт-фактура № %s от %s   (1)", d.Number, date), gopdf.Left)
	c.y += 13
	c.font(regular, 8)
	c.text(x, c.y, w, "Исправление № —  от —   (1а)", gopdf.Left)
	c.y += 11
	seller, buyer := d.Seller, d.Buyer
	head := [][2]string{
		{"Продавец:", seller.Name + "   (2)"},
		{"Адрес:", seller.Address + "   (2а)"},
		{"ИНН/КПП продавца:", seller.INN + "/" + seller.KPP + "   (2б)"},
		{"Грузоотправитель и его адрес:", "—   (3)"},
		{"Грузополучатель и его адрес:", "—   (4)"},
		{"К платёжно-расчётному документу:", "№ —  от —   (5)"},
		{"Документ об отгрузке:", fmt.Sprintf("№ п/п 1–%d № %s от %s   (5а)", len(d.Lines), d.Number, date)},
		{"Покупатель:", buyer.Name + "   (6)"},
		{"Адрес:", buyer.Address + "   (6а)"},
		{"ИНН/КПП покупателя:", buyer.INN + "/" + buyer.KPP + "   (6б)"},
		{"Валюта: наименование, код:", "Российский рубль, 643   (7)"},
		{"Идентификатор государственного контракта, договора (соглашения):", "—   (8)"},
	}
	for _, h := range head {
		c.font(regular, 7.5)
		c.text(x, c.y, 250, h[0], gopdf.Left)
		c.text(x+252, c.y, w-252, h[1], gopdf.Left)
		c.y += 9.5
	}
	c.y = max(c.y, top+90) + 6
	cols := []column{
		{"№ п/п", 24, gopdf.Center},
		{"Код товара/ работ, услуг", 40, gopdf.Center},
		{"Наименование товара (описание выполненных работ, оказанных услуг), имущественного права", 0, gopdf.Left},
		{"Код вида товара", 34, gopdf.Center},
		{"Ед. изм.: код", 30, gopdf.Center},
		{"Ед. изм.: усл. обозн.", 34, gopdf.Center},
		{"Коли-чество (объём)", 38, gopdf.Right},
		{"Цена (тариф) за единицу измерения", 58, gopdf.Right},
		{"Стоимость товаров (работ, услуг) без налога — всего", 66, gopdf.Right},
		{"В том числе сумма акциза", 40, gopdf.Center},
		{"Налоговая ставка", 42, gopdf.Center},
		{"Сумма налога, предъявляемая покупателю", 58, gopdf.Right},
		{"Стоимость товаров (работ, услуг) с налогом — всего", 66, gopdf.Right},
	}
	rest := c.width()
	for _, col := range cols {
		rest -= col.w
	}
	cols[2].w = rest
	rate := "без НДС"
	if !d.WithoutVAT() {
		rate = fmt.Sprintf("%d%%", d.VATRate)
	}
	vat := func(a string) string {
		if d.WithoutVAT() {
			return "без НДС"
		}
		return a
	}
	var rows [][]string
	for i, l := range d.Lines {
		net := l.Sum - l.VAT
		price := num(l.Price - VATIn(l.Price, max(d.VATRate, 0)))
		rows = append(rows, []string{fmt.Sprint(i + 1), "—", l.Name, "—", "362", l.Unit, fmt.Sprint(l.Qty), price, num(net), "без акциза", rate, vat(num(l.VAT)), num(l.Sum)})
	}
	rows = append(rows, []string{"", "", "Всего к оплате (9)", "", "", "", "", "", num(d.Total - d.VAT), "X", "", vat(num(d.VAT)), num(d.Total)})
	c.table(cols, rows, 7, map[int]bool{len(rows) - 1: true})
	c.y += 8
	c.need(150)
	half := c.width() / 2
	signature(c, c.left, half-10, "Руководитель", d.Seller.Director)
	signature(c, c.left+half+10, half-10, "Главный бухгалтер", d.Seller.Accountant)
	c.y += 32
	c.hline(c.left, c.right, c.y, 1)
	c.y += 6
	c.font(regular, 7.5)
	c.text(c.left, c.y, c.width(), "Основание передачи (сдачи) / получения (приёмки): "+orDash(d.Basis)+"   [8]", gopdf.Left)
	c.y += 10
	c.text(c.left, c.y, c.width(), "Данные о транспортировке и грузе: —   [9]", gopdf.Left)
	c.y += 14
	c.font(bold, 8)
	c.text(c.left, c.y, half, "Товар (груз) передал / услуги, результаты работ, права сдал", gopdf.Left)
	c.text(c.left+half+10, c.y, half, "Товар (груз) получил / услуги, результаты работ, права принял", gopdf.Left)
	c.y += 12
	signature(c, c.left, half-10, orDash(d.Seller.DirectorTitle), d.Seller.Director)
	signature(c, c.left+half+10, half-10, "", "")
	c.y += 30
	c.font(regular, 7.5)
	c.text(c.left, c.y, half, "Дата отгрузки, передачи (сдачи): "+DateRu(parseDay(d.Date))+"   [11]", gopdf.Left)
	c.text(c.left+half+10, c.y, half, "Дата получения (приёмки): «___» __________ 20__ г.   [16]", gopdf.Left)
	c.y += 12
	c.text(c.left, c.y, half, "Наименование экономического субъекта — составителя документа: "+d.Seller.Title(), gopdf.Left)
	c.text(c.left+half+10, c.y, half, "Наименование экономического субъекта — составителя документа: "+d.Buyer.Title(), gopdf.Left)
	c.y += 14
	c.font(bold, 10)
	c.text(c.left, c.y, 60, "М.П.", gopdf.Left)
	c.text(c.left+half+10, c.y, 60, "М.П.", gopdf.Left)
	c.y += 14
}

func drawReconciliation(c *sheet, d Data) {
	from, to := parseDay(d.From).Format("02.01.2006"), parseDay(d.To).Format("02.01.2006")
	seller, buyer := d.Seller.Title(), d.Buyer.Title()
	c.font(bold, 14)
	c.text(c.left, c.y, c.width(), "Акт сверки", gopdf.Center)
	c.y += 18
	c.font(bold, 10)
	c.para(c.left, c.width(), fmt.Sprintf("взаимных расчётов за период: %s — %s", from, to), gopdf.Center)
	c.para(c.left, c.width(), fmt.Sprintf("между %s и %s", seller, buyer), gopdf.Center)
	if d.Basis != "" {
		c.para(c.left, c.width(), "по "+strings.Replace(d.Basis, "Договор", "договору", 1), gopdf.Center)
	}
	c.y += 6
	c.font(regular, 8.5)
	who := strings.TrimSpace(strings.Join([]string{d.Seller.DirectorTitle, seller, d.Seller.Director}, " "))
	c.para(c.left, c.width(), fmt.Sprintf("Мы, нижеподписавшиеся, %s, с одной стороны, и %s, с другой стороны, составили настоящий акт сверки (№ %s от %s) в том, что состояние взаимных расчётов по данным учёта следующее:",
		who, buyer, d.Number, parseDay(d.Date).Format("02.01.2006")), gopdf.Left)
	c.y += 6
	half := c.width() / 2
	c.font(bold, 8)
	c.box(c.left, c.y, half, 14)
	c.box(c.left+half, c.y, half, 14)
	c.text(c.left+3, c.y+3, half-6, "По данным "+seller+", руб.", gopdf.Left)
	c.text(c.left+half+3, c.y+3, half-6, "По данным "+buyer+", руб.", gopdf.Left)
	c.y += 14
	dw, amtW := 52.0, 52.0
	docW := half - dw - 2*amtW
	cols := []column{{"Дата", dw, gopdf.Center}, {"Документ", docW, gopdf.Left}, {"Дебет", amtW, gopdf.Right}, {"Кредит", amtW, gopdf.Right},
		{"Дата", dw, gopdf.Center}, {"Документ", docW, gopdf.Left}, {"Дебет", amtW, gopdf.Right}, {"Кредит", amtW, gopdf.Right}}
	side := func(a balance) (string, string) {
		if a.debit > 0 {
			return num(money.Amount(a.debit)), ""
		}
		if a.credit > 0 {
			return "", num(money.Amount(a.credit))
		}
		return "", ""
	}
	opening := balanceOf(int64(d.Opening))
	closing := balanceOf(int64(d.Closing))
	od, oc := side(opening)
	rows := [][]string{{"", "Сальдо начальное", od, oc, "", "Сальдо начальное", "", ""}}
	for _, e := range d.Entries {
		var dr, cr string
		if e.Debit != 0 {
			dr = num(e.Debit)
		}
		if e.Credit != 0 {
			cr = num(e.Credit)
		}
		rows = append(rows, []string{parseDay(e.Date).Format("02.01.2006"), e.Text, dr, cr, "", "", "", ""})
	}
	rows = append(rows, []string{"", "Обороты за период", num(d.Debits), num(d.Credits), "", "Обороты за период", "", ""})
	cd, cc := side(closing)
	rows = append(rows, []string{"", "Сальдо конечное", cd, cc, "", "Сальдо конечное", "", ""})
	c.table(cols, rows, 7.5, map[int]bool{0: true, len(rows) - 2: true, len(rows) - 1: true})
	c.y += 8
	c.font(regular, 8.5)
	c.para(c.left, half-10, "По данным "+seller, gopdf.Left)
	c.font(bold, 8.5)
	switch {
	case d.Closing > 0:
		c.para(c.left, half-10, fmt.Sprintf("на %s задолженность в пользу %s %s руб. (%s)", to, seller, num(d.Closing), InWords(d.Closing)), gopdf.Left)
	case d.Closing < 0:
		c.para(c.left, half-10, fmt.Sprintf("на %s задолженность в пользу %s %s руб. (%s)", to, buyer, num(-d.Closing), InWords(-d.Closing)), gopdf.Left)
	default:
		c.para(c.left, half-10, fmt.Sprintf("на %s задолженность отсутствует.", to), gopdf.Left)
	}
	c.y += 12
	c.need(90)
	c.font(bold, 9)
	c.text(c.left, c.y, half, "От "+seller, gopdf.Left)
	c.text(c.left+half+10, c.y, half, "От "+buyer, gopdf.Left)
	c.y += c.lineH() + 2
	c.font(regular, 8.5)
	c.text(c.left, c.y, half-10, orDash(d.Seller.DirectorTitle), gopdf.Left)
	c.y += c.lineH() + 6
	signature(c, c.left, half-10, "", d.Seller.Director)
	signature(c, c.left+half+10, half-10, "", d.Buyer.Director)
	c.y += 38
	c.font(bold, 10)
	c.text(c.left+92, c.y, 60, "М.П.", gopdf.Left)
	c.text(c.left+half+10+92, c.y, 60, "М.П.", gopdf.Left)
	c.y += 14
}

// balance is a reconciliation's balance on one side: debit when the
// organisation owes, credit when it paid ahead.
type balance struct{ debit, credit int64 }

func balanceOf(owed int64) balance {
	if owed > 0 {
		return balance{debit: owed}
	}
	return balance{credit: -owed}
}
