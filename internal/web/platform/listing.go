package platform

import (
	"cmp"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// Listing is one list page's search, sort and page, read from the URL's
// query and written back into every link the list shows (headers, pager),
// so that a list's state is a link an operator can bookmark or send:
//
//	?q=иванов&sort=name&dir=desc&page=3
//
// Other filters of the page (status=new, from=…) are kept as they came.
type Listing struct {
	Path  string
	Q     string
	Sort  string // one of the list's sort keys
	Desc  bool
	Page  int // from 1
	Per   int
	Total int // filled by the list after counting
	query url.Values
	sorts []string
	def   bool // the direction without dir in the query
	name  string
}

// key is a query key of this list.
func (l Listing) key(k string) string {
	if l.name == "" {
		return k
	}
	return l.name + "." + k
}

// maxPage bounds the page number a link may ask for (a typo of many
// digits must not become an OFFSET of billions).
const maxPage = 100000

// ListingOf reads the listing of r's query for a list whose sort keys are
// sorts (the first is the default) sorted descending by default when desc.
// The query keys are q, sort, dir (asc, desc) and page.
func ListingOf(r *http.Request, per int, desc bool, sorts ...string) Listing {
	return NamedListing(r, "", per, desc, sorts...)
}

// NamedListing is ListingOf for one of several lists on a page: its query
// keys are name.sort, name.dir and name.page (the search stays q).
func NamedListing(r *http.Request, name string, per int, desc bool, sorts ...string) Listing {
	q := r.URL.Query()
	l := Listing{Path: r.URL.Path, Q: strings.TrimSpace(q.Get("q")), Sort: sorts[0], Desc: desc, Page: 1, Per: per, query: q, sorts: sorts, def: desc, name: name}
	if s := q.Get(l.key("sort")); slices.Contains(sorts, s) {
		l.Sort = s
	}
	switch q.Get(l.key("dir")) {
	case "asc":
		l.Desc = false
	case "desc":
		l.Desc = true
	}
	if n, err := strconv.Atoi(q.Get(l.key("page"))); err == nil && n > 1 {
		l.Page = min(n, maxPage)
	}
	return l
}

// Offset is the first row of the page.
func (l Listing) Offset() int { return (l.Page - 1) * l.Per }

// Pages is the number of pages, at least 1.
func (l Listing) Pages() int { return max(1, (l.Total+l.Per-1)/l.Per) }

// From and To are the rows shown, counted from 1 (0 and 0 when none).
func (l Listing) From() int {
	if l.Total == 0 {
		return 0
	}
	return min(l.Offset()+1, l.Total)
}

func (l Listing) To() int { return min(l.Offset()+l.Per, l.Total) }

// link is the list's address with the given sort and page, keeping the
// search and the page's other filters.
func (l Listing) link(sort string, desc bool, page int) string {
	v := url.Values{}
	for k, vs := range l.query {
		if k != l.key("sort") && k != l.key("dir") && k != l.key("page") {
			v[k] = vs
		}
	}
	if sort != l.sorts[0] {
		v.Set(l.key("sort"), sort)
	}
	if sort != l.sorts[0] || desc != l.def {
		if desc {
			v.Set(l.key("dir"), "desc")
		} else {
			v.Set(l.key("dir"), "asc")
		}
	}
	if page > 1 {
		v.Set(l.key("page"), strconv.Itoa(page))
	}
	if len(v) == 0 {
		return l.Path
	}
	return l.Path + "?" + v.Encode()
}

// Prev and Next are the neighbouring pages' addresses, "" at the ends.
func (l Listing) Prev() string {
	if l.Page <= 1 {
		return ""
	}
	return l.link(l.Sort, l.Desc, min(l.Page-1, l.Pages()))
}

func (l Listing) Next() string {
	if l.Page >= l.Pages() {
		return ""
	}
	return l.link(l.Sort, l.Desc, l.Page+1)
}

// Th is a sortable column's header: a link that sorts by key (ascending
// first, then the other way), marked with aria-sort when the list is
// sorted by it. label is already translated.
func (l Listing) Th(key, label string, class ...string) template.HTML {
	desc, sorted, arrow := false, "none", ""
	if l.Sort == key {
		desc = !l.Desc
		sorted, arrow = "ascending", " ↑"
		if l.Desc {
			sorted, arrow = "descending", " ↓"
		}
	}
	cls := ""
	if len(class) > 0 {
		cls = fmt.Sprintf(` class="%s"`, template.HTMLEscapeString(strings.Join(class, " ")))
	}
	return template.HTML(fmt.Sprintf(`<th%s aria-sort="%s"><a class="sort" href="%s">%s<span aria-hidden="true">%s</span></a></th>`,
		cls, sorted, template.HTMLEscapeString(l.link(key, desc, 1)), template.HTMLEscapeString(label), arrow))
}

// Toggle is the list's first page sorted by key the other way.
func (l Listing) Toggle(key string) string { return l.link(key, !(l.Sort == key && l.Desc), 1) }

// SortPage sorts items by the listing's key with the given comparisons and
// returns the listing's page of them, setting Total: the short lists
// (tariffs, cities, operators, news) that are read whole.
func SortPage[T any](l *Listing, items []T, by map[string]func(a, b T) int) []T {
	l.Total = len(items)
	if f, ok := by[l.Sort]; ok {
		items = slices.Clone(items)
		slices.SortStableFunc(items, func(a, b T) int {
			if l.Desc {
				return f(b, a)
			}
			return f(a, b)
		})
	}
	from := min(l.Offset(), len(items))
	return items[from:min(from+l.Per, len(items))]
}

// Fold compares strings as an operator reads them: case aside.
func Fold(a, b string) int { return cmp.Compare(strings.ToLower(a), strings.ToLower(b)) }
