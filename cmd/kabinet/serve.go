package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"github.com/kabinet-billing/kabinet/internal/autopay"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime/pprof"
	"strings"
	"sync"
	"time"

	"github.com/kabinet-billing/kabinet/internal/billing"
	"github.com/kabinet-billing/kabinet/internal/company"
	"github.com/kabinet-billing/kabinet/internal/config"
	"github.com/kabinet-billing/kabinet/internal/documents"
	"github.com/kabinet-billing/kabinet/internal/fiscal"
	"github.com/kabinet-billing/kabinet/internal/metrics"
	"github.com/kabinet-billing/kabinet/internal/netflow"
	"github.com/kabinet-billing/kabinet/internal/notify"
	"github.com/kabinet-billing/kabinet/internal/payment"
	"github.com/kabinet-billing/kabinet/internal/promise"
	"github.com/kabinet-billing/kabinet/internal/push"
	"github.com/kabinet-billing/kabinet/internal/radius"
	"github.com/kabinet-billing/kabinet/internal/sms"
	"github.com/kabinet-billing/kabinet/internal/subscriber"
	"github.com/kabinet-billing/kabinet/internal/suspension"
	"github.com/kabinet-billing/kabinet/internal/telegram"
	"github.com/kabinet-billing/kabinet/internal/traffic"
	"github.com/kabinet-billing/kabinet/internal/web/bot"
)

func init() {
	register("serve", "[--config FILE] [--addr HOST:PORT]: run the portal, back office, API, RADIUS and billing", cmdServe)
}

// app is a running Kabinet: every capability wired to one database.
type app struct {
	e        *env
	log      *slog.Logger
	biller   *billing.Biller
	subs     *subscriber.Directory
	pay      *payment.Service
	paySetup payment.Setup
	traffic  *traffic.Store
	radius   *radius.Service
	mail     *notify.Notifier
	push     *push.Service
	autopay  *autopay.Service
	promises *promise.Service
	// tgLinks are the Telegram chats linked to accounts; bot answers them
	// ([telegram] token; nil without), through the webhook when tgWebhook
	// is set (public_url is https), by long polling otherwise.
	tgLinks             *telegram.Links
	bot                 *bot.Bot
	tgWebhook, tgSecret string
	// sms sends over SMPP ([sms] host; nil without).
	sms     *sms.Service
	company *company.Service
	// docs issues company clients' invoices and acts.
	docs *documents.Service

	suspends *suspension.Service
	// radiusAuth, radiusAcct: UDP addresses; empty disables RADIUS.
	radiusAuth, radiusAcct string
}

// buildApp wires every capability to e's database, as e.cfg says.
func buildApp(ctx context.Context, e *env) (*app, error) {
	a := &app{e: e, log: slog.New(slog.NewTextHandler(os.Stderr, nil))}
	a.biller = e.biller()
	subs, err := e.directory()
	if err != nil {
		return nil, err
	}
	a.subs = subs
	if a.paySetup, err = payment.Config(e.cfg.Payment).Build(e.cfg.Zone(), e.clock); err != nil {
		return nil, err
	}
	if err := setReceiptRules(a.paySetup, e.cfg); err != nil {
		return nil, err
	}
	a.pay = payment.NewService(e.db, e.clock, a.biller, a.paySetup.Processors, payment.Options{
		PublicURL: e.cfg.PublicURL, BonusPercentBP: e.cfg.Billing.BonusPercentBP, Log: a.log})
	// Without a [mail] host letters queue and wait for one.
	if a.mail, err = notify.FromConfig(e.db, e.clock, a.biller, e.cfg); err != nil {
		return nil, err
	}
	// Web Push: the VAPID keys are made at the first start and kept in the
	// database; the mail notifier's notices also go to the subscribers'
	// devices.
	if a.push, err = push.Open(ctx, e.db, e.clock, push.Options{Contact: pushContact(e.cfg), Log: a.log}); err != nil {
		return nil, err
	}
	a.mail.Pusher = push.Notices{S: a.push, Log: a.log}
	a.autopay = autopay.New(e.db, e.clock, a.pay, a.biller, a.mail, e.cfg.Autopay, a.log)
	rules, err := promise.RulesOf(e.cfg.Promise)
	if err != nil {
		return nil, err
	}
	a.promises = promise.New(e.db, e.clock, a.biller, rules)
	a.promises.Log = a.log
	a.company = company.New(e.db, e.clock, a.biller, subs)
	a.company.Accounts = e.cfg.Company.Accounts
	if a.docs, err = e.documentsFor(a.company); err != nil {
		return nil, err
	}
	a.docs.Mailer = a.mail
	srules, err := suspension.RulesOf(e.cfg.Suspension)
	if err != nil {
		return nil, err
	}
	a.suspends = suspension.New(e.db, e.clock, a.biller, srules)
	a.suspends.Log = a.log
	a.traffic = traffic.New(e.db, e.cfg.Zone())
	if err := a.buildMessengers(); err != nil {
		return nil, err
	}
	a.addChannels()
	if rc := e.cfg.Radius; !rc.Disabled {
		a.radiusAuth, a.radiusAcct = rc.Auth, rc.Acct
		// Each instance writes its journal to the database on its own, so
		// a NAS failing over between instances sharing PostgreSQL could
		// see its records land in another order than it sent them (a Start
		// after its Stop); there accounting is answered after the commit
		// unless told that this is the only instance. SQLite has one
		// instance per file.
		journal := !e.db.Shared()
		if rc.Journal != nil {
			journal = *rc.Journal
		}
		if !journal {
			rc.JournalDir = "" // none: answered after the commit
		} else if rc.JournalDir == "" {
			// Named by the accounting port, so that instances sharing a
			// host (and a PostgreSQL database) do not share a journal.
			port := "1813"
			if _, p, err := net.SplitHostPort(rc.Acct); err == nil && p != "" {
				port = p
			}
			base := e.cfg.DataDir
			if e.db.Path != "" {
				base = filepath.Dir(e.db.Path)
			}
			rc.JournalDir = filepath.Join(base, "radius-journal-"+port)
		}
		a.radius = radius.NewService(radius.ServiceConfig{
			Server: radius.Config{AuthAddr: rc.Auth, AcctAddr: rc.Acct, Clock: e.clock, Logger: a.log,
				Reply: radius.ReplyOptions{FrozenList: srules.RedirectList()},
				// Accounting already answered is written from the journal
				// before serve lets the database close.
				JournalDrain: e.cfg.ShutdownTimeout},
			CoA:     radius.CoAConfig{OnResult: coaMetrics(metrics.Default)},
			Journal: radius.JournalConfig{Dir: rc.JournalDir, Fsync: rc.JournalFsync, MaxBytes: rc.JournalMaxMB << 20}},
			e.db, subs, a.biller, a.traffic)
	}
	return a, nil
}

