package platform

import (
	"bytes"
	"fmt"
	"html/template"
	"path"
	"strconv"
	"strings"
	"sync"
	"text/template/parse"
)

// Shells.
//
// A page's layout (the head, the header with its menu, the footer) comes out
// the same on every view of that page with the same title, section and
// login state, except for a few values of the request: the form token, the
// path, who is logged in, and the page's content. Executing the layout
// costs a reflective call for every action in it, on every view.
//
// So the renderer executes a layout once per page, language, title, section
// and login state, with markers in place of those values, and keeps the
// output cut at the markers: a shell. A view then writes the shell's pieces
// with the request's values between them, escaped exactly as html/template
// escapes a string in HTML text or a quoted attribute value, and the page's
// "content" template, executed on its own, in the content's place.
//
// A shell is only made when that is certain to give the same page as
// executing the layout:
//   - before executing, the layout's templates are read: the request's
//     values may only be printed ({{.CSRF}}), and whether someone is logged
//     in only tested ({{if .User}}); a layout that uses them in any other
//     way (a condition on the path, a value passed to a function or a
//     template), or that uses the page's data (.D), gets no shell;
//   - after executing, every marker must have come out escaped as HTML text
//     or a quoted attribute value (a marker in a URL, a script, a style or
//     an unquoted attribute comes out otherwise), and the content exactly
//     once, where HTML text is expected (its marker is a script element that
//     shows it);
//   - views with a message (Flash, Error) are executed whole.
//
// Otherwise the layout is executed whole on every view, as before.
//
// The logged-in home page took 1.28 times the server's CPU without shells
// (bench/portal with 100,000 accounts, built with and without them, 80
// rounds alternated in one process over 8 connections on two shared
// cores: median of the rounds' ratios, quartiles 1.09-1.43).

// The request's values a shell leaves holes for.
const (
	holeCSRF = iota
	holePath
	holeLogin
	holeName
	holeContract
	holeContent
)

// holeWord is in every marker; it survives every escaper unchanged, so
// that a marker escaped in an unexpected context is still found.
const holeWord = "kabinetshellhole"

// holeMarker is the value printed for a hole when a shell is made: a
// private-use character, the word and number, a space and a '<' come out
// differently from every escaper but the HTML text and attribute one.
func holeMarker(h int) string { return "\uE000" + holeWord + strconv.Itoa(h) + " <\uE001" }

// contentDef replaces the page's content when a shell is made. Called in
// HTML text, the script element opens a script and its string is escaped as
// JavaScript; anywhere else it comes out otherwise.
const (
	contentDef    = `{{define "content"}}<script>{{"` + holeWord + `content"}}</script>{{end}}`
	contentMarked = `<script>"` + holeWord + `content"</script>`
)

// shellKey is what a layout's shell depends on besides the page and
// language (the set): everything of the View it may use but the holes.
// Provider is the platform's and the same for every view.
type shellKey struct {
	name, title, nav string
	menu             template.HTML
	user             bool
}

// shell is a layout cut at its holes: parts[i] is followed by holes[i].
type shell struct {
	parts []string
	holes []int
}

// shells are a page set's shells. A nil *shell means the layout cannot be
// cut; cuttable remembers the answer of reading the layout, by name.
type shells struct {
	mu       sync.Mutex
	set      *template.Template // the page's templates with contentDef
	cuttable map[string]bool
	made     sync.Map // shellKey → *shell
}

// maxShells bounds a page set's shells (titles and sections are few).
const maxShells = 256

// ExecuteView renders template name of page for a view: through the
// layout's shell when it has one, else whole (ExecuteTo).
func (r *Renderer) ExecuteView(buf *bytes.Buffer, page, name string, v View) error {
	set, ok := r.pages[Lang(v.Lang)][page]
	if !ok {
		return fmt.Errorf("template %s: no such page", page)
	}
	if done, err := r.executeShell(buf, set, page, name, v); done {
		return err
	}
	return r.ExecuteTo(buf, v.Lang, page, name, v)
}

// executeShell renders layout name of the page through its shell; done is
// false when the view cannot use one and must be executed whole.
func (r *Renderer) executeShell(buf *bytes.Buffer, set *pageSet, page, name string, v View) (done bool, err error) {
	if v.Flash != "" || v.Error != "" {
		return false, nil
	}
	k := shellKey{name: name, title: v.Title, nav: v.Nav, menu: v.Menu, user: v.User != nil}
	var sh *shell
	if got, ok := set.shells.made.Load(k); ok {
		sh = got.(*shell)
	} else {
		sh = r.makeShell(set, k, v)
	}
	if sh == nil {
		return false, nil
	}
	return true, sh.write(buf, holeValues(v), func() error { return r.ExecuteTo(buf, set.lang, page, "content", v) })
}

// holeValues are the view's values for the holes but the content.
func holeValues(v View) [holeContent]string {
	h := [holeContent]string{holeCSRF: v.CSRF, holePath: v.Path}
	if u := v.User; u != nil {
		h[holeLogin], h[holeName], h[holeContract] = u.Login, u.Name, u.ContractNo
	}
	return h
}

