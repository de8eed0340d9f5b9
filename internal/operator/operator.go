// Package operator owns the back-office staff: their roles and what each
// role may do, their passwords and login lockout, and the audit log every
// operator action is written to.
package operator

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/mail"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/kabinet-billing/kabinet/internal/clock"
	"github.com/kabinet-billing/kabinet/internal/derrors"
	"github.com/kabinet-billing/kabinet/internal/password"
	"github.com/kabinet-billing/kabinet/internal/store"
)

var (
	errNoOperator   error = derrors.New(derrors.NotFound, "", "no such operator")
	ErrBadPassword        = errors.New("wrong login or password")
	ErrLocked             = errors.New("too many failed logins: the operator is locked for a while")
	ErrWeakPassword error = derrors.New(derrors.Invalid, "operator_password", "operator password must be 10 to 128 characters and must not contain the login")
	ErrLastAdmin    error = derrors.New(derrors.Conflict, "last_admin", "the last active admin cannot be removed, disabled or demoted")
)

// Role is an operator's job; it decides the permissions.
type Role string

const (
	RoleAdmin   Role = "admin"
	RoleManager Role = "manager"
	RoleCashier Role = "cashier"
	RoleSupport Role = "support"
)

// Roles lists the roles in the order forms show them.
var Roles = []Role{RoleAdmin, RoleManager, RoleCashier, RoleSupport}

// ParseRole checks a role name.
func ParseRole(s string) (Role, error) {
	r := Role(strings.ToLower(strings.TrimSpace(s)))
	if !slices.Contains(Roles, r) {
		return "", fmt.Errorf("role %q: one of admin, manager, cashier, support: %w", s, derrors.Invalid)
	}
	return r, nil
}

// Permission is one thing an operator may be allowed to do. Handlers check a
// permission, never a role, so that the table below is the one place that
// decides who does what.
type Permission string

const (
	ViewSubscribers Permission = "subscribers.view" // search, card, ledger, statement
	EditSubscribers Permission = "subscribers.edit" // contracts, edits, block/freeze/close, password reset
	TakeCash        Permission = "money.cash"       // cashier payment
	ConfirmCash     Permission = "money.confirm"    // confirm a cash payment above the cashier's limit
	CorrectBalance  Permission = "money.correct"    // corrections and reversals
	ViewDebt        Permission = "money.debt"       // debtors and limited lists
	EditCatalogue   Permission = "catalogue.edit"   // cities, tariffs, packages
	EditContent     Permission = "content.edit"     // news, promotions
	Support         Permission = "support"          // requests, chat, applications
	ViewNetwork     Permission = "network.view"     // NAS, sessions, CoA failures
	ManageNetwork   Permission = "network.manage"   // NAS edits, disconnects
	ViewReports     Permission = "reports.view"     // reports and CSV
	ManageOperators Permission = "operators.manage" // operators and roles
	ViewAudit       Permission = "audit.view"       // the audit log
)

// AllPermissions lists every permission (admins have all of them).
var AllPermissions = []Permission{ViewSubscribers, EditSubscribers, TakeCash, ConfirmCash, CorrectBalance, ViewDebt,
	EditCatalogue, EditContent, Support, ViewNetwork, ManageNetwork, ViewReports, ManageOperators, ViewAudit}

// permissions is the table of who may do what. Corrections, operators and
// the audit log stay with admins: they are how mistakes and abuse are found.
var permissions = map[Role][]Permission{
	RoleAdmin:   AllPermissions,
	RoleManager: {ViewSubscribers, EditSubscribers, ConfirmCash, ViewDebt, EditCatalogue, EditContent, Support, ViewNetwork, ViewReports},
	RoleCashier: {ViewSubscribers, TakeCash, ViewDebt},
	RoleSupport: {ViewSubscribers, Support, ViewNetwork},
}

// Allows tells whether role r has permission p.
func (r Role) Allows(p Permission) bool { return slices.Contains(permissions[r], p) }

// Permissions lists what role r may do.
func (r Role) Permissions() []Permission { return slices.Clone(permissions[r]) }

// Operator is a member of staff.
type Operator struct {
	ID          int64
	Login       string
	Name        string
	Email       string
	Role        Role
	Disabled    bool
	LockedUntil time.Time // zero when not locked
	LastLoginAt time.Time
	CreatedAt   time.Time
}

