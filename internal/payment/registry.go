package payment

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/kabinet-billing/kabinet/internal/money"
	"golang.org/x/text/encoding/charmap"
)

// RegistryLayout says where a bank's registry keeps each field. Banks differ;
// the default is the common semicolon form
//
//	txn_id;date;account;sum
//	1234567;01.12.2026 12:01:33;100045;500,00
//	=1;500,00
//
// with an optional header line and a totals line that starts with "=" (or
// the word ИТОГО / TOTAL) followed by the count and the sum.
type RegistryLayout struct {
	Comma      rune // 0: ';' or ',' detected from the first line
	TxnID      int  // column indexes, from 0
	Date       int
	Account    int
	Sum        int
	DateLayout string // Go layout; default "02.01.2006 15:04:05", date-only also accepted
	TotalCount int    // indexes in the totals line, after its marker field
	TotalSum   int
}

// DefaultRegistryLayout is the layout above.
var DefaultRegistryLayout = RegistryLayout{TxnID: 0, Date: 1, Account: 2, Sum: 3, DateLayout: "02.01.2006 15:04:05", TotalCount: 0, TotalSum: 1}

// RegistryLine is one payment the bank says it made.
type RegistryLine struct {
	Line    int // in the file, from 1, for reports
	TxnID   string
	Date    time.Time
	Account string
	Sum     money.Amount
}

// Registry is a parsed and checked registry file.
type Registry struct {
	Encoding string // "utf-8" or "cp1251", as detected
	Lines    []RegistryLine
	Count    int
	Total    money.Amount
}

// ErrRegistryTotals means the totals line disagrees with the lines: the file
// is incomplete or altered, and nothing in it is credited.
var ErrRegistryTotals = errors.New("registry totals do not match its lines")

// decodeRegistry returns the text as UTF-8. Registries from banks' older
// systems come in CP1251; a file that is valid UTF-8 is taken as UTF-8,
// because CP1251 Cyrillic text is practically never valid UTF-8.
func decodeRegistry(b []byte) (string, string, error) {
	b = bytes.TrimPrefix(b, []byte("\xef\xbb\xbf"))
	if utf8.Valid(b) {
		return string(b), "utf-8", nil
	}
	out, err := charmap.Windows1251.NewDecoder().Bytes(b)
	if err != nil {
		return "", "", fmt.Errorf("registry: decoding CP1251: %w", err)
	}
	return string(out), "cp1251", nil
}

// ParseRegistry reads a registry in the layout and checks its totals line.
// Every line is validated; the first bad one fails the whole file, so that a
// half-read registry is never reconciled.
func ParseRegistry(r io.Reader, layout RegistryLayout, loc *time.Location) (*Registry, error) {
	raw, err := io.ReadAll(io.LimitReader(r, 256<<20))
	if err != nil {
		return nil, fmt.Errorf("registry: reading: %w", err)
	}
	text, enc, err := decodeRegistry(raw)
	if err != nil {
		return nil, err
	}
	if loc == nil {
		loc = time.UTC
	}
	if layout.DateLayout == "" {
		layout.DateLayout = DefaultRegistryLayout.DateLayout
	}
	comma := layout.Comma
	if comma == 0 {
		first, _, _ := strings.Cut(text, "\n")
		comma = ';'
		if !strings.ContainsRune(first, ';') && strings.ContainsRune(first, ',') {
			comma = ','
		}
	}
	cr := csv.NewReader(strings.NewReader(text))
	cr.Comma = comma
	cr.FieldsPerRecord = -1
	cr.TrimLeadingSpace = true
	reg := &Registry{Encoding: enc}
	seen := map[string]int{}
	haveTotals := false
	for n := 1; ; n++ {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("registry: %w", err)
		}
		line, _ := cr.FieldPos(0)
		if len(rec) == 0 || (len(rec) == 1 && strings.TrimSpace(rec[0]) == "") {
			continue
		}
		if haveTotals {
			return nil, fmt.Errorf("registry line %d: data after the totals line", line)
		}
		if isTotalsMarker(rec[0]) {
			if err := reg.readTotals(rec, layout, line); err != nil {
				return nil, err
			}
			haveTotals = true
			continue
		}
		if n == 1 && !digits(strings.TrimSpace(field(rec, layout.TxnID)), 1, 20) {
			continue // a header line
		}
		l, err := parseRegistryLine(rec, layout, loc, line)
		if err != nil {
			return nil, err
		}
		if prev, dup := seen[l.TxnID]; dup {
			return nil, fmt.Errorf("registry line %d: txn_id %s repeats line %d", line, l.TxnID, prev)
		}
		seen[l.TxnID] = line
		reg.Lines = append(reg.Lines, l)
	}
	if !haveTotals {
		return nil, fmt.Errorf("registry: no totals line: %w", ErrRegistryTotals)
	}
	var sum money.Amount
	for _, l := range reg.Lines {
		sum += l.Sum
	}
	if reg.Count != len(reg.Lines) || reg.Total != sum {
		return nil, fmt.Errorf("registry: totals say %d payments of %s, lines have %d of %s: %w",
			reg.Count, reg.Total, len(reg.Lines), sum, ErrRegistryTotals)
	}
	return reg, nil
}

