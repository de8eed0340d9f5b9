package operator_test

import (
	"context"
	"encoding/json"
	"errors"
	"go/build"
	"strings"
	"testing"
	"time"

	"github.com/kabinet-billing/kabinet/internal/clock"
	"github.com/kabinet-billing/kabinet/internal/derrors"
	"github.com/kabinet-billing/kabinet/internal/operator"
	"github.com/kabinet-billing/kabinet/internal/store"
	"github.com/kabinet-billing/kabinet/internal/store/storetest"
)

func TestRolePermissions(t *testing.T) {
	tests := []struct {
		role operator.Role
		perm operator.Permission
		want bool
	}{
		{operator.RoleCashier, operator.TakeCash, true},
		{operator.RoleCashier, operator.ViewSubscribers, true},
		{operator.RoleCashier, operator.EditCatalogue, false},
		{operator.RoleCashier, operator.CorrectBalance, false},
		{operator.RoleSupport, operator.Support, true},
		{operator.RoleSupport, operator.CorrectBalance, false},
		{operator.RoleSupport, operator.TakeCash, false},
		{operator.RoleSupport, operator.EditSubscribers, false},
		{operator.RoleManager, operator.EditCatalogue, true},
		{operator.RoleManager, operator.EditContent, true},
		{operator.RoleManager, operator.EditSubscribers, true},
		{operator.RoleManager, operator.CorrectBalance, false},
		{operator.RoleManager, operator.ManageOperators, false},
		{operator.RoleManager, operator.ViewAudit, false},
		{operator.RoleAdmin, operator.CorrectBalance, true},
		{operator.RoleManager, operator.ConfirmCash, true},
		{operator.RoleManager, operator.TakeCash, false},
		{operator.RoleCashier, operator.ConfirmCash, false},
		{operator.RoleAdmin, operator.ManageOperators, true},
		{operator.RoleAdmin, operator.ViewAudit, true},
	}
	for _, tt := range tests {
		if got := tt.role.Allows(tt.perm); got != tt.want {
			t.Errorf("%s may %s: %v, want %v", tt.role, tt.perm, got, tt.want)
		}
	}
	for _, p := range operator.AllPermissions {
		if !operator.RoleAdmin.Allows(p) {
			t.Errorf("admin lacks %s", p)
		}
	}
	if (operator.Operator{Role: operator.RoleAdmin, Disabled: true}).Can(operator.ViewAudit) {
		t.Error("a disabled admin can still act")
	}
}

func TestPasswordPolicy(t *testing.T) {
	tests := []struct {
		login, pw string
		ok        bool
	}{
		{"anna", "short", false},
		{"anna", "123456789", false},
		{"anna", "1234567890", true},
		{"anna", "xxANNA12345", false},
		{"petrov", "petrov", false},
		{"petrov", "correct horse battery", true},
		{"petrov", strings.Repeat("x", 129), false},
	}
	for _, tt := range tests {
		err := operator.CheckPasswordPolicy(tt.login, tt.pw)
		if (err == nil) != tt.ok {
			t.Errorf("policy(%q, %q) = %v, want ok=%v", tt.login, tt.pw, err, tt.ok)
		}
	}
}

func TestLockoutAndAudit(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) { testLockoutAndAudit(t, db) })
}

