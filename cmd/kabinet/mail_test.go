package main

import (
	"fmt"
	"io"
	"mime"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kabinet-billing/kabinet/internal/notify/notifytest"
)

// mailConfig writes a config whose [mail] section points at srv.
func mailConfig(t *testing.T, srv *notifytest.Server, extra string) string {
	t.Helper()
	host, port, err := net.SplitHostPort(srv.Addr)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "kabinet.toml")
	text := fmt.Sprintf("[mail]\nhost = %q\nport = %s\nfrom = \"noreply@set-region.example\"\n%s", host, port, extra)
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// readLetter decodes the subject and the quoted-printable body of what arrived.
func readLetter(t *testing.T, data string) (subject, body string) {
	t.Helper()
	m, err := mail.ReadMessage(strings.NewReader(data))
	if err != nil {
		t.Fatalf("the letter does not parse: %v\n%s", err, data)
	}
	subject, err = new(mime.WordDecoder).DecodeHeader(m.Header.Get("Subject"))
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(quotedprintable.NewReader(m.Body))
	if err != nil {
		t.Fatal(err)
	}
	return subject, string(b)
}

func TestMailTest(t *testing.T) {
	const user, pw = "kabinet", "Smtp-Secret-31"
	auth := fmt.Sprintf("security = \"starttls\"\nusername = %q\npassword = %q\n", user, pw)

	t.Run("starttls and auth", func(t *testing.T) {
		srv, _ := notifytest.Start(t, true, user, pw)
		cfg := mailConfig(t, srv, auth+"insecure_skip_verify = true\n")
		for i, lang := range []string{"en", "ru"} {
			args := []string{"--config", cfg, "mail", "test", "--to", "ops@example.net"}
			if lang == "en" {
				args = append(args, "--lang", "en")
			}
			code, out, errOut := kabinet(t, args...)
			if code != 0 || errOut != "" {
				t.Fatalf("%s: exit %d, stdout %q, stderr %q", lang, code, out, errOut)
			}
			if strings.Count(out, "\n") != 1 || !strings.Contains(out, srv.Addr) || !strings.Contains(out, "starttls") ||
				!strings.Contains(out, "accepted") || !strings.Contains(out, "auth as kabinet") || strings.Contains(out, pw) {
				t.Errorf("%s: stdout %q", lang, out)
			}
			msgs := srv.Messages()
			if len(msgs) != i+1 {
				t.Fatalf("%s: %d letters arrived, want %d", lang, len(msgs), i+1)
			}
			m := msgs[i]
			if !m.TLS || m.Auth != user || m.From != "noreply@set-region.example" || len(m.To) != 1 || m.To[0] != "ops@example.net" {
				t.Errorf("%s: arrived TLS=%v auth=%q from %q to %v", lang, m.TLS, m.Auth, m.From, m.To)
			}
			subject, body := readLetter(t, m.Data)
			wantSubj, wantBody := "Сеть-Регион: проверочное письмо", "Если вы его читаете"
			if lang == "en" {
				wantSubj, wantBody = "Сеть-Регион: test letter", "If you are reading it"
			}
			if subject != wantSubj || !strings.Contains(body, wantBody) || !strings.Contains(body, srv.Addr) {
				t.Errorf("%s: subject %q, body:\n%s", lang, subject, body)
			}
		}
	})

	// Each failure: exit 2, one line on stderr that names the server and
	// carries its answer, nothing on stdout, nothing delivered.
	for _, tc := range []struct {
		name   string
		tls    bool
		srvPw  string
		extra  string
		reject bool
		want   []string
	}{
		{"wrong password", true, "other-password", auth + "insecure_skip_verify = true\n", false, []string{"auth: 535", "bad credentials"}},
		{"recipient refused", true, pw, auth + "insecure_skip_verify = true\n", true, []string{"rcpt ops@example.net: 550", "no such mailbox"}},
		{"no STARTTLS offered", false, pw, auth, false, []string{"does not offer STARTTLS"}},
		{"certificate not trusted", true, pw, auth, false, []string{"starttls", "certificate"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv, _ := notifytest.Start(t, tc.tls, user, tc.srvPw)
			if tc.reject {
				srv.Reject("ops@example.net")
			}
			code, out, errOut := kabinet(t, "--config", mailConfig(t, srv, tc.extra), "mail", "test", "--to", "ops@example.net")
			if code != 2 || out != "" || strings.Count(strings.TrimSpace(errOut), "\n") != 0 {
				t.Fatalf("exit %d, stdout %q, stderr %q; want exit 2 and one line on stderr", code, out, errOut)
			}
			for _, w := range append(tc.want, "kabinet mail test: not sent to ops@example.net", "smtp "+srv.Addr) {
				if !strings.Contains(errOut, w) {
					t.Errorf("stderr %q lacks %q", errOut, w)
				}
			}
			if strings.Contains(errOut, pw) {
				t.Errorf("stderr shows the SMTP password: %q", errOut)
			}
			if n := len(srv.Messages()); n != 0 {
				t.Errorf("%d letters arrived", n)
			}
		})
	}

	t.Run("no server configured", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "kabinet.toml")
		os.WriteFile(path, []byte("[mail]\nfrom = \"noreply@set-region.example\"\n"), 0o600)
		if code, _, errOut := kabinet(t, "--config", path, "mail", "test", "--to", "ops@example.net"); code != 2 || !strings.Contains(errOut, "mail.host") {
			t.Errorf("exit %d, stderr %q", code, errOut)
		}
		if code, _, errOut := kabinet(t, "--config", path, "mail", "test"); code != 2 || !strings.Contains(errOut, "--to") {
			t.Errorf("without --to: exit %d, stderr %q", code, errOut)
		}
	})
}
