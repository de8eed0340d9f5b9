package main

// The security walk over the route table: the handler is built exactly as
// `kabinet serve` builds it (app.routeTable), and every registered pattern
// must be classified in routeSpecs below. A route added later without a
// class fails TestRouteTableClassified.

import (
	"context"
	"crypto/ecdh"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/kabinet-billing/kabinet/internal/billing"
	"github.com/kabinet-billing/kabinet/internal/clock"
	"github.com/kabinet-billing/kabinet/internal/config"
	"github.com/kabinet-billing/kabinet/internal/money"
	"github.com/kabinet-billing/kabinet/internal/operator"
	"github.com/kabinet-billing/kabinet/internal/payment"
	"github.com/kabinet-billing/kabinet/internal/push"
	"github.com/kabinet-billing/kabinet/internal/store"
	"github.com/kabinet-billing/kabinet/internal/subscriber"
	"github.com/kabinet-billing/kabinet/internal/support"
)

const (
	secSubPassword = "alice-secret-pw1"
	secOpPassword  = "operator-secret-pw-2027"
	xss            = `<script>alert("x")</script>`
)

// secEnv is a whole Kabinet over a fresh SQLite file, served by httptest.
type secEnv struct {
	t        *testing.T
	app      *app
	ts       *httptest.Server
	patterns []string
	logs     *os.File // everything the app logged
	clk      *clock.Fake
	ids      map[string]int64 // fixtures: alice, bob, bob.request, bob.payment, bob.sub, alice.request, …
}

func newSecEnv(t *testing.T, cfgText string) *secEnv {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	cfgFile := filepath.Join(dir, "kabinet.toml")
	if err := os.WriteFile(cfgFile, []byte(cfgText), 0o600); err != nil {
		t.Fatal(err)
	}
	clk := clock.NewFake(time.Date(2027, 3, 10, 9, 0, 0, 0, time.UTC))
	e := &env{dsn: "sqlite:" + filepath.Join(dir, "k.db"), cfgPath: cfgFile, stdout: io.Discard, stderr: io.Discard, clock: clk}
	base := config.Default()
	base.Payment = config.Payment(payment.DemoConfig())
	base.Radius = config.Radius{Auth: "127.0.0.1:0", Acct: "127.0.0.1:0"}
	e.base = &base
	if err := e.open(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.db.Close() })
	// The app logs to os.Stderr: catch it in a file to grep for secrets.
	logs, err := os.Create(filepath.Join(dir, "log.txt"))
	if err != nil {
		t.Fatal(err)
	}
	stderr := os.Stderr
	os.Stderr = logs
	prev := slog.Default()
	slog.SetDefault(slog.New(slog.NewTextHandler(logs, nil)))
	t.Cleanup(func() { slog.SetDefault(prev) })
	a, err := buildApp(ctx, e)
	if err != nil {
		os.Stderr = stderr
		t.Fatal(err)
	}
	h, patterns, err := a.routeTable()
	os.Stderr = stderr
	if err != nil {
		t.Fatal(err)
	}
	s := &secEnv{t: t, app: a, ts: httptest.NewServer(h), patterns: patterns, logs: logs, clk: clk, ids: map[string]int64{}}
	t.Cleanup(s.ts.Close)
	s.seed(ctx)
	return s
}

