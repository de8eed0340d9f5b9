package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"

	"golang.org/x/term"

	"github.com/kabinet-billing/kabinet/internal/company"
	"github.com/kabinet-billing/kabinet/internal/payment"
)

func init() {
	register("payments import", "--channel C FILE: reconcile a bank's registry (CSV in CP1251 or UTF-8 with a totals line) with the payments received online; --channel bank FILE imports a 1C statement (1CClientBankExchange) of company clients' transfers", cmdPaymentsImport)
}

func cmdPaymentsImport(ctx context.Context, e *env, args []string) error {
	fs := flag.NewFlagSet("payments import", flag.ContinueOnError)
	channel := fs.String("channel", "", "the bank's channel, as in [[payment.osmp]] name (sberbank, vtb, …)")
	pos, err := e.parse(fs, args)
	if err != nil {
		return err
	}
	if *channel == "" || len(pos) != 1 {
		return errors.New("give the channel and one file: kabinet payments import --channel sberbank registry.csv")
	}
	f, err := os.Open(pos[0])
	if err != nil {
		return err
	}
	defer f.Close()
	if err := e.open(ctx); err != nil {
		return err
	}
	// Channel bank takes a 1C statement (1CClientBankExchange): company
	// clients' transfers, matched by INN and invoice number.
	if *channel == company.ChannelBank && isBankStatement(f) {
		return importBankStatement(ctx, e, pos[0], f)
	}
	setup, err := payment.Config(e.cfg.Payment).Build(e.cfg.Zone(), e.clock)
	if err != nil {
		return err
	}
	// A configured installation names its banks: a typo must not open a new
	// channel whose txn_ids match nothing received, crediting everything again.
	layout, ok := setup.Registries[*channel]
	if !ok && len(setup.OSMP) > 0 {
		return fmt.Errorf("--channel %q is not a configured [[payment.osmp]] channel", *channel)
	}
	if !ok {
		layout = payment.DefaultRegistryLayout
	}
	svc := payment.NewService(e.db, e.clock, e.biller(), nil, payment.Options{BonusPercentBP: e.cfg.Billing.BonusPercentBP})
	var progress func(done, total int)
	if out, ok := e.stderr.(*os.File); ok && term.IsTerminal(int(out.Fd())) {
		progress = payment.TerminalProgress(out)
	}
	rep, err := svc.ImportRegistryFile(ctx, *channel, f, layout, e.cfg.Zone(), progress)
	if err != nil {
		return err
	}
	if e.json {
		return e.printJSON(rep)
	}
	return rep.WriteText(e.stdout)
}
