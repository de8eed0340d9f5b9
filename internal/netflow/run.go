package netflow

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"time"

	"github.com/kabinet-billing/kabinet/internal/clock"
	"github.com/kabinet-billing/kabinet/internal/config"
	"github.com/kabinet-billing/kabinet/internal/store"
)

// Options configure Run.
type Options struct {
	Addr string         // UDP address to listen on, e.g. ":2055"
	Conn net.PacketConn // instead of Addr (tests, socket activation)
	Zone *time.Location // the provider's: which day bytes belong to
	// FlushEvery is how often sums are written (default 10 s): one row per
	// subscriber, class and day each time, whatever the flow rate.
	FlushEvery time.Duration
	// RefreshEvery is how often sessions and classes are re-read (default
	// 30 s): a new session's flows count from then on.
	RefreshEvery time.Duration
	Log          *slog.Logger
	// Observe, when set, is called once the collector is made, with a
	// function that reads its counters (for metrics at scrape time).
	Observe func(stats func() RunStats)
}

// RunStats are a running collector's counters since it started: packets
// received and flows attributed and written.
type RunStats struct {
	Collector  CollectorStats
	Aggregator Stats
}

// Run collects flows until ctx ends, then writes what it has summed. It
// returns an error when it cannot start (the address is taken, the
// database does not answer).
func Run(ctx context.Context, db *store.DB, leases Leases, clk clock.Clock, o Options) error {
	if o.FlushEvery <= 0 {
		o.FlushEvery = 10 * time.Second
	}
	if o.RefreshEvery <= 0 {
		o.RefreshEvery = 30 * time.Second
	}
	if o.Log == nil {
		o.Log = slog.Default()
	}
	res := NewSessionResolver(leases, clk)
	if err := res.Refresh(ctx); err != nil {
		return err
	}
	agg := NewAggregator(db, res, nil, o.Zone)
	if err := agg.ReloadClasses(ctx); err != nil {
		return err
	}
	col := NewCollector(agg)
	col.Log, col.Now = o.Log, clk.Now
	if o.Observe != nil {
		o.Observe(func() RunStats { return RunStats{Collector: col.Stats(), Aggregator: agg.Stats()} })
	}
	conn := o.Conn
	if conn == nil {
		var lc net.ListenConfig
		c, err := lc.ListenPacket(ctx, "udp", o.Addr)
		if err != nil {
			return fmt.Errorf("flow collector on %s: %w", o.Addr, err)
		}
		if uc, ok := c.(*net.UDPConn); ok {
			uc.SetReadBuffer(8 << 20) // bursts of exports must not overflow the socket
		}
		conn = c
	}
	o.Log.Info("flow collector listening", "addr", conn.LocalAddr().String())
	logErr := func(err error) { o.Log.Error("flow collector", "err", err) }
	var wg sync.WaitGroup
	wg.Go(func() { res.Run(ctx, o.RefreshEvery, logErr) })
	wg.Go(func() {
		clock.Every(ctx, o.RefreshEvery, func(ctx context.Context) {
			if err := agg.ReloadClasses(ctx); err != nil {
				logErr(err)
			}
		})
	})
	// The aggregator stops once the collector has: every flow read is
	// summed before the last flush.
	aggCtx, stopAgg := context.WithCancel(context.WithoutCancel(ctx))
	defer stopAgg()
	wg.Go(func() { agg.Run(aggCtx, o.FlushEvery, logErr) })
	err := col.Serve(ctx, conn)
	stopAgg()
	wg.Wait() // the last sums are written before Run returns
	return err
}

// Config is the [netflow] section of the config file:
//
//	[netflow]
//	addr = ":2055"        # empty: no collector
//	flush_seconds = 10
type Config config.NetFlow

// Options turns the section into Run's options.
func (c Config) Options(zone *time.Location, log *slog.Logger) Options {
	return Options{Addr: c.Addr, Zone: zone, FlushEvery: time.Duration(c.FlushSeconds) * time.Second, Log: log}
}
