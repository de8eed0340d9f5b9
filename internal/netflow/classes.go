// Package netflow turns NetFlow v5, v9 and IPFIX from the provider's routers
// into traffic per subscriber, per class ("where": the provider's own
// network, the city exchange, the internet) and per day. Flows are
// attributed to a subscriber by the session address they had at the time,
// and to a class by the remote address's longest matching prefix; they are
// summed in memory and written in batches, never a row per flow.
package netflow

import (
	"context"
	"fmt"
	"net/netip"
	"slices"
	"strings"

	"github.com/kabinet-billing/kabinet/internal/derrors"
	"github.com/kabinet-billing/kabinet/internal/store"
)

// DefaultClass is where traffic to addresses no class names goes.
const DefaultClass = "internet"

// Class is a traffic class.
type Class struct {
	Code     string
	Name     string // Russian
	NameEn   string
	Prefixes []netip.Prefix
	Position int // order in lists and charts
}

// ErrClass is returned for a class that cannot be saved.
var ErrClass error = derrors.New(derrors.Invalid, "traffic_class", "invalid traffic class")

// ParsePrefixes reads prefixes separated by spaces, commas or new lines;
// a bare address is its own /32 or /128.
func ParsePrefixes(s string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, f := range strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' || r == '\n' || r == '\t' || r == ';' }) {
		p, err := netip.ParsePrefix(f)
		if err != nil {
			a, aerr := netip.ParseAddr(f)
			if aerr != nil {
				return nil, fmt.Errorf("prefix %q: %w", f, ErrClass)
			}
			p = netip.PrefixFrom(a, a.BitLen())
		}
		out = append(out, p.Masked())
	}
	return out, nil
}

func formatPrefixes(ps []netip.Prefix) string {
	s := make([]string, len(ps))
	for i, p := range ps {
		s[i] = p.String()
	}
	return strings.Join(s, " ")
}

// Classes lists the classes in their order.
func Classes(ctx context.Context, db *store.DB) ([]Class, error) {
	rows, err := db.Query(ctx, `SELECT code, name, name_en, prefixes, position FROM traffic_classes ORDER BY position, code`)
	if err != nil {
		return nil, fmt.Errorf("traffic classes: %w", err)
	}
	defer rows.Close()
	var out []Class
	for rows.Next() {
		var c Class
		var ps string
		if err := rows.Scan(&c.Code, &c.Name, &c.NameEn, &ps, &c.Position); err != nil {
			return nil, fmt.Errorf("traffic classes: %w", err)
		}
		if c.Prefixes, err = ParsePrefixes(ps); err != nil {
			return nil, fmt.Errorf("traffic class %s: %w", c.Code, err)
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// SaveClass adds or replaces a class.
func SaveClass(ctx context.Context, db *store.DB, c Class) error {
	if c.Code == "" || c.Name == "" || len(c.Code) > 32 {
		return fmt.Errorf("class %q: code and name are required: %w", c.Code, ErrClass)
	}
	if c.Code == DefaultClass && len(c.Prefixes) > 0 {
		return fmt.Errorf("class %q takes what no other class matches; it has no prefixes: %w", c.Code, ErrClass)
	}
	err := db.Write(ctx, func(tx *store.Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO traffic_classes (code, name, name_en, prefixes, position) VALUES (?, ?, ?, ?, ?)
			ON CONFLICT (code) DO UPDATE SET name = excluded.name, name_en = excluded.name_en, prefixes = excluded.prefixes, position = excluded.position`,
			c.Code, c.Name, c.NameEn, formatPrefixes(c.Prefixes), c.Position)
		return err
	})
	if err != nil {
		return fmt.Errorf("save traffic class %s: %w", c.Code, err)
	}
	return nil
}

// Classifier maps an address to a class by longest prefix. It is immutable:
// a change of classes builds a new one and swaps it in.
type Classifier struct {
	codes []string
	def   uint16
	// byLen[i] holds the prefixes of length lens[i], longest first, so a
	// lookup is one map probe per distinct prefix length, not one per prefix.
	lens4, lens6   []int
	byLen4, byLen6 []map[netip.Prefix]uint16
}

// NewClassifier builds a classifier; the default class is added when absent.
func NewClassifier(classes []Class) *Classifier {
	c := &Classifier{}
	idx := func(code string) uint16 {
		if i := slices.Index(c.codes, code); i >= 0 {
			return uint16(i)
		}
		c.codes = append(c.codes, code)
		return uint16(len(c.codes) - 1)
	}
	c.def = idx(DefaultClass)
	m4, m6 := map[int]map[netip.Prefix]uint16{}, map[int]map[netip.Prefix]uint16{}
	for _, cl := range classes {
		i := idx(cl.Code)
		for _, p := range cl.Prefixes {
			p = p.Masked()
			m := m4
			if p.Addr().Is6() {
				m = m6
			}
			if m[p.Bits()] == nil {
				m[p.Bits()] = map[netip.Prefix]uint16{}
			}
			if _, dup := m[p.Bits()][p]; !dup { // the first class to name a prefix keeps it
				m[p.Bits()][p] = i
			}
		}
	}
	build := func(m map[int]map[netip.Prefix]uint16) ([]int, []map[netip.Prefix]uint16) {
		var lens []int
		for l := range m {
			lens = append(lens, l)
		}
		slices.Sort(lens)
		slices.Reverse(lens)
		maps := make([]map[netip.Prefix]uint16, len(lens))
		for i, l := range lens {
			maps[i] = m[l]
		}
		return lens, maps
	}
	c.lens4, c.byLen4 = build(m4)
	c.lens6, c.byLen6 = build(m6)
	return c
}

// Class returns the index of a's class.
func (c *Classifier) Class(a netip.Addr) uint16 {
	lens, maps := c.lens4, c.byLen4
	if a.Is4In6() {
		a = a.Unmap()
	}
	if a.Is6() {
		lens, maps = c.lens6, c.byLen6
	}
	for i, l := range lens {
		p, _ := a.Prefix(l)
		if cl, ok := maps[i][p]; ok {
			return cl
		}
	}
	return c.def
}

// Code is the code of a class index.
func (c *Classifier) Code(i uint16) string { return c.codes[i] }