func (s *secEnv) seed(ctx context.Context) {
	t, db := s.t, s.app.e.db
	now := s.clk.Now()
	if _, err := billing.AddCity(ctx, db, billing.City{Code: "tver", Name: "Тверь", NameEn: "Tver"}); err != nil {
		t.Fatal(err)
	}
	for _, tr := range []billing.Tariff{
		{Code: "home", Name: "Дом 100", NameEn: "Home 100", Fee: money.Rub(500), DownKbps: 100000, UpKbps: 100000, Public: true},
		{Code: "fast", Name: "Дом 300", NameEn: "Home 300", Fee: money.Rub(800), DownKbps: 300000, UpKbps: 300000, Public: true},
	} {
		if _, err := billing.AddTariff(ctx, db, tr, now); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := billing.AddPackage(ctx, db, billing.Package{Code: "tv", Kind: billing.PackageTV, Name: "ТВ", NameEn: "TV", Price: money.Rub(200), Pricing: billing.PriceMonthly}, now); err != nil {
		t.Fatal(err)
	}
	for _, login := range []string{"alice", "bob"} {
		a, err := s.app.subs.Create(ctx, subscriber.NewAccount{Login: login, Password: secSubPassword, Name: "Абонент " + login,
			Tariff: "home", City: "tver", Email: login + "@example.net"})
		if err != nil {
			t.Fatal(err)
		}
		s.ids[login] = a.ID
		if err := db.Write(ctx, func(tx *store.Tx) error {
			_, err := s.app.biller.Credit(ctx, tx, a.ID, "cash", "seed-"+login, money.Rub(2000), "", now)
			return err
		}); err != nil {
			t.Fatal(err)
		}
		sub, err := s.app.biller.Connect(ctx, a.ID, "tv")
		if err != nil {
			t.Fatal(err)
		}
		s.ids[login+".sub"] = sub.ID
		sup := support.New(db, s.clk)
		req, err := sup.File(ctx, a.ID, "question", "Вопрос "+login, "Текст "+login)
		if err != nil {
			t.Fatal(err)
		}
		s.ids[login+".request"] = req.ID
		p, _, err := s.app.pay.StartCard(ctx, payment.CardStart{AccountID: a.ID, Amount: money.Rub(100), Processor: "sandbox", ReturnURL: "/payments/{id}"})
		if err != nil {
			t.Fatal(err)
		}
		s.ids[login+".payment"] = p.ID
		p, _, err = s.app.pay.Start(ctx, payment.CardStart{AccountID: a.ID, Amount: money.Rub(100), Processor: "sandbox", ReturnURL: "/payments/{id}", Method: payment.MethodSBP})
		if err != nil {
			t.Fatal(err)
		}
		s.ids[login+".sbp"] = p.ID
		dev, err := ecdh.P256().GenerateKey(rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		ps, err := s.app.push.Subscribe(ctx, a.ID, push.Subscription{Endpoint: "https://push.example/" + login,
			P256dh: base64.RawURLEncoding.EncodeToString(dev.PublicKey().Bytes()), Auth: base64.RawURLEncoding.EncodeToString(make([]byte, 16))})
		if err != nil {
			t.Fatal(err)
		}
		s.ids[login+".push"] = ps.ID
	}
	ops := operator.New(db, s.clk)
	for _, r := range operator.Roles {
		if _, err := ops.Add(ctx, operator.Actor{}, operator.NewOperator{Login: "op-" + string(r), Role: r, Password: secOpPassword}); err != nil {
			t.Fatal(err)
		}
	}
}

// browser is one client: cookies, the last form token, no redirects followed.
type browser struct {
	s    *secEnv
	c    *http.Client
	csrf string
}

var secCSRF = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

func (s *secEnv) browser() *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{s: s, c: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

type answer struct {
	status int
	body   string
	header http.Header
}

func (b *browser) do(req *http.Request) answer {
	b.s.t.Helper()
	res, err := b.c.Do(req)
	if err != nil {
		b.s.t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	if m := secCSRF.FindSubmatch(body); m != nil {
		b.csrf = string(m[1])
	}
	return answer{res.StatusCode, string(body), res.Header}
}

func (b *browser) get(path string) answer {
	req, _ := http.NewRequest("GET", b.s.ts.URL+path, nil)
	return b.do(req)
}

// post sends a same-origin form with the session's token unless form has
// its own "csrf".
func (b *browser) post(path string, form url.Values, hdr ...string) answer {
	if form == nil {
		form = url.Values{}
	}
	if _, ok := form["csrf"]; !ok {
		form.Set("csrf", b.csrf)
	}
	req, _ := http.NewRequest("POST", b.s.ts.URL+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", b.s.ts.URL)
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	return b.do(req)
}

// Route classes.
const (
	clPublic     = "public"     // a browser page anyone may open (login, the public site, health)
	clMachine    = "machine"    // server-to-server: checks its own signature, address or credentials
	clSubscriber = "subscriber" // the portal: a logged-in subscriber only
	clEmployee   = "employee"   // the company cabinet: a logged-in company employee only
	clOperator   = "operator"   // the back office: an operator with perm
	clAPI        = "api"        // the JSON API with a bearer token
	clAPIOpen    = "api-open"   // the JSON API without a token (login, the OpenAPI document)
	clSpeedOpen  = "speedtest"  // the LibreSpeed backend: open downloads, results need an account
)

// spec classifies one pattern. path is the concrete request (with alice's or
// an operator's objects in it); foreign is the same route with bob's object,
// which alice must get as 404.
type spec struct {
	class   string
	perm    operator.Permission
	path    string
	foreign string
}

// routeSpecs is the route table's security classification. Every pattern
// the running server registers must be here, and nothing else.
func (s *secEnv) routeSpecs() map[string]spec {
	id := func(k string) string { return strconv.FormatInt(s.ids[k], 10) }
	op := func(p operator.Permission) spec { return spec{class: clOperator, perm: p} }
	return map[string]spec{
		// Outside the platform: Prometheus and readiness, scraped on the inside network.
		"GET /metrics": {class: clPublic},
		"GET /readyz":  {class: clPublic},
		"GET /healthz": {class: clPublic},
		"GET /static/": {class: clPublic, path: "/static/css/app.css"},
		"/":            {class: clPublic, path: "/no-such-page"},

		// The installable app: the same for everyone, nothing personal.
		"GET /manifest.webmanifest": {class: clPublic},
		"GET /sw.js":                {class: clPublic},
		"GET /offline":              {class: clPublic},
		"GET /favicon.ico":          {class: clPublic},
		"GET /favicon.svg":          {class: clPublic},
		"GET /apple-touch-icon.png": {class: clPublic},
		"GET /icons/{file}":         {class: clPublic, path: "/icons/icon-192.png"},

		// Portal.
		"GET /login":                {class: clPublic},
		"POST /login":               {class: clPublic},
		"POST /logout":              {class: clPublic},
		"POST /lang":                {class: clPublic},
		"GET /{$}":                  {class: clSubscriber},
		"GET /tariffs":              {class: clSubscriber},
		"GET /tariffs/{code}":       {class: clSubscriber, path: "/tariffs/fast"},
		"POST /tariffs/{code}":      {class: clSubscriber, path: "/tariffs/fast"},
		"POST /tariffs/cancel":      {class: clSubscriber},
		"GET /packages":             {class: clSubscriber},
		"GET /packages/{code}":      {class: clSubscriber, path: "/packages/tv"},
		"POST /packages/{code}":     {class: clSubscriber, path: "/packages/tv"},
		"GET /subscriptions/{id}":   {class: clSubscriber, path: "/subscriptions/" + id("alice.sub"), foreign: "/subscriptions/" + id("bob.sub")},
		"POST /subscriptions/{id}":  {class: clSubscriber, path: "/subscriptions/" + id("alice.sub"), foreign: "/subscriptions/" + id("bob.sub")},
		"GET /payments":             {class: clSubscriber},
		"GET /payments/howto":       {class: clSubscriber},
		"GET /bonus":                {class: clSubscriber},
		"GET /promise":              {class: clSubscriber},
		"POST /promise":             {class: clSubscriber},
		"GET /bonus/balance":        {class: clSubscriber},
		"POST /bonus":               {class: clSubscriber},
		"POST /payments/card":       {class: clSubscriber},
		"GET /autopay":              {class: clSubscriber},
		"POST /autopay":             {class: clSubscriber},
		"POST /autopay/start":       {class: clSubscriber},
		"POST /autopay/off":         {class: clSubscriber},
		"GET /payments/{id}":        {class: clSubscriber, path: "/payments/" + id("alice.payment"), foreign: "/payments/" + id("bob.payment")},
		"GET /payments/{id}/state":  {class: clSubscriber, path: "/payments/" + id("alice.payment") + "/state", foreign: "/payments/" + id("bob.payment") + "/state"},
		"GET /payments/{id}/qr.svg": {class: clSubscriber, path: "/payments/" + id("alice.sbp") + "/qr.svg", foreign: "/payments/" + id("bob.sbp") + "/qr.svg"},
		"GET /statement":            {class: clSubscriber},
		"GET /traffic":              {class: clSubscriber},
		"GET /traffic/classes":      {class: clSubscriber},
		"GET /speedtest":            {class: clSubscriber},
		"GET /requests":             {class: clSubscriber},
		"POST /requests":            {class: clSubscriber},
		"GET /requests/{id}":        {class: clSubscriber, path: "/requests/" + id("alice.request"), foreign: "/requests/" + id("bob.request")},
		"POST /requests/{id}":       {class: clSubscriber, path: "/requests/" + id("alice.request"), foreign: "/requests/" + id("bob.request")},
		"GET /chat":                 {class: clSubscriber},
		"GET /chat/messages":        {class: clSubscriber},
		"POST /chat":                {class: clSubscriber},
		"GET /profile":              {class: clSubscriber},
		"POST /profile":             {class: clSubscriber},
		"POST /profile/password":    {class: clSubscriber},
		// The company cabinet.
		"GET /company":                 {class: clEmployee},
		"POST /company/employees":      {class: clEmployee},
		"POST /company/employees/{id}": {class: clEmployee, path: "/company/employees/999"},
		"POST /profile/push":           {class: clSubscriber},
		"POST /profile/push/{id}/delete": {class: clSubscriber, path: "/profile/push/" + id("alice.push") + "/delete",
			foreign: "/profile/push/" + id("bob.push") + "/delete"},
		"GET /company/documents/{id}": {class: clEmployee, path: "/company/documents/999"},

		// The voluntary suspension.
		"GET /suspension":         {class: clSubscriber},
		"POST /suspension":        {class: clSubscriber},
		"POST /suspension/resume": {class: clSubscriber},
		"POST /suspension/extend": {class: clSubscriber},

		// The profile's Telegram card: a one-time linking link, unlinking.
		"POST /profile/telegram":        {class: clSubscriber},
		"POST /profile/telegram/unlink": {class: clSubscriber},

		// The notification choices (internal/notify).
		"POST /profile/notifications": {class: clSubscriber},

		// Payments: OSMP checks credentials and addresses, callbacks their
		// signature; the sandbox's hosted page stands in for a processor's.
		"GET /pay/osmp":                   {class: clMachine, path: "/pay/osmp?command=check&txn_id=1&account=alice&sum=10.00"},
		"POST /pay/osmp":                  {class: clMachine, path: "/pay/osmp?command=check&txn_id=1&account=alice&sum=10.00"},
		"POST /pay/card/sandbox/callback": {class: clMachine},
		"/pay/sandbox/":                   {class: clMachine},

		// The app's Telegram linking.
		"GET /api/v1/telegram":       {class: clAPI},
		"POST /api/v1/telegram/link": {class: clAPI},
		"DELETE /api/v1/telegram":    {class: clAPI},

		// Telegram's updates: the secret token header or 403 (404 while
		// the bot long-polls).
		"POST /telegram/webhook": {class: clMachine},

		// Public site.
		"GET /site/{$}":      {class: clPublic},
		"GET /site/apply":    {class: clPublic},
		"POST /site/apply":   {class: clPublic},
		"GET /site/thanks":   {class: clPublic},
		"GET /site/contacts": {class: clPublic},
		"POST /site/lang":    {class: clPublic},

		// Back office.
		"GET /admin/login":                                    {class: clPublic},
		"POST /admin/login":                                   {class: clPublic},
		"POST /admin/logout":                                  {class: clPublic},
		"GET /admin/{$}":                                      op(""),
		"GET /admin/subscribers":                              op(operator.ViewSubscribers),
		"GET /admin/subscribers/new":                          op(operator.EditSubscribers),
		"POST /admin/subscribers":                             op(operator.EditSubscribers),
		"GET /admin/issued/{token}":                           {class: clOperator, perm: operator.EditSubscribers, path: "/admin/issued/0123456789abcdef"},
		"GET /admin/issued/{token}/pdf":                       {class: clOperator, perm: operator.EditSubscribers, path: "/admin/issued/0123456789abcdef/pdf"},
		"GET /admin/subscribers/{id}":                         {class: clOperator, perm: operator.ViewSubscribers, path: "/admin/subscribers/" + id("bob")},
		"POST /admin/subscribers/{id}/edit":                   {class: clOperator, perm: operator.EditSubscribers, path: "/admin/subscribers/" + id("bob") + "/edit"},
		"POST /admin/subscribers/{id}/status":                 {class: clOperator, perm: operator.EditSubscribers, path: "/admin/subscribers/" + id("bob") + "/status"},
		"POST /admin/subscribers/{id}/password":               {class: clOperator, perm: operator.EditSubscribers, path: "/admin/subscribers/" + id("bob") + "/password"},
		"POST /admin/subscribers/{id}/cash":                   {class: clOperator, perm: operator.TakeCash, path: "/admin/subscribers/" + id("bob") + "/cash"},
		"POST /admin/subscribers/{id}/correct":                {class: clOperator, perm: operator.CorrectBalance, path: "/admin/subscribers/" + id("bob") + "/correct"},
		"POST /admin/subscribers/{id}/promise":                {class: clOperator, perm: operator.EditSubscribers, path: "/admin/subscribers/" + id("bob") + "/promise"},
		"POST /admin/subscribers/{id}/reverse":                {class: clOperator, perm: operator.CorrectBalance, path: "/admin/subscribers/" + id("bob") + "/reverse"},
		"POST /admin/subscribers/{id}/refund":                 {class: clOperator, perm: operator.CorrectBalance, path: "/admin/subscribers/" + id("bob") + "/refund"},
		"GET /admin/subscribers/{id}/contract.pdf":            {class: clOperator, perm: operator.ViewSubscribers, path: "/admin/subscribers/" + id("bob") + "/contract.pdf"},
		"GET /admin/subscribers/{id}/statement":               {class: clOperator, perm: operator.ViewSubscribers, path: "/admin/subscribers/" + id("bob") + "/statement?format=pdf"},
		"GET /admin/catalogue":                                op(operator.EditCatalogue),
		"GET /admin/traffic-classes":                          op(operator.EditCatalogue),
		"POST /admin/traffic-classes":                         op(operator.EditCatalogue),
		"POST /admin/traffic-classes/{code}":                  {class: clOperator, perm: operator.EditCatalogue, path: "/admin/traffic-classes/internet"},
		"POST /admin/cities":                                  op(operator.EditCatalogue),
		"POST /admin/tariffs":                                 op(operator.EditCatalogue),
		"POST /admin/tariffs/{id}":                            {class: clOperator, perm: operator.EditCatalogue, path: "/admin/tariffs/1"},
		"POST /admin/tariffs/{id}/archive":                    {class: clOperator, perm: operator.EditCatalogue, path: "/admin/tariffs/999/archive"},
		"POST /admin/packages":                                op(operator.EditCatalogue),
		"POST /admin/cities/{id}":                             {class: clOperator, perm: operator.EditCatalogue, path: "/admin/cities/999"},
		"POST /admin/packages/{id}":                           {class: clOperator, perm: operator.EditCatalogue, path: "/admin/packages/999"},
		"POST /admin/packages/{id}/archive":                   {class: clOperator, perm: operator.EditCatalogue, path: "/admin/packages/999/archive"},
		"POST /admin/news/{id}":                               {class: clOperator, perm: operator.EditContent, path: "/admin/news/999"},
		"POST /admin/news/{id}/expire":                        {class: clOperator, perm: operator.EditContent, path: "/admin/news/999/expire"},
		"POST /admin/news/{id}/delete":                        {class: clOperator, perm: operator.EditContent, path: "/admin/news/999/delete"},
		"GET /admin/news":                                     op(operator.EditContent),
		"POST /admin/news":                                    op(operator.EditContent),
		"GET /admin/debtors":                                  op(operator.ViewDebt),
		"GET /admin/companies":                                op(operator.ViewSubscribers),
		"GET /admin/companies/new":                            op(operator.EditSubscribers),
		"POST /admin/companies":                               op(operator.EditSubscribers),
		"GET /admin/companies/debtors":                        op(operator.ViewDebt),
		"GET /admin/companies/{id}":                           {class: clOperator, perm: operator.ViewSubscribers, path: "/admin/companies/999"},
		"GET /admin/companies/{id}/edit":                      {class: clOperator, perm: operator.EditSubscribers, path: "/admin/companies/999/edit"},
		"POST /admin/companies/{id}":                          {class: clOperator, perm: operator.EditSubscribers, path: "/admin/companies/999"},
		"POST /admin/companies/{id}/points":                   {class: clOperator, perm: operator.EditSubscribers, path: "/admin/companies/999/points"},
		"POST /admin/companies/{id}/points/{account}/detach":  {class: clOperator, perm: operator.EditSubscribers, path: "/admin/companies/999/points/999/detach"},
		"POST /admin/companies/{id}/employees":                {class: clOperator, perm: operator.EditSubscribers, path: "/admin/companies/999/employees"},
		"POST /admin/companies/{id}/employees/{emp}":          {class: clOperator, perm: operator.EditSubscribers, path: "/admin/companies/999/employees/999"},
		"POST /admin/companies/{id}/employees/{emp}/password": {class: clOperator, perm: operator.EditSubscribers, path: "/admin/companies/999/employees/999/password"},
		"GET /admin/bank":                                     op(operator.CorrectBalance),
		"POST /admin/bank/import":                             op(operator.CorrectBalance),
		"POST /admin/bank/{id}/assign":                        {class: clOperator, perm: operator.CorrectBalance, path: "/admin/bank/999/assign"},
		"GET /admin/reports":                                  op(operator.ViewReports),
		"GET /admin/reports/{file}":                           {class: clOperator, perm: operator.ViewReports, path: "/admin/reports/debtors.csv"},
		"GET /admin/audit":                                    op(operator.ViewAudit),
		"GET /admin/operators":                                op(operator.ManageOperators),
		"POST /admin/operators":                               op(operator.ManageOperators),
		"POST /admin/operators/{id}":                          {class: clOperator, perm: operator.ManageOperators, path: "/admin/operators/999"},
		"GET /admin/mail":                                     op(operator.ViewSubscribers),
		"POST /admin/mail/broadcast":                          op(operator.EditContent),
		"GET /admin/receipts":                                 op(operator.ViewSubscribers),
		"POST /admin/receipts/{id}/resend":                    {class: clOperator, perm: operator.TakeCash, path: "/admin/receipts/1/resend"},
		"GET /admin/documents":                                op(operator.ViewSubscribers),
		"GET /admin/documents/{id}/pdf":                       {class: clOperator, perm: operator.ViewSubscribers, path: "/admin/documents/999/pdf"},
		"POST /admin/documents/{id}/send":                     {class: clOperator, perm: operator.EditSubscribers, path: "/admin/documents/999/send"},
		"POST /admin/documents/{id}/paid":                     {class: clOperator, perm: operator.CorrectBalance, path: "/admin/documents/999/paid"},
		"POST /admin/documents/reconciliation":                op(operator.EditSubscribers),
		"GET /admin/autopay":                                  op(operator.ViewSubscribers),
		"POST /admin/autopay/{id}/disable":                    {class: clOperator, perm: operator.EditSubscribers, path: "/admin/autopay/1/disable"},
		"GET /admin/network":                                  op(operator.ViewNetwork),
		"POST /admin/network/sessions/{id}/disconnect":        {class: clOperator, perm: operator.ManageNetwork, path: "/admin/network/sessions/999/disconnect"},
		"POST /admin/network/nas":                             op(operator.ManageNetwork),
		"POST /admin/network/nas/{id}/secret":                 {class: clOperator, perm: operator.ManageNetwork, path: "/admin/network/nas/999/secret"},
		"POST /admin/network/nas/{id}/signing":                {class: clOperator, perm: operator.ManageNetwork, path: "/admin/network/nas/999/signing"},
		"GET /admin/support":                                  op(operator.Support),
		"GET /admin/support/requests/{id}":                    {class: clOperator, perm: operator.Support, path: "/admin/support/requests/" + id("bob.request")},
		"POST /admin/support/requests/{id}":                   {class: clOperator, perm: operator.Support, path: "/admin/support/requests/" + id("bob.request")},
		"POST /admin/support/requests/{id}/assign":            {class: clOperator, perm: operator.Support, path: "/admin/support/requests/" + id("bob.request") + "/assign"},
		"POST /admin/support/applications/{id}":               {class: clOperator, perm: operator.Support, path: "/admin/support/applications/999"},
		"GET /admin/support/chat/{account}":                   {class: clOperator, perm: operator.Support, path: "/admin/support/chat/" + id("bob")},
		"POST /admin/support/chat/{account}":                  {class: clOperator, perm: operator.Support, path: "/admin/support/chat/" + id("bob")},

		// The voluntary suspension on the subscriber's card.
		"POST /admin/subscribers/{id}/suspension":        {class: clOperator, perm: operator.EditSubscribers, path: "/admin/subscribers/" + id("bob") + "/suspension"},
		"POST /admin/subscribers/{id}/suspension/resume": {class: clOperator, perm: operator.EditSubscribers, path: "/admin/subscribers/" + id("bob") + "/suspension/resume"},
		"POST /admin/subscribers/{id}/suspension/extend": {class: clOperator, perm: operator.EditSubscribers, path: "/admin/subscribers/" + id("bob") + "/suspension/extend"},

		// JSON API.
		"/api/v1/":                            {class: clAPIOpen, path: "/api/v1/no-such-operation"},
		"POST /api/v1/login":                  {class: clAPIOpen},
		"GET /api/v1/openapi.json":            {class: clAPIOpen},
		"GET /api/v1/openapi.yaml":            {class: clAPIOpen},
		"GET /api/v1/openapi-3.0.json":        {class: clAPIOpen},
		"GET /api/v1/openapi-3.0.yaml":        {class: clAPIOpen},
		"GET /api/v1/schemas/{schema}":        {class: clAPIOpen, path: "/api/v1/schemas/Home"},
		"GET /api/docs":                       {class: clAPIOpen},
		"GET /api/docs/{file}":                {class: clAPIOpen, path: "/api/docs/docs.js"},
		"POST /api/v1/logout":                 {class: clAPI},
		"GET /api/v1/tokens":                  {class: clAPI},
		"DELETE /api/v1/tokens/{id}":          {class: clAPI, path: "/api/v1/tokens/" + id("alice.token"), foreign: "/api/v1/tokens/" + id("bob.token")},
		"GET /api/v1/home":                    {class: clAPI},
		"GET /api/v1/tariffs":                 {class: clAPI},
		"GET /api/v1/tariffs/{code}/quote":    {class: clAPI, path: "/api/v1/tariffs/fast/quote"},
		"POST /api/v1/tariffs/{code}":         {class: clAPI, path: "/api/v1/tariffs/fast"},
		"GET /api/v1/packages":                {class: clAPI},
		"POST /api/v1/packages/{code}":        {class: clAPI, path: "/api/v1/packages/tv"},
		"POST /api/v1/boost":                  {class: clAPI},
		"DELETE /api/v1/subscriptions/{id}":   {class: clAPI, path: "/api/v1/subscriptions/" + id("alice.sub"), foreign: "/api/v1/subscriptions/" + id("bob.sub")},
		"GET /api/v1/payments":                {class: clAPI},
		"GET /api/v1/payments/{id}":           {class: clAPI, path: "/api/v1/payments/" + id("alice.payment"), foreign: "/api/v1/payments/" + id("bob.payment")},
		"POST /api/v1/payments/card":          {class: clAPI},
		"GET /api/v1/autopay":                 {class: clAPI},
		"PUT /api/v1/autopay":                 {class: clAPI},
		"POST /api/v1/autopay/start":          {class: clAPI},
		"DELETE /api/v1/autopay":              {class: clAPI},
		"GET /api/v1/balance":                 {class: clAPI},
		"GET /api/v1/bonus":                   {class: clAPI},
		"GET /api/v1/promise":                 {class: clAPI},
		"POST /api/v1/promise":                {class: clAPI},
		"POST /api/v1/bonus/spend":            {class: clAPI},
		"GET /api/v1/statement":               {class: clAPI},
		"GET /api/v1/statement/{format}":      {class: clAPI, path: "/api/v1/statement/csv"},
		"GET /api/v1/traffic":                 {class: clAPI},
		"GET /api/v1/traffic/classes":         {class: clAPI},
		"GET /api/v1/sessions":                {class: clAPI},
		"GET /api/v1/speedtests":              {class: clAPI},
		"POST /api/v1/speedtests":             {class: clAPI},
		"GET /api/v1/requests":                {class: clAPI},
		"POST /api/v1/requests":               {class: clAPI},
		"GET /api/v1/requests/{id}":           {class: clAPI, path: "/api/v1/requests/" + id("alice.request"), foreign: "/api/v1/requests/" + id("bob.request")},
		"POST /api/v1/requests/{id}/messages": {class: clAPI, path: "/api/v1/requests/" + id("alice.request") + "/messages", foreign: "/api/v1/requests/" + id("bob.request") + "/messages"},
		"GET /api/v1/chat":                    {class: clAPI},
		"POST /api/v1/chat":                   {class: clAPI},
		"GET /api/v1/news":                    {class: clAPI},
		"GET /api/v1/profile":                 {class: clAPI},
		"GET /api/v1/push":                    {class: clAPI},
		"POST /api/v1/push/subscriptions":     {class: clAPI},
		"DELETE /api/v1/push/subscriptions/{id}": {class: clAPI, path: "/api/v1/push/subscriptions/" + id("alice.push"),
			foreign: "/api/v1/push/subscriptions/" + id("bob.push")},
		"PUT /api/v1/profile":           {class: clAPI},
		"POST /api/v1/profile/password": {class: clAPI},
		"GET /api/v1/notifications":     {class: clAPI},
		"PUT /api/v1/notifications":     {class: clAPI},

		// The voluntary suspension.
		"GET /api/v1/suspension":    {class: clAPI},
		"POST /api/v1/suspension":   {class: clAPI},
		"DELETE /api/v1/suspension": {class: clAPI},
		"PATCH /api/v1/suspension":  {class: clAPI},

		// LibreSpeed backend: downloads and pings are open (the page measures
		// before anything is saved); results are kept for an account only.
		"GET /speedtest/{$}":                    {class: clSpeedOpen},
		"GET /speedtest/static/":                {class: clSpeedOpen, path: "/speedtest/static/speedtest.js"},
		"GET /speedtest/backend/garbage":        {class: clSpeedOpen, path: "/speedtest/backend/garbage?ckSize=1"},
		"GET /speedtest/backend/garbage.php":    {class: clSpeedOpen, path: "/speedtest/backend/garbage.php?ckSize=1"},
		"/speedtest/backend/empty":              {class: clSpeedOpen},
		"/speedtest/backend/empty.php":          {class: clSpeedOpen},
		"GET /speedtest/backend/getIP":          {class: clSpeedOpen},
		"GET /speedtest/backend/getIP.php":      {class: clSpeedOpen},
		"POST /speedtest/results/telemetry":     {class: clAPI, path: "/speedtest/results/telemetry"},
		"POST /speedtest/results/telemetry.php": {class: clAPI, path: "/speedtest/results/telemetry.php"},
	}
}

// split parses "POST /x/{id}" into the method ("" for any) and the path.
func split(pattern string) (string, string) {
	if m, p, ok := strings.Cut(pattern, " "); ok {
		return m, p
	}
	return "", pattern
}

// target is the method and concrete path of a route.
func (sp spec) target(pattern string) (string, string) {
	m, p := split(pattern)
	if m == "" {
		m = "GET"
	}
	if sp.path != "" {
		return m, sp.path
	}
	return m, strings.ReplaceAll(p, "{$}", "")
}

func TestRouteTableClassified(t *testing.T) {
	s := newSecEnv(t, `public_url = "http://kabinet.test"`)
	s.ids["alice.token"], s.ids["bob.token"] = 1, 2
	specs := s.routeSpecs()
	for _, p := range s.patterns {
		if _, ok := specs[p]; !ok {
			t.Errorf("route %q is not classified in routeSpecs (security_test.go): say who may reach it", p)
		}
	}
	for p := range specs {
		if !slices.Contains(s.patterns, p) {
			t.Errorf("routeSpecs lists %q, which the server does not register", p)
		}
	}
}

const evil = "evil.example"

// knownServerErrors are 5xx answers found by this walk whose fix is in
// flight elsewhere; each logs instead of failing until it is gone. Remove
// an entry when its fix lands (the test says so).
var knownServerErrors = map[string]string{}

// check holds for every answer of every route: no 5xx, no redirect to
// another host, no markup from user input unescaped in a page.
func (s *secEnv) check(t *testing.T, what string, a answer) {
	t.Helper()
	if why, known := knownServerErrors[what]; known {
		if a.status >= 500 {
			t.Logf("%s: %d, a known bug: %s", what, a.status, why)
		} else {
			t.Errorf("%s: %d now; remove it from knownServerErrors", what, a.status)
		}
	} else if a.status >= 500 {
		t.Errorf("%s: %d (a server error)", what, a.status)
	}
	if loc := a.header.Get("Location"); loc != "" {
		u, err := url.Parse(loc)
		if err != nil || strings.Contains(loc, evil) || strings.HasPrefix(loc, "//") || strings.Contains(loc, "\\") ||
			(u.Host != "" && u.Host != "kabinet.test" && u.Host != strings.TrimPrefix(s.ts.URL, "http://")) {
			t.Errorf("%s: redirects to %q", what, loc)
		}
	}
	if strings.HasPrefix(a.header.Get("Content-Type"), "text/html") && strings.Contains(a.body, "<script>alert(") {
		t.Errorf("%s: user markup rendered unescaped", what)
	}
}

// send makes one request of a route: GETs carry would-be redirect targets
// in the query, forms carry them as fields.
func (s *secEnv) send(b *browser, method, path string, form url.Values, hdr ...string) answer {
	if method == "GET" || method == "HEAD" {
		sep := "?"
		if strings.Contains(path, "?") {
			sep = "&"
		}
		path += sep + "next=https://" + evil + "/&return=//" + evil + "&back=https://" + evil + "/"
		req, _ := http.NewRequest(method, s.ts.URL+path, nil)
		for i := 0; i+1 < len(hdr); i += 2 {
			req.Header.Set(hdr[i], hdr[i+1])
		}
		return b.do(req)
	}
	if form == nil {
		form = url.Values{}
	}
	for _, k := range []string{"next", "return", "back", "return_url"} {
		if form.Get(k) == "" {
			form.Set(k, "https://"+evil+"/")
		}
	}
	if _, ok := form["csrf"]; !ok {
		form.Set("csrf", b.csrf)
	}
	req, _ := http.NewRequest(method, s.ts.URL+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", s.ts.URL)
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	return b.do(req)
}

// sendJSON is an API call with a bearer token (none when empty).
func (s *secEnv) sendJSON(method, path, token, body string) answer {
	b := s.browser()
	req, _ := http.NewRequest(method, s.ts.URL+path, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	return b.do(req)
}

func (s *secEnv) loginSubscriber(login string) *browser {
	s.t.Helper()
	b := s.browser()
	b.get("/login")
	if a := b.post("/login", url.Values{"login": {login}, "password": {secSubPassword}}); a.status != http.StatusSeeOther || a.header.Get("Location") != "/" {
		s.t.Fatalf("login %s: %d", login, a.status)
	}
	b.get("/")
	return b
}

func (s *secEnv) loginOperator(r operator.Role) *browser {
	s.t.Helper()
	b := s.browser()
	b.get("/admin/login")
	if a := b.post("/admin/login", url.Values{"login": {"op-" + string(r)}, "password": {secOpPassword}}); a.status != http.StatusSeeOther {
		s.t.Fatalf("operator login %s: %d", r, a.status)
	}
	b.get("/admin/")
	return b
}

func (s *secEnv) apiLogin(login string) (string, int64) {
	s.t.Helper()
	a := s.sendJSON("POST", "/api/v1/login", "", fmt.Sprintf(`{"login":%q,"password":%q}`, login, secSubPassword))
	var out struct {
		Token   string `json:"token"`
		TokenID int64  `json:"token_id"`
	}
	if err := json.Unmarshal([]byte(a.body), &out); err != nil || out.Token == "" {
		s.t.Fatalf("API login %s: %d %s", login, a.status, a.body)
	}
	return out.Token, out.TokenID
}

func isLoginRedirect(a answer, to string) bool {
	return (a.status == http.StatusSeeOther || a.status == http.StatusFound) && a.header.Get("Location") == to
}

func TestRouteSecurity(t *testing.T) {
	s := newSecEnv(t, `public_url = "http://kabinet.test"`)
	ctx := context.Background()
	db := s.app.e.db
	// Markup where users write: a subscriber's name, a request, a chat line.
	if err := db.Write(ctx, func(tx *store.Tx) error {
		_, err := tx.Exec(ctx, `UPDATE accounts SET name = ? WHERE id IN (?, ?)`, xss, s.ids["alice"], s.ids["bob"])
		return err
	}); err != nil {
		t.Fatal(err)
	}
	sup := support.New(db, s.clk)
	if _, err := sup.File(ctx, s.ids["bob"], "question", xss, xss); err != nil {
		t.Fatal(err)
	}
	if _, err := sup.Say(ctx, s.ids["bob"], xss); err != nil {
		t.Fatal(err)
	}
	aliceTok, aliceTokID := s.apiLogin("alice")
	_, bobTokID := s.apiLogin("bob")
	s.ids["alice.token"], s.ids["bob.token"] = aliceTokID, bobTokID
	alice := s.loginSubscriber("alice")
	ops := map[operator.Role]*browser{}
	for _, r := range operator.Roles {
		ops[r] = s.loginOperator(r)
	}
	specs := s.routeSpecs()
	patterns := slices.Clone(s.patterns)
	// Routes that end a session go last, so the others run logged in.
	slices.SortStableFunc(patterns, func(a, b string) int {
		la, lb := strings.Contains(a, "logout"), strings.Contains(b, "logout")
		switch {
		case la == lb:
			return 0
		case la:
			return 1
		}
		return -1
	})

	t.Run("anonymous", func(t *testing.T) {
		for _, p := range patterns {
			sp, ok := specs[p]
			if !ok {
				continue
			}
			m, path := sp.target(p)
			anon := s.browser()
			anon.get("/login") // a session with a form token: refusals below are about who, not about the token
			var a answer
			if sp.class == clAPI || sp.class == clAPIOpen {
				a = s.sendJSON(m, path, "", "{}")
			} else {
				a = s.send(anon, m, path, nil)
			}
			what := "anonymous " + p
			s.check(t, what, a)
			switch sp.class {
			case clSubscriber, clEmployee:
				if !isLoginRedirect(a, "/login") {
					t.Errorf("%s: %d %s, want a redirect to /login", what, a.status, a.header.Get("Location"))
				}
			case clOperator:
				if !isLoginRedirect(a, "/admin/login") {
					t.Errorf("%s: %d %s, want a redirect to /admin/login", what, a.status, a.header.Get("Location"))
				}
			case clAPI:
				if a.status != http.StatusUnauthorized && a.status != http.StatusForbidden {
					t.Errorf("%s: %d, want 401", what, a.status)
				}
			case clMachine:
				if a.status < 400 && m == "POST" {
					t.Errorf("%s: %d, a payment callback without credentials or signature was accepted", what, a.status)
				}
			}
		}
	})

	t.Run("subscriber in the back office", func(t *testing.T) {
		for _, p := range patterns {
			sp := specs[p]
			if sp.class != clOperator {
				continue
			}
			m, path := sp.target(p)
			a := s.send(alice, m, path, nil)
			s.check(t, "alice "+p, a)
			if !isLoginRedirect(a, "/admin/login") {
				t.Errorf("alice %s: %d %s, want a redirect to /admin/login", p, a.status, a.header.Get("Location"))
			}
		}
	})

	t.Run("operator roles", func(t *testing.T) {
		for _, r := range operator.Roles {
			for _, p := range patterns {
				sp := specs[p]
				if sp.class != clOperator || strings.Contains(p, "logout") {
					continue
				}
				m, path := sp.target(p)
				allowed := sp.perm == "" || r.Allows(sp.perm)
				if allowed && m != "GET" {
					continue // allowed actions are tested by the back office's own tests
				}
				a := s.send(ops[r], m, path, nil)
				what := string(r) + " " + p
				s.check(t, what, a)
				switch {
				case !allowed && a.status != http.StatusForbidden:
					t.Errorf("%s: %d, want 403 (the role lacks %s)", what, a.status, sp.perm)
				case allowed && (a.status == http.StatusForbidden || a.status == http.StatusSeeOther):
					t.Errorf("%s: %d, but the role has %s", what, a.status, sp.perm)
				}
			}
		}
	})

	t.Run("another subscriber's ids", func(t *testing.T) {
		for _, p := range patterns {
			sp := specs[p]
			if sp.foreign == "" {
				continue
			}
			m, _ := sp.target(p)
			var a answer
			if sp.class == clAPI {
				a = s.sendJSON(m, sp.foreign, aliceTok, `{"body":"hello"}`)
			} else {
				a = s.send(alice, m, sp.foreign, url.Values{"body": {"hello"}})
			}
			s.check(t, "alice "+p+" of bob", a)
			if a.status != http.StatusNotFound {
				t.Errorf("alice %s with bob's %s: %d, want 404", p, sp.foreign, a.status)
			}
		}
	})

	t.Run("form token and origin", func(t *testing.T) {
		for _, p := range patterns {
			sp := specs[p]
			m, path := sp.target(p)
			if m == "GET" || (sp.class != clSubscriber && sp.class != clEmployee && sp.class != clOperator && sp.class != clPublic) {
				continue
			}
			b := alice
			if sp.class == clOperator {
				b = ops[operator.RoleAdmin]
			}
			a := s.send(b, m, path, url.Values{"csrf": {""}})
			s.check(t, "no token "+p, a)
			if a.status != http.StatusForbidden {
				t.Errorf("%s without the form token: %d, want 403", p, a.status)
			}
			a = s.send(b, m, path, nil, "Origin", "https://"+evil, "Sec-Fetch-Site", "cross-site")
			s.check(t, "foreign origin "+p, a)
			if a.status != http.StatusForbidden {
				t.Errorf("%s from a foreign origin: %d, want 403", p, a.status)
			}
		}
	})

	t.Run("markup is escaped", func(t *testing.T) {
		for _, path := range []string{"/", "/requests", "/chat", "/profile", "/requests/" + strconv.FormatInt(s.ids["alice.request"], 10)} {
			s.check(t, "alice "+path, s.send(alice, "GET", path, nil))
		}
		admin := ops[operator.RoleAdmin]
		for _, path := range []string{"/admin/subscribers?q=" + url.QueryEscape(xss), "/admin/subscribers/" + strconv.FormatInt(s.ids["bob"], 10),
			"/admin/support", "/admin/support/chat/" + strconv.FormatInt(s.ids["bob"], 10), "/admin/audit", "/admin/debtors"} {
			a := s.send(admin, "GET", path, nil)
			s.check(t, "admin "+path, a)
			if a.status != http.StatusOK {
				t.Errorf("admin %s: %d", path, a.status)
			}
		}
		// The name and texts did reach the pages, escaped.
		a := s.send(admin, "GET", "/admin/support", nil)
		if !strings.Contains(a.body, "&lt;script&gt;") {
			t.Error("the support queue does not show the request's subject")
		}
	})

	t.Run("malformed and over-long", func(t *testing.T) {
		long := strings.Repeat("Ж", 40000)
		fields := []string{"login", "password", "new_password", "password2", "current", "name", "email", "phone", "address", "subject", "body",
			"text", "kind", "amount", "reason", "note", "status", "role", "code", "fee", "price", "lang", "city", "tariff", "contract_no", "q", "from", "to"}
		for _, p := range patterns {
			sp := specs[p]
			m, path := sp.target(p)
			if strings.Contains(p, "logout") || sp.class == clMachine {
				continue
			}
			// Path parameters that are not ids.
			if strings.Contains(p, "{") && !strings.Contains(p, "{$}") {
				_, pp := split(p)
				for _, bad := range []string{"abc", "99999999999999999999", "-1", "%00"} {
					bp := regexp.MustCompile(`\{[a-z]+\}`).ReplaceAllString(pp, bad)
					var a answer
					switch sp.class {
					case clAPI, clAPIOpen:
						a = s.sendJSON(m, bp, aliceTok, "{}")
					case clOperator:
						a = s.send(ops[operator.RoleAdmin], m, bp, nil)
					default:
						a = s.send(alice, m, bp, nil)
					}
					s.check(t, p+" as "+bp, a)
					if a.status < 400 && !(sp.class == clAPIOpen) {
						t.Errorf("%s as %s: %d, want 4xx", p, bp, a.status)
					}
				}
			}
			if m == "GET" || m == "DELETE" {
				continue // DELETE routes take no body; their ids are checked above
			}
			switch sp.class {
			case clAPI, clAPIOpen:
				body := map[string]string{}
				for _, f := range fields {
					body[f] = long
				}
				j, _ := json.Marshal(body)
				for _, raw := range []string{string(j), `{"amount": "1e309", "body": [1,2]}`, `{`, strings.Repeat("[", 100000)} {
					a := s.sendJSON(m, path, aliceTok, raw)
					s.check(t, "malformed "+p, a)
					if a.status < 400 && p != "POST /api/v1/login" {
						t.Errorf("%s with a malformed body: %d, want 4xx", p, a.status)
					}
				}
			default:
				b := alice
				if sp.class == clOperator {
					b = ops[operator.RoleAdmin]
				}
				form := url.Values{}
				for _, f := range fields {
					form.Set(f, long)
				}
				a := s.send(b, m, path, form)
				s.check(t, "over-long "+p, a)
				for _, f := range fields {
					form.Set(f, "1e309\x00<>%")
				}
				a = s.send(b, m, path, form)
				s.check(t, "malformed "+p, a)
			}
		}
	})
}
