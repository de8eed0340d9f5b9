// Package speedtest serves the LibreSpeed-compatible speed-test backend
// (shared/protocols/librespeed.md), so that LibreSpeed's own JavaScript
// client, Kabinet's page and the mobile app can measure the subscriber's line.
// It only translates HTTP: results are kept by internal/speedtest.
package speedtest

import (
	"crypto/rand"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"mime"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/kabinet-billing/kabinet/internal/billing"
	"github.com/kabinet-billing/kabinet/internal/speedtest"
	"github.com/kabinet-billing/kabinet/internal/web/platform"
)

const (
	chunkSize    = 1 << 20 // LibreSpeed counts ckSize in MiB chunks
	defaultChunk = 4
	maxChunks    = 1024
	// maxUpload bounds one upload POST: the client sends 20 MiB blobs at
	// most; more is not a speed test.
	maxUpload = 64 << 20
	// maxTelemetry bounds the telemetry form, LibreSpeed's log included.
	maxTelemetry = 1 << 20
)

// Limits protect the anonymous backend: anyone may download garbage and
// upload to empty, so one address must not hold thousands of requests, and
// an upload that trickles must not hold its connection for ever.
type Limits struct {
	// PerAddress caps the backend requests in progress from one address
	// (an IPv6 client's /64). LibreSpeed opens 6 download or 3 upload
	// streams at a time; a few browsers behind one home router fit.
	PerAddress int
	// UploadIdle cuts an upload whose body sends nothing for this long.
	UploadIdle time.Duration
	// UploadMax is the longest an upload body may take: LibreSpeed aborts
	// its streams when the test's 15 s are over.
	UploadMax time.Duration
	// UploadMinRate (bytes/s) is the slowest average an upload may keep
	// once UploadGrace has passed; a debtor's 128 kbit/s line sends about
	// four times this much.
	UploadMinRate int64
	UploadGrace   time.Duration
}

// DefaultLimits are the limits New sets.
var DefaultLimits = Limits{PerAddress: 24, UploadIdle: 10 * time.Second, UploadMax: time.Minute,
	UploadMinRate: 4 << 10, UploadGrace: 10 * time.Second}

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
	// Limits may be changed before Register.
	Limits  Limits
	garbage []byte
	busy    inFlight
}

// New makes a Handler; the random buffer is generated here, once, because
// generating random bytes per request would measure the CPU, not the line.
func New(results *speedtest.Service, account func(*http.Request) (int64, bool)) *Handler {
	buf := make([]byte, chunkSize)
	rand.Read(buf)
	return &Handler{Results: results, Account: account, Log: slog.Default(), Limits: DefaultLimits, garbage: buf}
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
		mux.HandleFunc("GET /speedtest/backend/garbage"+ext, h.limited(h.Garbage))
		mux.HandleFunc("/speedtest/backend/empty"+ext, h.limited(h.Empty))
		mux.HandleFunc("GET /speedtest/backend/getIP"+ext, h.limited(h.GetIP))
		mux.HandleFunc("POST /speedtest/results/telemetry"+ext, h.limited(h.Telemetry))
	}
	sub, _ := fs.Sub(static, "static")
	mux.Handle("GET /speedtest/static/", http.StripPrefix("/speedtest/static/", http.FileServerFS(sub)))
	mux.HandleFunc("GET /speedtest/{$}", h.Page)
}

// inFlight counts requests in progress per address key.
type inFlight struct {
	mu sync.Mutex
	n  map[string]int
}

func (f *inFlight) acquire(key string, max int) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.n == nil {
		f.n = map[string]int{}
	}
	if f.n[key] >= max {
		return false
	}
	f.n[key]++
	return true
}

func (f *inFlight) release(key string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.n[key]--; f.n[key] <= 0 {
		delete(f.n, key) // the map holds only addresses with requests open
	}
}

// limited refuses a request from an address that already has
// Limits.PerAddress requests in progress: 429, and the client retries.
func (h *Handler) limited(next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		max := h.Limits.PerAddress
		if max <= 0 {
			next(w, r)
			return
		}
		key := platform.AddressKey(r.RemoteAddr)
		if !h.busy.acquire(key, max) {
			cors(w, r)
			w.Header().Set("Retry-After", "1")
			http.Error(w, "too many speed-test requests from this address", http.StatusTooManyRequests)
			return
		}
		defer h.busy.release(key)
		next(w, r)
	}
}

// cors answers LibreSpeed's multi-server mode, in which the client adds
// cors=true to every request to a test server of another origin: any origin
// may read the backend's answers, as LibreSpeed's own backend allows. No
// credentials are allowed, so a cross-origin result is a visitor's.
func cors(w http.ResponseWriter, r *http.Request) {
	if !r.URL.Query().Has("cors") {
		return
	}
	w.Header().Set("Access-Control-Allow-Origin", "*")
	w.Header().Set("Access-Control-Allow-Methods", "GET, POST")
	// The upload sets Content-Encoding (and older clients Content-Type),
	// which makes the browser send a preflight that must allow them.
	w.Header().Set("Access-Control-Allow-Headers", "Content-Encoding, Content-Type")
}

