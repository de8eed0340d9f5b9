package importer

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"golang.org/x/text/encoding/charmap"
)

// SubscriberColumns are the columns a subscribers spreadsheet may have, in
// the order of the template; login, password and tariff are required.
var SubscriberColumns = []string{"login", "password", "contract", "name", "phone", "email", "city", "address", "tariff", "balance", "ip", "status"}

// PaymentColumns are the columns of a payments spreadsheet; id is optional
// (without it a row is known by its contents).
var PaymentColumns = []string{"login", "date", "amount", "channel", "memo", "id"}

// CSV reads subscribers, and optionally their payments, from spreadsheets
// saved as CSV: UTF-8 or CP1251, separated by ';' or ',', with a header row
// naming the columns. Tariffs are Kabinet's own, named by code or name.
type CSV struct {
	subscribers, payments string
	zone                  *time.Location
}

// OpenCSV checks the files' header rows. payments may be "".
func OpenCSV(subscribers, payments string, zone *time.Location) (*CSV, error) {
	c := &CSV{subscribers: subscribers, payments: payments, zone: zone}
	if _, _, err := c.read(subscribers, SubscriberColumns, []string{"login", "password", "tariff"}); err != nil {
		return nil, err
	}
	if payments != "" {
		if _, _, err := c.read(payments, PaymentColumns, []string{"login", "date", "amount"}); err != nil {
			return nil, err
		}
	}
	return c, nil
}

func (*CSV) System() string { return "csv" }

// kabinetTariffs tells the importer that a subscriber's tariff names one of
// Kabinet's tariffs.
func (*CSV) kabinetTariffs() {}

// Tariffs: a spreadsheet names Kabinet's tariffs; it brings none.
func (*CSV) Tariffs(context.Context, func(Tariff) error) error { return nil }

// decode returns the file's text: UTF-8 (without a BOM) when it is valid
// UTF-8, CP1251 otherwise, as Excel saves it in Russia.
func decode(b []byte) string {
	b = bytes.TrimPrefix(b, []byte("\xef\xbb\xbf"))
	if utf8.Valid(b) {
		return string(b)
	}
	out, _ := charmap.Windows1251.NewDecoder().Bytes(b) // every byte is a CP1251 character
	return string(out)
}

// read opens a spreadsheet and maps its header to known columns.
func (c *CSV) read(path string, known, required []string) (*csv.Reader, map[string]int, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: %v", ErrSource, err)
	}
	text := decode(b)
	first, _, _ := strings.Cut(text, "\n")
	r := csv.NewReader(strings.NewReader(text))
	r.Comma = ','
	if strings.Count(first, ";") > strings.Count(first, ",") {
		r.Comma = ';'
	}
	r.FieldsPerRecord = -1
	r.TrimLeadingSpace = true
	header, err := r.Read()
	if err != nil {
		return nil, nil, fmt.Errorf("%w: %s: no header row: %v", ErrSource, path, err)
	}
	cols := map[string]int{}
	for i, h := range header {
		h = strings.ToLower(strings.TrimSpace(h))
		if !slices.Contains(known, h) {
			return nil, nil, fmt.Errorf("%w: %s: unknown column %q (the columns are %s)", ErrSource, path, h, strings.Join(known, ", "))
		}
		if _, dup := cols[h]; dup {
			return nil, nil, fmt.Errorf("%w: %s: column %q twice", ErrSource, path, h)
		}
		cols[h] = i
	}
	for _, h := range required {
		if _, ok := cols[h]; !ok {
			return nil, nil, fmt.Errorf("%w: %s: no %q column", ErrSource, path, h)
		}
	}
	return r, cols, nil
}

// rows hands each data row to fn with its line number and a getter by column.
func (c *CSV) rows(path string, known []string, fn func(line int, get func(string) string) error) error {
	r, cols, err := c.read(path, known, nil)
	if err != nil {
		return err
	}
	for {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("%w: %s: %v", ErrSource, path, err)
		}
		line, _ := r.FieldPos(0)
		if len(rec) == 1 && strings.TrimSpace(rec[0]) == "" {
			continue
		}
		get := func(col string) string {
			if i, ok := cols[col]; ok && i < len(rec) {
				return strings.TrimSpace(rec[i])
			}
			return ""
		}
		if err := fn(line, get); err != nil {
			return err
		}
	}
}

var csvStatus = map[string]string{
	"": StatusActive, "active": StatusActive, "активен": StatusActive, "активный": StatusActive,
	"frozen": StatusFrozen, "заморожен": StatusFrozen, "приостановлен": StatusFrozen,
	"blocked": StatusBlocked, "заблокирован": StatusBlocked, "отключен": StatusBlocked, "отключён": StatusBlocked,
}

func (c *CSV) Subscribers(ctx context.Context, fn func(Subscriber) error) error {
	return c.rows(c.subscribers, SubscriberColumns, func(line int, get func(string) string) error {
		status, ok := csvStatus[strings.ToLower(get("status"))]
		if !ok {
			status = get("status")
		}
		login := strings.ToLower(get("login"))
		return fn(Subscriber{Row: fmt.Sprintf("line %d", line), Key: login, Login: login, Password: get("password"), Contract: get("contract"),
			Name: get("name"), Phone: get("phone"), Email: get("email"), City: get("city"), Address: get("address"), Tariff: get("tariff"),
			Balance: get("balance"), IP: get("ip"), Status: status})
	})
}

var csvDates = []string{"2006-01-02 15:04:05", "2006-01-02 15:04", "2006-01-02", "02.01.2006 15:04:05", "02.01.2006 15:04", "02.01.2006"}

func (c *CSV) Payments(ctx context.Context, fn func(Payment) error) error {
	if c.payments == "" {
		return nil
	}
	seen := map[string]int{}
	return c.rows(c.payments, PaymentColumns, func(line int, get func(string) string) error {
		p := Payment{Row: fmt.Sprintf("payments line %d", line), Subscriber: strings.ToLower(get("login")), Amount: get("amount"),
			Channel: get("channel"), Memo: get("memo"), Key: get("id")}
		d := get("date")
		if t, err := time.Parse(time.RFC3339, d); err == nil {
			p.At = t
		}
		for _, layout := range csvDates {
			if t, err := time.ParseInLocation(layout, d, c.zone); err == nil && p.At.IsZero() {
				p.At = t
			}
		}
		if p.Key == "" {
			// Without an id a row is known by what it says; the same row
			// twice is two payments, told apart by their order.
			h := sha256.Sum256([]byte(strings.Join([]string{p.Subscriber, d, p.Amount, p.Channel, p.Memo}, "\x00")))
			k := hex.EncodeToString(h[:12])
			seen[k]++
			p.Key = fmt.Sprintf("%s.%d", k, seen[k])
		}
		return fn(p)
	})
}
