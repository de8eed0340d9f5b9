package admin

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"unicode"

	"github.com/kabinet-billing/kabinet/internal/operator"
)

// auditRow is an audit entry as an operator reads it: the action and the
// object by name, and each changed field by name with its value before and
// after. The codes stay on hover (title) for whoever searches by them.
type auditRow struct {
	operator.Entry
	ActionName string
	ObjectName string
	ObjectLink string
	Changes    []auditChange
}

// valueWords: fields whose values are codes with a translation of their own.
var valueWords = map[string]string{"role": "admin.role.", "status": "status."}

type auditChange struct {
	Field, Before, After string
}

// auditRows words entries in the request's language.
func (a *Admin) auditRows(r *http.Request, entries []operator.Entry) []auditRow {
	lang := a.p.LangOf(r)
	word := func(prefix, code string) string {
		if id := prefix + code; a.p.I18n.Has(id) {
			return a.p.I18n.T(lang, id, nil)
		}
		return code
	}
	rows := make([]auditRow, len(entries))
	for i, e := range entries {
		row := auditRow{Entry: e, ActionName: word("admin.audit.action.", e.Action)}
		kind, id, ok := strings.Cut(e.Object, ":")
		row.ObjectName = e.Object
		if ok {
			if tid := "admin.audit.object." + kind; a.p.I18n.Has(tid) {
				row.ObjectName = a.p.I18n.T(lang, tid, map[string]any{"ID": id})
			}
			switch kind {
			case "account":
				row.ObjectLink = "/admin/subscribers/" + id
			case "organisation":
				row.ObjectLink = "/admin/companies/" + id
			}
		}
		for _, c := range changes(e.BeforeJSON(), e.AfterJSON()) {
			// Roles and statuses have their words already.
			if prefix, ok := valueWords[c.Field]; ok {
				c.Before, c.After = word(prefix, c.Before), word(prefix, c.After)
			}
			c.Field = word("admin.audit.field.", c.Field)
			row.Changes = append(row.Changes, c)
		}
		rows[i] = row
	}
	return rows
}

// changes lists the fields of two JSON objects that differ, by snake_case
// key in key order; a field only in one side shows that side. Anything
// but an object comes back whole under the field "".
func changes(before, after string) []auditChange {
	b, okB := object(before)
	a, okA := object(after)
	if !okB || !okA {
		return []auditChange{{Before: before, After: after}}
	}
	keys := make([]string, 0, len(a)+len(b))
	for k := range b {
		keys = append(keys, k)
	}
	for k := range a {
		if _, dup := b[k]; !dup {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	var out []auditChange
	for _, k := range keys {
		vb, inB := b[k]
		va, inA := a[k]
		if inB && inA && bytes.Equal(vb, va) && len(b) > 0 && len(a) > 0 {
			continue
		}
		c := auditChange{Field: snake(k), Before: value(vb), After: value(va)}
		if c.Before == "" && c.After == "" {
			continue
		}
		out = append(out, c)
	}
	return out
}

func object(s string) (map[string]json.RawMessage, bool) {
	if s == "" || s == "null" {
		return map[string]json.RawMessage{}, true
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal([]byte(s), &m); err != nil {
		return nil, false
	}
	return m, true
}

// value is a JSON value as text: strings bare, null and "" as nothing.
func value(raw json.RawMessage) string {
	if len(raw) == 0 || string(raw) == "null" {
		return ""
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	var compact bytes.Buffer
	if json.Compact(&compact, raw) == nil {
		return compact.String()
	}
	return fmt.Sprint(string(raw))
}

// snake turns a Go field name (NameEn, DownKbps) into the snake_case key
// (name_en, down_kbps) the translations use; snake_case stays as it is.
func snake(k string) string {
	var b strings.Builder
	for i, r := range k {
		if unicode.IsUpper(r) {
			if i > 0 && !unicode.IsUpper(rune(k[i-1])) {
				b.WriteByte('_')
			}
			r = unicode.ToLower(r)
		}
		b.WriteRune(r)
	}
	return b.String()
}