// Can tells whether the operator may do p.
func (o Operator) Can(p Permission) bool { return !o.Disabled && o.Role.Allows(p) }

// Actor is who did an action, for the audit log.
func (o Operator) Actor(address string) Actor {
	return Actor{ID: o.ID, Login: o.Login, Address: address}
}

// Lockout is the rule for failed logins: after MaxFailures wrong passwords in
// a row the login is refused for LockFor, even with the right password.
type Lockout struct {
	MaxFailures int
	LockFor     time.Duration
}

// DefaultLockout: five tries, then fifteen minutes.
var DefaultLockout = Lockout{MaxFailures: 5, LockFor: 15 * time.Minute}

// Store keeps operators and the audit log.
type Store struct {
	DB      *store.DB
	Clock   clock.Clock
	Lockout Lockout
}

// New makes a Store with the default lockout.
func New(db *store.DB, clk clock.Clock) *Store {
	return &Store{DB: db, Clock: clk, Lockout: DefaultLockout}
}

var loginRe = regexp.MustCompile(`^[a-z0-9][a-z0-9_.-]{1,31}$`)

// CheckPasswordPolicy is the operator password rule: longer than a
// subscriber's, since an operator's password opens everyone's accounts.
func CheckPasswordPolicy(login, pw string) error {
	if n := utf8.RuneCountInString(pw); n < 10 || n > 128 {
		return ErrWeakPassword
	}
	if l := password.NormalLogin(login); l != "" && strings.Contains(strings.ToLower(pw), l) {
		return ErrWeakPassword
	}
	return nil
}

// NewOperator is what Add needs.
type NewOperator struct {
	Login    string
	Name     string
	Email    string
	Role     Role
	Password string
}

// Add creates an operator. actor is who adds (zero Actor for the command
// line, which is recorded as "cli").
func (s *Store) Add(ctx context.Context, actor Actor, n NewOperator) (Operator, error) {
	n.Login = password.NormalLogin(n.Login)
	if !loginRe.MatchString(n.Login) {
		return Operator{}, fmt.Errorf("operator login %q: 2 to 32 of a-z, 0-9, '.', '_', '-': %w", n.Login, derrors.Invalid)
	}
	if _, err := ParseRole(string(n.Role)); err != nil {
		return Operator{}, err
	}
	if n.Email != "" {
		if _, err := mail.ParseAddress(n.Email); err != nil {
			return Operator{}, fmt.Errorf("operator e-mail %q: %w", n.Email, derrors.Invalid)
		}
	}
	if err := CheckPasswordPolicy(n.Login, n.Password); err != nil {
		return Operator{}, fmt.Errorf("operator %s: %w", n.Login, err)
	}
	hash := password.Hash(n.Password)
	now := s.Clock.Now()
	var id int64
	err := s.DB.Write(ctx, func(tx *store.Tx) error {
		err := tx.QueryRow(ctx, `INSERT INTO operators (login, name, email, role, password_hash, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id`,
			n.Login, strings.TrimSpace(n.Name), strings.TrimSpace(n.Email), string(n.Role), hash, now.UTC(), now.UTC()).Scan(&id)
		if store.IsUniqueViolation(err) {
			return fmt.Errorf("operator %s: %w", n.Login, derrors.Exists)
		}
		if err != nil {
			return fmt.Errorf("operator %s: %w", n.Login, err)
		}
		return Audit(ctx, tx, now, actor, Entry{Action: "operator.add", Object: objectOf(id),
			After: map[string]string{"login": n.Login, "name": n.Name, "email": n.Email, "role": string(n.Role)}})
	})
	if err != nil {
		return Operator{}, err
	}
	return s.ByID(ctx, id)
}

func objectOf(id int64) string { return fmt.Sprintf("operator:%d", id) }

const cols = `id, login, name, email, role, disabled, locked_until, last_login_at, created_at`

type row interface{ Scan(...any) error }

func scan(r row, extra ...any) (Operator, error) {
	var o Operator
	var locked, last store.Time
	var role string
	err := r.Scan(append([]any{&o.ID, &o.Login, &o.Name, &o.Email, &role, &o.Disabled, &locked, &last, &o.CreatedAt}, extra...)...)
	o.Role, o.LockedUntil, o.LastLoginAt = Role(role), locked.Time, last.Time
	return o, err
}

