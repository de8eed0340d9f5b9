package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"strings"
	"time"

	"github.com/kabinet-billing/kabinet/internal/config"
	"github.com/kabinet-billing/kabinet/internal/phone"
	"github.com/kabinet-billing/kabinet/internal/sms"
	"github.com/kabinet-billing/kabinet/internal/telegram"
)

func init() {
	register("telegram check", "[--config FILE] [--json]: ask the Bot API who the bot is and how serve will read updates (webhook or long polling)", cmdTelegramCheck)
	register("sms send", "--to PHONE --text T [--wait 30s] [--json]: send one SMS through [sms] and wait for its delivery receipt (a test of the aggregator's settings)", cmdSMSSend)
}

// cmdTelegramCheck is what an operator runs after putting the token from
// @BotFather into the config.
func cmdTelegramCheck(ctx context.Context, e *env, args []string) error {
	fs := flag.NewFlagSet("telegram check", flag.ContinueOnError)
	if _, err := e.parse(fs, args); err != nil {
		return err
	}
	if err := e.loadConfig(); err != nil {
		return err
	}
	tc := e.cfg.Telegram
	if tc.Token == "" {
		return errors.New("[telegram] token is empty: create the bot with @BotFather and put its token there (docs/notifications.md)")
	}
	cctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	me, err := telegram.NewClient(tc.Token, tc.APIURL).GetMe(cctx)
	if err != nil {
		return err
	}
	mode, webhook := "long polling", ""
	if strings.HasPrefix(e.cfg.PublicURL, "https://") && !tc.Polling {
		mode, webhook = "webhook", strings.TrimRight(e.cfg.PublicURL, "/")+"/telegram/webhook"
	}
	if e.json {
		return json.NewEncoder(e.stdout).Encode(map[string]string{"username": me.Username, "link": "https://t.me/" + me.Username, "mode": mode, "webhook": webhook})
	}
	fmt.Fprintf(e.stdout, "bot @%s (https://t.me/%s): serve reads updates by %s", me.Username, me.Username, mode)
	if webhook != "" {
		fmt.Fprintf(e.stdout, " at %s", webhook)
	}
	fmt.Fprintln(e.stdout)
	return nil
}

func cmdSMSSend(ctx context.Context, e *env, args []string) error {
	fs := flag.NewFlagSet("sms send", flag.ContinueOnError)
	to := fs.String("to", "", "the phone number (+7…, 8…, or ten digits)")
	text := fs.String("text", "", "the message")
	wait := fs.Duration("wait", 30*time.Second, "how long to wait for the delivery receipt; 0: do not wait")
	if _, err := e.parse(fs, args); err != nil {
		return err
	}
	if strings.TrimSpace(*text) == "" {
		return errors.New("--text is required")
	}
	if _, err := phone.Normalize(*to); err != nil {
		return fmt.Errorf("--to %q: not a Russian phone number", *to)
	}
	if err := e.open(ctx); err != nil {
		return err
	}
	s := sms.New(e.db, e.clock, e.cfg.SMS, e.logger())
	if s == nil {
		return errors.New("[sms] host is empty: put the aggregator's SMPP settings there (docs/notifications.md)")
	}
	defer s.Close()
	ref := fmt.Sprintf("cli:%d", time.Now().UnixNano())
	ids, err := s.Send(ctx, sms.Message{Ref: ref, Phone: *to, Text: *text})
	if err != nil {
		return err
	}
	d := sms.Delivery{State: sms.StateSent, Parts: len(ids)}
	for deadline := time.Now().Add(*wait); time.Now().Before(deadline) && d.State == sms.StateSent; {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
		if d, err = s.DeliveryOf(ctx, ref); err != nil {
			return err
		}
	}
	if e.json {
		return json.NewEncoder(e.stdout).Encode(map[string]any{"ref": ref, "smsc_ids": ids, "state": d.State})
	}
	fmt.Fprintf(e.stdout, "sent in %d part(s), SMSC ids %s: %s\n", len(ids), strings.Join(ids, ", "), d.State)
	return nil
}

// loadConfig reads the config alone, for a command that needs no database.
func (e *env) loadConfig() error {
	base := config.Default()
	if e.base != nil {
		base = *e.base
	}
	cfg, err := config.LoadOver(base, e.cfgPath)
	if err != nil {
		return err
	}
	e.cfg = cfg
	return nil
}
