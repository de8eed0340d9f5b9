// Package web holds the files the HTTP layer serves and renders: templates,
// static files (CSS, the vendored htmx, app.js), translations, the fonts PDF
// statements embed, and the service worker (pwa/sw.js). Everything is compiled into the binary; nothing is
// fetched at run time.
package web

import "embed"

// "all:" keeps the templates' partials, whose names begin with '_'.
//
//go:embed all:templates static translations fonts pwa
var FS embed.FS
