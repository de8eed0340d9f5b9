package radius

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"sync/atomic"

	"github.com/kabinet-billing/kabinet/internal/clock"
	"github.com/kabinet-billing/kabinet/internal/derrors"
	"github.com/kabinet-billing/kabinet/internal/operator"
	"github.com/kabinet-billing/kabinet/internal/store"
)

// NASStore keeps the NAS table and answers LookupNAS from an in-memory
// snapshot, replaced whole on every change, so the packet path takes no lock.
type NASStore struct {
	db    *store.DB
	clock clock.Clock
	snap  atomic.Pointer[nasSnapshot]
}

type nasSnapshot struct {
	byAddr map[netip.Addr]NAS
	byID   map[int64]NAS
}

// NewNASStore returns a store; call Load before serving.
func NewNASStore(db *store.DB, clk clock.Clock) *NASStore {
	if clk == nil {
		clk = clock.System
	}
	n := &NASStore{db: db, clock: clk}
	n.snap.Store(&nasSnapshot{byAddr: map[netip.Addr]NAS{}, byID: map[int64]NAS{}})
	return n
}

// List reads every NAS from the database, by name.
func (n *NASStore) List(ctx context.Context) ([]NAS, error) {
	rows, err := n.db.Query(ctx, `SELECT id, name, address, secret, kind, coa_port, require_ma FROM nas ORDER BY name`)
	if err != nil {
		return nil, fmt.Errorf("list NAS: %w", err)
	}
	defer rows.Close()
	var out []NAS
	for rows.Next() {
		var x NAS
		var addr, kind string
		var requireMA bool
		if err := rows.Scan(&x.ID, &x.Name, &addr, &x.Secret, &kind, &x.CoAPort, &requireMA); err != nil {
			return nil, fmt.Errorf("list NAS: %w", err)
		}
		x.AllowUnsigned = !requireMA
		a, err := netip.ParseAddr(addr)
		if err != nil {
			return nil, fmt.Errorf("NAS %s: address %q: %w", x.Name, addr, err)
		}
		x.Addr, x.Kind = a.Unmap(), NASKind(kind)
		out = append(out, x)
	}
	return out, rows.Err()
}

// Load replaces the snapshot with the table's contents.
func (n *NASStore) Load(ctx context.Context) error {
	list, err := n.List(ctx)
	if err != nil {
		return err
	}
	s := &nasSnapshot{byAddr: make(map[netip.Addr]NAS, len(list)), byID: make(map[int64]NAS, len(list))}
	for _, x := range list {
		s.byAddr[x.Addr] = x
		s.byID[x.ID] = x
	}
	n.snap.Store(s)
	return nil
}

// LookupNAS implements NASList.
func (n *NASStore) LookupNAS(addr netip.Addr) (NAS, error) {
	x, ok := n.snap.Load().byAddr[addr.Unmap()]
	if !ok {
		return NAS{}, derrors.NotFound
	}
	return x, nil
}

// ByID returns a NAS from the snapshot.
func (n *NASStore) ByID(id int64) (NAS, error) {
	x, ok := n.snap.Load().byID[id]
	if !ok {
		return NAS{}, derrors.NotFound
	}
	return x, nil
}

// Save inserts a NAS (ID 0) or updates one, then reloads the snapshot.
func (n *NASStore) Save(ctx context.Context, x NAS) (NAS, error) { return n.save(ctx, x, nil) }

// SaveBy is Save done by an operator: the audit entry, which never holds
// the secret, commits in the same transaction as the change.
func (n *NASStore) SaveBy(ctx context.Context, x NAS, by operator.Actor) (NAS, error) {
	return n.save(ctx, x, &by)
}

