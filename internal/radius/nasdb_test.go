package radius

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/kabinet-billing/kabinet/internal/operator"
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