// write writes the shell with the values in its holes and content in the
// content's place.
func (sh *shell) write(buf *bytes.Buffer, values [holeContent]string, content func() error) error {
	for i, part := range sh.parts {
		buf.WriteString(part)
		if i == len(sh.holes) {
			break
		}
		if h := sh.holes[i]; h != holeContent {
			htmlReplacements.WriteString(buf, values[h])
		} else if err := content(); err != nil {
			return err
		}
	}
	return nil
}

// makeShell executes the layout with markers and cuts it, or returns nil
// (remembered) when the layout cannot be cut.
func (r *Renderer) makeShell(set *pageSet, k shellKey, v View) *shell {
	sh := r.cut(set, k, v)
	n := 0
	set.shells.made.Range(func(any, any) bool { n++; return true })
	if n >= maxShells {
		set.shells.made.Clear()
	}
	set.shells.made.Store(k, sh)
	return sh
}

func (r *Renderer) cut(set *pageSet, k shellKey, v View) *shell {
	t, ok := r.shellSet(set, k.name)
	if !ok {
		return nil
	}
	mv := View{Lang: set.lang, Title: k.title, Nav: k.nav, Menu: k.menu, Provider: v.Provider,
		CSRF: holeMarker(holeCSRF), Path: holeMarker(holePath)}
	if k.user {
		mv.User = &User{Login: holeMarker(holeLogin), Name: holeMarker(holeName), ContractNo: holeMarker(holeContract)}
	}
	var b bytes.Buffer
	if err := t.ExecuteTemplate(&b, k.name, mv); err != nil {
		return nil
	}
	out := b.String()
	sh := &shell{}
	contents := 0
	for {
		i := strings.Index(out, holeWord)
		if i < 0 {
			break
		}
		var h, start, end int
		switch {
		case strings.HasPrefix(out[i:], holeWord+"content"):
			start = i - len(`<script>"`)
			end = start + len(contentMarked)
			if start < 0 || end > len(out) || out[start:end] != contentMarked {
				return nil
			}
			h = holeContent
			contents++
		default:
			j := i + len(holeWord)
			for j < len(out) && out[j] >= '0' && out[j] <= '9' {
				j++
			}
			var err error
			if h, err = strconv.Atoi(out[i+len(holeWord) : j]); err != nil || h >= holeContent {
				return nil
			}
			want := htmlReplacements.Replace(holeMarker(h))
			start = i - len("\uE000")
			end = start + len(want)
			if start < 0 || end > len(out) || out[start:end] != want {
				return nil
			}
		}
		sh.parts = append(sh.parts, out[:start])
		sh.holes = append(sh.holes, h)
		out = out[end:]
	}
	if contents != 1 || strings.ContainsAny(out, "\uE000\uE001") {
		return nil
	}
	sh.parts = append(sh.parts, out)
	for _, p := range sh.parts {
		if strings.ContainsAny(p, "\uE000\uE001") {
			return nil
		}
	}
	// An escaper that rejects a value prints a placeholder instead, and
	// the marker is lost without a trace: the shell must also give what
	// the layout gives for plain values and for values that need escaping.
	for _, sample := range []string{"sample7", `s"a'm<p>l&e+ ` + "\u00e9\x00"} {
		sv := mv
		sv.CSRF, sv.Path = "csrf"+sample, "/path"+sample
		if k.user {
			sv.User = &User{Login: "login" + sample, Name: "name" + sample, ContractNo: "contract" + sample}
		}
		var whole, filled bytes.Buffer
		if err := t.ExecuteTemplate(&whole, k.name, sv); err != nil {
			return nil
		}
		sh.write(&filled, holeValues(sv), func() error { filled.WriteString(contentMarked); return nil })
		if whole.String() != filled.String() {
			return nil
		}
	}
	return sh
}

// shellSet is the page's templates parsed afresh with contentDef in place
// of the content, and whether layout name may be cut (see cuttable).
func (r *Renderer) shellSet(set *pageSet, name string) (*template.Template, bool) {
	s := &set.shells
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.set == nil {
		t, err := template.New("").Funcs(r.funcs(set.lang)).ParseFS(r.fsys, path.Join(r.dir, "*.html"))
		if err == nil {
			t, err = t.ParseFS(r.fsys, set.files...)
		}
		if err == nil {
			t, err = t.Parse(contentDef)
		}
		if err != nil {
			return nil, false
		}
		s.set, s.cuttable = t, map[string]bool{}
	}
	ok, seen := s.cuttable[name]
	if !seen {
		// Read before the first execution, which escapes the trees.
		ok = cuttable(s.set, name)
		s.cuttable[name] = ok
	}
	return s.set, ok
}

// View fields a layout may use freely: the shell's key, or the platform's.
var shellKeyFields = map[string]bool{"Lang": true, "Title": true, "Nav": true, "Menu": true, "Provider": true, "Flash": true, "Error": true}

