// Package metrics is Kabinet's Prometheus instrumentation: HTTP requests,
// RADIUS, CoA, billing runs, payment callbacks and the database pools, on a
// registry of its own, and the /readyz check.
//
// Every piece is a method on *Metrics so that tests use a fresh registry;
// Default is the one `kabinet serve` exposes, and the package-level
// functions record on it, so that RADIUS and payment code can count without
// a *Metrics threaded through their constructors.
//
// The package imports nothing of Kabinet's but the store, so that any
// capability may import it without a cycle.
package metrics

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/kabinet-billing/kabinet/internal/store"
)

// Metrics holds the collectors on one registry.
type Metrics struct {
	Registry *prometheus.Registry

	httpRequests *prometheus.CounterVec
	httpDuration *prometheus.HistogramVec
	httpInFlight prometheus.Gauge

	radiusRequests *prometheus.CounterVec
	radiusDuration *prometheus.HistogramVec
	coa            *prometheus.CounterVec

	billingDone     *prometheus.GaugeVec
	billingTotal    *prometheus.GaugeVec
	billingProgress prometheus.Gauge
	billingUpdated  prometheus.Gauge
	billingFinished prometheus.Gauge

	payments *prometheus.CounterVec

	// What is read at scrape time can be replaced (a test builds a second
	// app in the same process): the collectors are registered once.
	mu          sync.Mutex
	radiusStats func() RADIUSStats
	flowStats   func() FlowStats
	pools       []prometheus.Collector
}

// New makes the collectors on a fresh registry, with the Go runtime and
// process collectors.
func New() *Metrics {
	m := &Metrics{Registry: prometheus.NewRegistry()}
	m.Registry.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		newRADIUSCollector(m), newFlowCollector(m), poolCollector{m})
	f := factory{m.Registry}

	m.httpRequests = f.counterVec("kabinet_http_requests_total",
		"HTTP requests answered, by route pattern, method and status code.", "route", "method", "code")
	// Buckets from 5 ms (a cached page) to 30 s (a registry upload, a
	// speed-test download).
	m.httpDuration = f.histogramVec("kabinet_http_request_duration_seconds",
		"Time to answer an HTTP request, by route pattern.",
		[]float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30}, "route")
	m.httpInFlight = f.gauge("kabinet_http_requests_in_flight", "HTTP requests being answered.")

	m.radiusRequests = f.counterVec("kabinet_radius_requests_total",
		"RADIUS requests answered, by kind (auth, acct) and result (accept, reject, response, error).", "kind", "result")
	// A NAS retransmits after 1–3 s: latency near that means lost sessions.
	m.radiusDuration = f.histogramVec("kabinet_radius_request_duration_seconds",
		"Time to answer a RADIUS request, by kind.",
		[]float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 3}, "kind")
	m.coa = f.counterVec("kabinet_radius_coa_total",
		"CoA and Disconnect requests sent to NAS, by action and result (ok, failed).", "action", "result")

	m.billingDone = f.gaugeVec("kabinet_billing_run_accounts_done", "Accounts covered so far by the billing run of a period.", "period")
	m.billingTotal = f.gaugeVec("kabinet_billing_run_accounts_total", "Accounts the billing run of a period covers.", "period")
	m.billingProgress = f.gauge("kabinet_billing_run_progress_ratio", "Progress of the current or last billing run, 0 to 1.")
	m.billingUpdated = f.gauge("kabinet_billing_run_last_progress_timestamp_seconds",
		"When the billing run last reported progress: a run whose progress stops moving is stuck.")
	m.billingFinished = f.gauge("kabinet_billing_run_last_finished_timestamp_seconds",
		"When a billing run last covered every account of a period.")

	m.payments = f.counterVec("kabinet_payment_callbacks_total",
		"Payment protocol requests answered (OSMP check/pay, processor callbacks), by channel kind, command and result.",
		"channel", "command", "result")
	return m
}

type factory struct{ r prometheus.Registerer }

