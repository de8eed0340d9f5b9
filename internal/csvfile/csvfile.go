// Package csvfile writes the CSV files Kabinet hands to people (reports,
// statements), so that a spreadsheet opens them as data: in the reader's
// locale, and with no cell that a spreadsheet would run as a formula.
//
// Russian files are what Excel with Russian regional settings opens by
// double-click: UTF-8 with a byte order mark, ';' between cells and a
// decimal comma ("1234,50"). English files use ',' and a decimal point.
package csvfile

import (
	"encoding/csv"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/kabinet-billing/kabinet/internal/money"
)

// Writer writes rows of cells in one language's spreadsheet format.
type Writer struct {
	cw      *csv.Writer
	decimal byte
	bom     bool
	w       io.Writer
}

// NewWriter writes to w for a reader of lang ("ru" or "en"; anything else
// is Russian, the provider's language).
func NewWriter(w io.Writer, lang string) *Writer {
	cw := csv.NewWriter(w)
	cw.UseCRLF = true // what spreadsheets write and RFC 4180 asks for
	out := &Writer{cw: cw, decimal: ',', bom: true, w: w}
	cw.Comma = ';'
	if lang == "en" {
		cw.Comma, out.decimal = ',', '.'
	}
	return out
}

// Write writes one row. A string is text and is made safe with Text; a
// money.Amount is written as a number in roubles with the locale's decimal
// separator; integers as numbers. Anything else is an error, so that a
// value never reaches a file in a form nobody chose.
func (w *Writer) Write(cells ...any) error {
	if w.bom {
		// So that Excel reads the file as UTF-8 rather than the ANSI code page.
		if _, err := io.WriteString(w.w, "\ufeff"); err != nil {
			return fmt.Errorf("csv: %w", err)
		}
		w.bom = false
	}
	row := make([]string, len(cells))
	for i, c := range cells {
		switch v := c.(type) {
		case string:
			row[i] = Text(v)
		case money.Amount:
			row[i] = w.Amount(v)
		case int:
			row[i] = strconv.Itoa(v)
		case int64:
			row[i] = strconv.FormatInt(v, 10)
		default:
			return fmt.Errorf("csv: cell %d: unsupported type %T", i, c)
		}
	}
	if err := w.cw.Write(row); err != nil {
		return fmt.Errorf("csv: %w", err)
	}
	return nil
}

// Amount is a as the locale's spreadsheet reads a number: "-1234,50" in
// Russian, "-1234.50" in English (no group separators, no currency sign).
func (w *Writer) Amount(a money.Amount) string {
	s := a.Decimal()
	if w.decimal != '.' {
		s = strings.Replace(s, ".", string(w.decimal), 1)
	}
	return s
}

// Flush writes any buffered rows and reports the first error of the file.
func (w *Writer) Flush() error {
	w.cw.Flush()
	if err := w.cw.Error(); err != nil {
		return fmt.Errorf("csv: %w", err)
	}
	return nil
}

// Text makes s safe as a text cell: a cell that begins with '=', '+', '-',
// '@', a tab or a carriage return is read by Excel and LibreOffice as a
// formula (which can run commands or leak data through links), so it is
// prefixed with an apostrophe and shown as the text it is (OWASP "CSV
// Injection"). Numbers must be written as numbers (money.Amount, int), not
// as strings, or a negative one would be prefixed too.
func Text(s string) string {
	if s == "" {
		return s
	}
	switch s[0] {
	case '=', '+', '-', '@', '\t', '\r':
		return "'" + s
	}
	return s
}