func isTotalsMarker(s string) bool {
	s = strings.TrimSpace(s)
	if strings.HasPrefix(s, "=") {
		return true
	}
	u := strings.ToUpper(s)
	return u == "ИТОГО" || u == "TOTAL"
}

func (reg *Registry) readTotals(rec []string, layout RegistryLayout, line int) error {
	vals := rec[1:]
	if first := strings.TrimSpace(rec[0]); strings.HasPrefix(first, "=") && len(first) > 1 {
		vals = append([]string{first[1:]}, rec[1:]...)
	}
	count, err := strconv.Atoi(strings.TrimSpace(field(vals, layout.TotalCount)))
	if err != nil || count < 0 {
		return fmt.Errorf("registry line %d: totals count %q: %w", line, field(vals, layout.TotalCount), ErrRegistryTotals)
	}
	total, err := money.Parse(field(vals, layout.TotalSum))
	if err != nil {
		return fmt.Errorf("registry line %d: totals sum: %w", line, err)
	}
	reg.Count, reg.Total = count, total
	return nil
}

func field(rec []string, i int) string {
	if i < 0 || i >= len(rec) {
		return ""
	}
	return rec[i]
}

func parseRegistryLine(rec []string, layout RegistryLayout, loc *time.Location, line int) (RegistryLine, error) {
	l := RegistryLine{Line: line, TxnID: strings.TrimSpace(field(rec, layout.TxnID)), Account: strings.TrimSpace(field(rec, layout.Account))}
	id, ok := txnNumber(l.TxnID)
	if !ok {
		return l, fmt.Errorf("registry line %d: txn_id %q: want 1 to 20 digits", line, l.TxnID)
	}
	l.TxnID = id // as the OSMP pay stored it
	if !validAccountID(l.Account) {
		return l, fmt.Errorf("registry line %d: account %q: wrong format", line, l.Account)
	}
	sum, err := money.Parse(field(rec, layout.Sum))
	if err != nil || sum <= 0 {
		return l, fmt.Errorf("registry line %d: sum %q: not a positive amount", line, field(rec, layout.Sum))
	}
	l.Sum = sum
	ds := strings.TrimSpace(field(rec, layout.Date))
	d, err := time.ParseInLocation(layout.DateLayout, ds, loc)
	if err != nil {
		// Registries often carry the day alone; take the date part of the layout.
		dateOnly, _, _ := strings.Cut(layout.DateLayout, " ")
		if d, err = time.ParseInLocation(dateOnly, ds, loc); err != nil {
			return l, fmt.Errorf("registry line %d: date %q: want %s", line, ds, layout.DateLayout)
		}
	}
	l.Date = d
	return l, nil
}
