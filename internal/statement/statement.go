// Package statement is what a subscriber's account says for a period: the
// lines as the subscriber reads them (in Russian or English), with opening
// and closing balances and totals, and the same as a CSV file or a PDF
// document. The portal, the JSON API and the back office all call it.
package statement

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/kabinet-billing/kabinet/internal/billing"
	"github.com/kabinet-billing/kabinet/internal/clock"
	"github.com/kabinet-billing/kabinet/internal/config"
	"github.com/kabinet-billing/kabinet/internal/contract"
	"github.com/kabinet-billing/kabinet/internal/ledger"
	"github.com/kabinet-billing/kabinet/internal/money"
	"github.com/kabinet-billing/kabinet/internal/store"
	"github.com/kabinet-billing/kabinet/internal/subscriber"
)

// Words translates message ids (the web layer's translations satisfy it).
type Words interface {
	T(lang, id string, data map[string]any) string
	Has(id string) bool
}

// Service builds statements.
type Service struct {
	db       *store.DB
	clock    clock.Clock
	zone     *time.Location
	provider config.Provider
	fonts    contract.Fonts
	words    Words
}

// New makes a Service; zone is the provider's (days and times are shown in
// it), provider heads the PDF, fonts are the PDF's faces.
func New(db *store.DB, clk clock.Clock, zone *time.Location, provider config.Provider, fonts contract.Fonts, words Words) *Service {
	if clk == nil {
		clk = clock.System
	}
	return &Service{db: db, clock: clk, zone: zone, provider: provider, fonts: fonts, words: words}
}

// Line is a ledger line with what it says to the subscriber.
type Line struct {
	ledger.Line
	Description string
}

// Statement of one account for a Period. The totals cover the whole period;
// Lines only the page asked for.
type Statement struct {
	Account                           subscriber.Account
	Period                            Period
	Opening, Closing, Credits, Debits money.Amount
	Count                             int // lines in the period
	Page                              ledger.Page
	Lines                             []Line
}

// More tells whether lines follow the page.
func (s Statement) More() bool { return s.Page.Limit > 0 && s.Page.Offset+len(s.Lines) < s.Count }

// For reads the account's statement for p in lang, the lines of page pg (a
// zero page: every line, oldest first).
func (s *Service) For(ctx context.Context, lang string, a subscriber.Account, p Period, pg ledger.Page) (Statement, error) {
	st, err := ledger.StatementFor(ctx, s.db, a.ID, p.From, p.End(), pg)
	if err != nil {
		return Statement{}, err
	}
	out := Statement{Account: a, Period: p, Opening: st.Opening, Closing: st.Closing, Credits: st.Credits, Debits: st.Debits,
		Count: st.Count, Page: pg}
	if out.Lines, err = s.Describe(ctx, lang, st.Lines); err != nil {
		return Statement{}, err
	}
	return out, nil
}

// History is every movement since the contract, newest first, the lines of
// page pg with the balance after each.
func (s *Service) History(ctx context.Context, lang string, a subscriber.Account, pg ledger.Page) (Statement, error) {
	pg.Newest = true
	return s.For(ctx, lang, a, Period{From: time.Unix(0, 0).In(s.zone), To: s.clock.Now().In(s.zone)}, pg)
}

// Describe says each line as the subscriber reads it in lang: its kind, the
// tariff, package or payment channel by name, the billing period.
func (s *Service) Describe(ctx context.Context, lang string, ls []ledger.Line) ([]Line, error) {
	if len(ls) == 0 {
		return nil, nil
	}
	names, err := s.names(ctx, lang, ls)
	if err != nil {
		return nil, err
	}
	out := make([]Line, len(ls))
	for i, l := range ls {
		d := s.words.T(lang, "ledger.kind."+l.Kind, nil)
		if n := names[l.Service]; n != "" {
			d += ": " + n
		} else if l.Service != "" {
			d += ": " + l.Service
		}
		if l.Period != "" {
			d += " (" + l.Period + ")"
		}
		// A note the capability wrote in the provider's words (a
		// voluntary suspension's refund and charges) is said too.
		if id := "ledger.memo." + strings.ReplaceAll(l.Memo, " ", "_"); l.Memo != "" && s.words.Has(id) {
			d += " — " + s.words.T(lang, id, nil)
		}
		out[i] = Line{Line: l, Description: d}
	}
	return out, nil
}

// names maps the lines' tariff and package codes, and their payment
// channels ("cash", "card:sandbox", "osmp:sber"), to what the subscriber
// reads.
func (s *Service) names(ctx context.Context, lang string, ls []ledger.Line) (map[string]string, error) {
	names := map[string]string{}
	ts, err := billing.Tariffs(ctx, s.db, 0, false)
	if err != nil {
		return nil, fmt.Errorf("statement names: %w", err)
	}
	for _, t := range ts {
		names[t.Code] = pick(lang, t.Name, t.NameEn)
	}
	ps, err := billing.Packages(ctx, s.db, 0, false)
	if err != nil {
		return nil, fmt.Errorf("statement names: %w", err)
	}
	for _, p := range ps {
		names[p.Code] = pick(lang, p.Name, p.NameEn)
	}
	if s.words.Has("ledger.service.suspension") {
		names["suspension"] = s.words.T(lang, "ledger.service.suspension", nil)
	}
	for _, l := range ls {
		if _, ok := names[l.Service]; ok || l.Service == "" {
			continue
		}
		if l.Kind == ledger.TxnPayment || l.Kind == ledger.TxnReversal || l.Kind == ledger.TxnBonus {
			kind, _, _ := strings.Cut(l.Service, ":")
			if id := "channel." + kind; s.words.Has(id) {
				names[l.Service] = s.words.T(lang, id, nil)
			}
		}
	}
	return names, nil
}

func pick(lang, ru, en string) string {
	if lang == "en" && en != "" {
		return en
	}
	return ru
}