// run serves HTTP on addr and runs RADIUS, the NetFlow collector, billing,
// mail and the payment side until ctx ends (SIGTERM). Then each stops
// taking new work and finishes what it has, all within
// [config] shutdown_timeout; run returns after, and the caller closes the
// database last. ready, when set, is called once the HTTP listener is open.
func (a *app) run(ctx context.Context, addr string, ready func(addr string)) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	handler, err := a.handler()
	if err != nil {
		return err
	}
	a.instrument(metrics.Default)
	ln, isTLS, err := a.e.listen(addr)
	if err != nil {
		return fmt.Errorf("listen %s: %w", addr, err)
	}
	srv := httpServer(a.e.cfg.Web, handler)
	var parts sync.WaitGroup
	sched := &billing.Scheduler{Biller: a.biller, Log: a.log, Progress: metrics.BillingProgress}
	parts.Go(func() { sched.Loop(ctx, time.Minute) })
	// Promised payments that end unpaid limit the line again at once.
	parts.Go(func() { a.promises.Loop(ctx, time.Minute) })
	// Company contracts' balances cover their points' charges (the 1st's
	// run charges the points); see company.Pool.
	parts.Go(func() { a.company.Loop(ctx, time.Minute, a.log) })
	// Voluntary suspensions start and end on their days (CoA at both).
	parts.Go(func() { a.suspends.Loop(ctx, time.Minute) })
	// Changes made by other instances or the CLI reach RADIUS (CoA) here.
	parts.Go(func() { a.e.db.Follow(ctx, time.Second) })
	parts.Go(func() { a.pay.Run(ctx) })
	parts.Go(func() { a.mail.Run(ctx, time.Minute) })
	parts.Go(func() { a.autopay.Run(ctx) })
	if a.bot != nil {
		parts.Go(func() { a.bot.Run(ctx, a.tgWebhook, a.tgSecret) })
	}
	if a.sms != nil {
		parts.Go(func() { <-ctx.Done(); a.sms.Close() })
	}
	if !a.e.cfg.Documents.Disabled {
		// Invoices on [documents] invoice_day, acts once a month is over,
		// invoices paid as payments cover them; caught up at start.
		parts.Go(func() { a.docs.Loop(ctx, 10*time.Minute) })
	}
	if q := a.e.receipts; q != nil {
		// Receipts go out as payments queue them; the tick retries.
		parts.Go(func() { q.Run(ctx, 10*time.Second) })
	} else {
		a.log.Warn("fiscal receipts are off: [fiscal] names no operator (54-FZ needs a receipt for every payment from a person)")
	}
	if a.radius != nil {
		parts.Go(func() {
			if err := a.radius.Run(ctx); err != nil && ctx.Err() == nil {
				// RADIUS is one part of Kabinet: the portal stays up without it.
				a.log.Error("radius stopped", "err", err)
			}
		})
	}
	if nf := netflow.Config(a.e.cfg.NetFlow); nf.Addr != "" {
		parts.Go(func() {
			opts := nf.Options(a.e.cfg.Zone(), a.log)
			opts.Observe = flowMetrics(metrics.Default)
			if err := netflow.Run(ctx, a.e.db, a.traffic, a.e.clock, opts); err != nil && ctx.Err() == nil {
				a.log.Error("netflow collector stopped", "err", err)
			}
		})
	}
	if ready != nil {
		scheme := "http://"
		if isTLS {
			scheme = "https://"
		}
		ready(scheme + ln.Addr().String())
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	var serveErr error
	select {
	case <-ctx.Done():
	case serveErr = <-served:
		cancel()
	}
	// Stop: the listeners close, and what is under way (requests,
	// accounting answered and journalled, the collector's last sums, a
	// letter being sent, a billing run) gets until the deadline.
	timeout := a.e.cfg.ShutdownTimeout
	a.log.Info("kabinet stopping", "timeout", timeout)
	sctx, stop := context.WithTimeout(context.WithoutCancel(ctx), timeout)
	defer stop()
	var finished sync.WaitGroup
	finished.Go(func() {
		if err := srv.Shutdown(sctx); err != nil {
			a.log.Error("http: requests still running at the shutdown deadline", "err", err)
		}
	})
	finished.Go(parts.Wait)
	done := make(chan struct{})
	go func() { finished.Wait(); close(done) }()
	select {
	case <-done:
		a.log.Info("kabinet stopped")
	case <-sctx.Done():
		a.log.Error("shutdown_timeout reached with work still running; closing the database under it", "timeout", timeout)
	}
	if serveErr != nil && !errors.Is(serveErr, http.ErrServerClosed) {
		return serveErr
	}
	return nil
}

