package platform

import (
	"testing"
	"testing/fstest"
)

func TestCompactHTML(t *testing.T) {
	for _, tc := range []struct{ name, in, want string }{
		{"indentation and blank lines", "<ul>\n  <li>a</li>\n\n\t<li>b</li>\n   \n</ul>\n", "<ul>\n<li>a</li>\n<li>b</li>\n</ul>\n"},
		{"actions keep their place", "<p>\n  {{if .X}}x{{end}}\n  {{- .Y}}\n</p>", "<p>\n{{if .X}}x{{end}}\n{{- .Y}}\n</p>"},
		{"no final newline", "  <b>x</b>", "<b>x</b>"},
		{"crlf", "  <b>x</b>\r\n  \r\n<i>y</i>\r\n", "<b>x</b>\r\n<i>y</i>\r\n"},
		{"pre kept", "<div>\n  <pre>\n  a\n\n    b</pre>\n  <p>c</p>\n</div>", "<div>\n<pre>\n  a\n\n    b</pre>\n<p>c</p>\n</div>"},
		{"textarea kept, any case", "<TEXTAREA name=x>\n  one\n</TEXTAREA>\n  <p>", "<TEXTAREA name=x>\n  one\n</TEXTAREA>\n<p>"},
		{"one-line textarea", "  <textarea></textarea>\n  <p>x</p>", "<textarea></textarea>\n<p>x</p>"},
		{"stray closing tag", "</pre>\n  <p>x</p>", "</pre>\n<p>x</p>"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := string(compactHTML([]byte(tc.in))); got != tc.want {
				t.Errorf("compactHTML(%q)\n got %q\nwant %q", tc.in, got, tc.want)
			}
		})
	}
}

func TestCompactFSOnlyHTML(t *testing.T) {
	fsys := compactFS{fstest.MapFS{
		"t/page.html": {Data: []byte("  <p>x</p>\n")},
		"t/app.css":   {Data: []byte("  p { }\n")},
	}}
	for name, want := range map[string]string{"t/page.html": "<p>x</p>\n", "t/app.css": "  p { }\n"} {
		b, err := fsys.ReadFile(name)
		if err != nil || string(b) != want {
			t.Errorf("ReadFile(%s) = %q, %v; want %q", name, b, err, want)
		}
	}
	if _, err := fsys.ReadFile("t/missing.html"); err == nil {
		t.Error("a missing file read without error")
	}
}
