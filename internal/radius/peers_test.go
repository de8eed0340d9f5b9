package radius

import (
	"bytes"
	"context"
	"encoding/hex"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"layeh.com/radius/rfc2759"
)

// Tests against the real Debian peers: radclient/radtest (freeradius-utils)
// as the NAS, and FreeRADIUS (freeradius) as the NAS's CoA listener. They
// skip, saying so, where the programs are absent; CI installs them.

func needProgram(t *testing.T, name, pkg string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		t.Skipf("%s not installed (apt-get install %s): skipping the test with a real RADIUS peer", name, pkg)
	}
	return p
}

// serveLoopback runs the env's server on loopback sockets.
func serveLoopback(t *testing.T, e *env) (auth, acct string) {
	t.Helper()
	authConn, acctConn := listenLoopback(t), listenLoopback(t)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { e.srv.Serve(ctx, authConn, acctConn); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	return authConn.LocalAddr().String(), acctConn.LocalAddr().String()
}

func radclient(t *testing.T, addr, kind, attrs string) string {
	t.Helper()
	cmd := exec.Command("radclient", "-x", "-r", "2", "-t", "2", addr, kind, testSecret)
	cmd.Stdin = strings.NewReader(attrs + "\n")
	out, _ := cmd.CombinedOutput() // a Reject exits non-zero; the output says which
	return string(out)
}

func TestRadclientPeer(t *testing.T) {
	needProgram(t, "radclient", "freeradius-utils")
	e := newEnv(t, KindMikrotik)
	auth, acct := serveLoopback(t, e)
	tests := []struct {
		name, kind, attrs, want string
	}{
		{"pap", "auth", `User-Name = "alice", User-Password = "wonder"`, "Received Access-Accept"},
		{"pap wrong", "auth", `User-Name = "alice", User-Password = "wander"`, "Received Access-Reject"},
		{"chap", "auth", `User-Name = "alice", CHAP-Password = "wonder"`, "Received Access-Accept"},
		{"chap wrong", "auth", `User-Name = "alice", CHAP-Password = "nope"`, "Received Access-Reject"},
		// radclient turns MS-CHAP-Password into MS-CHAP-Challenge and an
		// MS-CHAP (v1) Response with the NT-Response.
		{"ms-chap", "auth", `User-Name = "alice", MS-CHAP-Password = "wonder"`, "MS-CHAP-MPPE-Keys = 0x" + strings.Repeat("00", 8) + ntHashHashHex("wonder")},
		{"ms-chap wrong", "auth", `User-Name = "alice", MS-CHAP-Password = "nope"`, `MS-CHAP-Error = "`},
		{"rate limit", "auth", `User-Name = "alice", User-Password = "wonder"`, `Mikrotik-Rate-Limit = "50M/100M"`},
		{"accounting start", "acct", `Acct-Status-Type = Start, Acct-Session-Id = "rc-1", User-Name = "alice", Framed-IP-Address = 10.1.1.1`, "Received Accounting-Response"},
		{"accounting interim", "acct", `Acct-Status-Type = Interim-Update, Acct-Session-Id = "rc-1", User-Name = "alice", Acct-Input-Octets = 10, Acct-Input-Gigawords = 1, Acct-Output-Octets = 20`, "Received Accounting-Response"},
		// Last: once a NAS signs, unsigned requests from it are dropped.
		{"pap with message-authenticator", "auth", `User-Name = "bob", User-Password = "builder", Message-Authenticator = 0x00`, `Mikrotik-Address-List = "debtors"`},
		{"accounting stop", "acct", `Acct-Status-Type = Stop, Acct-Session-Id = "rc-1", User-Name = "alice", Acct-Terminate-Cause = User-Request`, "Received Accounting-Response"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			addr := auth
			if tt.kind == "acct" {
				addr = acct
			}
			if out := radclient(t, addr, tt.kind, tt.attrs); !strings.Contains(out, tt.want) {
				t.Errorf("radclient output lacks %q:\n%s", tt.want, out)
			}
		})
	}
	recs := e.sink.records()
	if len(recs) != 3 || recs[1].InputOctets != 1<<32+10 || recs[2].TerminateCause != 1 {
		t.Errorf("accounting records = %+v", recs)
	}
}

// ntHashHashHex is the NT key of MS-CHAP-MPPE-Keys for a password.
func ntHashHashHex(password string) string {
	return hex.EncodeToString(rfc2759.NTPasswordHash(rfc2759.NTPasswordHash(must(rfc2759.ToUTF16([]byte(password))))))
}

func TestRadtestPeer(t *testing.T) {
	needProgram(t, "radtest", "freeradius-utils")
	e := newEnv(t, KindMikrotik)
	auth, _ := serveLoopback(t, e)
	for _, proto := range []string{"pap", "chap", "mschap"} {
		out, _ := exec.Command("radtest", "-t", proto, "alice", "wonder", auth, "0", testSecret).CombinedOutput()
		if !strings.Contains(string(out), "Received Access-Accept") {
			t.Errorf("radtest -t %s:\n%s", proto, out)
		}
	}
}

