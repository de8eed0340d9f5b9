package platform

import (
	"bytes"
	"html/template"
	"os"
	"testing"
	"testing/fstest"
	"time"

	"github.com/kabinet-billing/kabinet/internal/config"
)

// shellFS is the real layout and translations with one page, "x/page",
// whose content prints the view's values in several contexts, and the
// layouts given (name → file text) beside it.
func shellFS(t *testing.T, layouts map[string]string) fstest.MapFS {
	t.Helper()
	fs := fstest.MapFS{}
	for _, f := range []string{"templates/layout.html", "translations/ru.toml", "translations/en.toml"} {
		b, err := os.ReadFile("../../../web/" + f)
		if err != nil {
			t.Fatal(err)
		}
		fs[f] = &fstest.MapFile{Data: b}
	}
	for name, text := range layouts {
		fs["templates/"+name+".html"] = &fstest.MapFile{Data: []byte(text)}
	}
	fs["templates/x/page.html"] = &fstest.MapFile{Data: []byte(`{{define "content"}}<p title="{{.CSRF}}">{{.Path}} {{.D}}</p><a href="{{.Path}}">x</a>{{end}}`)}
	return fs
}

func shellRenderer(t *testing.T, fs fstest.MapFS) *Renderer {
	t.Helper()
	i18n, err := NewI18n(fs, "translations")
	if err != nil {
		t.Fatal(err)
	}
	r, err := NewRenderer(fs, "templates", i18n, time.UTC)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// shellViews are views with values that need escaping everywhere.
func shellViews() []View {
	prov := config.Default().Provider
	nasty := `a"b'c<d>e&f+g ` + "\u00e9\x00"
	var out []View
	for _, lang := range Langs {
		for _, user := range []*User{nil, {ID: 7, Login: "u" + nasty, Name: "n" + nasty, ContractNo: "C-" + nasty}} {
			for _, v := range []View{
				{CSRF: "tok-" + nasty, Path: "/p?q=" + nasty, Title: "home.title", Nav: "home", D: "data " + nasty},
				{CSRF: "", Path: "/", Title: "tariffs.title", Nav: "tariffs", D: 1},
				{CSRF: "t", Path: "/x", Title: "home.title", Nav: "home", Flash: "flash " + nasty, Error: "err " + nasty},
			} {
				v.Lang, v.User, v.Provider = lang, user, prov
				if user != nil {
					v.Menu = template.HTML("<nav>" + v.Nav + "</nav>")
				}
				out = append(out, v)
			}
		}
	}
	return out
}

// TestShellSameAsWhole: a page through its layout's shell is byte for byte
// the page executed whole, and the real layout gets a shell.
func TestShellSameAsWhole(t *testing.T) {
	r := shellRenderer(t, shellFS(t, nil))
	for _, v := range shellViews() {
		for range 2 { // the first view makes the shell, the second uses it
			var shelled, whole bytes.Buffer
			if err := r.ExecuteView(&shelled, "x/page", "layout", v); err != nil {
				t.Fatal(err)
			}
			if err := r.ExecuteTo(&whole, v.Lang, "x/page", "layout", v); err != nil {
				t.Fatal(err)
			}
			if shelled.String() != whole.String() {
				t.Fatalf("view %+v:\nshell:\n%s\nwhole:\n%s", v, shelled.String(), whole.String())
			}
		}
	}
	set := r.pages["ru"]["x/page"]
	made := 0
	set.shells.made.Range(func(_, sh any) bool {
		if sh.(*shell) == nil {
			t.Errorf("the real layout got no shell")
		}
		made++
		return true
	})
	if made == 0 {
		t.Errorf("no shells made")
	}
}

// TestShellRefused: layouts that use the request's values other than by
// printing them in HTML text or a quoted attribute get no shell, and their
// pages still come out right.
func TestShellRefused(t *testing.T) {
	body := `{{template "content" .}}`
	layouts := map[string]string{
		"url":       `{{define "url"}}<a href="{{.Path}}">x</a>` + body + `{{end}}`,
		"script":    `{{define "script"}}<script>var t = {{.CSRF}};</script>` + body + `{{end}}`,
		"unquoted":  `{{define "unquoted"}}<p title={{.CSRF}}>x</p>` + body + `{{end}}`,
		"style":     `{{define "style"}}<p style="color: {{.CSRF}}">x</p>` + body + `{{end}}`,
		"cond":      `{{define "cond"}}{{if eq .Path "/"}}root{{end}}` + body + `{{end}}`,
		"data":      `{{define "data"}}{{.D}}` + body + `{{end}}`,
		"userid":    `{{define "userid"}}{{with .User}}{{.ID}}{{end}}` + body + `{{end}}`,
		"func":      `{{define "func"}}{{lang}}{{printf "%s" .CSRF}}` + body + `{{end}}`,
		"var":       `{{define "var"}}{{$p := .Path}}{{$p}}` + body + `{{end}}`,
		"dollar":    `{{define "dollar"}}{{range $i := "ab"}}{{$.D}}{{end}}` + body + `{{end}}`,
		"sub":       `{{define "sub"}}{{template "subx" .}}` + body + `{{end}}{{define "subx"}}{{if .CSRF}}has{{end}}{{end}}`,
		"noContent": `{{define "noContent"}}<p>{{.CSRF}}</p>{{end}}`,
		"twice":     `{{define "twice"}}` + body + body + `{{end}}`,
		"inAttr":    `{{define "inAttr"}}<p title='` + body + `'>x</p>{{end}}`,
		"inTitle":   `{{define "inTitle"}}<title>` + body + `</title>{{end}}`,
	}
	r := shellRenderer(t, shellFS(t, layouts))
	for name := range layouts {
		for _, v := range shellViews() {
			var shelled, whole bytes.Buffer
			errS := r.ExecuteView(&shelled, "x/page", name, v)
			errW := r.ExecuteTo(&whole, v.Lang, "x/page", name, v)
			if (errS == nil) != (errW == nil) || shelled.String() != whole.String() {
				t.Fatalf("layout %s, view %+v:\nshell (%v):\n%s\nwhole (%v):\n%s", name, v, errS, shelled.String(), errW, whole.String())
			}
		}
		r.pages["ru"]["x/page"].shells.made.Range(func(k, sh any) bool {
			if k.(shellKey).name == name && sh.(*shell) != nil {
				t.Errorf("layout %s got a shell", name)
			}
			return true
		})
	}
}
