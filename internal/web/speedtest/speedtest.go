// Package speedtest serves the LibreSpeed-compatible speed-test backend
// (shared/protocols/librespeed.md), so that LibreSpeed's own JavaScript
// client, Kabinet's page and the mobile app can measure the subscriber's line.
// It only translates HTTP: results are kept by internal/speedtest.
package speedtest

import (
	"crypto/rand"
	"embed"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"

	"github.com/kabinet-billing/kabinet/internal/billing"
	"github.com/kabinet-billing/kabinet/internal/speedtest"
)

const (
	chunkSize    = 1 << 20 // LibreSpeed counts ckSize in MiB chunks
	defaultChunk = 4
	maxChunks    = 1024
	// maxUpload bounds one upload POST: the client sends 20 MiB blobs at
	// most; more is not a speed test.
	maxUpload = 64 << 20
)

//go:embed static
var static embed.FS

// Handler serves the backend and the page.
type Handler struct {
	Results *speedtest.Service
	// Account tells which subscriber is asking (the portal's session or an
	// API token); ok=false for an anonymous visitor, who can measure but
	// whose results are not kept.
	Account func(*http.Request) (accountID int64, ok bool)
	Log     *slog.Logger
	garbage []byte
}

// New makes a Handler; the random buffer is generated here, once, because
// generating random bytes per request would measure the CPU, not the line.
func New(results *speedtest.Service, account func(*http.Request) (int64, bool)) *Handler {
	buf := make([]byte, chunkSize)
	rand.Read(buf)
	return &Handler{Results: results, Account: account, Log: slog.Default(), garbage: buf}
}

// Register adds the routes under /speedtest/ to mux: the backend at
// /speedtest/backend/{garbage,empty,getIP}[.php], results at
// /speedtest/results/telemetry[.php] (the paths LibreSpeed's PHP and Go
// backends use), the page at /speedtest/ and its script under
// /speedtest/static/.
func (h *Handler) Register(mux interface {
	Handle(string, http.Handler)
	HandleFunc(string, func(http.ResponseWriter, *http.Request))
}) {
	for _, ext := range []string{"", ".php"} {
		mux.HandleFunc("GET /speedtest/backend/garbage"+ext, h.Garbage)
		mux.HandleFunc("/speedtest/backend/empty"+ext, h.Empty)
		mux.HandleFunc("GET /speedtest/backend/getIP"+ext, h.GetIP)
		mux.HandleFunc("POST /speedtest/results/telemetry"+ext, h.Telemetry)
	}
	sub, _ := fs.Sub(static, "static")
	mux.Handle("GET /speedtest/static/", http.StripPrefix("/speedtest/static/", http.FileServerFS(sub)))
	mux.HandleFunc("GET /speedtest/{$}", h.Page)
}

func noCache(w http.ResponseWriter) {
	w.Header().Set("Cache-Control", "no-store, no-cache, must-revalidate, max-age=0")
	w.Header().Add("Cache-Control", "post-check=0, pre-check=0")
	w.Header().Set("Pragma", "no-cache")
}

// Garbage streams ckSize MiB of incompressible bytes.
func (h *Handler) Garbage(w http.ResponseWriter, r *http.Request) {
	n := defaultChunk
	if s := r.URL.Query().Get("ckSize"); s != "" {
		v, err := strconv.Atoi(s)
		if err != nil || v < 1 {
			http.Error(w, "ckSize must be a positive integer", http.StatusBadRequest)
			return
		}
		n = min(v, maxChunks)
	}
	noCache(w)
	w.Header().Set("Content-Description", "File Transfer")
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("Content-Disposition", "attachment; filename=random.dat")
	w.Header().Set("Content-Transfer-Encoding", "binary")
	// An explicit identity encoding tells compressing middleware and
	// proxies to leave it alone; compressed garbage would measure nothing.
	w.Header().Set("Content-Encoding", "identity")
	w.Header().Set("Content-Length", strconv.Itoa(n*chunkSize))
	for range n {
		if _, err := w.Write(h.garbage); err != nil {
			return // the client stops the download when its time is up
		}
	}
}