func testLockoutAndAudit(t *testing.T, db *store.DB) {
	ctx := context.Background()
	clk := clock.NewFake(time.Date(2026, 3, 10, 9, 0, 0, 0, time.UTC))
	s := operator.New(db, clk)
	s.Lockout = operator.Lockout{MaxFailures: 3, LockFor: 10 * time.Minute}
	if _, err := s.Add(ctx, operator.Actor{Login: "cli"}, operator.NewOperator{Login: "root", Role: operator.RoleAdmin, Password: "very-secret-1"}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Add(ctx, operator.Actor{}, operator.NewOperator{Login: "kassa", Role: operator.RoleCashier, Password: "kassa-12345"}); !errors.Is(err, operator.ErrWeakPassword) {
		t.Errorf("password containing the login: %v, want ErrWeakPassword", err)
	}
	if _, err := s.Add(ctx, operator.Actor{}, operator.NewOperator{Login: "root", Role: operator.RoleCashier, Password: "another-secret"}); !errors.Is(err, derrors.Exists) {
		t.Errorf("second root: %v, want ErrExists", err)
	}

	o, err := s.Authenticate(ctx, "ROOT", "very-secret-1", "192.0.2.1")
	if err != nil || o.Role != operator.RoleAdmin {
		t.Fatalf("login: %v %+v", err, o)
	}
	for i := range 3 {
		if _, err := s.Authenticate(ctx, "root", "wrong-password", "192.0.2.1"); !errors.Is(err, operator.ErrBadPassword) {
			t.Fatalf("wrong password %d: %v", i, err)
		}
	}
	// Locked: even the right password is refused until the period passes.
	if _, err := s.Authenticate(ctx, "root", "very-secret-1", "192.0.2.1"); !errors.Is(err, operator.ErrLocked) {
		t.Fatalf("right password while locked: %v, want ErrLocked", err)
	}
	clk.Advance(9 * time.Minute)
	if _, err := s.Authenticate(ctx, "root", "very-secret-1", "192.0.2.1"); !errors.Is(err, operator.ErrLocked) {
		t.Fatalf("after 9 minutes: %v, want ErrLocked", err)
	}
	clk.Advance(2 * time.Minute)
	if _, err := s.Authenticate(ctx, "root", "very-secret-1", "192.0.2.1"); err != nil {
		t.Fatalf("after the lockout: %v", err)
	}
	if _, err := s.Authenticate(ctx, "nobody", "whatever-it-is", "192.0.2.9"); !errors.Is(err, operator.ErrBadPassword) {
		t.Errorf("unknown login: %v", err)
	}

	// The last admin cannot demote themselves.
	cashier := operator.RoleCashier
	if _, err := s.Update(ctx, o.Actor(""), o.ID, operator.Change{Role: &cashier}); !errors.Is(err, operator.ErrLastAdmin) {
		t.Errorf("demote last admin: %v, want ErrLastAdmin", err)
	}
	name := "Главный Админ"
	if _, err := s.Update(ctx, o.Actor("192.0.2.1"), o.ID, operator.Change{Name: &name}); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		q    operator.AuditQuery
		want []string // actions, newest first
	}{
		{operator.AuditQuery{Operator: "root", Action: "operator.login"}, []string{"operator.login", "operator.login_refused", "operator.login_refused", "operator.login_failed", "operator.login_failed", "operator.login"}},
		{operator.AuditQuery{Action: "operator.add"}, []string{"operator.add"}},
		{operator.AuditQuery{Action: "operator.locked"}, []string{"operator.locked"}},
		{operator.AuditQuery{Text: "MAIN"}, nil},
		{operator.AuditQuery{Text: "Главный"}, []string{"operator.update"}},
		{operator.AuditQuery{Operator: "(unknown)"}, []string{"operator.login_failed"}},
		{operator.AuditQuery{Operator: "nobody"}, nil},
		{operator.AuditQuery{From: clk.Now().Add(-time.Minute)}, []string{"operator.update", "operator.login_failed", "operator.login"}},
	}
	for _, tt := range tests {
		got, err := s.Search(ctx, tt.q)
		if err != nil {
			t.Fatal(err)
		}
		var actions []string
		for _, e := range got {
			actions = append(actions, e.Action)
		}
		if strings.Join(actions, ",") != strings.Join(tt.want, ",") {
			t.Errorf("search %+v: %v, want %v", tt.q, actions, tt.want)
		}
	}
	upd, _ := s.Search(ctx, operator.AuditQuery{Action: "operator.update"})
	if len(upd) != 1 || !strings.Contains(upd[0].BeforeJSON(), `"name":""`) || !strings.Contains(upd[0].AfterJSON(), "Главный Админ") || upd[0].Address != "192.0.2.1" {
		t.Errorf("update entry: %+v", upd)
	}
	if strings.Contains(upd[0].AfterJSON(), "argon2") {
		t.Error("audit log keeps the password hash")
	}
}

// TestHashingIsNotSubscribers: operators share password hashing with
// subscribers through internal/password, not by importing the subscriber
// package (and with it billing and the ledger).
func TestHashingIsNotSubscribers(t *testing.T) {
	pkg, err := build.ImportDir(".", 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, imp := range pkg.Imports {
		if strings.HasSuffix(imp, "/internal/subscriber") {
			t.Errorf("operator imports %s", imp)
		}
	}
}

// TestUnknownLoginNotRecorded: what was typed into the login field when it
// matches no operator may be the password; neither the audit log nor an
// error (which ends up in the log) records it.
func TestUnknownLoginNotRecorded(t *testing.T) {
	ctx := context.Background()
	db := storetest.SQLite(t)
	clk := clock.NewFake(time.Date(2026, 3, 10, 9, 0, 0, 0, time.UTC))
	s := operator.New(db, clk)
	const typed = "Very-Secret-1"
	if _, err := s.Authenticate(ctx, typed, "root", "192.0.2.9"); !errors.Is(err, operator.ErrBadPassword) {
		t.Fatalf("unknown login: %v", err)
	}
	got, err := s.Search(ctx, operator.AuditQuery{Action: "operator.login_failed"})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].Address != "192.0.2.9" {
		t.Fatalf("audit of the failed login: %+v", got)
	}
	if b, _ := json.Marshal(got[0]); strings.Contains(strings.ToLower(string(b)), strings.ToLower(typed)) {
		t.Errorf("audit entry records what was typed: %s", b)
	}
	db.Close()
	if _, err := s.Authenticate(ctx, typed, "root", "192.0.2.9"); err == nil || strings.Contains(strings.ToLower(err.Error()), strings.ToLower(typed)) {
		t.Errorf("error with the database closed: %v", err)
	}
}
