package netflow

import (
	"context"
	"fmt"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/kabinet-billing/kabinet/internal/clock"
	"github.com/kabinet-billing/kabinet/internal/store"
)

// Flow is one decoded flow record.
type Flow struct {
	Src, Dst netip.Addr
	Bytes    uint64 // already multiplied by the sampling rate
	Packets  uint64
	At       time.Time // when the exporter reported it
}

// key is small and flat so that the per-flow map probe is cheap: the day
// and class are indexes into the aggregator's append-only tables (a class
// index stays valid when the classifier is swapped).
type key struct {
	account int64
	day     uint32
	class   uint32
}

type counts struct{ in, out, flows int64 }

// Stats counts what the aggregator saw since it started.
type Stats struct {
	Flows        uint64 // records handed to Add
	Attributed   uint64 // of those, with at least one side a subscriber
	Unattributed uint64
	Rows         uint64 // rows written (upserts)
	Flushes      uint64
}

// Aggregator sums flows per subscriber, class and day in memory and writes
// the sums in one transaction per Flush.
type Aggregator struct {
	DB       *store.DB
	Resolver Resolver
	Zone     *time.Location

	classes atomic.Pointer[Classifier]

	mu  sync.Mutex
	cur map[key]*counts
	// day cache: flows of one packet share a timestamp, and time.In plus
	// Format cost more than the rest of the attribution.
	lastSec int64
	lastDay uint32
	days    []string          // day index → YYYY-MM-DD
	dayIdx  map[string]uint32 // and back
	codes   []string          // class index → code
	codeIdx map[string]uint32
	// classMap maps the current classifier's indexes to ours.
	classMap  []uint32
	classFrom *Classifier

	flows, attributed, unattributed, rows, flushes atomic.Uint64
}

// NewAggregator makes an aggregator; zone nil means UTC.
func NewAggregator(db *store.DB, r Resolver, c *Classifier, zone *time.Location) *Aggregator {
	if zone == nil {
		zone = time.UTC
	}
	if c == nil {
		c = NewClassifier(nil)
	}
	a := &Aggregator{DB: db, Resolver: r, Zone: zone, cur: map[key]*counts{}, dayIdx: map[string]uint32{}, codeIdx: map[string]uint32{}}
	a.classes.Store(c)
	return a
}

// SetClassifier swaps in new classes; flows added later use them.
func (a *Aggregator) SetClassifier(c *Classifier) { a.classes.Store(c) }

// ReloadClasses reads the classes from the database and swaps them in.
func (a *Aggregator) ReloadClasses(ctx context.Context) error {
	cs, err := Classes(ctx, a.DB)
	if err != nil {
		return err
	}
	a.SetClassifier(NewClassifier(cs))
	return nil
}

func (a *Aggregator) dayOf(t time.Time) uint32 {
	s := t.Unix()
	if s == a.lastSec && a.days != nil {
		return a.lastDay
	}
	d := t.In(a.Zone).Format(time.DateOnly)
	i, ok := a.dayIdx[d]
	if !ok {
		i = uint32(len(a.days))
		a.days = append(a.days, d)
		a.dayIdx[d] = i
	}
	a.lastSec, a.lastDay = s, i
	return i
}

// classIndexes maps cl's class indexes to the aggregator's stable ones.
func (a *Aggregator) classIndexes(cl *Classifier) []uint32 {
	if a.classFrom == cl {
		return a.classMap
	}
	m := make([]uint32, len(cl.codes))
	for i, code := range cl.codes {
		j, ok := a.codeIdx[code]
		if !ok {
			j = uint32(len(a.codes))
			a.codes = append(a.codes, code)
			a.codeIdx[code] = j
		}
		m[i] = j
	}
	a.classFrom, a.classMap = cl, m
	return m
}

