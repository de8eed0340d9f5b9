// Command kabinet is the whole of Kabinet in one binary: the servers (portal,
// back office, API, RADIUS), the demo, and the tools operators script.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	_ "time/tzdata" // the provider's zone must load on a box without tzdata

	"github.com/kabinet-billing/kabinet/internal/billing"
	"github.com/kabinet-billing/kabinet/internal/clock"
	"github.com/kabinet-billing/kabinet/internal/config"
	"github.com/kabinet-billing/kabinet/internal/fiscal"
	"github.com/kabinet-billing/kabinet/internal/store"
	"github.com/kabinet-billing/kabinet/internal/subscriber"
)

// command is one subcommand: "tariff add", "billing run", …
type command struct {
	name  string
	usage string
	run   func(ctx context.Context, e *env, args []string) error
}

var commands []command

func register(name, usage string, run func(ctx context.Context, e *env, args []string) error) {
	commands = append(commands, command{name: name, usage: usage, run: run})
}

// env carries the global flags and what commands open lazily.
type env struct {
	dsn     string
	cfgPath string
	json    bool
	stdout  io.Writer
	stderr  io.Writer
	cfg     config.Config
	// base is what the config file is read over; nil: config.Default().
	base  *config.Config
	db    *store.DB
	clock clock.Clock
	// receipts is the fiscal receipts' queue ([fiscal]); nil when off.
	// Every biller the commands make queues receipts through it.
	receipts *fiscal.Queue
}

// errVerify is returned when the ledger does not verify: exit code 1. Every
// other error — unknown login, malformed amount, a DSN that cannot be opened —
// is a one-line message and exit code 2, with nothing written.
var errVerify = errors.New("ledger does not verify")

func main() {
	config.SetGC()
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	e := &env{stdout: stdout, stderr: stderr, clock: clock.System}
	// Global flags may come before the command.
	gfs := flag.NewFlagSet("kabinet", flag.ContinueOnError)
	gfs.SetOutput(io.Discard)
	e.globalFlags(gfs)
	if err := gfs.Parse(args); err != nil {
		fmt.Fprintf(stderr, "kabinet: %v\n", err)
		return 2
	}
	args = gfs.Args()
	cmd, rest := findCommand(args)
	if cmd == nil {
		usage(stderr, args)
		return 2
	}
	err := cmd.run(ctx, e, rest)
	if e.db != nil {
		e.db.Close()
	}
	switch {
	case err == nil:
		return 0
	case errors.Is(err, errVerify):
		return 1
	case errors.Is(err, flag.ErrHelp):
		return 0
	}
	fmt.Fprintf(stderr, "kabinet %s: %s\n", cmd.name, oneLine(err))
	return 2
}

func oneLine(err error) string { return strings.ReplaceAll(err.Error(), "\n", "; ") }

func findCommand(args []string) (*command, []string) {
	best := -1
	for i, c := range commands {
		words := strings.Fields(c.name)
		if len(args) < len(words) {
			continue
		}
		if strings.Join(args[:len(words)], " ") == c.name && (best < 0 || len(words) > len(strings.Fields(commands[best].name))) {
			best = i
		}
	}
	if best < 0 {
		return nil, nil
	}
	return &commands[best], args[len(strings.Fields(commands[best].name)):]
}

func usage(w io.Writer, args []string) {
	if len(args) > 0 && args[0] != "help" && args[0] != "-h" && args[0] != "--help" {
		fmt.Fprintf(w, "kabinet: unknown command %q\n\n", strings.Join(args, " "))
	}
	fmt.Fprintln(w, "Usage: kabinet [--db DSN] [--config FILE] COMMAND [flags]\n\nCommands:")
	sorted := append([]command(nil), commands...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].name < sorted[j].name })
	for _, c := range sorted {
		fmt.Fprintf(w, "  %-18s %s\n", c.name, c.usage)
	}
	fmt.Fprintln(w, "\nDSN: sqlite:PATH (default sqlite:./kabinet.db) or postgres://…; also KABINET_DB.")
}

func (e *env) globalFlags(fs *flag.FlagSet) {
	fs.StringVar(&e.dsn, "db", e.dsn, "database: sqlite:PATH or postgres://… (env KABINET_DB)")
	fs.StringVar(&e.cfgPath, "config", e.cfgPath, "TOML config file")
	fs.BoolVar(&e.json, "json", e.json, "print JSON")
}

// parse reads a command's flags, which may come before or after its
// positional arguments ("account show L --json").
func (e *env) parse(fs *flag.FlagSet, args []string) ([]string, error) {
	e.globalFlags(fs)
	fs.SetOutput(e.stderr)
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, err
			}
			return nil, err
		}
		if fs.NArg() == 0 {
			return pos, nil
		}
		pos = append(pos, fs.Arg(0))
		args = fs.Args()[1:]
	}
}

// open loads the config and opens and migrates the database.
func (e *env) open(ctx context.Context) error {
	base := config.Default()
	if e.base != nil {
		base = *e.base
	}
	cfg, err := config.LoadOver(base, e.cfgPath)
	if err != nil {
		return err
	}
	if e.dsn != "" {
		cfg.DB = e.dsn
	}
	e.cfg = cfg
	db, err := store.Open(ctx, cfg.DB)
	if err != nil {
		return err
	}
	if _, err := db.Migrate(ctx); err != nil {
		db.Close()
		return err
	}
	e.db = db
	if e.receipts, err = fiscal.FromConfig(db, e.clock, cfg, e.logger()); err != nil {
		db.Close()
		e.db = nil
		return err
	}
	return nil
}

func (e *env) rules() billing.Rules {
	r := billing.DefaultRules()
	r.Zone = e.cfg.Zone()
	r.GraceMonths, r.GraceDays = e.cfg.Billing.GraceMonths, e.cfg.Billing.GraceDays
	r.LimitKbps = e.cfg.Billing.LimitKbps
	return r
}

func (e *env) biller() *billing.Biller {
	b := billing.New(e.db, e.clock, e.rules())
	if e.receipts != nil {
		// A payment and its receipt's row commit together.
		b.Hook = e.receipts
	}
	return b
}

// keyPath is where the secret key lives when the config does not give one:
// beside the SQLite file, or in the data dir.
func (e *env) keyPath() string {
	if e.db != nil && e.db.Path != "" {
		return filepath.Join(filepath.Dir(e.db.Path), "kabinet.key")
	}
	if e.cfg.DataDir != "" {
		return filepath.Join(e.cfg.DataDir, "kabinet.key")
	}
	return ""
}

func (e *env) directory() (*subscriber.Directory, error) {
	key, err := subscriber.LoadOrCreateKey(e.cfg.SecretKey, e.keyPath())
	if err != nil {
		return nil, err
	}
	sealer, err := subscriber.NewSealer(key)
	if err != nil {
		return nil, err
	}
	return subscriber.New(e.db, e.clock, sealer, e.biller()), nil
}

func (e *env) printJSON(v any) error {
	enc := json.NewEncoder(e.stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// logger writes the commands' log lines to stderr.
func (e *env) logger() *slog.Logger {
	w := e.stderr
	if w == nil {
		w = os.Stderr
	}
	return slog.New(slog.NewTextHandler(w, nil))
}
