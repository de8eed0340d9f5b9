package fiscal

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/kabinet-billing/kabinet/internal/clock"
	"github.com/kabinet-billing/kabinet/internal/config"
	"github.com/kabinet-billing/kabinet/internal/store"
)

// FromConfig builds the queue [fiscal] describes, or nil when it names no
// operator (no receipts are queued then). With "sandbox" the queue talks
// to a built-in ATOL look-alike that Run starts on loopback.
func FromConfig(db *store.DB, clk clock.Clock, cfg config.Config, log *slog.Logger) (*Queue, error) {
	f := cfg.Fiscal
	if f.Operator == "" {
		return nil, nil
	}
	set, err := SettingsFrom(cfg)
	if err != nil {
		return nil, err
	}
	timeout := f.Timeout
	if timeout <= 0 {
		timeout = 30 * time.Second
	}
	switch f.Operator {
	case "atol":
		if f.Login == "" || f.Password == "" || f.GroupCode == "" {
			return nil, errors.New("fiscal: operator \"atol\" needs login, password and group_code")
		}
		q := New(db, clk, set, &ATOL{URL: f.APIURL, Login: f.Login, Password: f.Password, GroupCode: f.GroupCode,
			HTTP: operatorClient(timeout), Clock: clk}, log)
		return q, nil
	case "sandbox":
		q := New(db, clk, set, nil, log)
		q.sandbox = true
		return q, nil
	}
	return nil, fmt.Errorf("fiscal: operator %q: want \"atol\" or \"sandbox\"", f.Operator)
}

// startSandbox runs the built-in ATOL look-alike on a loopback port and
// points the queue at it; stop closes it.
func (q *Queue) startSandbox() (stop func(), err error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("fiscal sandbox: %w", err)
	}
	url := "http://" + ln.Addr().String()
	sb := &Sandbox{Login: "sandbox", Password: "sandbox", GroupCode: "sandbox", Clock: q.clock, CheckBase: url}
	srv := &http.Server{Handler: sb, ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	q.op = &ATOL{URL: url + "/possystem/v5", Login: "sandbox", Password: "sandbox", GroupCode: "sandbox",
		HTTP: operatorClient(10 * time.Second), Clock: q.clock}
	q.log.Info("fiscal receipts go to the built-in ATOL sandbox (not fiscal documents)", "url", url)
	return func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
	}, nil
}

// operatorClient keeps a connection per concurrent sender open (the default
// transport keeps two and opens one per request beyond them).
func operatorClient(timeout time.Duration) *http.Client {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConnsPerHost = sendParallel * 2
	return &http.Client{Timeout: timeout, Transport: t}
}
