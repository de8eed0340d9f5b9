package documents

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/kabinet-billing/kabinet/internal/clock"
	"github.com/kabinet-billing/kabinet/internal/derrors"
	"github.com/kabinet-billing/kabinet/internal/store"
)

// ErrNoBankAccount refuses invoices while [provider] names no account to pay to.
var ErrNoBankAccount error = derrors.New(derrors.Invalid, "no_bank_account", "[provider] bik and account are needed for invoices")

// RunResult says what a run issued.
type RunResult struct {
	Period   string
	Invoices int // issued now
	Closing  int // acts and UPDs issued now
	Existing int // already issued before: not issued again
	// ClosingNotDue: the month is not over, so its acts wait.
	ClosingNotDue bool
	Issued        []Document
}

// Run issues the regular documents of a month (YYYY-MM): each
// organisation's invoice for it and, once the month is over, its act or
// UPD. What was issued before is not issued again, so a second run, or
// two at once, issue each document once.
func (s *Service) Run(ctx context.Context, period string) (RunResult, error) {
	start, err := ParsePeriod(period, s.opts.Zone)
	if err != nil {
		return RunResult{}, err
	}
	res := RunResult{Period: start.Format("2006-01")}
	orgs, err := s.dir.Organisations(ctx)
	if err != nil {
		return res, err
	}
	now := s.clock.Now().In(s.opts.Zone)
	inv, n, err := s.runInvoices(ctx, orgs, start, now)
	res.Existing += n
	res.Invoices = len(inv)
	res.Issued = append(res.Issued, inv...)
	if err != nil {
		return res, err
	}
	if now.Before(start.AddDate(0, 1, 0)) {
		res.ClosingNotDue = true
		return res, nil
	}
	cl, n, err := s.runClosing(ctx, orgs, start)
	res.Existing += n
	res.Closing = len(cl)
	res.Issued = append(res.Issued, cl...)
	return res, err
}

// pending drops the organisations whose regular document of kind for the
// period exists, and counts them.
func (s *Service) pending(ctx context.Context, orgs []Party, kind Kind, period string) ([]Party, int, error) {
	keys := make([]string, len(orgs))
	for i, o := range orgs {
		keys[i] = regularKey(kind, o.ID, period)
	}
	taken, err := existingKeys(ctx, s.db, keys)
	if err != nil {
		return nil, 0, err
	}
	var out []Party
	for i, o := range orgs {
		if !taken[keys[i]] {
			out = append(out, o)
		}
	}
	return out, len(orgs) - len(out), nil
}

// composeChunk bounds how many organisations' data is read at once.
const composeChunk = 1000

func (s *Service) runInvoices(ctx context.Context, orgs []Party, start, now time.Time) ([]Document, int, error) {
	todo, existing, err := s.pending(ctx, orgs, Invoice, start.Format("2006-01"))
	if err != nil {
		return nil, existing, err
	}
	date := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, s.opts.Zone)
	var out []Document
	for lo := 0; lo < len(todo); lo += composeChunk {
		drafts, err := s.invoiceDrafts(ctx, todo[lo:min(lo+composeChunk, len(todo))], start, date)
		if err != nil {
			return out, existing, err
		}
		if len(drafts) > 0 && (s.opts.Provider.Account == "" || s.opts.Provider.BIK == "") {
			return out, existing, ErrNoBankAccount
		}
		docs, err := s.issue(ctx, drafts)
		out = append(out, docs...)
		existing += len(drafts) - len(docs)
		if err != nil {
			return out, existing, err
		}
	}
	return out, existing, nil
}

func (s *Service) runClosing(ctx context.Context, orgs []Party, start time.Time) ([]Document, int, error) {
	todo, existing, err := s.pending(ctx, orgs, Act, start.Format("2006-01"))
	if err != nil {
		return nil, existing, err
	}
	var out []Document
	for lo := 0; lo < len(todo); lo += composeChunk {
		drafts, err := s.closingDrafts(ctx, todo[lo:min(lo+composeChunk, len(todo))], start)
		if err != nil {
			return out, existing, err
		}
		docs, err := s.issue(ctx, drafts)
		out = append(out, docs...)
		existing += len(drafts) - len(docs)
		if err != nil {
			return out, existing, err
		}
	}
	return out, existing, nil
}

