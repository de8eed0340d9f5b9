package main

import (
	"bytes"
	"encoding/xml"
	"net/http"
	"strconv"
	"strings"

	"github.com/kabinet-billing/kabinet/internal/metrics"
	"github.com/kabinet-billing/kabinet/internal/netflow"
	"github.com/kabinet-billing/kabinet/internal/radius"
)

// The adapters between the capabilities and internal/metrics live here, in
// the one package that sees both, so that neither radius nor payment has
// to know about Prometheus.

// instrument registers what can be read at scrape time: the database pools
// and the RADIUS server's own counters.
func (a *app) instrument(m *metrics.Metrics) {
	m.RegisterDB(a.e.db)
	if a.radius != nil {
		srv := a.radius.Server
		m.RegisterRADIUSStats(func() metrics.RADIUSStats {
			s := srv.Stats()
			return metrics.RADIUSStats{AccessAccepts: s.AccessAccepts, AccessRejects: s.AccessRejects, AcctResponses: s.AcctResponses,
				Duplicates: s.Duplicates, Dropped: s.Dropped, AcctWriteErrors: s.AcctWriteErrors,
				AcctQueued: s.AcctQueued, AcctBacklog: s.AcctBacklog}
		})
	}
}

// flowMetrics is a netflow.Options.Observe that exports the NetFlow
// collector's counters.
func flowMetrics(m *metrics.Metrics) func(func() netflow.RunStats) {
	return func(stats func() netflow.RunStats) {
		m.RegisterFlowStats(func() metrics.FlowStats {
			s := stats()
			return metrics.FlowStats{Packets: s.Collector.Packets, BadPackets: s.Collector.Bad, NoTemplate: s.Collector.NoTemplate,
				Flows: s.Aggregator.Flows, Attributed: s.Aggregator.Attributed, Unattributed: s.Aggregator.Unattributed,
				RowsWritten: s.Aggregator.Rows, Flushes: s.Aggregator.Flushes}
		})
	}
}

// coaMetrics is a radius.CoAConfig.OnResult that counts outcomes. A session
// the NAS no longer has is not a failure: there was nothing to change.
func coaMetrics(m *metrics.Metrics) func(radius.CoAResult) {
	return func(r radius.CoAResult) { m.CoA(string(r.Action), r.OK || r.Gone()) }
}

// paymentMetrics wraps the payment routes (payment.Service.Routes) so that
// each answer is counted by its protocol result: the OSMP <result> code, or
// for a processor's callback whether it was accepted.
func paymentMetrics(m *metrics.Metrics, routes map[string]http.Handler) map[string]http.Handler {
	out := make(map[string]http.Handler, len(routes))
	for pattern, h := range routes {
		path := pattern
		if i := strings.IndexByte(pattern, ' '); i >= 0 {
			path = pattern[i+1:]
		}
		switch {
		case path == "/pay/osmp":
			out[pattern] = osmpMetrics(m, h)
		case strings.HasPrefix(path, "/pay/card/") && strings.HasSuffix(path, "/callback"):
			name := strings.TrimSuffix(strings.TrimPrefix(path, "/pay/card/"), "/callback")
			out[pattern] = callbackMetrics(m, "card:"+name, h)
		default:
			out[pattern] = h // pages, not callbacks
		}
	}
	return out
}

func osmpMetrics(m *metrics.Metrics, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tw := &teeWriter{ResponseWriter: w, code: http.StatusOK}
		h.ServeHTTP(tw, r)
		// A POST's command is in its body, which the handler has parsed
		// into r.Form when it got that far.
		command := r.Form.Get("command")
		if command == "" {
			command = r.URL.Query().Get("command")
		}
		if command != "check" && command != "pay" {
			command = "other"
		}
		result := "http_" + strconv.Itoa(tw.code) // refused before the protocol: auth, address
		if tw.code == http.StatusOK {
			var x struct {
				Result int `xml:"result"`
			}
			if err := xml.Unmarshal(tw.body.Bytes(), &x); err == nil {
				result = metrics.OSMPResult(x.Result)
			} else {
				result = "unparsed"
			}
		}
		m.Payment("osmp", command, result)
	})
}

func callbackMetrics(m *metrics.Metrics, channel string, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tw := &teeWriter{ResponseWriter: w, code: http.StatusOK, limit: -1}
		h.ServeHTTP(tw, r)
		result := "accepted"
		switch {
		case tw.code >= 500:
			result = "error" // the processor will repeat it
		case tw.code >= 400:
			result = "rejected" // bad signature or unknown payment
		}
		m.Payment(channel, "callback", result)
	})
}

// teeWriter keeps the status and the first bytes of the body (an OSMP
// answer is a few hundred bytes).
type teeWriter struct {
	http.ResponseWriter
	code  int
	body  bytes.Buffer
	limit int // bytes kept; 0: 4 KiB; -1: none
}

func (w *teeWriter) WriteHeader(code int) {
	w.code = code
	w.ResponseWriter.WriteHeader(code)
}

func (w *teeWriter) Write(b []byte) (int, error) {
	limit := w.limit
	if limit == 0 {
		limit = 4 << 10
	}
	if room := limit - w.body.Len(); room > 0 {
		w.body.Write(b[:min(room, len(b))])
	}
	return w.ResponseWriter.Write(b)
}

func (w *teeWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
