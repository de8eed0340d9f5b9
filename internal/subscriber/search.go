package subscriber

import (
	"context"
	"fmt"
	"strings"
)

// Search finds accounts for an operator by a piece of the login, contract
// number, name, address, phone or e-mail; newest contracts first. Digits-only
// queries also match phones written with spaces and dashes.
func (d *Directory) Search(ctx context.Context, q string, limit int) ([]Account, error) {
	if limit <= 0 || limit > 500 {
		limit = 50
	}
	where, args := searchWhere(q)
	rows, err := d.DB.Query(ctx, `SELECT `+accountCols+` FROM accounts a LEFT JOIN cities c ON c.id = a.city_id WHERE `+where+
		` ORDER BY a.id DESC LIMIT ?`, append(args, limit)...)
	return collect(rows, err)
}

// ListQuery is a page of the subscriber list: a search (as Search reads
// it), a sort key and a window.
type ListQuery struct {
	Q      string
	Sort   string // contract, login, name, address, status, created (default)
	Desc   bool
	Offset int
	Limit  int // 1..500, default 50
}

// listSorts are the columns the list sorts by; id breaks ties so that a
// page never repeats or skips a row.
var listSorts = map[string]string{"contract": "a.contract_no", "login": "a.login", "name": "LOWER(a.name)", "address": "LOWER(a.address)",
	"status": "a.status", "created": "a.id"}

// List is a page of the subscribers matching q.Q, and how many match.
func (d *Directory) List(ctx context.Context, q ListQuery) ([]Account, int, error) {
	if q.Limit <= 0 || q.Limit > 500 {
		q.Limit = 50
	}
	col, ok := listSorts[q.Sort]
	if !ok {
		col = "a.id"
	}
	dir := " ASC"
	if q.Desc {
		dir = " DESC"
	}
	where, args := searchWhere(q.Q)
	var total int
	if err := d.DB.QueryRow(ctx, `SELECT COUNT(*) FROM accounts a WHERE `+where, args...).Scan(&total); err != nil {
		return nil, 0, fmt.Errorf("count accounts: %w", err)
	}
	rows, err := d.DB.Query(ctx, `SELECT `+accountCols+` FROM accounts a LEFT JOIN cities c ON c.id = a.city_id WHERE `+where+
		` ORDER BY `+col+dir+`, a.id`+dir+` LIMIT ? OFFSET ?`, append(args, q.Limit, max(q.Offset, 0))...)
	list, err := collect(rows, err)
	return list, total, err
}

// searchWhere is the condition of a search for q (every account when
// empty): login, contract, name, address, e-mail, or four or more digits of
// the phone.
func searchWhere(q string) (string, []any) {
	q = strings.TrimSpace(q)
	if q == "" {
		return "1 = 1", nil
	}
	p := "%" + strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(q) + "%"
	digits := strings.Map(func(r rune) rune {
		if r >= '0' && r <= '9' {
			return r
		}
		return -1
	}, q)
	phone := "-"
	if len(digits) >= 4 {
		phone = "%" + digits + "%"
	}
	return `(a.login LIKE LOWER(?) ESCAPE '\' OR a.contract_no LIKE ? ESCAPE '\' OR LOWER(a.name) LIKE LOWER(?) ESCAPE '\'
		OR LOWER(a.address) LIKE LOWER(?) ESCAPE '\' OR LOWER(a.email) LIKE LOWER(?) ESCAPE '\'
		OR REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(a.phone, ' ', ''), '-', ''), '(', ''), ')', ''), '+', '') LIKE ?)`, []any{p, p, p, p, p, phone}
}

func collect(rows interface {
	Next() bool
	Scan(...any) error
	Close() error
	Err() error
}, err error) ([]Account, error) {
	if err != nil {
		return nil, fmt.Errorf("accounts: %w", err)
	}
	defer rows.Close()
	var out []Account
	for rows.Next() {
		a, err := scanAccount(rows)
		if err != nil {
			return nil, fmt.Errorf("accounts: %w", err)
		}
		out = append(out, a)
	}
	return out, rows.Err()
}