// Due issues what is due at now: the acts and UPDs of the month before
// (once it is over), and from [documents] invoice_day on, the invoices for
// the next month. Serve calls it; catching up after a stop works the same.
func (s *Service) Due(ctx context.Context) ([]RunResult, error) {
	now := s.clock.Now().In(s.opts.Zone)
	month := time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, s.opts.Zone)
	orgs, err := s.dir.Organisations(ctx)
	if err != nil {
		return nil, err
	}
	var out []RunResult
	prev := month.AddDate(0, -1, 0)
	cl, n, err := s.runClosing(ctx, orgs, prev)
	out = append(out, RunResult{Period: prev.Format("2006-01"), Closing: len(cl), Existing: n, Issued: cl})
	if err != nil {
		return out, err
	}
	if now.Day() >= s.opts.InvoiceDay {
		next := month.AddDate(0, 1, 0)
		inv, n, err := s.runInvoices(ctx, orgs, next, now)
		out = append(out, RunResult{Period: next.Format("2006-01"), Invoices: len(inv), Existing: n, Issued: inv})
		if err != nil {
			return out, err
		}
	}
	return out, nil
}

// Reconcile issues a reconciliation act of the organisation for the days
// from..to (inclusive), on demand: each call is a new document.
func (s *Service) Reconcile(ctx context.Context, orgID int64, from, to time.Time) (Document, error) {
	org, err := s.dir.Organisation(ctx, orgID)
	if err != nil {
		return Document{}, err
	}
	if from.IsZero() || to.IsZero() {
		return Document{}, derrors.Invalidf("from", "period", "the period needs both days")
	}
	d, err := s.reconciliationDraft(ctx, org, from, to)
	if err != nil {
		return Document{}, err
	}
	docs, err := s.issue(ctx, []draft{d})
	if err != nil {
		return Document{}, err
	}
	if len(docs) != 1 {
		return Document{}, errors.New("reconciliation act: not issued")
	}
	return docs[0], nil
}

// Correct issues a new document in place of an invoice, act or UPD,
// computed again from today's data and details, naming the one it
// replaces; the old one stays as it was issued.
func (s *Service) Correct(ctx context.Context, id int64) (Document, error) {
	old, err := s.Get(ctx, id)
	if err != nil {
		return Document{}, err
	}
	org, err := s.dir.Organisation(ctx, old.OrgID)
	if err != nil {
		return Document{}, err
	}
	if old.Kind == UPD {
		org.Closing = UPD
	}
	start, err := ParsePeriod(old.Period, s.opts.Zone)
	if err != nil {
		return Document{}, fmt.Errorf("document %s: only invoices, acts and UPDs are corrected: %w", old.Number, derrors.Invalid)
	}
	var drafts []draft
	switch old.Kind {
	case Invoice:
		now := s.clock.Now().In(s.opts.Zone)
		drafts, err = s.invoiceDrafts(ctx, []Party{org}, start, time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, s.opts.Zone))
	case Act, UPD:
		drafts, err = s.closingDrafts(ctx, []Party{org}, start)
	default:
		return Document{}, fmt.Errorf("document %s: a reconciliation act is issued anew, not corrected: %w", old.Number, derrors.Invalid)
	}
	if err != nil {
		return Document{}, err
	}
	if len(drafts) == 0 {
		return Document{}, fmt.Errorf("document %s: nothing to bill now: %w", old.Number, derrors.Invalid)
	}
	d := drafts[0]
	d.key, d.corrects, d.data.Corrects = "", old.ID, old.Number
	docs, err := s.issue(ctx, []draft{d})
	if err != nil {
		return Document{}, err
	}
	return docs[0], nil
}

// Loop issues what is due every interval until ctx ends; on PostgreSQL one
// instance at a time (the unique keys make a race harmless anyway).
func (s *Service) Loop(ctx context.Context, every time.Duration) {
	tick := func(ctx context.Context) {
		release, ok, err := s.db.TryLock(ctx, "kabinet-documents")
		if err != nil || !ok {
			return
		}
		defer release()
		res, err := s.Due(ctx)
		for _, r := range res {
			if r.Invoices+r.Closing > 0 {
				s.opts.Log.Info("documents issued", "period", r.Period, "invoices", r.Invoices, "acts", r.Closing)
			}
		}
		if err != nil && !errors.Is(err, context.Canceled) {
			s.opts.Log.Error("documents", "err", err)
			return
		}
		if n, err := s.Settle(ctx); err != nil {
			s.opts.Log.Error("documents: settle invoices", "err", err)
		} else if n > 0 {
			s.opts.Log.Info("invoices paid", "count", n)
		}
	}
	if ctx.Err() == nil {
		tick(context.WithoutCancel(ctx))
	}
	clock.Every(ctx, every, tick)
}

// MarkSentTx marks a document sent (it is queued to the organisation's
// mail), in tx; a paid invoice stays paid.
func (s *Service) MarkSentTx(ctx context.Context, tx *store.Tx, id int64) error {
	_, err := tx.Exec(ctx, `UPDATE documents SET sent_at = ?, status = CASE WHEN status = 'issued' THEN 'sent' ELSE status END WHERE id = ?`,
		s.clock.Now().UTC(), id)
	if err != nil {
		return fmt.Errorf("document %d: %w", id, err)
	}
	return nil
}
