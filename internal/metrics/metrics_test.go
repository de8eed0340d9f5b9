package metrics

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kabinet-billing/kabinet/internal/store"
	"github.com/kabinet-billing/kabinet/internal/store/storetest"
)

// scrape returns m's exposition text.
func scrape(t *testing.T, m *Metrics) string {
	t.Helper()
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	if rec.Code != 200 {
		t.Fatalf("GET /metrics: %d", rec.Code)
	}
	return rec.Body.String()
}

func wantLines(t *testing.T, text string, lines ...string) {
	t.Helper()
	for _, l := range lines {
		if !strings.Contains(text, l) {
			t.Errorf("metrics lack %q", l)
		}
	}
}

func TestMiddlewareLabelsByPattern(t *testing.T) {
	m := New()
	mux := http.NewServeMux()
	mux.HandleFunc("GET /account/{id}", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") })
	mux.HandleFunc("POST /pay", func(w http.ResponseWriter, r *http.Request) { http.Error(w, "no", http.StatusForbidden) })
	mux.HandleFunc("GET /silent", func(w http.ResponseWriter, r *http.Request) {})
	mux.HandleFunc("GET /boom", func(w http.ResponseWriter, r *http.Request) { panic("boom") })
	mux.HandleFunc("GET /stream", func(w http.ResponseWriter, r *http.Request) {
		if _, ok := w.(http.Flusher); !ok {
			t.Error("the wrapped writer is not an http.Flusher")
		}
		w.(http.Flusher).Flush()
	})
	sub := http.NewServeMux()
	sub.HandleFunc("GET /api/v1/balance", func(w http.ResponseWriter, r *http.Request) {
		SetRoute(r, r.Pattern)
		w.WriteHeader(http.StatusTeapot)
	})
	mux.Handle("/api/", sub)
	h := m.Middleware(mux)

	tests := []struct {
		method, path string
		want         string // a line of the exposition
	}{
		{"GET", "/account/1", `kabinet_http_requests_total{code="200",method="GET",route="GET /account/{id}"} 2`},
		{"GET", "/account/2", `kabinet_http_requests_total{code="200",method="GET",route="GET /account/{id}"} 2`},
		{"POST", "/pay", `kabinet_http_requests_total{code="403",method="POST",route="POST /pay"} 1`},
		{"GET", "/silent", `kabinet_http_requests_total{code="200",method="GET",route="GET /silent"} 1`},
		{"GET", "/stream", `kabinet_http_requests_total{code="200",method="GET",route="GET /stream"} 1`},
		{"GET", "/nowhere", `kabinet_http_requests_total{code="404",method="GET",route="unmatched"} 1`},
		{"BREW", "/pay", `kabinet_http_requests_total{code="405",method="other",route="unmatched"} 1`},
		{"GET", "/api/v1/balance", `kabinet_http_requests_total{code="418",method="GET",route="GET /api/v1/balance"} 1`},
	}
	for _, tt := range tests {
		h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(tt.method, tt.path, nil))
	}
	func() {
		defer func() {
			if recover() == nil {
				t.Error("the middleware swallowed a panic")
			}
		}()
		h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/boom", nil))
	}()
	text := scrape(t, m)
	for _, tt := range tests {
		wantLines(t, text, tt.want)
	}
	wantLines(t, text,
		`kabinet_http_requests_total{code="500",method="GET",route="GET /boom"} 1`,
		`kabinet_http_request_duration_seconds_count{route="GET /account/{id}"} 2`,
		`kabinet_http_requests_in_flight 0`)
	if strings.Contains(text, `route="/account/1"`) {
		t.Error("a raw path became a label value")
	}
}

