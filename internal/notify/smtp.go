// Package notify tells subscribers what happened: one durable queue in the
// database for every channel (e-mail over SMTP, Telegram, SMS, Web Push,
// each a Sender), delivery with retries, backoff, per-channel rate limits
// and claims with a lease so that instances sharing a database never send
// a message twice; Russian and English templates; the subscriber's choice
// of what goes where; the reactions to store events (payment received,
// limit applied or lifted, request answered), the reminders (before the
// 1st, a promised payment ending tomorrow) and operators' broadcasts.
package notify

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"mime"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"net/smtp"
	"strconv"
	"strings"
	"time"

	"github.com/kabinet-billing/kabinet/internal/config"
)

// Config is the [mail] section of the config file.
//
//	[mail]
//	host = "smtp.example.net"
//	port = 587
//	security = "starttls"   # "starttls" (required), "tls" (implicit, port 465) or "none" (a local relay)
//	username = "kabinet"
//	password = "…"
//	from = "noreply@set-region.example"
//
// Its fields are config.Mail's: the whole file is decoded once there.
type Config config.Mail

// Check fills defaults and validates.
func (c *Config) Check() error {
	if c.Port == 0 {
		c.Port = 587
		if c.Security == "tls" {
			c.Port = 465
		}
	}
	switch c.Security {
	case "":
		c.Security = "starttls"
	case "starttls", "tls", "none":
	default:
		return fmt.Errorf("mail.security %q: starttls, tls or none", c.Security)
	}
	if c.MaxAttempts <= 0 {
		c.MaxAttempts = 8
	}
	if c.LowBalanceDays <= 0 {
		c.LowBalanceDays = 3
	}
	if c.From != "" {
		if _, err := mail.ParseAddress(c.From); err != nil {
			return fmt.Errorf("mail.from %q: %w", c.From, err)
		}
	}
	if !c.Disabled && c.Host == "" {
		return errors.New("mail.host is empty: set it or mail.disabled = true")
	}
	return nil
}

// SMTP delivers through a mail server.
type SMTP struct {
	Config Config
	// TLS overrides the TLS settings (tests trust their own certificate).
	TLS *tls.Config
}

func (s *SMTP) tlsConfig() *tls.Config {
	if s.TLS != nil {
		c := s.TLS.Clone()
		if c.ServerName == "" {
			c.ServerName = s.Config.Host
		}
		return c
	}
	return &tls.Config{ServerName: s.Config.Host, InsecureSkipVerify: s.Config.InsecureSkipVerify, MinVersion: tls.VersionTLS12}
}

// Send makes one SMTP session per message: mail is rare enough that a pool
// is not worth a stale connection.
func (s *SMTP) Send(ctx context.Context, from string, to []string, msg []byte) error {
	c := s.Config
	addr := net.JoinHostPort(c.Host, strconv.Itoa(c.Port))
	d := net.Dialer{Timeout: 20 * time.Second}
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return fmt.Errorf("smtp %s: %w", addr, err)
	}
	// One deadline for the whole exchange, so a stuck server cannot hold the
	// sender forever.
	conn.SetDeadline(time.Now().Add(60 * time.Second))
	if c.Security == "tls" {
		conn = tls.Client(conn, s.tlsConfig())
	}
	cl, err := smtp.NewClient(conn, c.Host)
	if err != nil {
		conn.Close()
		return fmt.Errorf("smtp %s: %w", addr, err)
	}
	defer cl.Close()
	helo := c.HeloName
	if helo == "" {
		helo = "localhost"
	}
	if err := cl.Hello(helo); err != nil {
		return fmt.Errorf("smtp %s: hello: %w", addr, err)
	}
	if c.Security == "starttls" {
		if ok, _ := cl.Extension("STARTTLS"); !ok {
			return fmt.Errorf("smtp %s: the server does not offer STARTTLS (set mail.security)", addr)
		}
		if err := cl.StartTLS(s.tlsConfig()); err != nil {
			return fmt.Errorf("smtp %s: starttls: %w", addr, err)
		}
	}
	if c.Username != "" {
		if err := cl.Auth(smtp.PlainAuth("", c.Username, c.Password, c.Host)); err != nil {
			return fmt.Errorf("smtp %s: auth: %w", addr, err)
		}
	}
	if err := cl.Mail(from); err != nil {
		return fmt.Errorf("smtp %s: mail from: %w", addr, err)
	}
	for _, r := range to {
		if err := cl.Rcpt(r); err != nil {
			return fmt.Errorf("smtp %s: rcpt %s: %w", addr, r, err)
		}
	}
	w, err := cl.Data()
	if err != nil {
		return fmt.Errorf("smtp %s: data: %w", addr, err)
	}
	if _, err := w.Write(msg); err != nil {
		return fmt.Errorf("smtp %s: data: %w", addr, err)
	}
	if err := w.Close(); err != nil {
		return fmt.Errorf("smtp %s: data: %w", addr, err)
	}
	return cl.Quit()
}

