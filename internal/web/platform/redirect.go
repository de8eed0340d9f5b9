package platform

import (
	"net/url"
	"path"
	"strings"
)

// LocalPath returns back when it names a page on this site, cleaned, with its
// query; otherwise fallback. Only a path that starts with a single '/' and
// stays under prefix after cleaning is taken: browsers drop tabs and
// newlines from a URL and read '\' as '/', so "/\t/evil.com" and "/\evil.com"
// would leave the site, and "/site/../x" is not under /site/.
func LocalPath(back, prefix, fallback string) string {
	if !strings.HasPrefix(back, "/") || strings.ContainsFunc(back, func(r rune) bool { return r < 0x20 || r == 0x7f || r == '\\' }) {
		return fallback
	}
	u, err := url.Parse(back)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || u.Opaque != "" {
		return fallback
	}
	p := path.Clean(u.Path)
	if strings.HasSuffix(u.Path, "/") && p != "/" {
		p += "/"
	}
	if !strings.HasPrefix(p, prefix) && p+"/" != prefix {
		return fallback
	}
	// The path is written again from its decoded form, so that an encoded
	// "%2F%2Fevil.com" cannot come back out as "//evil.com".
	return (&url.URL{Path: p, RawQuery: u.RawQuery}).String()
}