func (f factory) counterVec(name, help string, labels ...string) *prometheus.CounterVec {
	c := prometheus.NewCounterVec(prometheus.CounterOpts{Name: name, Help: help}, labels)
	f.r.MustRegister(c)
	return c
}

func (f factory) histogramVec(name, help string, buckets []float64, labels ...string) *prometheus.HistogramVec {
	h := prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: name, Help: help, Buckets: buckets}, labels)
	f.r.MustRegister(h)
	return h
}

func (f factory) gauge(name, help string) prometheus.Gauge {
	g := prometheus.NewGauge(prometheus.GaugeOpts{Name: name, Help: help})
	f.r.MustRegister(g)
	return g
}

func (f factory) gaugeVec(name, help string, labels ...string) *prometheus.GaugeVec {
	g := prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: name, Help: help}, labels)
	f.r.MustRegister(g)
	return g
}

// Default is the registry `kabinet serve` exposes at /metrics.
var Default = New()

// Handler serves m's registry in the Prometheus text format.
func (m *Metrics) Handler() http.Handler {
	// ContinueOnError: a collector that fails (a pool closed at shutdown,
	// /proc hidden by a sandbox) must not blank the whole scrape.
	return promhttp.HandlerFor(m.Registry, promhttp.HandlerOpts{Registry: m.Registry, ErrorHandling: promhttp.ContinueOnError})
}

// Handler serves the Default registry: mount it at GET /metrics.
func Handler() http.Handler { return Default.Handler() }

// RADIUS records one answered RADIUS request: kind "auth" or "acct",
// result "accept", "reject", "response" or "error".
func (m *Metrics) RADIUS(kind, result string, took time.Duration) {
	m.radiusRequests.WithLabelValues(kind, result).Inc()
	m.radiusDuration.WithLabelValues(kind).Observe(took.Seconds())
}

// RADIUS records on Default.
func RADIUS(kind, result string, took time.Duration) { Default.RADIUS(kind, result, took) }

// CoA records the outcome of one CoA or Disconnect request to a NAS.
func (m *Metrics) CoA(action string, ok bool) {
	result := "ok"
	if !ok {
		result = "failed"
	}
	m.coa.WithLabelValues(action, result).Inc()
}

// CoA records on Default.
func CoA(action string, ok bool) { Default.CoA(action, ok) }

// Payment records one answered payment request: channel kind ("osmp",
// "callback:chronopay"), command ("check", "pay", "callback") and result
// (the OSMP code, "accepted", "rejected", "error").
func (m *Metrics) Payment(channel, command, result string) {
	m.payments.WithLabelValues(channel, command, result).Inc()
}

// Payment records on Default.
func Payment(channel, command, result string) { Default.Payment(channel, command, result) }

// OSMPResult turns an OSMP result code into the Payment result label.
func OSMPResult(code int) string { return strconv.Itoa(code) }

// BillingProgress is a billing.Progress: pass it (or Default.BillingProgress)
// to Biller.Run. It is called after each chunk of accounts commits.
func (m *Metrics) BillingProgress(period string, done, total int64) {
	m.billingDone.WithLabelValues(period).Set(float64(done))
	m.billingTotal.WithLabelValues(period).Set(float64(total))
	if total > 0 {
		m.billingProgress.Set(float64(done) / float64(total))
	}
	now := float64(time.Now().UnixNano()) / 1e9
	m.billingUpdated.Set(now)
	if done >= total {
		m.billingFinished.Set(now)
	}
}

// BillingProgress records on Default.
func BillingProgress(period string, done, total int64) { Default.BillingProgress(period, done, total) }

// RADIUSStats are the RADIUS server's counters since start, as
// radius.Server.Stats returns them (copied field by field by the caller,
// because radius may import this package).
type RADIUSStats struct {
	AccessAccepts, AccessRejects uint64
	AcctResponses                uint64
	Duplicates                   uint64
	Dropped                      uint64
	AcctWriteErrors              uint64
	AcctQueued                   int  // accounting read, not yet written
	AcctBacklog                  bool // writes are failing: the database is away
}

