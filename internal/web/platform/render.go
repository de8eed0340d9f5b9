package platform

import (
	"bytes"
	"fmt"
	"html/template"
	"io/fs"
	"math"
	"path"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"text/template/parse"
	"time"

	"github.com/kabinet-billing/kabinet/internal/billing"
	"github.com/kabinet-billing/kabinet/internal/money"
)

// Renderer executes the HTML templates. They are parsed once at start, one
// set per language, so that {{t "id"}} needs no language argument and no
// request pays for parsing.
//
// Layout of the template tree (web/templates):
//
//	layout.html           the page frame, defines "layout"; shared partials
//	<area>/_*.html        partials of one area (portal, admin, public)
//	<area>/<page>.html    one page each, defining "content" (and "title")
//
// A page is named "<area>/<page>", e.g. "portal/home".
type Renderer struct {
	pages map[string]map[string]*pageSet // lang → page → set
	i18n  *I18n
	zone  *time.Location
	fsys  fs.FS
	dir   string
}

// pageSet is one page's parsed templates. The first execution of each
// template name folds constant text into the trees (see fold); until a name
// has been folded, executing it excludes every other execution of the set.
type pageSet struct {
	t      *template.Template
	lang   string
	mu     sync.RWMutex
	folded map[string]bool
	// frags remembers executed fragments (see Fragment): fragKey → template.HTML.
	frags  sync.Map
	nFrags atomic.Int64
	// files are the page's template files after the root ones, for the
	// layout's shells (see shell.go).
	files  []string
	shells shells
}

// fragKey is a fragment's name and the data it was executed with.
type fragKey struct {
	name string
	data any
}

// maxFragments bounds each page set's fragment memory; when it is full the
// memory starts afresh.
const maxFragments = 4096

// NewRenderer parses every page under dir of fsys for every language.
func NewRenderer(fsys fs.FS, dir string, t *I18n, zone *time.Location) (*Renderer, error) {
	fsys = compactFS{fsys}
	r := &Renderer{pages: map[string]map[string]*pageSet{}, i18n: t, zone: zone, fsys: fsys, dir: dir}
	areas, err := fs.ReadDir(fsys, dir)
	if err != nil {
		return nil, fmt.Errorf("templates: %w", err)
	}
	for _, lang := range Langs {
		base, err := template.New("").Funcs(r.funcs(lang)).ParseFS(fsys, path.Join(dir, "*.html"))
		if err != nil {
			return nil, fmt.Errorf("templates: %w", err)
		}
		r.pages[lang] = map[string]*pageSet{}
		for _, a := range areas {
			if !a.IsDir() {
				continue
			}
			area := a.Name()
			files, err := fs.Glob(fsys, path.Join(dir, area, "*.html"))
			if err != nil {
				return nil, err
			}
			var shared, pages []string
			for _, f := range files {
				if strings.HasPrefix(path.Base(f), "_") {
					shared = append(shared, f)
				} else {
					pages = append(pages, f)
				}
			}
			for _, f := range pages {
				set, err := base.Clone()
				if err != nil {
					return nil, err
				}
				if len(shared) > 0 {
					if set, err = set.ParseFS(fsys, shared...); err != nil {
						return nil, fmt.Errorf("templates %s: %w", area, err)
					}
				}
				if set, err = set.ParseFS(fsys, f); err != nil {
					return nil, fmt.Errorf("template %s: %w", f, err)
				}
				r.pages[lang][area+"/"+strings.TrimSuffix(path.Base(f), ".html")] = &pageSet{t: set, lang: lang, folded: map[string]bool{},
					files: append(slices.Clone(shared), f)}
			}
		}
	}
	return r, nil
}

// Pages lists the page names, for the test that executes every template.
func (r *Renderer) Pages() []string {
	var out []string
	for name := range r.pages[Langs[0]] {
		out = append(out, name)
	}
	sort.Strings(out)
	return out
}

