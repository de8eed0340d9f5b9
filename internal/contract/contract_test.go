package contract_test

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kabinet-billing/kabinet/internal/config"
	"github.com/kabinet-billing/kabinet/internal/contract"
)

func TestRender(t *testing.T) {
	fonts, err := contract.LoadFonts(os.DirFS("../../web"))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		doc  contract.Document
		want []string // text a PDF reader finds (when pdftotext is installed)
	}{
		{"contract ru", contract.Document{Lang: "ru", Provider: config.Default().Provider, ContractNo: "2027-000042", Date: time.Date(2027, 3, 1, 0, 0, 0, 0, time.UTC),
			Name: "Иванова Анна Сергеевна", Address: "ул. Советская, 1, кв. 5", City: "Тверь", Phone: "+7 900 000-00-00", Email: "anna@example.net",
			Passport: "28 04 № 123456, УМВД России по Тверской области, 15.05.2015",
			Tariff:   "Дом 100", TariffFee: "500,00 ₽", Speed: "100 Мбит/с", UpSpeed: "50 Мбит/с", Login: "anna42", Password: "Kp7xWm2qRt", PortalURL: "https://my.example"},
			// Every line is labelled: the provider's name and address too.
			[]string{"Договор на оказание услуг связи № 2027-000042", "ФИО: Иванова Анна Сергеевна", "anna42", "Kp7xWm2qRt", "Тариф: Дом 100",
				"Наименование: ООО «Сеть-Регион»", "Юридический адрес: г. Тверь", "Паспорт: 28 04 № 123456, УМВД России",
				"Скорость загрузки: 100 Мбит/с", "Скорость отдачи: 50 Мбит/с"}},
		{"contract en", contract.Document{Lang: "en", Provider: config.Default().Provider, ContractNo: "2027-000043", Date: time.Now(), Login: "bob", Password: "secret-pw1"},
			[]string{"Communication services contract No. 2027-000043", "secret-pw1"}},
		{"reset without password", contract.Document{Kind: "reset", Provider: config.Default().Provider, ContractNo: "2027-000044", Date: time.Now(), Login: "c"},
			[]string{"Новый пароль к договору № 2027-000044", "отправлен на адрес"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := contract.Render(&buf, tt.doc, fonts); err != nil {
				t.Fatal(err)
			}
			if !bytes.HasPrefix(buf.Bytes(), []byte("%PDF-")) || buf.Len() < 1000 {
				t.Fatalf("not a PDF: %d bytes", buf.Len())
			}
			tool, err := exec.LookPath("pdftotext")
			if err != nil {
				t.Skip("pdftotext (poppler-utils) not installed: text of the PDF not checked")
			}
			path := filepath.Join(t.TempDir(), "c.pdf")
			os.WriteFile(path, buf.Bytes(), 0o600)
			out, err := exec.Command(tool, "-layout", path, "-").Output()
			if err != nil {
				t.Fatal(err)
			}
			text := strings.Join(strings.Fields(string(out)), " ")
			for _, w := range tt.want {
				if !strings.Contains(text, strings.Join(strings.Fields(w), " ")) {
					t.Errorf("PDF text lacks %q:\n%s", w, out)
				}
			}
		})
	}
}