// RegisterRADIUSStats exports the server's own counters, read at each
// scrape. They count everything the server did, including what the
// per-request RADIUS calls cannot see (dropped packets, duplicates). A later
// call replaces the function.
func (m *Metrics) RegisterRADIUSStats(stats func() RADIUSStats) {
	m.mu.Lock()
	m.radiusStats = stats
	m.mu.Unlock()
}

// radiusCollector's descriptions are made in New, not as package
// variables: Default is built during package initialisation, before
// variables it reaches only through an interface method are set.
type radiusCollector struct {
	m               *Metrics
	packets, errs   *prometheus.Desc
	queued, backlog *prometheus.Desc
}

func newRADIUSCollector(m *Metrics) radiusCollector {
	return radiusCollector{m: m,
		packets: prometheus.NewDesc("kabinet_radius_server_packets_total",
			"RADIUS packets handled by the server since start, by outcome.", []string{"outcome"}, nil),
		errs: prometheus.NewDesc("kabinet_radius_accounting_write_errors_total",
			"Accounting batch writes that failed; the batch is held and retried, the rest waits in the queue.", nil, nil),
		queued: prometheus.NewDesc("kabinet_radius_accounting_queued",
			"Accounting requests read from the NAS and not yet written.", nil, nil),
		backlog: prometheus.NewDesc("kabinet_radius_accounting_backlog",
			"1 while accounting cannot be written (the database is away) and is being held for retry.", nil, nil)}
}

func (c radiusCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.packets
	ch <- c.errs
	ch <- c.queued
	ch <- c.backlog
}

func (c radiusCollector) Collect(ch chan<- prometheus.Metric) {
	c.m.mu.Lock()
	stats := c.m.radiusStats
	c.m.mu.Unlock()
	if stats == nil {
		return // RADIUS disabled on this instance
	}
	s := stats()
	for _, o := range []struct {
		name string
		v    uint64
	}{{"access_accept", s.AccessAccepts}, {"access_reject", s.AccessRejects}, {"accounting_response", s.AcctResponses},
		{"duplicate", s.Duplicates}, {"dropped", s.Dropped}} {
		ch <- prometheus.MustNewConstMetric(c.packets, prometheus.CounterValue, float64(o.v), o.name)
	}
	ch <- prometheus.MustNewConstMetric(c.errs, prometheus.CounterValue, float64(s.AcctWriteErrors))
	ch <- prometheus.MustNewConstMetric(c.queued, prometheus.GaugeValue, float64(s.AcctQueued))
	backlog := 0.0
	if s.AcctBacklog {
		backlog = 1
	}
	ch <- prometheus.MustNewConstMetric(c.backlog, prometheus.GaugeValue, backlog)
}

// FlowStats are the NetFlow collector's counters since start, as
// netflow.RunStats has them (copied by the caller: this package does not
// import netflow).
type FlowStats struct {
	Packets, BadPackets, NoTemplate uint64 // received; of those, not NetFlow/IPFIX; v9/IPFIX data before its template
	Flows, Attributed, Unattributed uint64 // flow records; with a subscriber on one side; with none
	RowsWritten, Flushes            uint64 // per-day rows upserted; batches written
}

// RegisterFlowStats exports the NetFlow collector's counters, read at each
// scrape. A later call replaces the function.
func (m *Metrics) RegisterFlowStats(stats func() FlowStats) {
	m.mu.Lock()
	m.flowStats = stats
	m.mu.Unlock()
}

type flowCollector struct {
	m                                     *Metrics
	packets, rejected, flows, rows, flush *prometheus.Desc
}

