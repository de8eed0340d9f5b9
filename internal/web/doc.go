// Package web assembles Kabinet's HTTP layer: one net/http ServeMux with the
// subscriber portal at /, /healthz, and the payment handlers (OSMP, card
// callbacks, the sandbox's hosted page) under /pay/.
//
// The lead wires it in cmd/kabinet (serve, demo):
//
//	srv, err := web.New(web.Deps{DB: db, Clock: clk, Config: cfg, Log: log,
//		Biller: biller, Subscribers: dir, Payments: pay, Processor: "sandbox",
//		PaymentRoutes: routes, // from pay.Routes(osmpChannels)
//		Traffic: traffic.New(db, cfg.Zone())})
//	http.ListenAndServe(cfg.HTTPAddr, srv.Handler())
//
// # Adding an area (admin, public site, API)
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
// files starting with "_" being partials shared by that area's pages; the
// test in this package executes every page in both languages.
package web
