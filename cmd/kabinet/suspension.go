package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"time"

	"github.com/kabinet-billing/kabinet/internal/subscriber"
	"github.com/kabinet-billing/kabinet/internal/suspension"
)

func init() {
	register("suspension start", "--login L --from 2027-07-01 --days 14: suspend the account voluntarily (no tariff fee for the frozen days)", cmdSuspensionStart)
	register("suspension resume", "--login L: end the account's suspension now (a scheduled one is called off)", cmdSuspensionResume)
	register("suspension extend", "--login L --last 2027-07-20: extend the account's suspension to a later last day", cmdSuspensionExtend)
	register("suspension list", "the suspensions scheduled or running", cmdSuspensionList)
}

// suspensionOut is a suspension as the commands print it (and account
// show --json, as "suspension").
type suspensionOut struct {
	ID        int64  `json:"id"`
	Login     string `json:"login,omitempty"`
	State     string `json:"state"`
	From      string `json:"from"`
	Until     string `json:"until"`
	Days      int    `json:"days"`
	Fee       string `json:"fee"`
	EndReason string `json:"end_reason,omitempty"`
}

func (e *env) suspensionOut(u suspension.Suspension) suspensionOut {
	z := e.cfg.Zone()
	return suspensionOut{ID: u.ID, Login: u.AccountName, State: u.State, From: u.StartsAt.In(z).Format(time.RFC3339),
		Until: u.EndsAt.In(z).Format(time.RFC3339), Days: u.Days, Fee: u.Fee.Decimal(), EndReason: u.EndReason}
}

func (e *env) suspensions() (*suspension.Service, error) {
	dir, err := e.directory()
	if err != nil {
		return nil, err
	}
	rules, err := suspension.RulesOf(e.cfg.Suspension)
	if err != nil {
		return nil, err
	}
	return suspension.New(e.db, e.clock, dir.Biller, rules), nil
}

// suspensionOf opens the database and finds the account a suspension
// command is about.
func (e *env) suspensionOf(ctx context.Context, login string) (*suspension.Service, subscriber.Account, error) {
	if err := e.open(ctx); err != nil {
		return nil, subscriber.Account{}, err
	}
	svc, err := e.suspensions()
	if err != nil {
		return nil, subscriber.Account{}, err
	}
	dir, err := e.directory()
	if err != nil {
		return nil, subscriber.Account{}, err
	}
	a, err := dir.ByLogin(ctx, login)
	return svc, a, err
}

func (e *env) printSuspension(u suspensionOut) error {
	if e.json {
		return e.printJSON(u)
	}
	fmt.Fprintf(e.stdout, "suspension %d: %s, %s .. %s (%d days), fee %s", u.ID, u.State, u.From, u.Until, u.Days, u.Fee)
	if u.EndReason != "" {
		fmt.Fprintf(e.stdout, ", ended: %s", u.EndReason)
	}
	fmt.Fprintln(e.stdout)
	return nil
}

func cmdSuspensionStart(ctx context.Context, e *env, args []string) error {
	fs := flag.NewFlagSet("suspension start", flag.ContinueOnError)
	login := fs.String("login", "", "the subscriber's login")
	from := fs.String("from", "", "the first frozen day, YYYY-MM-DD (default today)")
	days := fs.Int("days", 0, "how many days")
	if _, err := e.parse(fs, args); err != nil {
		return err
	}
	if *login == "" || *days <= 0 {
		return errors.New("--login and --days are required")
	}
	svc, a, err := e.suspensionOf(ctx, *login)
	if err != nil {
		return err
	}
	start := svc.Day(e.clock.Now())
	if *from != "" {
		if start, err = svc.ParseDate(*from); err != nil {
			return err
		}
	}
	u, err := svc.Start(ctx, suspension.Request{AccountID: a.ID, From: start, Days: *days, Channel: suspension.ChannelCLI})
	if err != nil {
		return err
	}
	u.AccountName = a.Login
	return e.printSuspension(e.suspensionOut(u))
}

func cmdSuspensionResume(ctx context.Context, e *env, args []string) error {
	fs := flag.NewFlagSet("suspension resume", flag.ContinueOnError)
	login := fs.String("login", "", "the subscriber's login")
	if _, err := e.parse(fs, args); err != nil {
		return err
	}
	if *login == "" {
		return errors.New("--login is required")
	}
	svc, a, err := e.suspensionOf(ctx, *login)
	if err != nil {
		return err
	}
	u, err := svc.Resume(ctx, a.ID, suspension.ChannelCLI, "")
	if err != nil {
		return err
	}
	u.AccountName = a.Login
	return e.printSuspension(e.suspensionOut(u))
}

func cmdSuspensionExtend(ctx context.Context, e *env, args []string) error {
	fs := flag.NewFlagSet("suspension extend", flag.ContinueOnError)
	login := fs.String("login", "", "the subscriber's login")
	last := fs.String("last", "", "the new last frozen day, YYYY-MM-DD")
	if _, err := e.parse(fs, args); err != nil {
		return err
	}
	if *login == "" || *last == "" {
		return errors.New("--login and --last are required")
	}
	svc, a, err := e.suspensionOf(ctx, *login)
	if err != nil {
		return err
	}
	day, err := svc.ParseDate(*last)
	if err != nil {
		return err
	}
	u, err := svc.Extend(ctx, suspension.Request{AccountID: a.ID, Last: day, Channel: suspension.ChannelCLI})
	if err != nil {
		return err
	}
	u.AccountName = a.Login
	return e.printSuspension(e.suspensionOut(u))
}

func cmdSuspensionList(ctx context.Context, e *env, args []string) error {
	fs := flag.NewFlagSet("suspension list", flag.ContinueOnError)
	if _, err := e.parse(fs, args); err != nil {
		return err
	}
	if err := e.open(ctx); err != nil {
		return err
	}
	svc, err := e.suspensions()
	if err != nil {
		return err
	}
	list, err := svc.List(ctx)
	if err != nil {
		return err
	}
	out := make([]suspensionOut, 0, len(list))
	for _, u := range list {
		out = append(out, e.suspensionOut(u))
	}
	if e.json {
		return e.printJSON(out)
	}
	if len(out) == 0 {
		fmt.Fprintln(e.stdout, "no suspensions scheduled or running")
	}
	for _, u := range out {
		fmt.Fprintf(e.stdout, "%-20s %-9s %s .. %s  %3d days  fee %s\n", u.Login, u.State, u.From[:10], u.Until[:10], u.Days, u.Fee)
	}
	return nil
}
