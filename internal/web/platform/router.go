package platform

import (
	"net/http"
	"slices"
	"sync"
)

// Router is the one ServeMux every area registers on, remembering each
// pattern it was given. The route table is then known in one place: the
// security test walks it, and a route added later without being classified
// there fails that test.
type Router struct {
	*http.ServeMux
	mu       sync.Mutex
	patterns []string
}

// NewRouter returns an empty router.
func NewRouter() *Router { return &Router{ServeMux: http.NewServeMux()} }

// Handle registers h for pattern (see http.ServeMux).
func (r *Router) Handle(pattern string, h http.Handler) {
	r.ServeMux.Handle(pattern, h)
	r.mu.Lock()
	r.patterns = append(r.patterns, pattern)
	r.mu.Unlock()
}

// HandleFunc registers f for pattern (see http.ServeMux).
func (r *Router) HandleFunc(pattern string, f func(http.ResponseWriter, *http.Request)) {
	r.Handle(pattern, http.HandlerFunc(f))
}

// Patterns lists every registered pattern, sorted.
func (r *Router) Patterns() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := slices.Clone(r.patterns)
	slices.Sort(out)
	return out
}
