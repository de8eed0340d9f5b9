package main

import (
	"context"
	"flag"
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/kabinet-billing/kabinet/internal/company"
	"github.com/kabinet-billing/kabinet/internal/contract"
	"github.com/kabinet-billing/kabinet/internal/derrors"
	"github.com/kabinet-billing/kabinet/internal/documents"
	assets "github.com/kabinet-billing/kabinet/web"
)

func init() {
	register("documents run", "--period YYYY-MM [--json]: issue the month's invoices and, once it is over, its acts or UPDs; a second run issues nothing twice", cmdDocumentsRun)
	register("documents reconcile", "--org ID --from YYYY-MM-DD --to YYYY-MM-DD [--json]: issue a reconciliation act for the period", cmdDocumentsReconcile)
	register("invoice list", "[--status issued|sent|paid] [--period YYYY-MM] [--limit N] [--json]: company clients' invoices, newest first", cmdInvoiceList)
}

// documentsService makes the documents capability over e's database, its
// organisations read from internal/company.
func (e *env) documentsService() (*documents.Service, error) {
	co, err := e.company()
	if err != nil {
		return nil, err
	}
	return e.documentsFor(co)
}

// documentsFor makes the documents capability over co's organisations and
// lets co's bank import find the invoices a payment names.
func (e *env) documentsFor(co *company.Service) (*documents.Service, error) {
	opts, err := documents.OptionsFrom(e.cfg)
	if err != nil {
		return nil, err
	}
	opts.Log = e.logger()
	fonts, err := contract.LoadFonts(assets.FS)
	if err != nil {
		return nil, err
	}
	s, err := documents.New(e.db, e.clock, documents.Companies{C: co}, fonts, opts)
	if err != nil {
		return nil, err
	}
	co.SetInvoices(s.BankInvoices())
	return s, nil
}

// documentJSON is a document as the commands print it.
type documentJSON struct {
	ID       int64  `json:"id"`
	Kind     string `json:"kind"`
	Number   string `json:"number"`
	Date     string `json:"date"`
	Period   string `json:"period"`
	OrgID    int64  `json:"org_id"`
	OrgName  string `json:"org_name"`
	OrgINN   string `json:"org_inn"`
	Total    string `json:"total"`
	VAT      string `json:"vat"`
	Paid     string `json:"paid"`
	Status   string `json:"status"`
	Corrects int64  `json:"corrects,omitempty"`
}

func docJSON(d documents.Document) documentJSON {
	return documentJSON{ID: d.ID, Kind: string(d.Kind), Number: d.Number, Date: d.Date.Format("2006-01-02"), Period: d.Period,
		OrgID: d.OrgID, OrgName: d.OrgName, OrgINN: d.OrgINN, Total: d.Total.Decimal(), VAT: d.VAT.Decimal(), Paid: d.Paid.Decimal(),
		Status: string(d.Status), Corrects: d.Corrects}
}

func cmdDocumentsRun(ctx context.Context, e *env, args []string) error {
	fs := flag.NewFlagSet("documents run", flag.ContinueOnError)
	period := fs.String("period", "", "the month, YYYY-MM")
	if _, err := e.parse(fs, args); err != nil {
		return err
	}
	if *period == "" {
		return fmt.Errorf("--period YYYY-MM is required: %w", derrors.Invalid)
	}
	if err := e.open(ctx); err != nil {
		return err
	}
	s, err := e.documentsService()
	if err != nil {
		return err
	}
	res, err := s.Run(ctx, *period)
	if err != nil {
		return err
	}
	if e.json {
		out := struct {
			Period        string         `json:"period"`
			Invoices      int            `json:"invoices"`
			Closing       int            `json:"closing"`
			Existing      int            `json:"existing"`
			ClosingNotDue bool           `json:"closing_not_due"`
			Issued        []documentJSON `json:"issued"`
		}{Period: res.Period, Invoices: res.Invoices, Closing: res.Closing, Existing: res.Existing, ClosingNotDue: res.ClosingNotDue, Issued: []documentJSON{}}
		for _, d := range res.Issued {
			out.Issued = append(out.Issued, docJSON(d))
		}
		return e.printJSON(out)
	}
	fmt.Fprintf(e.stdout, "%s: %d invoices and %d acts or UPDs issued, %d issued before\n", res.Period, res.Invoices, res.Closing, res.Existing)
	if res.ClosingNotDue {
		fmt.Fprintf(e.stdout, "%s is not over: its acts are issued after it ends\n", res.Period)
	}
	return nil
}

func cmdDocumentsReconcile(ctx context.Context, e *env, args []string) error {
	fs := flag.NewFlagSet("documents reconcile", flag.ContinueOnError)
	org := fs.Int64("org", 0, "the organisation's id")
	from := fs.String("from", "", "the first day, YYYY-MM-DD")
	to := fs.String("to", "", "the last day, YYYY-MM-DD")
	if _, err := e.parse(fs, args); err != nil {
		return err
	}
	f, err1 := time.Parse("2006-01-02", *from)
	t, err2 := time.Parse("2006-01-02", *to)
	if *org <= 0 || err1 != nil || err2 != nil {
		return fmt.Errorf("--org ID --from YYYY-MM-DD --to YYYY-MM-DD are required: %w", derrors.Invalid)
	}
	if err := e.open(ctx); err != nil {
		return err
	}
	s, err := e.documentsService()
	if err != nil {
		return err
	}
	d, err := s.Reconcile(ctx, *org, f, t)
	if err != nil {
		return err
	}
	if e.json {
		return e.printJSON(docJSON(d))
	}
	fmt.Fprintf(e.stdout, "%s (id %d), %s\n", d.Title(), d.ID, d.OrgName)
	return nil
}

func cmdInvoiceList(ctx context.Context, e *env, args []string) error {
	fs := flag.NewFlagSet("invoice list", flag.ContinueOnError)
	status := fs.String("status", "", "issued, sent or paid; default all")
	period := fs.String("period", "", "the month invoiced, YYYY-MM")
	limit := fs.Int("limit", 1000, "at most this many")
	if _, err := e.parse(fs, args); err != nil {
		return err
	}
	switch documents.Status(*status) {
	case "", documents.Issued, documents.Sent, documents.Paid:
	default:
		return fmt.Errorf("--status %q: issued, sent or paid: %w", *status, derrors.Invalid)
	}
	if err := e.open(ctx); err != nil {
		return err
	}
	s, err := e.documentsService()
	if err != nil {
		return err
	}
	docs, _, err := s.List(ctx, documents.Filter{Kind: documents.Invoice, Status: documents.Status(*status), Period: *period, Limit: *limit})
	if err != nil {
		return err
	}
	if e.json {
		out := make([]documentJSON, 0, len(docs))
		for _, d := range docs {
			out = append(out, docJSON(d))
		}
		return e.printJSON(out)
	}
	w := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "NUMBER\tDATE\tPERIOD\tINN\tORGANISATION\tTOTAL\tVAT\tPAID\tSTATUS")
	for _, d := range docs {
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", d.Number, d.Date.Format("2006-01-02"), d.Period, d.OrgINN, d.OrgName,
			d.Total.Decimal(), d.VAT.Decimal(), d.Paid.Decimal(), d.Status)
	}
	return w.Flush()
}
