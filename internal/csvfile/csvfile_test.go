package csvfile_test

import (
	"bytes"
	"testing"

	"github.com/kabinet-billing/kabinet/internal/csvfile"
	"github.com/kabinet-billing/kabinet/internal/money"
)

func TestText(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"", ""},
		{"Иванов", "Иванов"},
		{"=HYPERLINK(\"http://evil\")", "'=HYPERLINK(\"http://evil\")"},
		{"+7 900 000-00-00", "'+7 900 000-00-00"},
		{"-2+3+cmd|' /C calc'!A0", "'-2+3+cmd|' /C calc'!A0"},
		{"@SUM(A1)", "'@SUM(A1)"},
		{"\t=1+1", "'\t=1+1"},
		{"\r=1+1", "'\r=1+1"},
		{"a=1", "a=1"},
	} {
		if got := csvfile.Text(tc.in); got != tc.want {
			t.Errorf("Text(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestWriter(t *testing.T) {
	for _, tc := range []struct {
		lang string
		want string
	}{
		{"ru", "\ufeffИмя;Сумма;Кол-во\r\n'=1+2;-1234,50;3\r\n\"a;b\";0,05;-7\r\n"},
		{"en", "\ufeffИмя,Сумма,Кол-во\r\n'=1+2,-1234.50,3\r\na;b,0.05,-7\r\n"},
	} {
		var buf bytes.Buffer
		w := csvfile.NewWriter(&buf, tc.lang)
		w.Write("Имя", "Сумма", "Кол-во")
		w.Write("=1+2", money.Amount(-123450), 3)
		w.Write("a;b", money.Amount(5), int64(-7))
		if err := w.Flush(); err != nil {
			t.Fatal(err)
		}
		if buf.String() != tc.want {
			t.Errorf("%s:\n%q\nwant\n%q", tc.lang, buf.String(), tc.want)
		}
	}
	var buf bytes.Buffer
	if err := csvfile.NewWriter(&buf, "ru").Write(1.5); err == nil {
		t.Error("a float was written")
	}
}