func (s *Store) one(ctx context.Context, where string, arg any) (Operator, error) {
	o, err := scan(s.DB.QueryRow(ctx, `SELECT `+cols+` FROM operators WHERE `+where, arg))
	if errors.Is(err, sql.ErrNoRows) {
		return o, fmt.Errorf("operator %v: %w", arg, errNoOperator)
	}
	if err != nil {
		return o, fmt.Errorf("operator %v: %w", arg, err)
	}
	return o, nil
}

// ByID finds an operator.
func (s *Store) ByID(ctx context.Context, id int64) (Operator, error) {
	return s.one(ctx, "id = ?", id)
}

// ByLogin finds an operator by login.
func (s *Store) ByLogin(ctx context.Context, login string) (Operator, error) {
	return s.one(ctx, "login = ?", password.NormalLogin(login))
}

// List returns every operator, by login.
func (s *Store) List(ctx context.Context) ([]Operator, error) {
	rows, err := s.DB.Query(ctx, `SELECT `+cols+` FROM operators ORDER BY login`)
	if err != nil {
		return nil, fmt.Errorf("operators: %w", err)
	}
	defer rows.Close()
	var out []Operator
	for rows.Next() {
		o, err := scan(rows)
		if err != nil {
			return nil, fmt.Errorf("operators: %w", err)
		}
		out = append(out, o)
	}
	return out, rows.Err()
}

// Count tells how many operators exist: zero means the first admin is still
// to be created (`kabinet operator add`).
func (s *Store) Count(ctx context.Context) (int, error) {
	var n int
	err := s.DB.QueryRow(ctx, `SELECT COUNT(*) FROM operators`).Scan(&n)
	return n, err
}

// Authenticate checks a login and password. Wrong passwords count towards a
// lockout; while locked even the right password is refused (ErrLocked), so
// guessing cannot go on in the background. Every outcome is audited. address
// is the client's, for the audit log.
func (s *Store) Authenticate(ctx context.Context, login, pw, address string) (Operator, error) {
	login = password.NormalLogin(login)
	now := s.Clock.Now()
	var hash string
	var failed int
	o, found, err := password.Lookup(ctx, login, pw, func(ctx context.Context, login string) (Operator, error) {
		return scan(s.DB.QueryRow(ctx, `SELECT `+cols+`, password_hash, failed_logins FROM operators WHERE login = ?`, login), &hash, &failed)
	}, sql.ErrNoRows)
	if err != nil {
		return Operator{}, fmt.Errorf("operator login: %w", err)
	}
	if !found {
		// What was typed is not recorded: it may be the password, typed
		// into the login field.
		s.auditLogin(ctx, now, Actor{Login: "(unknown)", Address: address}, "operator.login_failed", "", "unknown login")
		return Operator{}, ErrBadPassword
	}
	actor := o.Actor(address)
	if !o.LockedUntil.IsZero() && now.Before(o.LockedUntil) {
		s.auditLogin(ctx, now, actor, "operator.login_refused", objectOf(o.ID), "locked until "+o.LockedUntil.UTC().Format(time.RFC3339))
		return Operator{}, fmt.Errorf("operator %s until %s: %w", login, o.LockedUntil.UTC().Format(time.RFC3339), ErrLocked)
	}
	if !password.Check(hash, pw) || o.Disabled {
		failed++
		var lockedUntil any
		action := "operator.login_failed"
		if failed >= s.Lockout.MaxFailures && s.Lockout.MaxFailures > 0 {
			lockedUntil, failed, action = now.Add(s.Lockout.LockFor).UTC(), 0, "operator.locked"
		}
		err := s.DB.Write(ctx, func(tx *store.Tx) error {
			if _, err := tx.Exec(ctx, `UPDATE operators SET failed_logins = ?, locked_until = ? WHERE id = ?`, failed, lockedUntil, o.ID); err != nil {
				return err
			}
			return Audit(ctx, tx, now, actor, Entry{Action: action, Object: objectOf(o.ID)})
		})
		if err != nil {
			return Operator{}, fmt.Errorf("operator login %s: %w", login, err)
		}
		return Operator{}, ErrBadPassword
	}
	err = s.DB.Write(ctx, func(tx *store.Tx) error {
		if _, err := tx.Exec(ctx, `UPDATE operators SET failed_logins = 0, locked_until = NULL, last_login_at = ? WHERE id = ?`, now.UTC(), o.ID); err != nil {
			return err
		}
		return Audit(ctx, tx, now, actor, Entry{Action: "operator.login", Object: objectOf(o.ID)})
	})
	if err != nil {
		return Operator{}, fmt.Errorf("operator login %s: %w", login, err)
	}
	o.LastLoginAt, o.LockedUntil = now, time.Time{}
	return o, nil
}