func newFlowCollector(m *Metrics) flowCollector {
	return flowCollector{m: m,
		packets: prometheus.NewDesc("kabinet_netflow_packets_total",
			"NetFlow/IPFIX packets received by the collector since start.", nil, nil),
		rejected: prometheus.NewDesc("kabinet_netflow_packets_rejected_total",
			"Packets not used, by reason: malformed (not NetFlow v5/v9 or IPFIX), no_template (data before the exporter's template).", []string{"reason"}, nil),
		flows: prometheus.NewDesc("kabinet_netflow_flows_total",
			"Flow records seen, by attribution: subscriber (a session address on one side) or unattributed.", []string{"attribution"}, nil),
		rows: prometheus.NewDesc("kabinet_netflow_rows_written_total",
			"Per-subscriber, per-class, per-day rows written (upserts).", nil, nil),
		flush: prometheus.NewDesc("kabinet_netflow_flushes_total",
			"Batches of sums written to the database.", nil, nil)}
}

func (c flowCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.packets, c.rejected, c.flows, c.rows, c.flush} {
		ch <- d
	}
}

func (c flowCollector) Collect(ch chan<- prometheus.Metric) {
	c.m.mu.Lock()
	stats := c.m.flowStats
	c.m.mu.Unlock()
	if stats == nil {
		return // no collector on this instance
	}
	s := stats()
	counter := func(d *prometheus.Desc, v uint64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v), labels...)
	}
	counter(c.packets, s.Packets)
	counter(c.rejected, s.BadPackets, "malformed")
	counter(c.rejected, s.NoTemplate, "no_template")
	counter(c.flows, s.Attributed, "subscriber")
	counter(c.flows, s.Unattributed, "unattributed")
	counter(c.rows, s.RowsWritten)
	counter(c.flush, s.Flushes)
}

// RegisterDB exports the connection pool statistics (open, in use, idle,
// waits) of the database's reader and writer pools as go_sql_* metrics with
// db_name "reader" and "writer"; on PostgreSQL, where one pool does both,
// as "pool". A later call replaces the database.
func (m *Metrics) RegisterDB(db *store.DB) {
	w, r := db.Writer(), db.Reader()
	pools := []prometheus.Collector{collectors.NewDBStatsCollector(w, "writer"), collectors.NewDBStatsCollector(r, "reader")}
	if w == r {
		pools = []prometheus.Collector{collectors.NewDBStatsCollector(w, "pool")}
	}
	m.mu.Lock()
	m.pools = pools
	m.mu.Unlock()
}

// poolCollector is unchecked (it describes nothing up front) because the
// pools it reports are set after registration and may change.
type poolCollector struct{ m *Metrics }

func (poolCollector) Describe(chan<- *prometheus.Desc) {}

func (c poolCollector) Collect(ch chan<- prometheus.Metric) {
	c.m.mu.Lock()
	pools := c.m.pools
	c.m.mu.Unlock()
	for _, p := range pools {
		p.Collect(ch)
	}
}

// Ready is the /readyz check: the database answers on both pools within a
// few seconds and has every migration this binary knows. A load balancer
// sends no traffic to an instance that is not ready; unlike /healthz, which
// says the process is alive, this says it can serve.
func Ready(db *store.DB) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 3*time.Second)
		defer cancel()
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		if err := checkReady(ctx, db); err != nil {
			w.WriteHeader(http.StatusServiceUnavailable)
			fmt.Fprintf(w, "not ready: %v\n", err)
			return
		}
		fmt.Fprintln(w, "ready")
	}
}

func checkReady(ctx context.Context, db *store.DB) error {
	// Only the reader pool: SQLite's writer is one connection that a
	// billing chunk holds for a second or more, and waiting for it would
	// take the instance out of the balancer during every run. It opens the
	// same file, and on PostgreSQL the pools are one.
	if err := db.Reader().PingContext(ctx); err != nil {
		return fmt.Errorf("database unreachable: %w", err)
	}
	n, err := db.PendingMigrations(ctx)
	if err != nil {
		return err
	}
	if n > 0 {
		return fmt.Errorf("%d migrations not applied: run kabinet migrate", n)
	}
	return nil
}
