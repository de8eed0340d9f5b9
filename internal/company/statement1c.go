package company

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"strings"
	"time"
	"unicode/utf8"

	"golang.org/x/text/encoding/charmap"

	"github.com/kabinet-billing/kabinet/internal/derrors"
	"github.com/kabinet-billing/kabinet/internal/money"
)

// The 1CClientBankExchange text format (1C's «Стандарт обмена с системами
// «Клиент банка»», version 1.03): a header of key=value lines, account
// sections (СекцияРасчСчет … КонецРасчСчет), and a section per document
// (СекцияДокумент=<kind> … КонецДокумента), ending with КонецФайла. The
// keys read here (Номер, Дата, Сумма, ПлательщикСчет, ПлательщикИНН,
// ПлательщикКПП, Плательщик/Плательщик1, ПлательщикБИК, ПолучательСчет,
// ПолучательРасчСчет, ПолучательИНН, НазначениеПлатежа, ДатаПоступило) were
// confirmed against published parsers of the format; the header's
// Кодировка=Windows means CP1251 and Кодировка=DOS CP866.

// BankDocument is one document of a statement.
type BankDocument struct {
	Kind             string // Платежное поручение, Банковский ордер, …
	Number           string
	Date             string // YYYY-MM-DD
	Amount           money.Amount
	PayerAccount     string
	PayerINN         string
	PayerKPP         string
	PayerName        string
	PayerBIK         string
	RecipientAccount string
	RecipientINN     string
	Purpose          string
	Received         string // ДатаПоступило, YYYY-MM-DD; empty for outgoing
	Line             int    // where its section starts
}

// Statement is a parsed 1C statement.
type Statement struct {
	Version   string
	Encoding  string // "cp1251", "cp866" or "utf-8", as read
	Sender    string
	Accounts  []string // the statement's own accounts (РасчСчет): ours
	Documents []BankDocument
}

// KindPaymentOrder is the kind of document bank import credits.
const KindPaymentOrder = "Платежное поручение"

var errNot1C error = derrors.New(derrors.Invalid, "bank_format", "not a 1CClientBankExchange file")

// decode1C returns the file as UTF-8, as its header says (CP1251 for
// Windows, CP866 for DOS); a file in valid UTF-8 is taken as UTF-8.
func decode1C(b []byte) (string, string, error) {
	b = bytes.TrimPrefix(b, []byte("\xef\xbb\xbf"))
	if !bytes.HasPrefix(b, []byte("1CClientBankExchange")) {
		return "", "", errNot1C
	}
	if utf8.Valid(b) {
		return string(b), "utf-8", nil
	}
	// "Кодировка=DOS" in CP866 bytes.
	dos, _ := charmap.CodePage866.NewEncoder().String("Кодировка=DOS")
	if bytes.Contains(b[:min(len(b), 4096)], []byte(dos)) {
		out, err := charmap.CodePage866.NewDecoder().Bytes(b)
		return string(out), "cp866", err
	}
	out, err := charmap.Windows1251.NewDecoder().Bytes(b)
	return string(out), "cp1251", err
}

// parseDate reads dd.mm.yyyy as YYYY-MM-DD.
func parseDate(s string) (string, error) {
	t, err := time.Parse("02.01.2006", strings.TrimSpace(s))
	if err != nil {
		return "", err
	}
	return t.Format("2006-01-02"), nil
}

