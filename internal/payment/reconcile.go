package payment

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/kabinet-billing/kabinet/internal/money"
)

// Reconciliation is what importing a bank's registry found.
type Reconciliation struct {
	Channel  string
	Lines    int
	Total    money.Amount
	Matched  int            // already received online, same account and sum
	Credited []RegistryLine // missing online: credited now
	// Mismatches are registry lines that disagree with what was received
	// online (another sum or account) or name no payable account. Nothing is
	// credited for them; an operator decides.
	Mismatches []Mismatch
	// Unlisted are payments received online through the channel on the
	// registry's days that the registry does not list.
	Unlisted []Payment
}

// Mismatch is one registry line that could not be reconciled.
type Mismatch struct {
	Line    RegistryLine
	Problem string // for the operator's report, in English like the logs
}

// ImportRegistry reconciles a parsed registry of an OSMP channel against the
// payments received online: a line already received is matched, a missing
// one is credited through the same path as an online pay (so nothing is ever
// credited twice, even if the bank's online pay arrives later), and every
// disagreement is reported. progress, if set, is told as lines are done.
func (s *Service) ImportRegistry(ctx context.Context, channel string, reg *Registry, progress func(done, total int)) (Reconciliation, error) {
	ch := OSMPChannelName(channel)
	rep := Reconciliation{Channel: ch, Lines: len(reg.Lines), Total: reg.Total}
	listed := make(map[string]bool, len(reg.Lines))
	var first, last time.Time
	for _, l := range reg.Lines {
		listed[l.TxnID] = true
		if first.IsZero() || l.Date.Before(first) {
			first = l.Date
		}
		if l.Date.After(last) {
			last = l.Date
		}
	}
	// Lines go in chunks, a transaction each: an import cut short is simply
	// run again, and a failed chunk is retried a line at a time so that only
	// the line the database refuses stops the import, naming it.
	for lo := 0; lo < len(reg.Lines); lo += registryChunk {
		if err := ctx.Err(); err != nil {
			return rep, err
		}
		lines := reg.Lines[lo:min(lo+registryChunk, len(reg.Lines))]
		pays := make([]*bankPay, len(lines))
		for k, l := range lines {
			pays[k] = &bankPay{channel: ch, txn: l.TxnID, account: l.Account, sum: l.Sum, paidAt: l.Date, source: SourceRegistry}
		}
		if err := s.payAll(ctx, pays); err != nil {
			for _, p := range pays {
				s.payAll(ctx, []*bankPay{p})
			}
		}
		for k, p := range pays {
			switch {
			case p.err == nil && p.credited:
				rep.Credited = append(rep.Credited, lines[k])
			case p.err == nil:
				rep.Matched++
			case refusal(p.err):
				rep.Mismatches = append(rep.Mismatches, Mismatch{Line: lines[k], Problem: p.err.Error()})
			default:
				return rep, fmt.Errorf("registry line %d: %w", lines[k].Line, p.err)
			}
		}
		if progress != nil {
			progress(lo+len(lines), len(reg.Lines))
		}
	}
	if len(reg.Lines) == 0 {
		return rep, nil
	}
	// The registry covers whole days: look for online payments on them that
	// it does not list.
	y, m, d := first.Date()
	from := time.Date(y, m, d, 0, 0, 0, 0, first.Location())
	y, m, d = last.Date()
	to := time.Date(y, m, d+1, 0, 0, 0, 0, last.Location())
	rows, err := s.db.Query(ctx, `SELECT `+paymentCols+` FROM payments WHERE channel = ? AND source = ? AND paid_at >= ? AND paid_at < ? ORDER BY paid_at, id`,
		ch, SourceOnline, from.UTC(), to.UTC())
	if err != nil {
		return rep, fmt.Errorf("registry: online payments: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		p, err := scanPayment(rows)
		if err != nil {
			return rep, fmt.Errorf("registry: online payments: %w", err)
		}
		if !listed[p.ExternalID] {
			rep.Unlisted = append(rep.Unlisted, p)
		}
	}
	return rep, rows.Err()
}

// registryChunk is how many registry lines one transaction credits.
const registryChunk = 200

// ImportRegistryFile parses r in the layout (dates in loc) and reconciles it.
// A file whose totals do not add up is refused before anything is credited.
func (s *Service) ImportRegistryFile(ctx context.Context, channel string, r io.Reader, layout RegistryLayout, loc *time.Location, progress func(done, total int)) (Reconciliation, error) {
	reg, err := ParseRegistry(r, layout, loc)
	if err != nil {
		return Reconciliation{Channel: OSMPChannelName(channel)}, err
	}
	return s.ImportRegistry(ctx, channel, reg, progress)
}

// TerminalProgress prints "line N of M" over itself on a terminal, for the
// import command; it writes a newline when done.
func TerminalProgress(w io.Writer) func(done, total int) {
	return func(done, total int) {
		if done == total || done%100 == 0 {
			fmt.Fprintf(w, "\r%d / %d", done, total)
		}
		if done == total {
			fmt.Fprintln(w)
		}
	}
}

// WriteText writes the report for an operator.
func (r Reconciliation) WriteText(w io.Writer) error {
	fmt.Fprintf(w, "registry of %s: %d payments, %s\n", r.Channel, r.Lines, r.Total.Decimal())
	fmt.Fprintf(w, "  already received online: %d\n", r.Matched)
	fmt.Fprintf(w, "  missing online, credited now: %d\n", len(r.Credited))
	for _, l := range r.Credited {
		fmt.Fprintf(w, "    line %d: txn %s, account %s, %s\n", l.Line, l.TxnID, l.Account, l.Sum.Decimal())
	}
	fmt.Fprintf(w, "  mismatches, not credited: %d\n", len(r.Mismatches))
	for _, m := range r.Mismatches {
		fmt.Fprintf(w, "    line %d: txn %s, account %s, %s: %s\n", m.Line.Line, m.Line.TxnID, m.Line.Account, m.Line.Sum.Decimal(), m.Problem)
	}
	fmt.Fprintf(w, "  received online but not in the registry: %d\n", len(r.Unlisted))
	for _, p := range r.Unlisted {
		_, err := fmt.Fprintf(w, "    payment %d: txn %s, account %d, %s, %s\n", p.ID, p.ExternalID, p.AccountID, p.Amount.Decimal(), p.PaidAt.Format(time.RFC3339))
		if err != nil {
			return err
		}
	}
	return nil
}
