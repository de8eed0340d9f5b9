package notify

import (
	"errors"
	"fmt"
	"net"
	"net/mail"
	"strconv"
	"time"

	"github.com/kabinet-billing/kabinet/internal/config"
)

// TestLetter composes the letter `kabinet mail test` sends: a short note in
// Russian or English (Russian when lang is unknown) that tells which server
// carried it and when, from the sender the queue uses (mail.from, else the
// provider's e-mail). It returns the envelope sender and the message.
func TestLetter(c Config, p config.Provider, to, lang string, at time.Time) (from string, msg []byte, err error) {
	from = c.From
	if from == "" {
		from = p.Email
	}
	if from == "" {
		return "", nil, errors.New("no sender: set mail.from or provider.email")
	}
	if _, err := mail.ParseAddress(from); err != nil {
		return "", nil, fmt.Errorf("sender %q: %w", from, err)
	}
	if _, err := mail.ParseAddress(to); err != nil {
		return "", nil, fmt.Errorf("recipient %q: %w", to, err)
	}
	name := p.Name
	if name == "" {
		name = "Kabinet"
	}
	server := net.JoinHostPort(c.Host, strconv.Itoa(c.Port))
	var subject, body string
	switch lang {
	case "en":
		subject = name + ": test letter"
		body = fmt.Sprintf("This is a test letter from Kabinet.\n\nIt left for %s (%s) at %s. If you are reading it, letters to subscribers are delivered.\n\n--\n%s\n",
			server, c.Security, at.Format(time.RFC1123Z), name)
	default:
		subject = name + ": проверочное письмо"
		body = fmt.Sprintf("Это проверочное письмо от Кабинета.\n\nОно отправлено через %s (%s) %s. Если вы его читаете, письма абонентам доходят.\n\n--\n%s\n",
			server, c.Security, at.Format(time.RFC1123Z), name)
	}
	return from, compose(p.Name, from, to, subject, body, at), nil
}
