// Package importer moves a provider's subscribers in from another billing
// (Ubilling, ABillS) or a spreadsheet. A source streams its tariffs,
// subscribers and payments in one neutral shape; Run checks every row and
// writes them in one database transaction: all of it or nothing. Each source
// row has a key recorded with what it became, so a second run of the same
// source adds nothing twice: it reports what changed since and credits only
// payments it has not seen.
package importer

import (
	"context"
	"errors"
	"fmt"
	"os"
	"runtime/debug"
	"time"

	"github.com/kabinet-billing/kabinet/internal/billing"
	"github.com/kabinet-billing/kabinet/internal/store"
	"github.com/kabinet-billing/kabinet/internal/subscriber"
)

// Tariff is a source's tariff plan.
type Tariff struct {
	Key      string // the source's own key: the name in Ubilling, tp_id in ABillS
	Name     string
	Fee      string // decimal text as the source keeps it
	Daily    bool   // Fee is per day
	DownKbps int64
	UpKbps   int64
}

// Subscriber statuses as a source gives them.
const (
	StatusActive  = "active"
	StatusFrozen  = "frozen"
	StatusBlocked = "blocked"
)

// Subscriber is a source's subscriber with what Kabinet keeps of them.
type Subscriber struct {
	Row         string // how the report names the row; "subscriber KEY" when empty
	Key         string // the source's own key: login in Ubilling, uid in ABillS
	Login       string
	Password    string
	PasswordErr error // the source could not give the password in clear
	Contract    string
	Name        string
	Phone       string
	Phone2      string // a second number; Kabinet keeps one, the other goes to the note
	Email       string
	City        string
	Address     string
	Tariff      string // the Tariff.Key
	Balance     string // decimal text
	Credit      string // decimal text, "" or "0" for none
	CreditUntil string
	IP          string
	Status      string
}

// Payment is one payment in the source's history.
type Payment struct {
	Row        string // how the report names the row; "payment KEY" when empty
	Key        string // the source's row id
	Subscriber string // the Subscriber.Key it belongs to
	At         time.Time
	Amount     string // decimal text
	Channel    string // how it was paid, as the source names it
	Memo       string
}

// Source reads another system's data row by row, never the whole of a table
// at once.
type Source interface {
	// System names the source in keys and the report: "ubilling", "abills", "csv".
	System() string
	Tariffs(ctx context.Context, fn func(Tariff) error) error
	Subscribers(ctx context.Context, fn func(Subscriber) error) error
	Payments(ctx context.Context, fn func(Payment) error) error
}

// Options of a run.
type Options struct {
	DryRun bool
	// At is the cut-over instant: the opening balances are dated then.
	At time.Time
	// SkipProblems imports a source with problems: a row with one is left
	// out, a bad e-mail or phone is left empty. Without it a real run with
	// any problem writes nothing.
	SkipProblems bool
	Sealer       *subscriber.Sealer
	Biller       *billing.Biller
	// Hash makes the portal hash of a password (password.Hash).
	Hash func(string) string
	// Progress is told how many rows of a kind ("tariffs", "subscribers",
	// "payments") have been read so far.
	Progress func(kind string, n int64)
}

var (
	// ErrProblems: the source has rows that cannot be imported as they are.
	ErrProblems = errors.New("the source has problems: nothing was written (fix them, or import without those rows with --skip-problems)")
	// ErrSource: the source cannot be read (unreachable, not the named system's schema, a wrong key).
	ErrSource = errors.New("source")
	errDryRun = errors.New("dry run")
)

// Run imports src into db. The report says what was (or, in a dry run,
// would be) imported and every problem found; on ErrProblems and on dry
// runs nothing is written.
func Run(ctx context.Context, db *store.DB, src Source, o Options) (*Report, error) {
	// The commands run the GC at 400% for servers' small live heaps; an
	// import's live heap grows with the source (the logins it has seen),
	// and five times it would be most of a small box's memory.
	if os.Getenv("GOGC") == "" {
		defer debug.SetGCPercent(debug.SetGCPercent(100))
	}
	if o.At.IsZero() {
		o.At = o.Biller.Clock.Now()
	}
	var rep *Report
	err := db.Write(ctx, func(tx *store.Tx) error {
		rep = &Report{System: src.System(), DryRun: o.DryRun, At: o.At}
		r := &run{ctx: ctx, tx: tx, src: src, o: o, rep: rep}
		if err := r.run(); err != nil {
			return err
		}
		if rep.ProblemCount > 0 && !o.SkipProblems && !o.DryRun {
			return ErrProblems
		}
		if o.DryRun {
			return errDryRun
		}
		return nil
	})
	if errors.Is(err, errDryRun) {
		err = nil
	}
	if err != nil && rep != nil && !errors.Is(err, ErrProblems) {
		return rep, fmt.Errorf("import from %s: %w", src.System(), err)
	}
	return rep, err
}