// syncBuffer collects a child's output while the test reads it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func freePort(t *testing.T) int {
	c := listenLoopback(t)
	port := c.LocalAddr().(*net.UDPAddr).Port
	c.Close()
	return port
}

// startFreeRADIUSCoA runs FreeRADIUS in debug mode as a CoA/Disconnect
// listener that ACKs everything and prints what it received.
func startFreeRADIUSCoA(t *testing.T) (port int, out *syncBuffer) {
	t.Helper()
	bin := needProgram(t, "freeradius", "freeradius")
	if _, err := os.Stat("/usr/share/freeradius/dictionary"); err != nil {
		t.Skip("FreeRADIUS dictionaries not found in /usr/share/freeradius: skipping the CoA peer test")
	}
	dir := t.TempDir()
	port = freePort(t)
	conf := fmt.Sprintf(`prefix = /usr
exec_prefix = /usr
sysconfdir = /etc
localstatedir = %[1]s
sbindir = /usr/sbin
logdir = %[1]s
raddbdir = %[1]s
radacctdir = %[1]s
name = freeradius
confdir = %[1]s
modconfdir = %[1]s
run_dir = %[1]s
db_dir = %[1]s
libdir = /usr/lib/freeradius
pidfile = %[1]s/radiusd.pid
max_request_time = 30
cleanup_delay = 5
max_requests = 1024
hostname_lookups = no
log {
  destination = stdout
}
security {
  allow_core_dumps = no
}
client kabinet {
  ipaddr = 127.0.0.1
  secret = %[2]s
  require_message_authenticator = yes
}
modules {
  always ok {
    rcode = ok
  }
}
server coa {
  listen {
    type = coa
    ipaddr = 127.0.0.1
    port = %[3]d
  }
  recv-coa {
    ok
  }
  send-coa {
    ok
  }
  recv-disconnect {
    ok
  }
  send-disconnect {
    ok
  }
}
`, dir, testSecret, port)
	if err := os.WriteFile(filepath.Join(dir, "radiusd.conf"), []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "dictionary"), []byte("$INCLUDE /usr/share/freeradius/dictionary\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	out = &syncBuffer{}
	cmd := exec.Command(bin, "-X", "-d", dir)
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(out.String(), "Ready to process requests") {
		if time.Now().After(deadline) {
			t.Fatalf("FreeRADIUS did not start:\n%s", out.String())
		}
		time.Sleep(20 * time.Millisecond) // polling a child process, not a clock
	}
	return port, out
}

func TestFreeRADIUSReceivesCoA(t *testing.T) {
	port, out := startFreeRADIUSCoA(t)
	c := NewCoAClient(CoAConfig{Timeout: time.Second, Attempts: 2, Logger: quietLog()})
	nas := NAS{ID: 1, Name: "freeradius", Addr: nasAddr, Secret: testSecret, Kind: KindMikrotik, CoAPort: port}
	ref := SessionRef{NAS: nas, SessionID: "81e0000a", Login: "bob", FramedIP: dave.StaticIP}
	if r := c.Update(context.Background(), ref, bob); !r.OK {
		t.Fatalf("CoA = %+v\n%s", r, out.String())
	}
	if r := c.Disconnect(context.Background(), ref); !r.OK {
		t.Fatalf("Disconnect = %+v\n%s", r, out.String())
	}
	for _, want := range []string{
		"Received CoA-Request", `Acct-Session-Id = "81e0000a"`, `User-Name = "bob"`, "Framed-IP-Address = 203.0.113.7",
		`Mikrotik-Rate-Limit = "128k/128k"`, `Mikrotik-Address-List = "debtors"`, "Sent CoA-ACK",
		"Received Disconnect-Request", "Sent Disconnect-ACK",
	} {
		// The ACK can arrive before FreeRADIUS has flushed its log.
		deadline := time.Now().Add(5 * time.Second)
		for !strings.Contains(out.String(), want) && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond) // polling a child's output, not a clock
		}
		if !strings.Contains(out.String(), want) {
			t.Errorf("FreeRADIUS did not see %q", want)
		}
	}
	if t.Failed() {
		t.Log(out.String())
	}
}

// TestRadclientSigningRequired: a NAS with the default settings must sign;
// radclient's CHAP without Message-Authenticator gets no answer, with it an
// Access-Accept.
func TestRadclientSigningRequired(t *testing.T) {
	needProgram(t, "radclient", "freeradius-utils")
	e := newEnv(t, KindMikrotik)
	n := e.nas[nasAddr]
	n.AllowUnsigned = false
	e.nas[nasAddr] = n
	auth, _ := serveLoopback(t, e)
	if out := radclient(t, auth, "auth", `User-Name = "alice", CHAP-Password = "wonder"`); strings.Contains(out, "Received Access-") {
		t.Errorf("unsigned request answered:\n%s", out)
	}
	if out := radclient(t, auth, "auth", `User-Name = "alice", CHAP-Password = "wonder", Message-Authenticator = 0x00`); !strings.Contains(out, "Received Access-Accept") {
		t.Errorf("signed request not accepted:\n%s", out)
	}
}
