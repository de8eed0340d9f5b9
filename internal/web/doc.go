// Package web assembles Kabinet's whole HTTP surface in one place: New
// mounts, on one net/http ServeMux,
//
//   - the subscriber portal at / (internal/web/portal), with the speed-test
//     and traffic-by-class pages;
//   - the JSON API at /api/v1, its OpenAPI document and /api/docs, and the
//     LibreSpeed backend under /speedtest/ (internal/web/api);
//   - the payment routes under /pay/ (OSMP, card callbacks, the sandbox's
//     page), as payment.Service.Routes gives them, outside the session and
//     cross-origin middleware: they check signatures and addresses;
//   - the back office at /admin/ (internal/web/admin) and the public site
//     at /site/ (internal/web/public), when Deps.Office is set;
//   - the installable app's files (internal/web/pwa): the manifest, the
//     icons and favicons every area's pages name, the service worker at
//     /sw.js and the offline page;
//   - /healthz (the database answers), /readyz and /metrics.
//
// The subscribers' Telegram bot (internal/web/bot) is a surface too, beside
// the areas: it answers chats instead of pages, with the same translations
// (platform.I18n), and cmd/kabinet runs it by long polling or mounts its
// webhook.
//
// cmd/kabinet builds the capabilities, passes them in Deps, and serves
// Server.Handler; Server.Patterns lists every route for the security test.
//
// # Adding an area
//
// The shared pieces live in internal/web/platform so that areas can import
// them without importing this package (which imports the areas):
//
//   - platform.Platform.Mux: the one mux; register machine routes on it
//     directly (JSON API with its own bearer auth, callbacks).
//   - platform.Platform.Page(pattern, h): a browser route with sessions
//     (alexedwards/scs over our own web_sessions table), cross-origin
//     protection (http.CrossOriginProtection) and the session's form token
//     required on every POST/PUT/PATCH/DELETE. Forms carry it as
//     <input type="hidden" name="csrf" value="{{.CSRF}}">; htmx sends it in
//     the X-CSRF-Token header (the layout sets hx-headers on <body>).
//   - platform.Platform.HTML / Error / NotFound / Fail: render a page of
//     web/templates/<area>/<page>.html inside layout.html, or a translated
//     error page; never a stack trace.
//   - platform.Platform.I18n: go-i18n with web/translations/{ru,en}.toml;
//     templates call {{t "id"}} (templates are parsed once per language at
//     start, so no language argument is needed).
//   - platform.Limiter and platform.AddressKey: attempt limits per key,
//     IPv6 by /64.
//
// An area is a package with func Register(p *platform.Platform, deps ...)
// called from New here. Templates of an area go in web/templates/<area>/,
// files starting with "_" being partials shared by that area's pages; each
// area's tests open every one of its pages in both languages.
//
// # Tests
//
// An area's tests live in its package. Those that go through the assembled
// surface (the portal's: a browser logs in, pays at the sandbox, meets the
// platform's limits) are external test packages that build it with
// internal/web/webtest, which calls New over a fresh database; they can
// import this package without a cycle because no area imports webtest.
// The tests here are of the assembly itself: what New mounts and that the
// areas share one browser session.
package web
