package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"slices"
	"strings"

	"github.com/kabinet-billing/kabinet/internal/notify"
)

func init() {
	register("notify send", "--login L | --city C | --tariff T | --all --channel telegram|sms|email|push --text T [--id KEY] [--dry-run]: broadcast to subscribers; the same id (or the same text, channel and audience) again queues nothing twice", cmdNotifySend)
}

// cmdNotifySend queues an operators' broadcast (planned works, news) for
// every subscriber in the audience reachable on the channel, audited as the
// command line; serve delivers it at the channel's rate.
func cmdNotifySend(ctx context.Context, e *env, args []string) error {
	fs := flag.NewFlagSet("notify send", flag.ContinueOnError)
	var aud notify.Audience
	var b notify.Broadcast
	fs.StringVar(&aud.Login, "login", "", "one subscriber's login")
	fs.StringVar(&aud.City, "city", "", "a city's code")
	fs.StringVar(&aud.Tariff, "tariff", "", "a tariff's code")
	fs.BoolVar(&aud.All, "all", false, "every subscriber")
	fs.StringVar(&b.Channel, "channel", "", strings.Join(notify.Channels, ", "))
	fs.StringVar(&b.Text, "text", "", "the message")
	fs.StringVar(&b.Key, "id", "", "the broadcast's id: the same id again queues nothing twice (default: made of the text, channel and audience)")
	dry := fs.Bool("dry-run", false, "count the recipients, queue nothing")
	if _, err := e.parse(fs, args); err != nil {
		return err
	}
	if !slices.Contains(notify.Channels, b.Channel) {
		return fmt.Errorf("--channel %q: one of %s", b.Channel, strings.Join(notify.Channels, ", "))
	}
	if strings.TrimSpace(b.Text) == "" {
		return errors.New("--text is required")
	}
	b.Audience = aud
	if err := e.open(ctx); err != nil {
		return err
	}
	n, err := notify.FromConfig(e.db, e.clock, e.biller(), e.cfg)
	if err != nil {
		return err
	}
	if *dry {
		k, err := n.Preview(ctx, b)
		if err != nil {
			return broadcastErr(err)
		}
		fmt.Fprintf(e.stdout, "notify send: %d recipients on %s (%s); nothing queued\n", k, b.Channel, aud)
		return nil
	}
	res, err := n.SendBroadcast(ctx, cli, b)
	if err != nil {
		return broadcastErr(err)
	}
	if e.json {
		return e.printJSON(res)
	}
	note := ""
	if res.Again {
		note = " (sent before under this id: only the missing ones were queued)"
	}
	fmt.Fprintf(e.stdout, "notify send: broadcast %d (id %s) queued %d messages on %s to %s%s\n", res.ID, res.Key, res.Queued, b.Channel, aud, note)
	return nil
}

// broadcastErr names the flag a refusal is about.
func broadcastErr(err error) error {
	switch {
	case errors.Is(err, notify.ErrBroadcastAudience):
		return errors.New("give exactly one of --login, --city, --tariff or --all")
	case errors.Is(err, notify.ErrBroadcastText):
		return fmt.Errorf("--text: empty or longer than %d characters", notify.MaxBroadcast)
	}
	return err
}