// compose builds an RFC 5322 message: UTF-8 text, quoted-printable, the
// subject and the sender's name encoded for old clients.
func compose(fromName, from, to, subject, body string, at time.Time) []byte {
	msg, _ := composeID(fromName, from, to, subject, body, at, 0, nil)
	return msg
}

// composeID is compose with the Message-ID of queue row id (a random one
// when id is 0), which it returns, and with files: multipart/mixed, the
// text first, each file in base64 with its name encoded for old clients.
func composeID(fromName, from, to, subject, body string, at time.Time, id int64, atts []Attachment) ([]byte, string) {
	var b bytes.Buffer
	sender := (&mail.Address{Name: fromName, Address: from}).String()
	host := "kabinet"
	if i := strings.LastIndexByte(from, '@'); i >= 0 {
		host = from[i+1:]
	}
	mid := messageID(id, at, host)
	if id == 0 {
		var r [8]byte
		rand.Read(r[:])
		mid = "<" + hex.EncodeToString(r[:]) + "." + strconv.FormatInt(at.Unix(), 10) + "@" + host + ">"
	}
	fmt.Fprintf(&b, "From: %s\r\n", sender)
	fmt.Fprintf(&b, "To: %s\r\n", (&mail.Address{Address: to}).String())
	fmt.Fprintf(&b, "Subject: %s\r\n", mime.BEncoding.Encode("utf-8", subject))
	fmt.Fprintf(&b, "Date: %s\r\n", at.Format(time.RFC1123Z))
	fmt.Fprintf(&b, "Message-ID: %s\r\n", mid)
	b.WriteString("MIME-Version: 1.0\r\n")
	boundary := ""
	if len(atts) > 0 {
		var r [12]byte
		rand.Read(r[:])
		boundary = "kabinet-" + hex.EncodeToString(r[:])
		fmt.Fprintf(&b, "Content-Type: multipart/mixed; boundary=\"%s\"\r\n\r\n--%s\r\n", boundary, boundary)
	}
	b.WriteString("Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n")
	qp := quotedprintable.NewWriter(&b)
	qp.Write([]byte(strings.ReplaceAll(body, "\n", "\r\n")))
	qp.Close()
	for _, a := range atts {
		name := mime.QEncoding.Encode("utf-8", a.Name)
		fmt.Fprintf(&b, "\r\n--%s\r\nContent-Type: %s; name=\"%s\"\r\nContent-Transfer-Encoding: base64\r\nContent-Disposition: attachment; filename=\"%s\"\r\n\r\n",
			boundary, a.ContentType, name, name)
		enc := base64.StdEncoding.EncodeToString(a.Body)
		for len(enc) > 76 {
			b.WriteString(enc[:76])
			b.WriteString("\r\n")
			enc = enc[76:]
		}
		b.WriteString(enc)
		b.WriteString("\r\n")
	}
	if boundary != "" {
		fmt.Fprintf(&b, "--%s--\r\n", boundary)
	}
	return b.Bytes(), mid
}
