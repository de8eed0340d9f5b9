package api

import (
	"embed"
	"net/http"
)

// The docs page renders /api/v1/openapi.json in the browser with a little
// script of our own: huma's default page loads its renderer from a CDN,
// which the design rules out, and the portal's Content-Security-Policy
// allows only our own files (so no inline script or style either).
//
//go:embed docs.html docs.js docs.css
var docsFiles embed.FS

func (a *API) docs(w http.ResponseWriter, r *http.Request) {
	name, ctype := "docs.html", "text/html; charset=utf-8"
	switch r.PathValue("file") {
	case "":
	case "docs.js":
		name, ctype = "docs.js", "text/javascript; charset=utf-8"
	case "docs.css":
		name, ctype = "docs.css", "text/css; charset=utf-8"
	default:
		http.NotFound(w, r)
		return
	}
	b, _ := docsFiles.ReadFile(name)
	w.Header().Set("Content-Type", ctype)
	w.Header().Set("Cache-Control", "no-cache")
	w.Write(b)
}
