// Package notifytest is a small but real SMTP server for tests: mail sent by
// Kabinet over TCP arrives here and the test reads it.
package notifytest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"math/big"
	"net"
	"net/textproto"
	"strings"
	"sync"
	"testing"
	"time"
)

// Server is a small but real SMTP server (RFC 5321 subset: EHLO, STARTTLS,
// AUTH PLAIN, MAIL, RCPT, DATA, RSET, NOOP, QUIT) that keeps what it
// receives, so tests read the mail that actually arrived over TCP.
type Server struct {
	Addr     string
	tls      *tls.Config // nil: no STARTTLS offered
	user, pw string      // empty: no AUTH
	mu       sync.Mutex
	msgs     []Received
	failNext int // answer DATA with 451 this many times
	reject   map[string]bool
}

// Received is one message as it arrived.
type Received struct {
	From string
	To   []string
	Data string
	TLS  bool
	Auth string
}

// Start listens on 127.0.0.1 until the test ends. withTLS offers STARTTLS
// with a certificate the returned pool trusts; a non-empty user requires
// AUTH PLAIN with user and pw.
func Start(t testing.TB, withTLS bool, user, pw string) (*Server, *x509.CertPool) {
	t.Helper()
	s := &Server{user: user, pw: pw}
	var pool *x509.CertPool
	if withTLS {
		cert, p := selfSigned(t)
		s.tls, pool = &tls.Config{Certificates: []tls.Certificate{cert}}, p
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	s.Addr = ln.Addr().String()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go s.serve(c)
		}
	}()
	return s, pool
}

// Messages returns what arrived so far.
func (s *Server) Messages() []Received {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Received(nil), s.msgs...)
}

// Reject makes RCPT TO:<addr> fail with 550 (no such mailbox).
func (s *Server) Reject(addr string) {
	s.mu.Lock()
	if s.reject == nil {
		s.reject = map[string]bool{}
	}
	s.reject[addr] = true
	s.mu.Unlock()
}

// FailTimes makes the next n messages fail with 451.
func (s *Server) FailTimes(n int) {
	s.mu.Lock()
	s.failNext = n
	s.mu.Unlock()
}

func (s *Server) serve(c net.Conn) {
	defer c.Close()
	c.SetDeadline(time.Now().Add(30 * time.Second))
	tp := textproto.NewConn(c)
	tp.PrintfLine("220 localhost ESMTP test")
	var cur Received
	for {
		line, err := tp.ReadLine()
		if err != nil {
			return
		}
		verb, arg, _ := strings.Cut(line, " ")
		switch strings.ToUpper(verb) {
		case "EHLO", "HELO":
			ext := []string{"localhost", "8BITMIME"}
			if s.tls != nil && !cur.TLS {
				ext = append(ext, "STARTTLS")
			}
			if s.user != "" {
				ext = append(ext, "AUTH PLAIN")
			}
			for i, e := range ext {
				sep := "-"
				if i == len(ext)-1 {
					sep = " "
				}
				tp.PrintfLine("250%s%s", sep, e)
			}
		case "STARTTLS":
			if s.tls == nil {
				tp.PrintfLine("502 no TLS")
				continue
			}
			tp.PrintfLine("220 go ahead")
			tc := tls.Server(c, s.tls)
			if err := tc.Handshake(); err != nil {
				return
			}
			c = tc
			tp = textproto.NewConn(tc)
			cur = Received{TLS: true}
		case "AUTH":
			mech, ir, _ := strings.Cut(arg, " ")
			b, _ := base64.StdEncoding.DecodeString(ir)
			parts := strings.Split(string(b), "\x00")
			if strings.ToUpper(mech) != "PLAIN" || len(parts) != 3 || parts[1] != s.user || parts[2] != s.pw {
				tp.PrintfLine("535 bad credentials")
				continue
			}
			cur.Auth = parts[1]
			tp.PrintfLine("235 ok")
		case "MAIL":
			if s.user != "" && cur.Auth == "" {
				tp.PrintfLine("530 authentication required")
				continue
			}
			cur.From = pathArg(arg)
			tp.PrintfLine("250 ok")
		case "RCPT":
			to := pathArg(arg)
			s.mu.Lock()
			bad := s.reject[to]
			s.mu.Unlock()
			if bad {
				tp.PrintfLine("550 no such mailbox")
				continue
			}
			cur.To = append(cur.To, to)
			tp.PrintfLine("250 ok")
		case "DATA":
			tp.PrintfLine("354 end with .")
			data, err := tp.ReadDotBytes()
			if err != nil {
				return
			}
			s.mu.Lock()
			fail := s.failNext > 0
			if fail {
				s.failNext--
			} else {
				m := cur
				m.Data = string(data)
				s.msgs = append(s.msgs, m)
			}
			s.mu.Unlock()
			if fail {
				tp.PrintfLine("451 try again later")
			} else {
				tp.PrintfLine("250 queued")
			}
			cur = Received{TLS: cur.TLS, Auth: cur.Auth}
		case "RSET":
			cur = Received{TLS: cur.TLS, Auth: cur.Auth}
			tp.PrintfLine("250 ok")
		case "NOOP":
			tp.PrintfLine("250 ok")
		case "QUIT":
			tp.PrintfLine("221 bye")
			return
		default:
			tp.PrintfLine("500 unknown")
		}
	}
}

func selfSigned(t testing.TB) (tls.Certificate, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "127.0.0.1"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, DNSNames: []string{"localhost"},
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, pool
}

// pathArg takes the address out of "FROM:<a@b> BODY=8BITMIME" or "TO:<a@b>".
func pathArg(arg string) string {
	_, v, _ := strings.Cut(arg, ":")
	v, _, _ = strings.Cut(v, " ")
	return strings.Trim(v, "<>")
}
