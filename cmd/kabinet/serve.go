package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/kabinet-billing/kabinet/internal/billing"
	"github.com/kabinet-billing/kabinet/internal/flow"
	"github.com/kabinet-billing/kabinet/internal/metrics"
	"github.com/kabinet-billing/kabinet/internal/notify"
	"github.com/kabinet-billing/kabinet/internal/payment"
	"github.com/kabinet-billing/kabinet/internal/radius"
	"github.com/kabinet-billing/kabinet/internal/subscriber"
	"github.com/kabinet-billing/kabinet/internal/traffic"
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
	a.pay = payment.NewService(e.db, e.clock, a.biller, a.paySetup.Processors, payment.Options{
		PublicURL: e.cfg.PublicURL, BonusPercentBP: e.cfg.Billing.BonusPercentBP, Log: a.log})
	// Without a [mail] host letters queue and wait for one.
	if a.mail, err = notify.FromConfig(e.db, e.clock, a.biller, e.cfg); err != nil {
		return nil, err
	}
	a.traffic = traffic.New(e.db, e.cfg.Zone())
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
			Server:  radius.Config{AuthAddr: rc.Auth, AcctAddr: rc.Acct, Clock: e.clock, Logger: a.log},
			CoA:     radius.CoAConfig{OnResult: coaMetrics(metrics.Default)},
			Journal: radius.JournalConfig{Dir: rc.JournalDir, Fsync: rc.JournalFsync, MaxBytes: rc.JournalMaxMB << 20}},
			e.db, subs, a.biller, a.traffic)
	}
	return a, nil
}

// run serves HTTP on addr and runs RADIUS, billing and the payment side until
// ctx ends. ready, when set, is called once the HTTP listener is open.
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
	srv := &http.Server{Handler: handler, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 2 * time.Minute}
	go func() {
		<-ctx.Done()
		sctx, c := context.WithTimeout(context.Background(), 10*time.Second)
		defer c()
		srv.Shutdown(sctx)
	}()
	sched := &billing.Scheduler{Biller: a.biller, Log: a.log, Progress: metrics.BillingProgress}
	go sched.Loop(ctx, time.Minute)
	// Changes made by other instances or the CLI reach RADIUS (CoA) here.
	go a.e.db.Follow(ctx, time.Second)
	go a.pay.Run(ctx)
	a.mail.Start(ctx, time.Minute)
	if a.radius != nil {
		go func() {
			if err := a.radius.Run(ctx); err != nil && ctx.Err() == nil {
				// RADIUS is one part of Kabinet: the portal stays up without it.
				a.log.Error("radius stopped", "err", err)
			}
		}()
	}
	if nf := flow.Config(a.e.cfg.NetFlow); nf.Addr != "" {
		go func() {
			opts := nf.Options(a.e.cfg.Zone(), a.log)
			opts.Observe = flowMetrics(metrics.Default)
			if err := flow.Run(ctx, a.e.db, a.traffic, a.e.clock, opts); err != nil && ctx.Err() == nil {
				a.log.Error("netflow collector stopped", "err", err)
			}
		}()
	}
	if ready != nil {
		scheme := "http://"
		if isTLS {
			scheme = "https://"
		}
		ready(scheme + ln.Addr().String())
	}
	if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
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
	return a.run(ctx, *addr, func(addr string) {
		a.log.Info("kabinet serving", "url", addr, "db", e.db.Dialect)
	})
}