func (n *NASStore) save(ctx context.Context, x NAS, by *operator.Actor) (NAS, error) {
	x.Name = strings.TrimSpace(x.Name)
	if x.Kind == "" {
		x.Kind = KindMikrotik
	}
	if x.CoAPort == 0 {
		x.CoAPort = 3799
	}
	switch {
	case x.Name == "":
		return x, fmt.Errorf("NAS name is empty: %w", derrors.Invalid)
	case !x.Addr.IsValid():
		return x, fmt.Errorf("NAS %s: no address: %w", x.Name, derrors.Invalid)
	case len(x.Secret) < 8:
		// A short shared secret is brute-forced from one captured packet.
		return x, fmt.Errorf("NAS %s: secret must be at least 8 characters: %w", x.Name, derrors.Invalid)
	case !x.Kind.Valid():
		return x, fmt.Errorf("NAS %s: kind %q: %w", x.Name, x.Kind, derrors.Invalid)
	case x.CoAPort < 1 || x.CoAPort > 65535:
		return x, fmt.Errorf("NAS %s: CoA port %d: %w", x.Name, x.CoAPort, derrors.Invalid)
	}
	x.Addr = x.Addr.Unmap()
	now := n.clock.Now()
	err := n.db.Write(ctx, func(tx *store.Tx) error {
		var err error
		if x.ID == 0 {
			err = tx.QueryRow(ctx, `INSERT INTO nas (name, address, secret, kind, coa_port, require_ma, created_at) VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id`,
				x.Name, x.Addr.String(), x.Secret, string(x.Kind), x.CoAPort, !x.AllowUnsigned, now.UTC()).Scan(&x.ID)
		} else {
			_, err = tx.Exec(ctx, `UPDATE nas SET name = ?, address = ?, secret = ?, kind = ?, coa_port = ?, require_ma = ? WHERE id = ?`,
				x.Name, x.Addr.String(), x.Secret, string(x.Kind), x.CoAPort, !x.AllowUnsigned, x.ID)
		}
		if err != nil || by == nil {
			return err
		}
		return operator.Audit(ctx, tx, now, *by, operator.Entry{Action: "network.nas", Object: fmt.Sprintf("nas:%d", x.ID),
			After: map[string]any{"name": x.Name, "addr": x.Addr.String(), "kind": x.Kind, "coa_port": x.CoAPort, "allow_unsigned": x.AllowUnsigned}})
	})
	if err != nil {
		if store.IsUniqueViolation(err) {
			return x, fmt.Errorf("NAS %s: name or address already used: %w", x.Name, derrors.Invalid)
		}
		return x, fmt.Errorf("save NAS %s: %w", x.Name, err)
	}
	return x, n.Load(ctx)
}

// RequireMessageAuthenticator keeps that the NAS signs its Access-Requests:
// from then on, across restarts, one without a Message-Authenticator is
// dropped (an operator can clear it in the back office, e.g. after a
// firmware change).
func (n *NASStore) RequireMessageAuthenticator(ctx context.Context, id int64) error {
	err := n.db.Write(ctx, func(tx *store.Tx) error {
		_, err := tx.Exec(ctx, `UPDATE nas SET require_ma = ? WHERE id = ? AND require_ma = ?`, true, id, false)
		return err
	})
	if err != nil {
		return fmt.Errorf("NAS %d: require Message-Authenticator: %w", id, err)
	}
	return n.Load(ctx)
}

// SetAllowUnsigned is an operator's decision whether the NAS may send
// Access-Requests without a Message-Authenticator (see NAS.AllowUnsigned);
// the audit entry commits with the change. A NAS allowed to go unsigned
// that signs a request is required to sign again from then on.
func (n *NASStore) SetAllowUnsigned(ctx context.Context, id int64, allow bool, by operator.Actor) error {
	err := n.db.Write(ctx, func(tx *store.Tx) error {
		var requireMA bool
		if err := tx.QueryRow(ctx, `SELECT require_ma FROM nas WHERE id = ?`, id).Scan(&requireMA); err != nil {
			if errors.Is(err, sql.ErrNoRows) {
				return derrors.NotFound
			}
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE nas SET require_ma = ? WHERE id = ?`, !allow, id); err != nil {
			return err
		}
		return operator.Audit(ctx, tx, n.clock.Now(), by, operator.Entry{Action: "network.nas.signing", Object: fmt.Sprintf("nas:%d", id),
			Before: map[string]bool{"allow_unsigned": !requireMA}, After: map[string]bool{"allow_unsigned": allow}})
	})
	if err != nil {
		return fmt.Errorf("NAS %d: allow unsigned requests %t: %w", id, allow, err)
	}
	return n.Load(ctx)
}

// Secret returns a NAS's shared secret to an operator who asked to see it;
// the audit entry (which does not hold the secret) commits with the read,
// so no one reads a secret without a trace.
func (n *NASStore) Secret(ctx context.Context, id int64, by operator.Actor) (string, error) {
	var secret string
	err := n.db.Write(ctx, func(tx *store.Tx) error {
		if err := tx.QueryRow(ctx, `SELECT secret FROM nas WHERE id = ?`, id).Scan(&secret); err != nil {
			if errors.Is(err, sql.ErrNoRows) {
				return derrors.NotFound
			}
			return err
		}
		return operator.Audit(ctx, tx, n.clock.Now(), by, operator.Entry{Action: "network.nas.secret_shown", Object: fmt.Sprintf("nas:%d", id)})
	})
	if err != nil {
		return "", fmt.Errorf("NAS %d: show secret: %w", id, err)
	}
	return secret, nil
}

// Delete removes a NAS that has no sessions on record, then reloads.
func (n *NASStore) Delete(ctx context.Context, id int64) error {
	err := n.db.Write(ctx, func(tx *store.Tx) error {
		_, err := tx.Exec(ctx, `DELETE FROM nas WHERE id = ?`, id)
		return err
	})
	if err != nil {
		return fmt.Errorf("delete NAS %d (it may have sessions on record): %w", id, err)
	}
	return n.Load(ctx)
}
