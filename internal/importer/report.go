package importer

import (
	"fmt"
	"io"
	"time"

	"github.com/kabinet-billing/kabinet/internal/money"
)

// Count is what happened to the rows of one kind.
type Count struct {
	Read      int64 `json:"read"`
	New       int64 `json:"new"`       // imported by this run
	Unchanged int64 `json:"unchanged"` // imported before, the same now
	Changed   int64 `json:"changed"`   // imported before, changed in the source since (not applied)
	Skipped   int64 `json:"skipped"`   // left out for a problem
}

// Problem is something wrong with one source row.
type Problem struct {
	Row     string `json:"row"` // "users ivanov", "payments 123", "line 7"
	Message string `json:"message"`
}

// Change is what changed in the source since a row was imported.
type Change struct {
	Row     string `json:"row"`
	Message string `json:"message"`
}

// maxListed bounds the problems and changes a report keeps: a broken source
// of a million rows must not take the memory; the counts stay exact.
const maxListed = 10000

// Report is what a run did or, dry, would do.
type Report struct {
	System        string       `json:"system"`
	DryRun        bool         `json:"dry_run"`
	At            time.Time    `json:"at"`
	Tariffs       Count        `json:"tariffs"`
	Subscribers   Count        `json:"subscribers"`
	Payments      Count        `json:"payments"` // history rows
	Credited      int64        `json:"credited"` // payments new since an earlier run, credited
	CreditedSum   money.Amount `json:"credited_sum"`
	OpeningSum    money.Amount `json:"opening_sum"` // the opening balances imported
	StaticIPs     int64        `json:"static_ips"`
	Credits       int64        `json:"credits"` // subscribers with a credit in the old billing, kept as a note
	ProblemCount  int64        `json:"problem_count"`
	Problems      []Problem    `json:"problems"`
	Notes         []Change     `json:"notes"` // imported, with a change Kabinet made
	ChangeCount   int64        `json:"change_count"`
	Changes       []Change     `json:"changes"`
	NotListedMore int64        `json:"not_listed"` // problems and changes over the listing limit
}

func (r *Report) problem(row, format string, args ...any) {
	r.ProblemCount++
	if len(r.Problems)+len(r.Changes) >= maxListed {
		r.NotListedMore++
		return
	}
	r.Problems = append(r.Problems, Problem{Row: row, Message: fmt.Sprintf(format, args...)})
}

func (r *Report) change(row, format string, args ...any) {
	r.ChangeCount++
	if len(r.Problems)+len(r.Changes) >= maxListed {
		r.NotListedMore++
		return
	}
	r.Changes = append(r.Changes, Change{Row: row, Message: fmt.Sprintf(format, args...)})
}

func (r *Report) note(row, format string, args ...any) {
	if len(r.Notes) < maxListed {
		r.Notes = append(r.Notes, Change{Row: row, Message: fmt.Sprintf(format, args...)})
	}
}

// Print writes the report for a person.
func (r *Report) Print(w io.Writer) {
	verb := "imported"
	if r.DryRun {
		verb = "would import (dry run, nothing written)"
	}
	fmt.Fprintf(w, "%s: %s, cut-over %s\n", r.System, verb, r.At.Format(time.RFC3339))
	for _, k := range []struct {
		name string
		c    Count
	}{{"tariffs", r.Tariffs}, {"subscribers", r.Subscribers}, {"payments", r.Payments}} {
		fmt.Fprintf(w, "  %-12s read %d, new %d, already imported %d, changed since %d, skipped %d\n",
			k.name, k.c.Read, k.c.New, k.c.Unchanged, k.c.Changed, k.c.Skipped)
	}
	fmt.Fprintf(w, "  opening balances %s, static IPs %d\n", r.OpeningSum.Decimal(), r.StaticIPs)
	if r.Credits > 0 {
		fmt.Fprintf(w, "  credits kept as notes for the operators (the account's card, account show): %d\n", r.Credits)
	}
	if r.Credited > 0 {
		fmt.Fprintf(w, "  new payments credited: %d, %s\n", r.Credited, r.CreditedSum.Decimal())
	}
	if len(r.Notes) > 0 {
		fmt.Fprintf(w, "notes:\n")
		for _, n := range r.Notes {
			fmt.Fprintf(w, "  %s: %s\n", n.Row, n.Message)
		}
	}
	if r.ProblemCount > 0 {
		fmt.Fprintf(w, "problems: %d\n", r.ProblemCount)
		for _, p := range r.Problems {
			fmt.Fprintf(w, "  %s: %s\n", p.Row, p.Message)
		}
	}
	if r.ChangeCount > 0 {
		fmt.Fprintf(w, "changed in the source since the last import (not applied): %d\n", r.ChangeCount)
		for _, c := range r.Changes {
			fmt.Fprintf(w, "  %s: %s\n", c.Row, c.Message)
		}
	}
	if r.NotListedMore > 0 {
		fmt.Fprintf(w, "  … and %d more not listed\n", r.NotListedMore)
	}
}
