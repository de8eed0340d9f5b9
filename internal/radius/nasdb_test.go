package radius

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/kabinet-billing/kabinet/internal/derrors"
	"github.com/kabinet-billing/kabinet/internal/operator"
	"github.com/kabinet-billing/kabinet/internal/store"
	"github.com/kabinet-billing/kabinet/internal/store/storetest"
)

// An operator's NAS change and its audit entry commit together: the entry
// never holds the secret, a refused change leaves none, and a change whose
// entry cannot be written is not made.
func TestNASSaveByAudits(t *testing.T) {
	ctx := context.Background()
	db := storetest.SQLite(t)
	n := NewNASStore(db, nil)
	anna := operator.Actor{ID: 0, Login: "anna", Address: "192.0.2.9"}
	x, err := n.SaveBy(ctx, NAS{Name: "core-1", Addr: mustAddr("192.0.2.1"), Secret: "long-enough-secret"}, anna)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := n.SaveBy(ctx, NAS{Name: "core-1", Addr: mustAddr("192.0.2.2"), Secret: "long-enough-secret"}, anna); err == nil {
		t.Fatal("a second NAS with the same name was saved")
	}
	entries, err := operator.New(db, nil).Search(ctx, operator.AuditQuery{Action: "network."})
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 || entries[0].Object != fmt.Sprintf("nas:%d", x.ID) || entries[0].OperatorLogin != "anna" || entries[0].Address != "192.0.2.9" {
		t.Fatalf("audit = %+v", entries)
	}
	if strings.Contains(entries[0].AfterJSON(), "long-enough-secret") {
		t.Errorf("the secret is in the audit log: %s", entries[0].AfterJSON())
	}

	if _, err := db.Writer().ExecContext(ctx, `DROP TABLE audit_log`); err != nil {
		t.Fatal(err)
	}
	if _, err := n.SaveBy(ctx, NAS{Name: "core-2", Addr: mustAddr("192.0.2.3"), Secret: "long-enough-secret"}, anna); err == nil {
		t.Fatal("saved with no audit log")
	}
	if list, err := n.List(ctx); err != nil || len(list) != 1 {
		t.Errorf("a NAS whose audit entry failed was kept: %+v %v", list, err)
	}
}

// A new NAS requires Message-Authenticator unless told otherwise; an
// operator's change of that, and an operator's look at the secret, are
// audited in the same transaction, without the secret.
func TestNASSigningAndSecretAudited(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		n := NewNASStore(db, nil)
		anna := operator.Actor{Login: "anna", Address: "192.0.2.9"}
		x, err := n.Save(ctx, NAS{Name: "core-1", Addr: mustAddr("192.0.2.1"), Secret: "long-enough-secret"})
		if err != nil {
			t.Fatal(err)
		}
		if got, _ := n.LookupNAS(x.Addr); got.AllowUnsigned {
			t.Fatal("a new NAS accepts unsigned Access-Requests by default")
		}
		if err := n.SetAllowUnsigned(ctx, x.ID, true, anna); err != nil {
			t.Fatal(err)
		}
		if got, _ := n.LookupNAS(x.Addr); !got.AllowUnsigned {
			t.Fatal("allowing unsigned requests did not reach the NAS list")
		}
		if list, _ := NewNASStore(db, nil).List(ctx); len(list) != 1 || !list[0].AllowUnsigned {
			t.Fatalf("not kept: %+v", list)
		}
		secret, err := n.Secret(ctx, x.ID, anna)
		if err != nil || secret != "long-enough-secret" {
			t.Fatalf("secret = %q, %v", secret, err)
		}
		if err := n.SetAllowUnsigned(ctx, 999, true, anna); !errors.Is(err, derrors.NotFound) {
			t.Errorf("unknown NAS: %v", err)
		}
		if _, err := n.Secret(ctx, 999, anna); !errors.Is(err, derrors.NotFound) {
			t.Errorf("unknown NAS: %v", err)
		}
		entries, err := operator.New(db, nil).Search(ctx, operator.AuditQuery{Action: "network."})
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]operator.Entry{}
		for _, e := range entries {
			got[e.Action] = e
			if strings.Contains(e.AfterJSON()+e.BeforeJSON(), "long-enough-secret") {
				t.Errorf("%s holds the secret", e.Action)
			}
		}
		if len(entries) != 2 {
			t.Errorf("audit = %+v, want the signing change and the look at the secret", entries)
		}
		if e := got["network.nas.signing"]; e.OperatorLogin != "anna" || !strings.Contains(e.AfterJSON(), `"allow_unsigned":true`) ||
			!strings.Contains(e.BeforeJSON(), `"allow_unsigned":false`) {
			t.Errorf("signing entry %+v", e)
		}
		if e := got["network.nas.secret_shown"]; e.Object != fmt.Sprintf("nas:%d", x.ID) || e.Address != "192.0.2.9" {
			t.Errorf("secret entry %+v", e)
		}
	})
}

// The migration requires signatures from NAS rows that have never
// reported a session and leaves those with sessions as they were.
func TestMigrationRequireMA(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		now := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
		err := db.Write(ctx, func(tx *store.Tx) error {
			for _, q := range []string{
				`INSERT INTO nas (id, name, address, secret, require_ma, created_at) VALUES (1, 'unused', '192.0.2.1', 'long-enough', ?, ?)`,
				`INSERT INTO nas (id, name, address, secret, require_ma, created_at) VALUES (2, 'in-use', '192.0.2.2', 'long-enough', ?, ?)`,
			} {
				if _, err := tx.Exec(ctx, q, false, now); err != nil {
					return err
				}
			}
			_, err := tx.Exec(ctx, `INSERT INTO sessions (nas_id, session_key, started_at, updated_at) VALUES (2, 's-1', ?, ?)`, now, now)
			if err != nil {
				return err
			}
			// Run the migration again over these rows (goose applies a
			// missing version out of order).
			_, err = tx.Exec(ctx, `DELETE FROM goose_db_version WHERE version_id = 210`)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		if n, err := db.Migrate(ctx); err != nil || n != 1 {
			t.Fatalf("migrate: %d, %v", n, err)
		}
		list, err := NewNASStore(db, nil).List(ctx)
		if err != nil {
			t.Fatal(err)
		}
		allow := map[string]bool{}
		for _, x := range list {
			allow[x.Name] = x.AllowUnsigned
		}
		if allow["unused"] || !allow["in-use"] {
			t.Errorf("allow unsigned after the migration = %v, want unused required and in-use left as it was", allow)
		}
	})
}