// Add attributes a batch of flows (one export packet's, usually). A flow
// from a subscriber's address is their upload, to it their download; the
// other side's address picks the class. A flow between two subscribers
// counts for both.
func (a *Aggregator) Add(fs []Flow) {
	cl := a.classes.Load()
	a.mu.Lock()
	defer a.mu.Unlock()
	var attributed uint64
	cm := a.classIndexes(cl)
	for i := range fs {
		f := &fs[i]
		at := f.At
		day := a.dayOf(at)
		hit := false
		if acct := a.Resolver.Account(f.Src, at); acct != 0 {
			c := a.counter(key{acct, day, cm[cl.Class(f.Dst)]})
			c.in += int64(f.Bytes)
			c.flows++
			hit = true
		}
		if acct := a.Resolver.Account(f.Dst, at); acct != 0 {
			c := a.counter(key{acct, day, cm[cl.Class(f.Src)]})
			c.out += int64(f.Bytes)
			c.flows++
			hit = true
		}
		if hit {
			attributed++
		}
	}
	a.flows.Add(uint64(len(fs)))
	a.attributed.Add(attributed)
	a.unattributed.Add(uint64(len(fs)) - attributed)
}

func (a *Aggregator) counter(k key) *counts {
	c := a.cur[k]
	if c == nil {
		c = &counts{}
		a.cur[k] = c
	}
	return c
}

// Pending tells how many sums wait for the next Flush.
func (a *Aggregator) Pending() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return len(a.cur)
}

// Flush writes the sums gathered since the last Flush in one transaction and
// returns the number of rows written. On failure the sums are put back, so
// the next Flush retries them.
func (a *Aggregator) Flush(ctx context.Context) (int, error) {
	a.mu.Lock()
	batch := a.cur
	a.cur = make(map[key]*counts, len(batch))
	// The tables only grow, so copies of the headers stay valid unlocked.
	days, codes := a.days, a.codes
	a.mu.Unlock()
	if len(batch) == 0 {
		return 0, nil
	}
	err := a.DB.WriteRelaxed(ctx, func(tx *store.Tx) error {
		st, err := tx.Prepare(ctx, `INSERT INTO usage_class_daily (account_id, day, class, input_octets, output_octets, flows)
			VALUES (?, ?, ?, ?, ?, ?)
			ON CONFLICT (account_id, day, class) DO UPDATE SET input_octets = usage_class_daily.input_octets + excluded.input_octets,
			output_octets = usage_class_daily.output_octets + excluded.output_octets, flows = usage_class_daily.flows + excluded.flows`)
		if err != nil {
			return err
		}
		defer st.Close()
		for k, c := range batch {
			if _, err := st.ExecContext(ctx, k.account, days[k.day], codes[k.class], c.in, c.out, c.flows); err != nil {
				return fmt.Errorf("account %d day %s: %w", k.account, days[k.day], err)
			}
		}
		return nil
	})
	if err != nil {
		a.mu.Lock()
		for k, c := range batch {
			n := a.counter(k)
			n.in, n.out, n.flows = n.in+c.in, n.out+c.out, n.flows+c.flows
		}
		a.mu.Unlock()
		return 0, fmt.Errorf("flush traffic by class (%d rows): %w", len(batch), err)
	}
	a.rows.Add(uint64(len(batch)))
	a.flushes.Add(1)
	return len(batch), nil
}

// Run flushes every interval until ctx ends, then once more.
func (a *Aggregator) Run(ctx context.Context, every time.Duration, onErr func(error)) {
	flush := func(ctx context.Context) {
		if _, err := a.Flush(ctx); err != nil && onErr != nil {
			onErr(err)
		}
	}
	// Shutdown waits for a flush under way rather than losing it.
	clock.Every(ctx, every, flush)
	// A last flush on a fresh context: shutdown must not lose the sums.
	fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	flush(fctx)
}

// Stats reports the counters.
func (a *Aggregator) Stats() Stats {
	return Stats{Flows: a.flows.Load(), Attributed: a.attributed.Load(), Unattributed: a.unattributed.Load(),
		Rows: a.rows.Load(), Flushes: a.flushes.Load()}
}
