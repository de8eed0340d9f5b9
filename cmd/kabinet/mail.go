package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"strconv"

	"github.com/kabinet-billing/kabinet/internal/config"
	"github.com/kabinet-billing/kabinet/internal/notify"
)

func init() {
	register("mail test", "--to ADDR [--lang ru|en]: send a test letter through the [mail] server now, bypassing the queue", cmdMailTest)
}

// cmdMailTest sends one letter straight through the configured SMTP server
// and tells in one line what became of it: the operator checks the [mail]
// section without waiting for the queue. Only the config is read; the
// database is not opened.
func cmdMailTest(ctx context.Context, e *env, args []string) error {
	fs := flag.NewFlagSet("mail test", flag.ContinueOnError)
	to := fs.String("to", "", "recipient address")
	lang := fs.String("lang", "ru", "language of the letter: ru or en")
	if _, err := e.parse(fs, args); err != nil {
		return err
	}
	if *to == "" {
		return errors.New("--to is required")
	}
	if *lang != "ru" && *lang != "en" {
		return fmt.Errorf("--lang %q: ru or en", *lang)
	}
	cfg, err := config.Load(e.cfgPath)
	if err != nil {
		return err
	}
	e.cfg = cfg
	mc := notify.Config(cfg.Mail)
	if mc.Host == "" {
		return errors.New("mail.host is not set: there is no server to test")
	}
	disabled := mc.Disabled
	mc.Disabled = false // a test of a server not yet switched on is the point
	if err := mc.Check(); err != nil {
		return err
	}
	from, msg, err := notify.TestLetter(mc, cfg.Provider, *to, *lang, e.clock.Now())
	if err != nil {
		return err
	}
	how := mc.Security
	if mc.Security != "none" && mc.InsecureSkipVerify {
		how += ", certificate not verified"
	}
	if mc.Username != "" {
		how += ", auth as " + mc.Username
	}
	server := net.JoinHostPort(mc.Host, strconv.Itoa(mc.Port))
	if err := (&notify.SMTP{Config: mc}).Send(ctx, from, []string{*to}, msg); err != nil {
		// Send's errors name the server ("smtp HOST:PORT: rcpt …: 550 …").
		return fmt.Errorf("not sent to %s (%s): %w", *to, how, err)
	}
	note := ""
	if disabled {
		note = "; mail.disabled is set, so the queue does not deliver"
	}
	fmt.Fprintf(e.stdout, "mail test: %s accepted the letter to %s from %s (%s)%s\n", server, *to, from, how, note)
	return nil
}
