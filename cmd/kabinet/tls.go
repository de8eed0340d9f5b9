package main

import (
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"os"
	"sync"
	"time"

	"github.com/kabinet-billing/kabinet/internal/config"
)

// tlsConfig is the [tls] section. With both files set, `kabinet serve`
// speaks HTTPS itself; without, it speaks plain HTTP for a reverse proxy
// that terminates TLS (deploy/nginx.conf).
//
//	[tls]
//	cert_file = "/etc/kabinet/tls/fullchain.pem"
//	key_file  = "/etc/kabinet/tls/privkey.pem"
type tlsConfig config.TLS

// listen opens addr for HTTP, wrapped in TLS when [tls] names a certificate.
// It returns whether the listener speaks TLS, for the log line and the
// URLs printed.
func (e *env) listen(addr string) (net.Listener, bool, error) {
	tc := tlsConfig(e.cfg.TLS)
	var cfg *tls.Config
	if tc.CertFile != "" || tc.KeyFile != "" {
		var err error
		if cfg, err = tc.config(); err != nil {
			return nil, false, err
		}
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, false, fmt.Errorf("listen %s: %w", addr, err)
	}
	if cfg == nil {
		return ln, false, nil
	}
	return tls.NewListener(ln, cfg), true, nil
}

func (tc tlsConfig) config() (*tls.Config, error) {
	if tc.CertFile == "" || tc.KeyFile == "" {
		return nil, errors.New("config [tls]: cert_file and key_file go together")
	}
	c := &certFiles{cert: tc.CertFile, key: tc.KeyFile, now: time.Now}
	if err := c.load(); err != nil {
		return nil, err
	}
	return &tls.Config{
		MinVersion:     tls.VersionTLS12,
		GetCertificate: c.get,
		NextProtos:     []string{"h2", "http/1.1"},
	}, nil
}

// certFiles reloads the certificate when the files change, so that a
// renewal (certbot, an ACME client elsewhere, a manual copy) takes effect
// without a restart. Files are looked at no more than every recheck.
type certFiles struct {
	cert, key string

	now func() time.Time // time.Now; tests move it

	mu      sync.Mutex
	current *tls.Certificate
	modTime time.Time
	checked time.Time
}

const recheck = 30 * time.Second

func (c *certFiles) load() error {
	pair, err := tls.LoadX509KeyPair(c.cert, c.key)
	if err != nil {
		return fmt.Errorf("config [tls]: %w", err)
	}
	c.current, c.modTime = &pair, c.stamp()
	return nil
}

// stamp is the later modification time of the two files.
func (c *certFiles) stamp() time.Time {
	var t time.Time
	for _, f := range []string{c.cert, c.key} {
		if st, err := os.Stat(f); err == nil && st.ModTime().After(t) {
			t = st.ModTime()
		}
	}
	return t
}

func (c *certFiles) get(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.now()
	if now.Sub(c.checked) >= recheck {
		c.checked = now
		if !c.stamp().Equal(c.modTime) {
			// A half-written renewal fails to load: load leaves the old
			// certificate in place, and the next check tries again.
			c.load()
		}
	}
	return c.current, nil
}
