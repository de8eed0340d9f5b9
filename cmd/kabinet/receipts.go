package main

import (
	"context"
	"flag"
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/kabinet-billing/kabinet/internal/fiscal"
)

func init() {
	register("receipts list", "[--status queued|wait|done|failed|unfinished] [--account ID] [--limit N] [--json]: the fiscal receipts, newest first", cmdReceiptsList)
}

// receiptJSON is a receipt as `receipts list --json` prints it.
type receiptJSON struct {
	ID                      int64     `json:"id"`
	Kind                    string    `json:"kind"`
	Status                  string    `json:"status"`
	AccountID               int64     `json:"account_id"`
	Channel                 string    `json:"channel"`
	Payment                 string    `json:"payment"`
	Amount                  string    `json:"amount"`
	ExternalID              string    `json:"external_id"`
	UUID                    string    `json:"uuid,omitempty"`
	Attempts                int       `json:"attempts"`
	LastError               string    `json:"last_error,omitempty"`
	FNNumber                string    `json:"fn,omitempty"`
	FiscalDocumentNumber    int64     `json:"fd,omitempty"`
	FiscalDocumentAttribute string    `json:"fp,omitempty"`
	CheckURL                string    `json:"check_url,omitempty"`
	CreatedAt               time.Time `json:"created_at"`
}

func cmdReceiptsList(ctx context.Context, e *env, args []string) error {
	fs := flag.NewFlagSet("receipts list", flag.ContinueOnError)
	status := fs.String("status", "", "queued, wait, done, failed, or unfinished (queued and wait); default all")
	account := fs.Int64("account", 0, "only this account's receipts")
	limit := fs.Int("limit", 500, "at most this many")
	if _, err := e.parse(fs, args); err != nil {
		return err
	}
	if err := e.open(ctx); err != nil {
		return err
	}
	q := e.receipts
	if q == nil {
		// Receipts made while [fiscal] was on are still listed.
		q = fiscal.New(e.db, e.clock, fiscal.Settings{}, nil, e.logger())
	}
	rs, err := q.List(ctx, fiscal.Filter{Status: *status, AccountID: *account, Limit: *limit})
	if err != nil {
		return err
	}
	if e.json {
		out := make([]receiptJSON, 0, len(rs))
		for _, r := range rs {
			out = append(out, receiptJSON{ID: r.ID, Kind: r.Kind, Status: r.Status, AccountID: r.AccountID, Channel: r.Channel,
				Payment: r.PaymentRef, Amount: r.Amount.Decimal(), ExternalID: r.ExternalID, UUID: r.UUID, Attempts: r.Attempts,
				LastError: r.LastError, FNNumber: r.FNNumber, FiscalDocumentNumber: r.FiscalDocumentNumber,
				FiscalDocumentAttribute: r.FiscalDocumentAttribute, CheckURL: r.CheckURL, CreatedAt: r.CreatedAt})
		}
		return e.printJSON(out)
	}
	w := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "ID\tKIND\tSTATUS\tACCOUNT\tCHANNEL\tAMOUNT\tFN\tFD\tFP\tQUEUED\tERROR")
	for _, r := range rs {
		fd := ""
		if r.FiscalDocumentNumber != 0 {
			fd = fmt.Sprint(r.FiscalDocumentNumber)
		}
		fmt.Fprintf(w, "%d\t%s\t%s\t%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", r.ID, r.Kind, r.Status, r.AccountID, r.Channel, r.Amount.Decimal(),
			r.FNNumber, fd, r.FiscalDocumentAttribute, r.CreatedAt.In(e.cfg.Zone()).Format("2006-01-02 15:04"), r.LastError)
	}
	return w.Flush()
}
