package platform

import (
	"bytes"
	"fmt"
	"html/template"
	"io/fs"
	"path"
	"sort"
	"strings"
	"time"

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
	pages map[string]map[string]*template.Template // lang → page → set
	i18n  *I18n
	zone  *time.Location
}

// NewRenderer parses every page under dir of fsys for every language.
func NewRenderer(fsys fs.FS, dir string, t *I18n, zone *time.Location) (*Renderer, error) {
	r := &Renderer{pages: map[string]map[string]*template.Template{}, i18n: t, zone: zone}
	areas, err := fs.ReadDir(fsys, dir)
	if err != nil {
		return nil, fmt.Errorf("templates: %w", err)
	}
	for _, lang := range Langs {
		base, err := template.New("").Funcs(r.funcs(lang)).ParseFS(fsys, path.Join(dir, "*.html"))
		if err != nil {
			return nil, fmt.Errorf("templates: %w", err)
		}
		r.pages[lang] = map[string]*template.Template{}
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
				r.pages[lang][area+"/"+strings.TrimSuffix(path.Base(f), ".html")] = set
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
	set, ok := r.pages[Lang(lang)][page]
	if !ok {
		return nil, fmt.Errorf("template %s: no such page", page)
	}
	var buf bytes.Buffer
	if err := set.ExecuteTemplate(&buf, name, data); err != nil {
		return nil, fmt.Errorf("template %s/%s: %w", page, name, err)
	}
	return buf.Bytes(), nil
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
func FormatSpeed(lang string, kbps int64) string {
	unit, v := "kbit/s", kbps
	ru := map[string]string{"kbit/s": "Кбит/с", "Mbit/s": "Мбит/с", "Gbit/s": "Гбит/с"}
	switch {
	case kbps >= 1000000 && kbps%1000000 == 0:
		unit, v = "Gbit/s", kbps/1000000
	case kbps >= 1000 && kbps%1000 == 0:
		unit, v = "Mbit/s", kbps/1000
	}
	if lang != "en" {
		unit = ru[unit]
	}
	return fmt.Sprintf("%d %s", v, unit)
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
