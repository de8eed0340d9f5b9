package radius

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"

	"github.com/kabinet-billing/kabinet/internal/billing"
	"github.com/kabinet-billing/kabinet/internal/derrors"
	"github.com/kabinet-billing/kabinet/internal/subscriber"
)

// StoreDirectory is the Directory over the database: credentials from the
// subscriber package, status and speed from billing.
type StoreDirectory struct {
	Subs   *subscriber.Directory
	Biller *billing.Biller
	Log    *slog.Logger
}

// NewStoreDirectory returns a Directory over the capabilities.
func NewStoreDirectory(subs *subscriber.Directory, b *billing.Biller, log *slog.Logger) *StoreDirectory {
	if log == nil {
		log = slog.Default()
	}
	return &StoreDirectory{Subs: subs, Biller: b, Log: log}
}

func (d *StoreDirectory) combine(creds []subscriber.RadiusCredential, lines map[int64]billing.RadiusLine) []Subscriber {
	out := make([]Subscriber, 0, len(creds))
	for _, c := range creds {
		if c.PasswordErr != nil {
			d.Log.Error("radius: password of a login cannot be opened; it cannot authenticate", "login", c.Login, "err", c.PasswordErr)
			continue
		}
		l, ok := lines[c.AccountID]
		if !ok {
			continue
		}
		s := Subscriber{
			AccountID: c.AccountID, Login: c.Login, Password: c.Password,
			Status:   Status(l.Status),
			DownKbps: l.Speed.DownKbps, UpKbps: l.Speed.UpKbps,
			Limited: l.Speed.Limited,
		}
		if ip, err := netip.ParseAddr(l.Speed.StaticIP); err == nil {
			s.StaticIP = ip
		}
		out = append(out, s)
	}
	return out
}

// Lookup implements Directory.
func (d *StoreDirectory) Lookup(ctx context.Context, login string) (Subscriber, error) {
	a, err := d.Subs.ByLogin(ctx, login)
	if errors.Is(err, derrors.NotFound) {
		return Subscriber{}, derrors.NotFound
	}
	if err != nil {
		return Subscriber{}, fmt.Errorf("subscriber by login: %w", err) // not named: it may be a password
	}
	if a.Login != login {
		// ByLogin folds case; a NAS sending "Alice" must match the cache key
		// it will be looked up under, and logins are stored lower-case.
		return Subscriber{}, derrors.NotFound
	}
	subs, err := d.LookupAccount(ctx, a.ID)
	if err != nil {
		return Subscriber{}, err
	}
	for _, s := range subs {
		if s.Login == login {
			return s, nil
		}
	}
	return Subscriber{}, derrors.NotFound
}

// LookupAccount implements Directory.
func (d *StoreDirectory) LookupAccount(ctx context.Context, accountID int64) ([]Subscriber, error) {
	creds, err := d.Subs.RadiusCredentials(ctx, accountID)
	if err != nil {
		return nil, err
	}
	lines, err := d.Biller.RadiusLines(ctx, accountID)
	if err != nil {
		return nil, err
	}
	return d.combine(creds, lines), nil
}

// All implements Directory.
func (d *StoreDirectory) All(ctx context.Context) ([]Subscriber, error) {
	return d.LookupAccount(ctx, 0)
}
