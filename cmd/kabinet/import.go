package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"golang.org/x/term"

	"github.com/kabinet-billing/kabinet/internal/importer"
)

func init() {
	register("import ubilling", "--from mysql://USER:PASS@HOST:PORT/DB [--dry-run] [--at RFC3339] [--skip-problems]: move subscribers in from Ubilling", cmdImportUbilling)
	register("import abills", "--from mysql://USER:PASS@HOST:PORT/DB --secret-key KEY [--dry-run] [--at RFC3339] [--skip-problems]: move subscribers in from ABillS", cmdImportAbills)
	register("import csv", "--subscribers FILE [--payments FILE] [--dry-run] [--at RFC3339] [--skip-problems]: move subscribers in from spreadsheets (docs/import-template.csv)", cmdImportCSV)
}

// importCacheKB is the SQLite writer's page cache while importing (see
// store.DB.SetWriterCache).
const importCacheKB = 8192

// importFlags are the flags every source takes.
type importFlags struct {
	dryRun, skip bool
	at           string
}

func (f *importFlags) add(fs *flag.FlagSet) {
	fs.BoolVar(&f.dryRun, "dry-run", false, "read and check everything, write nothing, print the report a real run would")
	fs.StringVar(&f.at, "at", "", "the cut-over instant (RFC 3339) the opening balances are dated at; default now")
	fs.BoolVar(&f.skip, "skip-problems", false, "import without the rows that have problems (and without bad e-mails and phones)")
}

func cmdImportUbilling(ctx context.Context, e *env, args []string) error {
	fs := flag.NewFlagSet("import ubilling", flag.ContinueOnError)
	var f importFlags
	f.add(fs)
	from := fs.String("from", "", "the Ubilling database: mysql://USER:PASS@HOST:PORT/DB")
	pos, err := e.parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 0 || *from == "" {
		return errors.New("give the source: kabinet import ubilling --from mysql://USER:PASS@HOST:PORT/DB")
	}
	return e.runImport(ctx, f, func() (importer.Source, func() error, error) {
		src, err := importer.OpenUbilling(ctx, *from, e.cfg.Zone())
		if err != nil {
			return nil, nil, err
		}
		return src, src.Close, nil
	})
}

func cmdImportAbills(ctx context.Context, e *env, args []string) error {
	fs := flag.NewFlagSet("import abills", flag.ContinueOnError)
	var f importFlags
	f.add(fs)
	from := fs.String("from", "", "the ABillS database: mysql://USER:PASS@HOST:PORT/DB")
	key := fs.String("secret-key", "", "ABillS's secret key ($conf{secretkey} in its config.pl) that its passwords are encoded with")
	pos, err := e.parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 0 || *from == "" {
		return errors.New("give the source: kabinet import abills --from mysql://USER:PASS@HOST:PORT/DB --secret-key KEY")
	}
	return e.runImport(ctx, f, func() (importer.Source, func() error, error) {
		src, err := importer.OpenAbills(ctx, *from, *key, e.cfg.Zone())
		if err != nil {
			return nil, nil, err
		}
		return src, src.Close, nil
	})
}

func cmdImportCSV(ctx context.Context, e *env, args []string) error {
	fs := flag.NewFlagSet("import csv", flag.ContinueOnError)
	var f importFlags
	f.add(fs)
	subs := fs.String("subscribers", "", "the subscribers: CSV, UTF-8 or CP1251, ';' or ',', with a header row")
	pays := fs.String("payments", "", "their payment history: CSV with login, date, amount[, channel, memo, id]")
	pos, err := e.parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 0 || *subs == "" {
		return errors.New("give the file: kabinet import csv --subscribers FILE [--payments FILE]")
	}
	return e.runImport(ctx, f, func() (importer.Source, func() error, error) {
		src, err := importer.OpenCSV(*subs, *pays, e.cfg.Zone())
		return src, func() error { return nil }, err
	})
}

func (e *env) runImport(ctx context.Context, f importFlags, open func() (importer.Source, func() error, error)) error {
	at := e.clock.Now()
	if f.at != "" {
		t, err := time.Parse(time.RFC3339, f.at)
		if err != nil {
			return fmt.Errorf("--at %q: want RFC 3339, like 2027-01-01T00:00:00+03:00", f.at)
		}
		at = t
	}
	if err := e.open(ctx); err != nil {
		return err
	}
	if err := e.db.SetWriterCache(ctx, importCacheKB); err != nil {
		return err
	}
	dir, err := e.directory()
	if err != nil {
		return err
	}
	src, closeSrc, err := open()
	if err != nil {
		return err
	}
	defer closeSrc()
	o := importer.Options{DryRun: f.dryRun, At: at, SkipProblems: f.skip, Sealer: dir.Sealer, Biller: e.biller()}
	if out, ok := e.stderr.(*os.File); ok && term.IsTerminal(int(out.Fd())) {
		o.Progress = importProgress(out)
	}
	rep, err := importer.Run(ctx, e.db, src, o)
	if o.Progress != nil {
		fmt.Fprintln(e.stderr)
	}
	if rep != nil {
		if e.json {
			if jerr := e.printJSON(rep); jerr != nil {
				return jerr
			}
		} else {
			rep.Print(e.stdout)
		}
	}
	return err
}

// importProgress rewrites one line on the terminal at most ten times a second.
func importProgress(w io.Writer) func(kind string, n int64) {
	var last time.Time
	return func(kind string, n int64) {
		if now := time.Now(); now.Sub(last) > 100*time.Millisecond {
			last = now
			fmt.Fprintf(w, "\r\033[Kreading %s: %d", kind, n)
		}
	}
}