func TestCountersAndProgress(t *testing.T) {
	m := New()
	m.RADIUS("auth", "accept", 2*time.Millisecond)
	m.RADIUS("auth", "reject", time.Millisecond)
	m.RADIUS("acct", "response", 30*time.Millisecond)
	m.CoA("coa", false)
	m.CoA("disconnect", true)
	m.Payment("osmp", "pay", OSMPResult(0))
	m.Payment("osmp", "pay", OSMPResult(0))
	m.Payment("osmp", "check", OSMPResult(5))
	if strings.Contains(scrape(t, m), "kabinet_radius_server_packets_total") {
		t.Error("RADIUS server counters before a server is registered")
	}
	m.RegisterRADIUSStats(func() RADIUSStats { return RADIUSStats{AccessAccepts: 1} })
	m.RegisterRADIUSStats(func() RADIUSStats { return RADIUSStats{AccessAccepts: 7, Dropped: 2, AcctWriteErrors: 1} })
	var progress func(string, int64, int64) = m.BillingProgress // what billing.Progress is
	progress("2027-01", 20000, 50000)
	text := scrape(t, m)
	wantLines(t, text,
		`kabinet_radius_requests_total{kind="auth",result="accept"} 1`,
		`kabinet_radius_request_duration_seconds_count{kind="auth"} 2`,
		`kabinet_radius_coa_total{action="coa",result="failed"} 1`,
		`kabinet_payment_callbacks_total{channel="osmp",command="pay",result="0"} 2`,
		`kabinet_payment_callbacks_total{channel="osmp",command="check",result="5"} 1`,
		`kabinet_radius_server_packets_total{outcome="access_accept"} 7`,
		`kabinet_radius_server_packets_total{outcome="dropped"} 2`,
		`kabinet_radius_accounting_write_errors_total 1`,
		`kabinet_billing_run_accounts_done{period="2027-01"} 20000`,
		`kabinet_billing_run_accounts_total{period="2027-01"} 50000`,
		`kabinet_billing_run_progress_ratio 0.4`)
	if strings.Contains(text, "kabinet_billing_run_last_finished_timestamp_seconds 1") {
		t.Error("a run at 40% is reported finished")
	}
	progress("2027-01", 50000, 50000)
	wantLines(t, scrape(t, m), `kabinet_billing_run_progress_ratio 1`, `kabinet_billing_run_last_finished_timestamp_seconds 1`)
}

func TestFlowStats(t *testing.T) {
	m := New()
	if strings.Contains(scrape(t, m), "kabinet_netflow_") {
		t.Error("NetFlow counters before a collector is registered")
	}
	m.RegisterFlowStats(func() FlowStats {
		return FlowStats{Packets: 10, BadPackets: 2, NoTemplate: 1, Flows: 300, Attributed: 250, Unattributed: 50, RowsWritten: 12, Flushes: 3}
	})
	wantLines(t, scrape(t, m),
		`kabinet_netflow_packets_total 10`,
		`kabinet_netflow_packets_rejected_total{reason="malformed"} 2`,
		`kabinet_netflow_packets_rejected_total{reason="no_template"} 1`,
		`kabinet_netflow_flows_total{attribution="subscriber"} 250`,
		`kabinet_netflow_flows_total{attribution="unattributed"} 50`,
		`kabinet_netflow_rows_written_total 12`,
		`kabinet_netflow_flushes_total 3`)
}

func TestRegisterDB(t *testing.T) {
	m := New()
	db := storetest.SQLite(t)
	m.RegisterDB(storetest.SQLite(t))
	m.RegisterDB(db) // a second app in the same process replaces the first
	text := scrape(t, m)
	wantLines(t, text, `go_sql_max_open_connections{db_name="writer"} 1`, `go_sql_open_connections{db_name="reader"}`)
	if n := strings.Count(text, `go_sql_max_open_connections{db_name="writer"}`); n != 1 {
		t.Errorf("writer pool reported %d times", n)
	}
}

func TestReady(t *testing.T) {
	ctx := context.Background()
	migrated := storetest.SQLite(t)
	bare, err := store.Open(ctx, "sqlite:"+filepath.Join(t.TempDir(), "bare.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer bare.Close()
	closed, err := store.Open(ctx, "sqlite:"+filepath.Join(t.TempDir(), "closed.db"))
	if err != nil {
		t.Fatal(err)
	}
	closed.Close()
	tests := []struct {
		name     string
		db       *store.DB
		wantCode int
		wantBody string
	}{
		{"migrated", migrated, 200, "ready"},
		{"not migrated", bare, 503, "not applied"},
		{"unreachable", closed, 503, "unreachable"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			Ready(tt.db).ServeHTTP(rec, httptest.NewRequest("GET", "/readyz", nil))
			if rec.Code != tt.wantCode || !strings.Contains(rec.Body.String(), tt.wantBody) {
				t.Errorf("GET /readyz: %d %q; want %d with %q", rec.Code, rec.Body.String(), tt.wantCode, tt.wantBody)
			}
		})
	}
}

func TestReadyPostgres(t *testing.T) {
	db := storetest.Postgres(t)
	rec := httptest.NewRecorder()
	Ready(db).ServeHTTP(rec, httptest.NewRequest("GET", "/readyz", nil))
	if rec.Code != 200 {
		t.Errorf("GET /readyz on a migrated PostgreSQL: %d %q", rec.Code, rec.Body.String())
	}
	m := New()
	m.RegisterDB(db)
	wantLines(t, scrape(t, m), `go_sql_open_connections{db_name="pool"}`)
}
