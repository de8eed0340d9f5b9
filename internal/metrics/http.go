package metrics

import (
	"context"
	"net/http"
	"strconv"
	"time"
)

// Middleware counts and times every request next answers, labelled by the
// ServeMux pattern that matched ("GET /account/{id}"), never by the raw
// path, so that the number of series stays bounded whatever clients send.
// Put it directly around the mux (inside other middleware) or have inner
// handlers call SetRoute: a middleware between it and the mux that copies
// the request (WithContext) hides the pattern the mux records.
func (m *Metrics) Middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		m.httpInFlight.Inc()
		defer m.httpInFlight.Dec()
		rt := &routeTag{}
		r = r.WithContext(context.WithValue(r.Context(), routeKey{}, rt))
		sw := &statusWriter{ResponseWriter: w}
		defer func() {
			// A panic is answered 500 by net/http: count it as such, and
			// let it go on up.
			p := recover()
			code := sw.code
			if p != nil {
				code = http.StatusInternalServerError
			}
			route := rt.route
			if route == "" {
				route = r.Pattern
			}
			if route == "" {
				route = "unmatched"
			}
			m.httpRequests.WithLabelValues(route, methodLabel(r.Method), strconv.Itoa(code)).Inc()
			m.httpDuration.WithLabelValues(route).Observe(time.Since(start).Seconds())
			if p != nil {
				panic(p)
			}
		}()
		next.ServeHTTP(sw, r)
		if !sw.wrote {
			// The handler returned without writing: net/http sends 200.
			sw.code = http.StatusOK
			sw.wrote = true
		}
	})
}

// Middleware wraps next with Default's instrumentation.
func Middleware(next http.Handler) http.Handler { return Default.Middleware(next) }

type routeKey struct{}

type routeTag struct{ route string }

// SetRoute names the route of r for the metrics when the pattern the
// outer mux matched is not the useful one (a sub-mux mounted under a
// prefix): call it from inside the inner mux's handler with r.Pattern.
func SetRoute(r *http.Request, route string) {
	if rt, ok := r.Context().Value(routeKey{}).(*routeTag); ok {
		rt.route = route
	}
}

// methodLabel keeps arbitrary methods out of the label values.
func methodLabel(m string) string {
	switch m {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
		http.MethodDelete, http.MethodOptions:
		return m
	}
	return "other"
}

// statusWriter remembers the status code. Unwrap lets
// http.ResponseController reach Flush, Hijack and deadlines of the
// underlying writer (the speed test streams).
type statusWriter struct {
	http.ResponseWriter
	code  int
	wrote bool
}

func (w *statusWriter) WriteHeader(code int) {
	// 1xx are informational; the final status comes later.
	if !w.wrote && code >= 200 {
		w.code, w.wrote = code, true
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if !w.wrote {
		w.code, w.wrote = http.StatusOK, true
	}
	return w.ResponseWriter.Write(b)
}

// Flush keeps the writer an http.Flusher for handlers that assert it.
func (w *statusWriter) Flush() {
	if !w.wrote {
		w.code, w.wrote = http.StatusOK, true
	}
	http.NewResponseController(w.ResponseWriter).Flush()
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