// httpServer is the HTTP server with [web]'s timeouts. The server itself
// has no ReadTimeout: it would also cut a download the handler is still
// streaming. Instead each request's body must arrive within body_timeout
// of the handler starting, so that a client trickling a byte every few
// seconds cannot hold a connection open.
func httpServer(wc config.Web, h http.Handler) *http.Server {
	if wc.BodyTimeout > 0 {
		next := h
		h = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			// Not every connection supports it (HTTP/2 does, HTTP/1 does);
			// where it does not, the header timeout is what there is.
			_ = http.NewResponseController(w).SetReadDeadline(time.Now().Add(wc.BodyTimeout))
			next.ServeHTTP(w, r)
		})
	}
	return &http.Server{Handler: h, ReadHeaderTimeout: wc.ReadHeaderTimeout, IdleTimeout: wc.IdleTimeout}
}

func cmdServe(ctx context.Context, e *env, args []string) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	addr := fs.String("addr", "", "HTTP address (default: http_addr from the config, 127.0.0.1:8080)")
	if _, err := e.parse(fs, args); err != nil {
		return err
	}
	if err := e.open(ctx); err != nil {
		return err
	}
	// The built-in provider is a made-up company with a made-up INN: it
	// must never reach a subscriber's statement or contract.
	if !e.cfg.Given("provider") {
		return errors.New("the config has no [provider] section: statements, contracts and letters need the provider's own name, INN and address (see deploy/kabinet.toml)")
	}
	a, err := buildApp(ctx, e)
	if err != nil {
		return err
	}
	if *addr == "" {
		*addr = e.cfg.HTTPAddr
	}
	// A CPU profile of the whole run, for benchmarks (bench/cardpay);
	// written when serve stops.
	if path := os.Getenv("KABINET_CPUPROFILE"); path != "" {
		f, err := os.Create(path)
		if err != nil {
			return fmt.Errorf("KABINET_CPUPROFILE: %w", err)
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			f.Close()
			return fmt.Errorf("KABINET_CPUPROFILE: %w", err)
		}
		defer f.Close()
		defer pprof.StopCPUProfile()
	}
	return a.run(ctx, *addr, func(addr string) {
		a.log.Info("kabinet serving", "url", addr, "db", e.db.Dialect)
	})
}

// setReceiptRules gives a processor that issues the receipts itself
// (receipts = "yookassa") the receipt's signs from [fiscal] and [provider].
func setReceiptRules(s payment.Setup, cfg config.Config) error {
	issues := false
	for _, pc := range cfg.Payment.Processors {
		issues = issues || pc.Receipts != ""
	}
	if !issues {
		return nil
	}
	set, err := fiscal.SettingsFrom(cfg)
	if err != nil {
		return fmt.Errorf("receipts through the payment processor: %w", err)
	}
	return s.SetReceiptRules(payment.ReceiptRules{SNO: set.SNO, VAT: set.VAT, PaymentMethod: set.PaymentMethod,
		PaymentObject: set.PaymentObject, Item: set.Item, CompanyEmail: set.CompanyEmail})
}

// pushContact is the VAPID contact push services may write to about this
// server's pushes: the provider's e-mail, else the portal's https address.
func pushContact(cfg config.Config) string {
	if cfg.Provider.Email != "" {
		return cfg.Provider.Email
	}
	if strings.HasPrefix(cfg.PublicURL, "https://") {
		return cfg.PublicURL
	}
	return "postmaster@localhost"
}
