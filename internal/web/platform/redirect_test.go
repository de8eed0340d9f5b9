package platform

import "testing"

func TestLocalPath(t *testing.T) {
	for _, tc := range []struct {
		back, prefix, want string
	}{
		{"/tariffs", "/", "/tariffs"},
		{"/payments?from=2026-01-01", "/", "/payments?from=2026-01-01"},
		{"/", "/", "/"},
		{"/site/", "/site/", "/site/"},
		{"/site", "/site/", "/site"},
		{"/site/tariffs?city=tver", "/site/", "/site/tariffs?city=tver"},
		{"/a/./b/../c/", "/", "/a/c/"},
		{"", "/", "/fallback"},
		{"tariffs", "/", "/fallback"},
		{"//evil.com", "/", "/fallback"},
		{"/\t/evil.com", "/", "/fallback"},
		{"/\n/evil.com", "/", "/fallback"},
		{"/\\evil.com", "/", "/fallback"},
		{"/site/../\\evil.com", "/site/", "/fallback"},
		{"/site/../evil", "/site/", "/fallback"},
		{"/site/..", "/site/", "/fallback"},
		{"https://evil.com/", "/", "/fallback"},
		{"/%2F%2Fevil.com", "/", "/evil.com"},
		{"/%2fevil.com/", "/", "/evil.com/"},
		{"///evil.com", "/", "/evil.com"},
		{"/x#frag", "/", "/x"},
	} {
		got := LocalPath(tc.back, tc.prefix, "/fallback")
		if got != tc.want {
			t.Errorf("LocalPath(%q, %q) = %q, want %q", tc.back, tc.prefix, got, tc.want)
		}
		if len(got) > 1 && (got[1] == '/' || got[1] == '\\') {
			t.Errorf("LocalPath(%q) = %q leaves the site", tc.back, got)
		}
	}
}