// Empty answers the ping and upload tests: the body is read and dropped.
func (h *Handler) Empty(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodPost && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD, POST")
		http.Error(w, http.StatusText(http.StatusMethodNotAllowed), http.StatusMethodNotAllowed)
		return
	}
	io.Copy(io.Discard, http.MaxBytesReader(w, r.Body, maxUpload))
	noCache(w)
	w.Header().Set("Connection", "keep-alive")
	w.WriteHeader(http.StatusOK)
}

// ipInfo is getIP's answer. processedString and rawIspInfo are LibreSpeed's;
// line is Kabinet's addition, so the page can compare without another call.
type ipInfo struct {
	ProcessedString string    `json:"processedString"`
	RawISPInfo      any       `json:"rawIspInfo"`
	Line            *lineInfo `json:"line,omitempty"`
}

type lineInfo struct {
	DownKbps int64 `json:"down_kbps"`
	UpKbps   int64 `json:"up_kbps"`
	Limited  bool  `json:"limited"`
	Boosted  bool  `json:"boosted"`
}

// GetIP tells the client its address and, for a subscriber, the line speed.
func (h *Handler) GetIP(w http.ResponseWriter, r *http.Request) {
	ip := clientIP(r)
	out := ipInfo{ProcessedString: ip, RawISPInfo: ""}
	if id, ok := h.account(r); ok && h.Results != nil {
		sp, err := h.Results.LineSpeed(r.Context(), id)
		if err != nil {
			h.Log.Error("speed test: line speed", "account", id, "err", err)
		} else {
			out.Line = &lineInfo{DownKbps: sp.DownKbps, UpKbps: sp.UpKbps, Limited: sp.Limited, Boosted: sp.Boosted}
			out.ProcessedString = ip + " - " + billing.FormatSpeed(sp.DownKbps) + "/" + billing.FormatSpeed(sp.UpKbps)
		}
	}
	noCache(w)
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	json.NewEncoder(w).Encode(out)
}

// Telemetry stores a finished test for the logged-in subscriber and answers
// "id N" as LibreSpeed's backend does.
func (h *Handler) Telemetry(w http.ResponseWriter, r *http.Request) {
	id, ok := h.account(r)
	if !ok || h.Results == nil {
		// LibreSpeed treats any answer as done; a visitor's result is simply
		// not kept.
		http.Error(w, "results are kept for logged-in subscribers only", http.StatusForbidden)
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, 1<<20)
	if err := r.ParseForm(); err != nil {
		http.Error(w, "bad form", http.StatusBadRequest)
		return
	}
	m, err := speedtest.ParseMeasured(r.PostForm.Get("dl"), r.PostForm.Get("ul"), r.PostForm.Get("ping"), r.PostForm.Get("jitter"))
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	m.IP, m.UserAgent = clientIP(r), r.UserAgent()
	res, err := h.Results.Save(r.Context(), id, m)
	if err != nil {
		h.Log.Error("speed test: save", "account", id, "err", err)
		http.Error(w, http.StatusText(http.StatusInternalServerError), http.StatusInternalServerError)
		return
	}
	noCache(w)
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	fmt.Fprintf(w, "id %d", res.ID)
}

func (h *Handler) account(r *http.Request) (int64, bool) {
	if h.Account == nil {
		return 0, false
	}
	return h.Account(r)
}

// clientIP is the connection's address; trusting X-Forwarded-For is the
// web platform's decision (it rewrites RemoteAddr behind a known proxy).
func clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// Page serves the stand-alone test page (the portal embeds the same script
// in its own layout).
func (h *Handler) Page(w http.ResponseWriter, r *http.Request) {
	b, err := static.ReadFile("static/index.html")
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	lang := "ru"
	if al := r.Header.Get("Accept-Language"); al != "" && !strings.HasPrefix(strings.ToLower(al), "ru") {
		lang = "en"
	}
	noCache(w)
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Write([]byte(strings.Replace(string(b), `<html lang="ru">`, `<html lang="`+lang+`">`, 1)))
}