// ParseStatement reads a 1C statement. A document that cannot be read (no
// number, a bad date or sum) fails the whole file, naming its line, so that
// half a statement is never imported.
func ParseStatement(r io.Reader) (Statement, error) {
	raw, err := io.ReadAll(io.LimitReader(r, 512<<20))
	if err != nil {
		return Statement{}, fmt.Errorf("statement: %w", err)
	}
	text, enc, err := decode1C(raw)
	if err != nil {
		return Statement{}, fmt.Errorf("statement: %w", err)
	}
	st := Statement{Encoding: enc}
	var doc *BankDocument
	var fields map[string]string
	finish := func() error {
		d := doc
		doc = nil
		bad := func(what string) error {
			return derrors.Invalidf("file", "bank_document", "statement line %d: document %q: %s", d.Line, fields["Номер"], what)
		}
		d.Number = strings.TrimSpace(fields["Номер"])
		if d.Number == "" {
			return bad("no Номер")
		}
		if d.Date, err = parseDate(fields["Дата"]); err != nil {
			return bad("Дата " + fields["Дата"])
		}
		if d.Amount, err = money.Parse(fields["Сумма"]); err != nil || d.Amount <= 0 {
			return bad("Сумма " + fields["Сумма"])
		}
		if v := strings.TrimSpace(fields["ДатаПоступило"]); v != "" {
			if d.Received, err = parseDate(v); err != nil {
				return bad("ДатаПоступило " + v)
			}
		}
		d.PayerAccount = strings.TrimSpace(fields["ПлательщикСчет"])
		if d.PayerAccount == "" {
			d.PayerAccount = strings.TrimSpace(fields["ПлательщикРасчСчет"])
		}
		d.RecipientAccount = strings.TrimSpace(fields["ПолучательСчет"])
		if d.RecipientAccount == "" {
			d.RecipientAccount = strings.TrimSpace(fields["ПолучательРасчСчет"])
		}
		d.PayerINN = strings.TrimSpace(fields["ПлательщикИНН"])
		d.PayerKPP = strings.TrimSpace(fields["ПлательщикКПП"])
		d.PayerName = strings.TrimSpace(fields["Плательщик1"])
		if d.PayerName == "" {
			d.PayerName = strings.TrimSpace(fields["Плательщик"])
		}
		// "Плательщик" may carry "ИНН 7707083893 ООО …": keep the name.
		if n, ok := strings.CutPrefix(d.PayerName, "ИНН "); ok {
			if i := strings.IndexByte(n, ' '); i > 0 {
				d.PayerName = strings.TrimSpace(n[i+1:])
			}
		}
		d.PayerBIK = strings.TrimSpace(fields["ПлательщикБИК"])
		d.RecipientINN = strings.TrimSpace(fields["ПолучательИНН"])
		d.Purpose = strings.TrimSpace(fields["НазначениеПлатежа"])
		if d.Purpose == "" {
			// Older exports split it over НазначениеПлатежа1…6.
			var parts []string
			for i := 1; i <= 6; i++ {
				if v := strings.TrimSpace(fields[fmt.Sprintf("НазначениеПлатежа%d", i)]); v != "" {
					parts = append(parts, v)
				}
			}
			d.Purpose = strings.Join(parts, " ")
		}
		st.Documents = append(st.Documents, *d)
		return nil
	}
	sc := bufio.NewScanner(strings.NewReader(text))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	n := 0
	for sc.Scan() {
		n++
		line := strings.TrimRight(sc.Text(), "\r ")
		if n == 1 {
			continue // 1CClientBankExchange
		}
		key, val, hasVal := strings.Cut(line, "=")
		key = strings.TrimSpace(key)
		switch {
		case key == "СекцияДокумент":
			if doc != nil {
				return st, derrors.Invalidf("file", "bank_document", "statement line %d: a document section inside another", n)
			}
			doc = &BankDocument{Kind: strings.TrimSpace(val), Line: n}
			fields = map[string]string{}
		case key == "КонецДокумента":
			if doc == nil {
				return st, derrors.Invalidf("file", "bank_document", "statement line %d: КонецДокумента without its section", n)
			}
			if err := finish(); err != nil {
				return st, err
			}
		case key == "КонецФайла":
			if doc != nil {
				return st, derrors.Invalidf("file", "bank_document", "statement line %d: the file ends inside a document", n)
			}
			return st, nil
		case doc != nil && hasVal:
			fields[key] = val
		case doc == nil && hasVal:
			switch key {
			case "ВерсияФормата":
				st.Version = strings.TrimSpace(val)
			case "Отправитель":
				st.Sender = strings.TrimSpace(val)
			case "РасчСчет":
				if a := strings.TrimSpace(val); a != "" && !contains(st.Accounts, a) {
					st.Accounts = append(st.Accounts, a)
				}
			}
		}
	}
	if err := sc.Err(); err != nil {
		return st, fmt.Errorf("statement: %w", err)
	}
	// A file cut short (no КонецФайла) is refused: it may be half a download.
	return st, derrors.Invalidf("file", "bank_truncated", "statement: no КонецФайла at the end: the file is incomplete")
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// Incoming tells whether d is money in: the recipient is one of ours (the
// statement's accounts, or extra), or, when no account is known, the bank
// marked it received.
func (st Statement) Incoming(d BankDocument, ours []string) bool {
	if len(st.Accounts) == 0 && len(ours) == 0 {
		return d.Received != ""
	}
	in := contains(st.Accounts, d.RecipientAccount) || contains(ours, d.RecipientAccount)
	out := contains(st.Accounts, d.PayerAccount) || contains(ours, d.PayerAccount)
	return in && !out
}

// Write1C writes docs as a 1C statement in CP1251 for account, as a bank's
// client exports it (the demo's sample, the benchmark and the tests).
func Write1C(w io.Writer, account string, from, to time.Time, docs []BankDocument) error {
	var b strings.Builder
	put := func(k, v string) { b.WriteString(k + "=" + v + "\r\n") }
	b.WriteString("1CClientBankExchange\r\n")
	put("ВерсияФормата", "1.03")
	put("Кодировка", "Windows")
	put("Отправитель", "Бухгалтерия предприятия")
	put("Получатель", "")
	put("ДатаСоздания", to.Format("02.01.2006"))
	put("ВремяСоздания", "10:00:00")
	put("ДатаНачала", from.Format("02.01.2006"))
	put("ДатаКонца", to.Format("02.01.2006"))
	put("РасчСчет", account)
	put("Документ", KindPaymentOrder)
	b.WriteString("СекцияРасчСчет\r\n")
	put("ДатаНачала", from.Format("02.01.2006"))
	put("ДатаКонца", to.Format("02.01.2006"))
	put("РасчСчет", account)
	b.WriteString("КонецРасчСчет\r\n")
	date := func(s string) string {
		t, err := time.Parse("2006-01-02", s)
		if err != nil {
			return s
		}
		return t.Format("02.01.2006")
	}
	for _, d := range docs {
		kind := d.Kind
		if kind == "" {
			kind = KindPaymentOrder
		}
		put("СекцияДокумент", kind)
		put("Номер", d.Number)
		put("Дата", date(d.Date))
		put("Сумма", d.Amount.Decimal())
		put("ПлательщикСчет", d.PayerAccount)
		put("Плательщик", "ИНН "+d.PayerINN+" "+d.PayerName)
		put("ПлательщикИНН", d.PayerINN)
		put("ПлательщикКПП", d.PayerKPP)
		put("Плательщик1", d.PayerName)
		put("ПлательщикРасчСчет", d.PayerAccount)
		put("ПлательщикБИК", d.PayerBIK)
		put("ПолучательСчет", d.RecipientAccount)
		put("ПолучательИНН", d.RecipientINN)
		put("ПолучательРасчСчет", d.RecipientAccount)
		if d.Received != "" {
			put("ДатаПоступило", date(d.Received))
		}
		put("ВидОплаты", "01")
		put("Очередность", "5")
		put("НазначениеПлатежа", d.Purpose)
		b.WriteString("КонецДокумента\r\n")
	}
	b.WriteString("КонецФайла\r\n")
	out, err := charmap.Windows1251.NewEncoder().String(b.String())
	if err != nil {
		return fmt.Errorf("statement: %w", err)
	}
	_, err = io.WriteString(w, out)
	return err
}