func noCache(w http.ResponseWriter) {
	w.Header().Set("Cache-Control", "no-store, no-cache, must-revalidate, max-age=0")
	w.Header().Add("Cache-Control", "post-check=0, pre-check=0")
	w.Header().Set("Pragma", "no-cache")
}

// Garbage streams ckSize MiB of incompressible bytes.
func (h *Handler) Garbage(w http.ResponseWriter, r *http.Request) {
	cors(w, r)
	noCache(w)
	w.Header().Set("Content-Description", "File Transfer")
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("Content-Disposition", "attachment; filename=random.dat")
	w.Header().Set("Content-Transfer-Encoding", "binary")
	// An explicit identity encoding tells compressing middleware and
	// proxies to leave it alone; compressed garbage would measure nothing.
	w.Header().Set("Content-Encoding", "identity")
	n := chunks(r.URL.Query().Get("ckSize"))
	w.Header().Set("Content-Length", strconv.Itoa(n*chunkSize))
	for range n {
		if _, err := w.Write(h.garbage); err != nil {
			return // the client stops the download when its time is up
		}
	}
}

// chunks is ckSize as LibreSpeed's backend reads it: anything but a
// positive number of digits is the default, and at most maxChunks.
func chunks(s string) int {
	if s == "" || strings.Trim(s, "0123456789") != "" {
		return defaultChunk
	}
	v, err := strconv.Atoi(s)
	if err != nil { // only digits, so too large for an int
		return maxChunks
	}
	if v < 1 {
		return defaultChunk
	}
	return min(v, maxChunks)
}

// Empty answers the ping and upload tests: the body is read and dropped.
func (h *Handler) Empty(w http.ResponseWriter, r *http.Request) {
	cors(w, r)
	switch r.Method {
	case http.MethodGet, http.MethodHead, http.MethodPost:
	case http.MethodOptions: // the upload's CORS preflight
		w.Header().Set("Allow", "GET, HEAD, POST, OPTIONS")
		noCache(w)
		w.WriteHeader(http.StatusOK)
		return
	default:
		w.Header().Set("Allow", "GET, HEAD, POST, OPTIONS")
		http.Error(w, http.StatusText(http.StatusMethodNotAllowed), http.StatusMethodNotAllowed)
		return
	}
	if err := h.drain(w, r); err != nil {
		// Cut: the connection closes, so the rest of the body is not read.
		w.Header().Set("Connection", "close")
		http.Error(w, "upload too slow", http.StatusRequestTimeout)
		return
	}
	noCache(w)
	w.Header().Set("Connection", "keep-alive")
	w.WriteHeader(http.StatusOK)
}

// drain reads the upload and throws it away. The connection's read deadline
// moves with every read, but never past UploadMax from the start, and a body
// averaging less than UploadMinRate after UploadGrace is cut: a client
// trickling a byte every few seconds holds nothing for long.
func (h *Handler) drain(w http.ResponseWriter, r *http.Request) error {
	body := http.MaxBytesReader(w, r.Body, maxUpload)
	l := h.Limits
	if l.UploadIdle <= 0 || l.UploadMax <= 0 {
		_, err := io.Copy(io.Discard, body)
		return ignoreTooLarge(err)
	}
	rc := http.NewResponseController(w)
	start := time.Now() // a socket deadline: the wall clock, not the business clock
	end := start.Add(l.UploadMax)
	deadline := func(now time.Time) time.Time {
		if d := now.Add(l.UploadIdle); d.Before(end) {
			return d
		}
		return end
	}
	if err := rc.SetReadDeadline(deadline(start)); err != nil {
		// Not a connection that supports deadlines (HTTP/2 through a
		// proxy that does not): the body is still bounded in size.
		_, err := io.Copy(io.Discard, body)
		return ignoreTooLarge(err)
	}
	defer rc.SetReadDeadline(time.Time{})
	buf := make([]byte, 32<<10)
	var total int64
	for {
		n, err := body.Read(buf)
		total += int64(n)
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return ignoreTooLarge(err)
		}
		now := time.Now()
		if el := now.Sub(start); el > l.UploadGrace && float64(total) < float64(l.UploadMinRate)*el.Seconds() {
			return fmt.Errorf("upload at %.0f bytes/s, below %d", float64(total)/el.Seconds(), l.UploadMinRate)
		}
		if err := rc.SetReadDeadline(deadline(now)); err != nil {
			return err
		}
	}
}

// ignoreTooLarge: a body over maxUpload is not an error of the test, only
// the end of what is read (net/http closes the connection after it).
func ignoreTooLarge(err error) error {
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) {
		return nil
	}
	return err
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
	cors(w, r)
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
	cors(w, r)
	id, ok := h.account(r)
	if !ok || h.Results == nil {
		// LibreSpeed treats any answer as done; a visitor's result is simply
		// not kept.
		http.Error(w, "results are kept for logged-in subscribers only", http.StatusForbidden)
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxTelemetry)
	// LibreSpeed's client sends FormData (multipart/form-data); its
	// fallback and Kabinet's own page send a URL-encoded form.
	var err error
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt == "multipart/form-data" {
		// The whole body fits in memory, so no part goes to a temporary file.
		err = r.ParseMultipartForm(maxTelemetry)
		if r.MultipartForm != nil {
			defer r.MultipartForm.RemoveAll()
		}
	} else {
		err = r.ParseForm()
	}
	if err != nil {
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
