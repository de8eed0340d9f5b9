package main

import (
	"net/http"
	"regexp"
	"strings"
	"testing"
)

var iconHref = regexp.MustCompile(`<link rel="(?:icon|apple-touch-icon)" href="([^"]+)"`)

// Every area's pages (the portal, the back office, the public site, the
// error page) name a favicon that exists: browsers ask for one on every
// page, and a 404 for it is an error in every console.
func TestEveryAreaHasAFavicon(t *testing.T) {
	s := newSecEnv(t, `public_url = "http://kabinet.test"`)
	b := s.browser()
	for _, path := range []string{"/login", "/admin/login", "/site/", "/no-such-page"} {
		a := b.get(path)
		links := iconHref.FindAllStringSubmatch(a.body, -1)
		if len(links) < 2 {
			t.Errorf("%s names %d icons", path, len(links))
		}
		for _, l := range links {
			r := b.get(l[1])
			if r.status != http.StatusOK || !strings.HasPrefix(r.header.Get("Content-Type"), "image/") {
				t.Errorf("%s names %s: %d %s", path, l[1], r.status, r.header.Get("Content-Type"))
			}
		}
	}
	if r := b.get("/favicon.ico"); r.status != http.StatusOK || r.header.Get("Content-Type") != "image/x-icon" {
		t.Errorf("/favicon.ico: %d %s", r.status, r.header.Get("Content-Type"))
	}
}