// cuttable reads layout name and the templates it calls with the view (not
// the content) and tells whether the view's holes are only printed and the
// login only tested (see Shells above).
func cuttable(set *template.Template, name string) bool {
	c := &cutCheck{set: set, seen: map[string]bool{}, ok: true}
	c.template(name)
	return c.ok
}

type cutCheck struct {
	set  *template.Template
	seen map[string]bool
	ok   bool
}

func (c *cutCheck) template(name string) {
	if c.seen[name] {
		return
	}
	c.seen[name] = true
	t := c.set.Lookup(name)
	if t == nil || t.Tree == nil || t.Tree.Root == nil {
		c.ok = false
		return
	}
	if name == "content" {
		return
	}
	c.list(t.Tree.Root, true)
}

// viewField is the field chain a node takes from the view ("CSRF",
// "User.Login"), or "" when it takes nothing from it. whole reports the
// view itself (dot or $).
func viewField(n parse.Node, dotIsView bool) (field string, whole bool) {
	switch n := n.(type) {
	case *parse.FieldNode:
		if dotIsView {
			return strings.Join(n.Ident, "."), false
		}
	case *parse.VariableNode:
		if n.Ident[0] == "$" {
			if len(n.Ident) == 1 {
				return "", true
			}
			return strings.Join(n.Ident[1:], "."), false
		}
	case *parse.DotNode:
		return "", dotIsView
	case *parse.ChainNode:
		return viewField(n.Node, dotIsView)
	}
	return "", false
}

// printed is a hole printed alone: {{.CSRF}}, possibly with the escapers
// html/template adds.
func printed(a *parse.ActionNode, dotIsView bool) bool {
	p := a.Pipe
	if p == nil || len(p.Decl) > 0 || len(p.Cmds) == 0 || len(p.Cmds[0].Args) != 1 {
		return false
	}
	for _, cmd := range p.Cmds[1:] {
		id, ok := cmd.Args[0].(*parse.IdentifierNode)
		if len(cmd.Args) != 1 || !ok || !strings.HasPrefix(id.Ident, "_html_template_") {
			return false
		}
	}
	switch f, _ := viewField(p.Cmds[0].Args[0], dotIsView); f {
	case "CSRF", "Path", "User.Login", "User.Name", "User.ContractNo":
		return true
	}
	return false
}

// pipe checks a pipeline that may use only the key's fields of the view.
func (c *cutCheck) pipe(p *parse.PipeNode, dotIsView bool) {
	if p == nil {
		return
	}
	for _, cmd := range p.Cmds {
		for _, a := range cmd.Args {
			if sub, ok := a.(*parse.PipeNode); ok {
				c.pipe(sub, dotIsView)
				continue
			}
			f, whole := viewField(a, dotIsView)
			if whole || (f != "" && !shellKeyFields[strings.Split(f, ".")[0]]) {
				c.ok = false
			}
		}
	}
}

func (c *cutCheck) list(l *parse.ListNode, dotIsView bool) {
	if l == nil {
		return
	}
	for _, n := range l.Nodes {
		c.node(n, dotIsView)
	}
}

func (c *cutCheck) node(n parse.Node, dotIsView bool) {
	switch n := n.(type) {
	case *parse.ActionNode:
		if !printed(n, dotIsView) {
			c.pipe(n.Pipe, dotIsView)
		}
	case *parse.IfNode:
		// {{if .User}}: whether someone is logged in is in the key.
		if p := n.Pipe; p == nil || len(p.Decl) > 0 || len(p.Cmds) != 1 || len(p.Cmds[0].Args) != 1 || !isUser(p.Cmds[0].Args[0], dotIsView) {
			c.pipe(n.Pipe, dotIsView)
		}
		c.list(n.List, dotIsView)
		c.list(n.ElseList, dotIsView)
	case *parse.WithNode:
		c.pipe(n.Pipe, dotIsView)
		c.list(n.List, false)
		c.list(n.ElseList, dotIsView)
	case *parse.RangeNode:
		c.pipe(n.Pipe, dotIsView)
		c.list(n.List, false)
		c.list(n.ElseList, dotIsView)
	case *parse.TemplateNode:
		// Called with the view: read it too. Called with anything else: its
		// dot is not the view, and the argument must be allowed.
		if p := n.Pipe; p != nil && len(p.Decl) == 0 && len(p.Cmds) == 1 && len(p.Cmds[0].Args) == 1 {
			if _, whole := viewField(p.Cmds[0].Args[0], dotIsView); whole {
				c.template(n.Name)
				return
			}
		}
		c.pipe(n.Pipe, dotIsView)
	case *parse.ListNode:
		c.list(n, dotIsView)
	case *parse.BreakNode, *parse.ContinueNode, *parse.CommentNode, *parse.TextNode:
	default:
		c.ok = false
	}
}

func isUser(n parse.Node, dotIsView bool) bool {
	f, _ := viewField(n, dotIsView)
	return f == "User"
}