// Execute renders template name ("layout" for a whole page, or a fragment
// the page defines) of page into a buffer.
func (r *Renderer) Execute(lang, page, name string, data any) ([]byte, error) {
	var buf bytes.Buffer
	if err := r.ExecuteTo(&buf, lang, page, name, data); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// ExecuteTo is Execute into buf; on error buf holds part of the output.
func (r *Renderer) ExecuteTo(buf *bytes.Buffer, lang, page, name string, data any) error {
	set, ok := r.pages[Lang(lang)][page]
	if !ok {
		return fmt.Errorf("template %s: no such page", page)
	}
	if done, err := set.executeFolded(buf, name, data); done {
		if err != nil {
			return fmt.Errorf("template %s/%s: %w", page, name, err)
		}
		return nil
	}
	set.mu.Lock()
	defer set.mu.Unlock()
	r.foldText(set)
	// Executing escapes name and the templates it calls (html/template
	// does it on first use); the escaped pipelines can then be folded.
	if err := set.t.ExecuteTemplate(buf, name, data); err != nil {
		return fmt.Errorf("template %s/%s: %w", page, name, err)
	}
	foldEscaped(set.t)
	set.folded[name] = true
	return nil
}

// Fragment renders template name of page with data once and then answers
// from memory: for the parts that many views show alike, such as the menu
// of a section, a status badge or a catalogue line. data is the memory's
// key, so it must be comparable and must be everything the output depends
// on besides the page and the language: never pass a pointer or anything
// that changes behind it. The result is safe HTML (html/template escaped
// it) for an HTML text context.
func (r *Renderer) Fragment(lang, page, name string, data any) (template.HTML, error) {
	set, ok := r.pages[Lang(lang)][page]
	if !ok {
		return "", fmt.Errorf("template %s: no such page", page)
	}
	k := fragKey{name, data}
	if h, ok := set.frags.Load(k); ok {
		return h.(template.HTML), nil
	}
	b, err := r.Execute(lang, page, name, data)
	if err != nil {
		return "", err
	}
	h := template.HTML(b)
	if set.nFrags.Add(1) > maxFragments {
		set.frags.Clear()
		set.nFrags.Store(1)
	}
	set.frags.Store(k, h)
	return h, nil
}

// executeFolded executes name when it has been folded; done is false when
// it has not. The read lock is released even if execution panics.
func (set *pageSet) executeFolded(buf *bytes.Buffer, name string, data any) (done bool, err error) {
	set.mu.RLock()
	defer set.mu.RUnlock()
	if !set.folded[name] {
		return false, nil
	}
	return true, set.t.ExecuteTemplate(buf, name, data)
}

// foldText replaces {{t "id"}} of a translated id with the translation as a
// constant: a page has dozens, and each is a reflective call per view.
// With foldEscaped it saves a tenth of the logged-in home page's CPU: 1.13
// times without both (bench/portal with 100,000 accounts, 80 rounds
// alternated in one process over 8 connections on two shared cores: median
// of the rounds' ratios, quartiles 0.99-1.28). The
// escaper html/template adds still runs on the constant, so the output is
// the same in any context. It runs at a page's first view, after every area
// has added its messages; an id without a translation in the set's language
// stays a call, so that it is still recorded as missing when shown.
func (r *Renderer) foldText(set *pageSet) {
	for _, t := range set.t.Templates() {
		if t.Tree != nil && t.Tree.Root != nil {
			walkCommands(t.Tree.Root, func(c *parse.CommandNode) {
				if len(c.Args) != 2 {
					return
				}
				fn, ok1 := c.Args[0].(*parse.IdentifierNode)
				id, ok2 := c.Args[1].(*parse.StringNode)
				if !ok1 || !ok2 || fn.Ident != "t" {
					return
				}
				if s, ok := r.i18n.translated(set.lang, id.Text); ok {
					c.Args = []parse.Node{&parse.StringNode{NodeType: parse.NodeString, Pos: id.Pos, Quoted: strconv.Quote(s), Text: s}}
				}
			})
		}
	}
}

// htmlEscapers are html/template's escapers for text and quoted attribute
// values; on a plain string both replace exactly htmlReplacements.
var (
	htmlEscapers     = map[string]bool{"_html_template_htmlescaper": true, "_html_template_attrescaper": true}
	htmlReplacements = strings.NewReplacer("\x00", "\uFFFD", `"`, "&#34;", "&", "&amp;", "'", "&#39;", "+", "&#43;", "<", "&lt;", ">", "&gt;")
)

// foldEscaped turns escaped actions on a constant string ({{"text" |
// _html_template_htmlescaper}}) into the text they always print. Actions
// escaped for any other context (URL, script, RCDATA) are left alone.
func foldEscaped(set *template.Template) {
	for _, t := range set.Templates() {
		if t.Tree == nil || t.Tree.Root == nil {
			continue
		}
		walkLists(t.Tree.Root, func(l *parse.ListNode) {
			for i, n := range l.Nodes {
				a, ok := n.(*parse.ActionNode)
				if !ok || a.Pipe == nil || len(a.Pipe.Decl) > 0 || len(a.Pipe.Cmds) < 2 || len(a.Pipe.Cmds[0].Args) != 1 {
					continue
				}
				str, ok := a.Pipe.Cmds[0].Args[0].(*parse.StringNode)
				if !ok {
					continue
				}
				text, escaped := str.Text, true
				for _, c := range a.Pipe.Cmds[1:] {
					id, ok := c.Args[0].(*parse.IdentifierNode)
					if len(c.Args) != 1 || !ok || !htmlEscapers[id.Ident] {
						escaped = false
						break
					}
					text = htmlReplacements.Replace(text)
				}
				if escaped {
					l.Nodes[i] = &parse.TextNode{NodeType: parse.NodeText, Pos: a.Pos, Text: []byte(text)}
				}
			}
		})
	}
}

// walkLists calls fn for every list in the tree under n.
func walkLists(n parse.Node, fn func(*parse.ListNode)) {
	switch n := n.(type) {
	case *parse.ListNode:
		if n == nil {
			return
		}
		fn(n)
		for _, c := range n.Nodes {
			walkLists(c, fn)
		}
	case *parse.IfNode:
		walkLists(n.List, fn)
		walkLists(n.ElseList, fn)
	case *parse.RangeNode:
		walkLists(n.List, fn)
		walkLists(n.ElseList, fn)
	case *parse.WithNode:
		walkLists(n.List, fn)
		walkLists(n.ElseList, fn)
	}
}

// walkCommands calls fn for every command in the tree under n, pipelines
// in arguments included.
func walkCommands(n parse.Node, fn func(*parse.CommandNode)) {
	var pipe func(p *parse.PipeNode)
	pipe = func(p *parse.PipeNode) {
		if p == nil {
			return
		}
		for _, c := range p.Cmds {
			fn(c)
			for _, a := range c.Args {
				if sub, ok := a.(*parse.PipeNode); ok {
					pipe(sub)
				}
			}
		}
	}
	switch n := n.(type) {
	case *parse.ListNode:
		if n == nil {
			return
		}
		for _, c := range n.Nodes {
			walkCommands(c, fn)
		}
	case *parse.ActionNode:
		pipe(n.Pipe)
	case *parse.TemplateNode:
		pipe(n.Pipe)
	case *parse.IfNode:
		pipe(n.Pipe)
		walkCommands(n.List, fn)
		walkCommands(n.ElseList, fn)
	case *parse.RangeNode:
		pipe(n.Pipe)
		walkCommands(n.List, fn)
		walkCommands(n.ElseList, fn)
	case *parse.WithNode:
		pipe(n.Pipe)
		walkCommands(n.List, fn)
		walkCommands(n.ElseList, fn)
	}
}

func (r *Renderer) funcs(lang string) template.FuncMap {
	zone := r.zone
	return template.FuncMap{
		"lang": func() string { return lang },
		// t translates; extra arguments are name/value pairs for the
		// message's fields ({{t "x" "Count" 3}}).
		"t": func(id string, kv ...any) string {
			var data map[string]any
			if len(kv) > 1 {
				data = map[string]any{}
				for i := 0; i+1 < len(kv); i += 2 {
					data[fmt.Sprint(kv[i])] = kv[i+1]
				}
			}
			return r.i18n.T(lang, id, data)
		},
		"money": func(a money.Amount) string { return a.Format(lang) },
		"rub":   func(a money.Amount) string { return a.Format(lang) },
		"neg":   func(a money.Amount) bool { return a < 0 },
		"speed": func(kbps int64) string { return FormatSpeed(lang, kbps) },
		// mbit is a measured speed in Mbit/s with one decimal, in the
		// language's number format ("94,3"); msec a short duration in ms.
		"mbit": func(kbps int64) string { return Decimal1(lang, float64(kbps)/1000) },
		"msec": func(d time.Duration) string { return Decimal1(lang, float64(d)/float64(time.Millisecond)) },
		"date": func(t time.Time) string {
			if t.IsZero() {
				return "—"
			}
			return t.In(zone).Format("02.01.2006")
		},
		"datetime": func(t time.Time) string {
			if t.IsZero() {
				return "—"
			}
			return t.In(zone).Format("02.01.2006 15:04")
		},
		"isodate": func(t time.Time) string { return t.In(zone).Format("2006-01-02") },
		// month names a billing month by its key: "2026-03" is "март 2026"
		// ("March 2026"); anything else is shown as it is.
		"month": func(key string) string {
			t, err := time.Parse("2006-01", key)
			if err != nil {
				return key
			}
			return r.i18n.T(lang, fmt.Sprintf("month_name.%d", t.Month()), nil) + " " + strconv.Itoa(t.Year())
		},
		// tel is a phone number as a tel: link dials it: its digits and
		// '+' (RFC 3966 allows no spaces).
		"tel": dialable,
		// dots turns an ISO date (a form value) into the Russian 02.01.2006.
		"dots": func(iso string) string {
			t, err := time.Parse("2006-01-02", iso)
			if err != nil {
				return iso
			}
			return t.Format("02.01.2006")
		},
		"bytes": func(n int64) string { return FormatBytes(lang, n) },
		"name": func(ru, en string) string {
			if lang == "en" && en != "" {
				return en
			}
			return ru
		},
		"add":   func(a, b int64) int64 { return a + b },
		"sub":   func(a, b int64) int64 { return a - b },
		"split": func(s string) []string { return strings.SplitN(s, ":", 2) },
		"pct": func(part, whole int64) int64 {
			if whole <= 0 {
				return 0
			}
			return max(1, part*100/whole)
		},
	}
}

// FormatSpeed writes a speed as the subscriber reads it: "100 Мбит/с".
func FormatSpeed(lang string, kbps int64) string { return billing.SpeedWords(lang, kbps) }

// Decimal1 writes v with one decimal in lang's format: "94,3" in Russian,
// "94.3" in English; whole numbers without the decimal ("100").
func Decimal1(lang string, v float64) string {
	s := strconv.FormatFloat(math.Round(v*10)/10, 'f', 1, 64)
	s = strings.TrimSuffix(s, ".0")
	if lang != "en" {
		s = strings.Replace(s, ".", ",", 1)
	}
	return s
}

// FormatBytes writes a byte count in binary units with one decimal.
func FormatBytes(lang string, n int64) string {
	units := []string{"B", "KB", "MB", "GB", "TB"}
	if lang != "en" {
		units = []string{"Б", "КБ", "МБ", "ГБ", "ТБ"}
	}
	f, i := float64(n), 0
	for f >= 1024 && i < len(units)-1 {
		f /= 1024
		i++
	}
	s := fmt.Sprintf("%.1f %s", f, units[i])
	if i == 0 {
		s = fmt.Sprintf("%d %s", n, units[0])
	}
	if lang != "en" {
		s = strings.Replace(s, ".", ",", 1)
	}
	return s
}

// dialable is phone as a tel: link wants it: "+7 (4822) 55-00-00" becomes
// "+74822550000".
func dialable(phone string) string {
	return strings.Map(func(r rune) rune {
		if r >= '0' && r <= '9' || r == '+' {
			return r
		}
		return -1
	}, phone)
}
