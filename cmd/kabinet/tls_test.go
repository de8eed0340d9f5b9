package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kabinet-billing/kabinet/internal/config"
)

// writeCert writes a self-signed certificate for 127.0.0.1 named cn.
func writeCert(t *testing.T, certFile, keyFile, cn string) *x509.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: cn},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), IPAddresses: nil,
		DNSNames: []string{"localhost"}, KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IsCA: true, BasicConstraintsValid: true}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644)
	os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}), 0o600)
	c, _ := x509.ParseCertificate(der)
	return c
}

func TestListenTLS(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	cert := writeCert(t, certFile, keyFile, "first")
	cfgFile := filepath.Join(dir, "kabinet.toml")
	os.WriteFile(cfgFile, []byte("[tls]\ncert_file = \""+certFile+"\"\nkey_file = \""+keyFile+"\"\n"), 0o644)
	cfg, err := config.Load(cfgFile)
	if err != nil {
		t.Fatal(err)
	}
	e := &env{cfg: cfg}
	ln, isTLS, err := e.listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if !isTLS {
		t.Fatal("a [tls] section with both files did not give a TLS listener")
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("ok")) })}
	go srv.Serve(ln)
	defer srv.Close()
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	c := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, ServerName: "localhost"}}}
	resp, err := c.Get("https://" + ln.Addr().String() + "/")
	if err != nil {
		t.Fatalf("HTTPS request: %v", err)
	}
	resp.Body.Close()
	if resp.TLS == nil || resp.TLS.Version < tls.VersionTLS12 {
		t.Errorf("connection state %+v", resp.TLS)
	}
}

func TestListenTLSConfig(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name    string
		section string
		wantTLS bool
		wantErr string
	}{
		{"no section: plain HTTP behind a proxy", "", false, ""},
		{"key without cert", "[tls]\nkey_file = \"/x\"\n", false, "go together"},
		{"missing files", "[tls]\ncert_file = \"/nonexistent/c.pem\"\nkey_file = \"/nonexistent/k.pem\"\n", false, "no such file"},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := filepath.Join(dir, "c"+string(rune('0'+i))+".toml")
			os.WriteFile(f, []byte(tt.section), 0o644)
			cfg, err := config.Load(f)
			if err != nil {
				t.Fatal(err)
			}
			ln, isTLS, err := (&env{cfg: cfg}).listen("127.0.0.1:0")
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			ln.Close()
			if isTLS != tt.wantTLS {
				t.Errorf("TLS %v, want %v", isTLS, tt.wantTLS)
			}
		})
	}
}

// A renewed certificate is served after the next check, without a restart.
func TestCertReload(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	writeCert(t, certFile, keyFile, "first")
	now := time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)
	c := &certFiles{cert: certFile, key: keyFile, now: func() time.Time { return now }}
	if err := c.load(); err != nil {
		t.Fatal(err)
	}
	c.checked = now
	cn := func() string {
		got, err := c.get(nil)
		if err != nil {
			t.Fatal(err)
		}
		leaf, err := x509.ParseCertificate(got.Certificate[0])
		if err != nil {
			t.Fatal(err)
		}
		return leaf.Subject.CommonName
	}
	writeCert(t, certFile, keyFile, "second")
	// Make the change visible to the modification time whatever the
	// file system's resolution.
	later := time.Now().Add(time.Minute)
	os.Chtimes(certFile, later, later)
	if got := cn(); got != "first" {
		t.Errorf("before the recheck interval: %s, want first", got)
	}
	now = now.Add(recheck)
	if got := cn(); got != "second" {
		t.Errorf("after the recheck interval: %s, want second", got)
	}
	// A broken file keeps the last good certificate.
	os.WriteFile(keyFile, []byte("garbage"), 0o600)
	even := later.Add(time.Minute)
	os.Chtimes(keyFile, even, even)
	now = now.Add(recheck)
	if got := cn(); got != "second" {
		t.Errorf("after a broken renewal: %s, want second kept", got)
	}
}
