package api

import (
	"context"
	"time"

	"github.com/kabinet-billing/kabinet/internal/ledger"
	"github.com/kabinet-billing/kabinet/internal/statement"
)

type LineOut struct {
	At          time.Time `json:"at"`
	Kind        string    `json:"kind"`
	Service     string    `json:"service,omitempty"`
	Period      string    `json:"period,omitempty"`
	Description string    `json:"description"`
	Amount      Money     `json:"amount"`
	Balance     Money     `json:"balance" doc:"After this movement"`
}

func lines(ls []statement.Line) []LineOut {
	out := make([]LineOut, len(ls))
	for i, l := range ls {
		out[i] = LineOut{At: l.EffectiveAt, Kind: l.Kind, Service: l.Service, Period: l.Period, Description: l.Description, Amount: m(l.Amount), Balance: m(l.Balance)}
	}
	return out
}

func (a *API) balance(ctx context.Context, in *PageIn) (*ListOut[LineOut], error) {
	page := max(in.Page, 1)
	st, err := a.d.Statements.History(ctx, lang(ctx), account(ctx), ledger.Page{Offset: (page - 1) * balancePage, Limit: balancePage})
	if err != nil {
		return nil, a.fail(ctx, "balance", err)
	}
	o := list(lines(st.Lines))
	if st.More() {
		o.Body.Next = page + 1
	}
	return o, nil
}

type StatementOut struct {
	Body struct {
		From    string    `json:"from"`
		To      string    `json:"to"`
		Opening Money     `json:"opening"`
		Closing Money     `json:"closing"`
		Credits Money     `json:"credits"`
		Debits  Money     `json:"debits"`
		Lines   []LineOut `json:"lines"`
	}
}

func (a *API) statement(ctx context.Context, in *Period) (*StatementOut, error) {
	p, err := a.period(ctx, *in, statement.MaxStatementDays)
	if err != nil {
		return nil, err
	}
	st, err := a.d.Statements.For(ctx, lang(ctx), account(ctx), p, ledger.Page{})
	if err != nil {
		return nil, a.fail(ctx, "statement", err)
	}
	o := &StatementOut{}
	b := &o.Body
	b.From, b.To = p.FromISO(), p.ToISO()
	b.Opening, b.Closing, b.Credits, b.Debits = m(st.Opening), m(st.Closing), m(st.Credits), m(st.Debits)
	b.Lines = lines(st.Lines)
	return o, nil
}

type FileIn struct {
	Period
	Format string `path:"format" enum:"csv,pdf"`
}

type FileOut struct {
	ContentType        string `header:"Content-Type"`
	ContentDisposition string `header:"Content-Disposition"`
	Body               []byte
}

func (a *API) statementFile(ctx context.Context, in *FileIn) (*FileOut, error) {
	p, err := a.period(ctx, in.Period, statement.MaxStatementDays)
	if err != nil {
		return nil, err
	}
	f, err := a.d.Statements.File(ctx, lang(ctx), account(ctx), p, in.Format)
	if err != nil {
		return nil, a.fail(ctx, "statement file", err)
	}
	return &FileOut{ContentType: f.ContentType, ContentDisposition: `attachment; filename="` + f.Name + `"`, Body: f.Body}, nil
}

// --- traffic ---
