package api

import (
	_ "embed"
	"net/http"
)

// docsPage renders /api/v1/openapi.json in the browser with a little script
// of our own: huma's default page loads its renderer from a CDN, which the
// provider's network policy (and the design) rule out.
//
//go:embed docs.html
var docsPage []byte

func (a *API) docs(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-cache")
	w.Write(docsPage)
}
