package admin_test

import (
	"bytes"
	"context"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/kabinet-billing/kabinet/internal/company"
	"github.com/kabinet-billing/kabinet/internal/money"
	"github.com/kabinet-billing/kabinet/internal/operator"
	"github.com/kabinet-billing/kabinet/internal/web/platform"
)

// upload posts a file as the bank page's form does.
func (c *client) upload(path, name string, file []byte) (int, string) {
	c.e.t.Helper()
	var body bytes.Buffer
	w := multipart.NewWriter(&body)
	w.WriteField("csrf", c.csrf)
	fw, _ := w.CreateFormFile("file", name)
	fw.Write(file)
	w.Close()
	req, _ := http.NewRequest("POST", c.e.srv.URL+path, &body)
	req.Header.Set("Content-Type", w.FormDataContentType())
	resp, err := c.c.Do(req)
	if err != nil {
		c.e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// An organisation is made through the form (a bad INN is named beside its
// field, nothing saved), gets a point and an employee; a statement is
// uploaded, its unmatched payment sorted to the organisation; every page
// reads in both languages.
func TestCompanyPages(t *testing.T) {
	e := newEnv(t, nil)
	admin := e.login(operator.RoleAdmin)
	form := url.Values{"full_name": {"ООО «Ромашка»"}, "inn": {"7707083894"}, "kpp": {"773601001"}, "bik": {"044525225"},
		"account": {"40702810938000000001"}, "email": {"buh@romashka.example"}}
	code, body := admin.post("/admin/companies", form)
	if code != http.StatusUnprocessableEntity || !strings.Contains(body, `aria-describedby="inn-error"`) || !strings.Contains(body, "контрольными цифрами") ||
		!strings.Contains(body, `value="ООО «Ромашка»"`) {
		t.Fatalf("bad INN: %d\n%s", code, body)
	}
	if p, _ := e.company.List(context.Background(), company.Query{}); p.Total != 0 {
		t.Fatalf("saved despite the bad INN: %+v", p)
	}
	form.Set("inn", "7707083893")
	form.Set("closing", "invoice")
	if code, body := admin.post("/admin/companies", form); code != http.StatusUnprocessableEntity || !strings.Contains(body, `<option value="upd" >`) {
		t.Fatalf("closing \"invoice\": %d", code)
	}
	form.Set("closing", "upd")
	if code, loc := admin.post("/admin/companies", form); code != http.StatusSeeOther || loc != "/admin/companies/1" {
		t.Fatalf("create: %d %s", code, loc)
	}
	if o, err := e.company.Get(context.Background(), 1); err != nil || o.Closing != company.ClosingUPD {
		t.Errorf("closing document: %q %v", o.Closing, err)
	}
	if code, loc := admin.post("/admin/companies/1/points", url.Values{"login": {"ivanov"}, "label": {"Склад"}}); code != http.StatusSeeOther || loc != "/admin/companies/1" {
		t.Fatalf("attach: %d %s", code, loc)
	}
	if code, _ := admin.post("/admin/companies/1/employees", url.Values{"login": {"buh@romashka.example"}, "name": {"Бухгалтер"}, "password": {"secret-pass"}}); code != http.StatusSeeOther {
		t.Fatalf("employee: %d", code)
	}
	emps, _ := e.company.Employees(context.Background(), 1)
	pwPath := "/admin/companies/1/employees/" + itoa(emps[0].ID) + "/password"
	if code, _ := admin.post(pwPath, url.Values{"password": {"short"}}); code != http.StatusSeeOther {
		t.Errorf("a short password: %d", code)
	}
	if code, loc := admin.post(pwPath, url.Values{"password": {"another-pass"}}); code != http.StatusSeeOther || loc != "/admin/companies/1" {
		t.Errorf("new password: %d %s", code, loc)
	}
	if _, err := e.company.Authenticate(context.Background(), "buh@romashka.example", "another-pass"); err != nil {
		t.Errorf("the new password does not log in: %v", err)
	}
	_, card := admin.get("/admin/companies/1")
	for _, want := range []string{"ООО «Ромашка»", "7707083893", "ivanov", "Склад", "buh@romashka.example", "Организация добавлена", `id="company-documents"`} {
		if !strings.Contains(card, want) {
			t.Errorf("card has no %q", want)
		}
	}
	if _, sub := admin.get("/admin/subscribers/1"); !strings.Contains(sub, `<a href="/admin/companies/1">ООО «Ромашка»</a>`) {
		t.Errorf("the point's card does not name its organisation")
	}
	if _, list := admin.get("/admin/companies?q=770708"); !strings.Contains(list, "/admin/companies/1") {
		t.Errorf("search by INN finds nothing")
	}

	var file bytes.Buffer
	company.Write1C(&file, "40702810938000000001", e.clk.Now(), e.clk.Now(), []company.BankDocument{
		{Number: "1", Date: "2027-03-09", Received: "2027-03-09", Amount: money.Rub(1000), PayerINN: "7707083893", PayerAccount: "40702810100000000091",
			RecipientAccount: "40702810938000000001", PayerName: "ООО «Ромашка»", Purpose: "Оплата услуг связи"},
		{Number: "2", Date: "2027-03-09", Received: "2027-03-09", Amount: money.Rub(300), PayerAccount: "40817810000000000001",
			RecipientAccount: "40702810938000000001", PayerName: "Петров П. П.", Purpose: "за интернет <b>офис</b>"},
	})
	code, body = admin.upload("/admin/bank/import", "kl_to_1c.txt", file.Bytes())
	if code != http.StatusOK || !strings.Contains(body, "Зачислено: 1") || !strings.Contains(body, "Петров П. П.") || strings.Contains(body, "<b>офис") {
		t.Fatalf("upload: %d\n%s", code, body)
	}
	list, _, _ := e.company.Unsorted(context.Background(), 0, 0)
	if len(list) != 1 {
		t.Fatalf("to sort: %+v", list)
	}
	// A cashier may not sort bank payments.
	if code, _ := e.login(operator.RoleCashier).get("/admin/bank"); code != http.StatusForbidden {
		t.Errorf("cashier on the bank page: %d", code)
	}
	path := "/admin/bank/" + itoa(list[0].ID) + "/assign"
	if code, loc := admin.post(path, url.Values{"organisation": {"7707083893"}, "note": {"письмо клиента"}}); code != http.StatusSeeOther || loc != "/admin/bank" {
		t.Fatalf("assign: %d %s", code, loc)
	}
	if code, loc := admin.post(path, url.Values{"organisation": {"7707083893"}}); code != http.StatusSeeOther || loc != "/admin/bank" {
		t.Fatalf("assign again: %d %s", code, loc)
	}
	if _, body := admin.get("/admin/bank"); !strings.Contains(body, "Этот платёж уже зачислен.") {
		t.Errorf("assigning twice says nothing")
	}
	b, _ := e.company.Balance(context.Background(), 1)
	// The point's first month (500.00) was covered from 1,300.00.
	if b.Total != money.Rub(800) || b.Points != 0 {
		t.Errorf("balance %+v", b)
	}

	for _, lang := range platform.Langs {
		admin.post("/lang", url.Values{"lang": {lang}, "back": {"/admin/"}})
		for _, p := range []string{"/admin/companies", "/admin/companies/new", "/admin/companies/1", "/admin/companies/1/edit", "/admin/companies/debtors", "/admin/bank"} {
			if code, body := admin.get(p); code != http.StatusOK {
				t.Errorf("%s (%s): %d\n%s", p, lang, code, body)
			}
		}
	}
	if m := e.p.I18n.Missing(); len(m) > 0 {
		t.Errorf("untranslated: %v", m)
	}

	// The point leaves the contract: the card asks first, then the point
	// is an ordinary subscriber again; a second press says it is gone.
	admin.post("/lang", url.Values{"lang": {"ru"}, "back": {"/admin/"}})
	if _, card := admin.get("/admin/companies/1"); !strings.Contains(card, `action="/admin/companies/1/points/1/detach" data-confirm="Отсоединить точку ivanov от договора?`) {
		t.Errorf("the card has no detach button for the point")
	}
	if code, loc := admin.post("/admin/companies/1/points/1/detach", nil); code != http.StatusSeeOther || loc != "/admin/companies/1" {
		t.Fatalf("detach: %d %s", code, loc)
	}
	if _, card := admin.get("/admin/companies/1"); !strings.Contains(card, "Точка отсоединена") || strings.Contains(card, "/points/1/detach") {
		t.Errorf("after the detach the card still lists the point, or says nothing")
	}
	if _, sub := admin.get("/admin/subscribers/1"); strings.Contains(sub, `<a href="/admin/companies/1">`) {
		t.Errorf("the detached subscriber's card still names the organisation")
	}
	admin.post("/admin/companies/1/points/1/detach", nil)
	if _, card := admin.get("/admin/companies/1"); !strings.Contains(card, "Этот абонент не точка этой организации.") {
		t.Errorf("detaching twice says nothing")
	}
	if code, _ := e.login(operator.RoleCashier).post("/admin/companies/1/points/1/detach", nil); code != http.StatusForbidden {
		t.Errorf("a cashier detaches: %d", code)
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// seedCompany gives the back office an organisation with subscriber 1 as
// its point and a bank payment waiting to be sorted.
func seedCompany(t *testing.T, e *env) {
	t.Helper()
	ctx := context.Background()
	cli := operator.Actor{Login: "cli"}
	o, err := e.company.Create(ctx, cli, company.Details{FullName: "Общество с ограниченной ответственностью «Аптека Здоровье»",
		ShortName: "ООО «Аптека Здоровье»", INN: "6950555555", KPP: "695001001", BIK: "044525225", SettlementAccount: "40702810938000000001",
		CorrAccount: "30101810400000000225", Director: "Волков Дмитрий Андреевич", Email: "buh@apteka-zdorovie.example"})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.company.AttachPoint(ctx, cli, o.ID, 1, "Аптека на Советской"); err != nil {
		t.Fatal(err)
	}
	var file bytes.Buffer
	company.Write1C(&file, "40702810938000000001", e.clk.Now(), e.clk.Now(), []company.BankDocument{
		{Number: "5", Date: "2027-03-09", Received: "2027-03-09", Amount: money.Rub(700), PayerAccount: "40817810000000000017",
			RecipientAccount: "40702810938000000001", PayerName: "Кузнецов Иван Сергеевич", Purpose: "За интернет, Советская 21, аптека"},
	})
	if _, err := e.company.ImportStatement(ctx, cli, "kl_to_1c.txt", &file, nil); err != nil {
		t.Fatal(err)
	}
}
