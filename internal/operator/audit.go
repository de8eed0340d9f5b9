package operator

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/kabinet-billing/kabinet/internal/store"
)

// Actor is who did something: an operator, or the command line (ID 0,
// Login "cli") when the first admin is made.
type Actor struct {
	ID      int64
	Login   string
	Address string // the client's address, when there is one
}

// Entry is one line of the audit log.
type Entry struct {
	ID            int64
	At            time.Time
	OperatorID    int64
	OperatorLogin string
	Action        string // dotted: subscriber.create, tariff.update, money.correct, …
	Object        string // kind:id, e.g. account:17, tariff:3
	Before, After any    // marshalled to JSON on write; read back as json.RawMessage
	Note          string // e.g. how identity was confirmed, the reason of a correction
	Address       string
}

// BeforeJSON and AfterJSON give the stored JSON text ("" when none).
func (e Entry) BeforeJSON() string { return rawString(e.Before) }
func (e Entry) AfterJSON() string  { return rawString(e.After) }

func rawString(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case json.RawMessage:
		return string(x)
	case string:
		return x
	}
	b, _ := json.Marshal(v)
	return string(b)
}

func marshal(v any) (string, error) {
	if v == nil {
		return "", nil
	}
	if r, ok := v.(json.RawMessage); ok {
		return string(r), nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return "", err
	}
	return string(b), nil
}

// Audit writes e inside tx, so that the action and its record commit
// together or not at all. Every capability call an operator makes goes
// through a function that calls this.
func Audit(ctx context.Context, tx *store.Tx, at time.Time, actor Actor, e Entry) error {
	before, err := marshal(e.Before)
	if err != nil {
		return fmt.Errorf("audit %s: %w", e.Action, err)
	}
	after, err := marshal(e.After)
	if err != nil {
		return fmt.Errorf("audit %s: %w", e.Action, err)
	}
	login := actor.Login
	if login == "" {
		login = "cli"
	}
	var opID any
	if actor.ID != 0 {
		opID = actor.ID
	}
	if _, err := tx.Exec(ctx, `INSERT INTO audit_log (at, operator_id, operator_login, action, object, before_json, after_json, note, address) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		at.UTC(), opID, login, e.Action, e.Object, before, after, e.Note, actor.Address); err != nil {
		return fmt.Errorf("audit %s: %w", e.Action, err)
	}
	return nil
}

// AuditQuery narrows an audit search; empty fields match everything.
type AuditQuery struct {
	Operator string    // login, exact
	Action   string    // prefix: "subscriber." matches every subscriber action
	Object   string    // exact, e.g. account:17
	Text     string    // substring of the note or the before/after JSON; case-insensitive (ASCII only on SQLite)
	From, To time.Time // [From, To)
	Limit    int       // default 100, at most 1000
	Offset   int
	Oldest   bool // oldest first
}

// auditWhere is q's condition ("" for every entry) and its arguments.
func auditWhere(q AuditQuery) (string, []any) {
	var where []string
	var args []any
	if q.Operator != "" {
		where, args = append(where, "operator_login = ?"), append(args, strings.ToLower(strings.TrimSpace(q.Operator)))
	}
	if q.Action != "" {
		where, args = append(where, `action LIKE ? ESCAPE '\'`), append(args, likeEscape(q.Action)+"%")
	}
	if q.Object != "" {
		where, args = append(where, "object = ?"), append(args, q.Object)
	}
	if q.Text != "" {
		p := "%" + likeEscape(q.Text) + "%"
		where = append(where, `(LOWER(note) LIKE LOWER(?) ESCAPE '\' OR LOWER(before_json) LIKE LOWER(?) ESCAPE '\' OR LOWER(after_json) LIKE LOWER(?) ESCAPE '\')`)
		args = append(args, p, p, p)
	}
	if !q.From.IsZero() {
		where, args = append(where, "at >= ?"), append(args, q.From.UTC())
	}
	if !q.To.IsZero() {
		where, args = append(where, "at < ?"), append(args, q.To.UTC())
	}
	if len(where) == 0 {
		return "", nil
	}
	return " WHERE " + strings.Join(where, " AND "), args
}

// AuditCount is how many entries q finds (its Limit and Offset aside).
func (s *Store) AuditCount(ctx context.Context, q AuditQuery) (int, error) {
	where, args := auditWhere(q)
	var n int
	if err := s.DB.QueryRow(ctx, `SELECT COUNT(*) FROM audit_log`+where, args...).Scan(&n); err != nil {
		return 0, fmt.Errorf("audit count: %w", err)
	}
	return n, nil
}

// Search reads the audit log, newest first (Oldest: oldest first).
func (s *Store) Search(ctx context.Context, q AuditQuery) ([]Entry, error) {
	where, args := auditWhere(q)
	if q.Limit <= 0 {
		q.Limit = 100
	}
	q.Limit = min(q.Limit, 1000)
	order := " ORDER BY id DESC"
	if q.Oldest {
		order = " ORDER BY id ASC"
	}
	sqlText := `SELECT id, at, COALESCE(operator_id, 0), operator_login, action, object, before_json, after_json, note, address FROM audit_log` +
		where + order + " LIMIT ? OFFSET ?"
	args = append(args, q.Limit, max(q.Offset, 0))
	rows, err := s.DB.Query(ctx, sqlText, args...)
	if err != nil {
		return nil, fmt.Errorf("audit search: %w", err)
	}
	defer rows.Close()
	var out []Entry
	for rows.Next() {
		var e Entry
		var before, after string
		if err := rows.Scan(&e.ID, &e.At, &e.OperatorID, &e.OperatorLogin, &e.Action, &e.Object, &before, &after, &e.Note, &e.Address); err != nil {
			return nil, fmt.Errorf("audit search: %w", err)
		}
		if before != "" {
			e.Before = json.RawMessage(before)
		}
		if after != "" {
			e.After = json.RawMessage(after)
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

// likeEscape makes s match literally inside a LIKE pattern.
func likeEscape(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

// Record writes one audit entry in a transaction of its own, for actions
// whose capability call runs its own transaction (a payment, a reset). The
// entry is written after the action succeeded.
func (s *Store) Record(ctx context.Context, actor Actor, e Entry) error {
	return s.DB.Write(ctx, func(tx *store.Tx) error {
		return Audit(ctx, tx, s.Clock.Now(), actor, e)
	})
}