func (s *Store) auditLogin(ctx context.Context, now time.Time, actor Actor, action, object, note string) {
	// A failed write here must not turn a refused login into a 500: the
	// refusal stands either way.
	_ = s.DB.Write(ctx, func(tx *store.Tx) error {
		return Audit(ctx, tx, now, actor, Entry{Action: action, Object: object, Note: note})
	})
}

// Change is an admin's edit of an operator. Nil fields stay as they are.
type Change struct {
	Name     *string
	Email    *string
	Role     *Role
	Disabled *bool
	Password *string // a new password, checked against the policy
	Unlock   bool    // clear the lockout
}

// Update applies an admin's change and audits it with the before and after.
// It refuses to leave the system without an active admin.
func (s *Store) Update(ctx context.Context, actor Actor, id int64, c Change) (Operator, error) {
	before, err := s.ByID(ctx, id)
	if err != nil {
		return Operator{}, err
	}
	after := before
	if c.Name != nil {
		after.Name = strings.TrimSpace(*c.Name)
	}
	if c.Email != nil {
		after.Email = strings.TrimSpace(*c.Email)
		if after.Email != "" {
			if _, err := mail.ParseAddress(after.Email); err != nil {
				return Operator{}, fmt.Errorf("operator e-mail %q: %w", after.Email, derrors.Invalid)
			}
		}
	}
	if c.Role != nil {
		if _, err := ParseRole(string(*c.Role)); err != nil {
			return Operator{}, err
		}
		after.Role = *c.Role
	}
	if c.Disabled != nil {
		after.Disabled = *c.Disabled
	}
	var hash string
	if c.Password != nil {
		if err := CheckPasswordPolicy(before.Login, *c.Password); err != nil {
			return Operator{}, fmt.Errorf("operator %s: %w", before.Login, err)
		}
		hash = password.Hash(*c.Password)
	}
	now := s.Clock.Now()
	err = s.DB.Write(ctx, func(tx *store.Tx) error {
		if before.Role == RoleAdmin && !before.Disabled && (after.Role != RoleAdmin || after.Disabled) {
			var n int
			if err := tx.QueryRow(ctx, `SELECT COUNT(*) FROM operators WHERE role = 'admin' AND NOT disabled AND id <> ?`, id).Scan(&n); err != nil {
				return err
			}
			if n == 0 {
				return ErrLastAdmin
			}
		}
		if _, err := tx.Exec(ctx, `UPDATE operators SET name = ?, email = ?, role = ?, disabled = ?, updated_at = ? WHERE id = ?`,
			after.Name, after.Email, string(after.Role), after.Disabled, now.UTC(), id); err != nil {
			return err
		}
		if hash != "" {
			if _, err := tx.Exec(ctx, `UPDATE operators SET password_hash = ? WHERE id = ?`, hash, id); err != nil {
				return err
			}
		}
		if c.Unlock {
			if _, err := tx.Exec(ctx, `UPDATE operators SET failed_logins = 0, locked_until = NULL WHERE id = ?`, id); err != nil {
				return err
			}
		}
		e := Entry{Action: "operator.update", Object: objectOf(id), Before: auditView(before), After: auditView(after)}
		if hash != "" {
			e.Note = "password changed"
		}
		if c.Unlock {
			e.Note = strings.TrimSpace(e.Note + "; unlocked")
		}
		return Audit(ctx, tx, now, actor, e)
	})
	if err != nil {
		return Operator{}, fmt.Errorf("operator %s: %w", before.Login, err)
	}
	return s.ByID(ctx, id)
}

// auditView is what the audit log keeps of an operator: never the hash.
func auditView(o Operator) map[string]any {
	return map[string]any{"login": o.Login, "name": o.Name, "email": o.Email, "role": o.Role, "disabled": o.Disabled}
}
