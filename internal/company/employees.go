package company

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/mail"
	"time"

	"github.com/kabinet-billing/kabinet/internal/derrors"
	"github.com/kabinet-billing/kabinet/internal/operator"
	"github.com/kabinet-billing/kabinet/internal/password"
	"github.com/kabinet-billing/kabinet/internal/store"
	"github.com/kabinet-billing/kabinet/internal/subscriber"
)

// Employee is someone of the organisation who logs into the portal in the
// company's role: its points, balance and documents, and who else may log
// in. The login is the employee's e-mail address.
type Employee struct {
	ID             int64
	OrganisationID int64
	Login          string
	Name           string
	Active         bool
	CreatedAt      time.Time
	LastLoginAt    time.Time
	passwordHash   string
}

var (
	ErrBadPassword error = derrors.New(derrors.Invalid, "password", "wrong login or password")
	// ErrEmployeeExists: the login is some employee's already.
	ErrEmployeeExists error = &derrors.Error{Kind: derrors.Conflict, Code: "company_employee_exists", Field: "login", Msg: "the login is taken"}
	// ErrWeakPassword is the subscribers' password rule, named for the form.
	ErrWeakPassword error = &derrors.Error{Kind: derrors.Invalid, Code: "company_password", Field: "password", Msg: "password must be 8 to 64 characters"}
)

const employeeCols = `id, organisation_id, login, name, active, created_at, last_login_at, password_hash`

func scanEmployee(row interface{ Scan(...any) error }) (Employee, error) {
	var e Employee
	var last sql.NullTime
	err := row.Scan(&e.ID, &e.OrganisationID, &e.Login, &e.Name, &e.Active, &e.CreatedAt, &last, &e.passwordHash)
	e.LastLoginAt = last.Time
	return e, err
}

// Employees lists who may log in for the organisation.
func (s *Service) Employees(ctx context.Context, orgID int64) ([]Employee, error) {
	rows, err := s.DB.Query(ctx, `SELECT `+employeeCols+` FROM company_employees WHERE organisation_id = ? ORDER BY id`, orgID)
	if err != nil {
		return nil, fmt.Errorf("employees of organisation %d: %w", orgID, err)
	}
	defer rows.Close()
	var out []Employee
	for rows.Next() {
		e, err := scanEmployee(rows)
		if err != nil {
			return nil, fmt.Errorf("employees of organisation %d: %w", orgID, err)
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

// Employee finds one by id.
func (s *Service) Employee(ctx context.Context, id int64) (Employee, error) {
	e, err := scanEmployee(s.DB.QueryRow(ctx, `SELECT `+employeeCols+` FROM company_employees WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return e, fmt.Errorf("employee %d: %w", id, derrors.NotFound)
	}
	return e, err
}

func checkEmployeeLogin(login string) (string, error) {
	login = password.NormalLogin(login)
	if a, err := mail.ParseAddress(login); err != nil || a.Address != login || len(login) > 200 {
		return "", derrors.Invalidf("login", CodeEmployee, "employee login %q: an e-mail address", login)
	}
	return login, nil
}

// AddEmployee lets someone log in for the organisation. by is whoever
// grants it: an operator, or (Actor.Login "employee:<id>") an employee of
// the same organisation in the company cabinet.
func (s *Service) AddEmployee(ctx context.Context, by operator.Actor, orgID int64, login, name, pw string) (Employee, error) {
	login, err := checkEmployeeLogin(login)
	if err != nil {
		return Employee{}, err
	}
	if subscriber.CheckPasswordPolicy(pw) != nil {
		return Employee{}, ErrWeakPassword
	}
	hash := password.Hash(pw)
	now := s.Clock.Now()
	var id int64
	err = s.DB.Write(ctx, func(tx *store.Tx) error {
		if _, err := getOrg(ctx, tx, "o.id = ?", orgID); err != nil {
			return err
		}
		err := tx.QueryRow(ctx, `INSERT INTO company_employees (organisation_id, login, name, password_hash, active, created_at) VALUES (?, ?, ?, ?, ?, ?) RETURNING id`,
			orgID, login, clean(name), hash, true, now.UTC()).Scan(&id)
		if store.IsUniqueViolation(err) {
			return fmt.Errorf("employee %s: %w", login, ErrEmployeeExists)
		}
		if err != nil {
			return err
		}
		return operator.Audit(ctx, tx, now, by, operator.Entry{Action: "company.employee_add", Object: object(orgID),
			After: map[string]any{"employee_id": id, "login": login, "name": clean(name)}})
	})
	if err != nil {
		return Employee{}, fmt.Errorf("add employee to organisation %d: %w", orgID, err)
	}
	return s.Employee(ctx, id)
}

// SetEmployeeActive lets an employee log in again or no more.
func (s *Service) SetEmployeeActive(ctx context.Context, by operator.Actor, orgID, employeeID int64, active bool) error {
	now := s.Clock.Now()
	return s.DB.Write(ctx, func(tx *store.Tx) error {
		r, err := tx.Exec(ctx, `UPDATE company_employees SET active = ? WHERE id = ? AND organisation_id = ?`, active, employeeID, orgID)
		if err != nil {
			return err
		}
		if n, _ := r.RowsAffected(); n == 0 {
			return fmt.Errorf("employee %d of organisation %d: %w", employeeID, orgID, derrors.NotFound)
		}
		return operator.Audit(ctx, tx, now, by, operator.Entry{Action: "company.employee_active", Object: object(orgID),
			After: map[string]any{"employee_id": employeeID, "active": active}})
	})
}

// SetEmployeePassword replaces an employee's password.
func (s *Service) SetEmployeePassword(ctx context.Context, by operator.Actor, orgID, employeeID int64, pw string) error {
	if subscriber.CheckPasswordPolicy(pw) != nil {
		return ErrWeakPassword
	}
	hash := password.Hash(pw)
	now := s.Clock.Now()
	return s.DB.Write(ctx, func(tx *store.Tx) error {
		r, err := tx.Exec(ctx, `UPDATE company_employees SET password_hash = ? WHERE id = ? AND organisation_id = ?`, hash, employeeID, orgID)
		if err != nil {
			return err
		}
		if n, _ := r.RowsAffected(); n == 0 {
			return fmt.Errorf("employee %d of organisation %d: %w", employeeID, orgID, derrors.NotFound)
		}
		return operator.Audit(ctx, tx, now, by, operator.Entry{Action: "company.employee_password", Object: object(orgID),
			After: map[string]any{"employee_id": employeeID}})
	})
}

func (s *Service) employeeByLogin(ctx context.Context, login string) (Employee, error) {
	e, err := scanEmployee(s.DB.QueryRow(ctx, `SELECT `+employeeCols+` FROM company_employees WHERE login = ?`, password.NormalLogin(login)))
	if errors.Is(err, sql.ErrNoRows) {
		return e, fmt.Errorf("employee by login: %w", derrors.NotFound)
	}
	return e, err
}

// IsEmployeeLogin tells whether login has an employee's shape (an e-mail
// address), so that a login form asks the right directory.
func IsEmployeeLogin(login string) bool {
	_, err := checkEmployeeLogin(login)
	return err == nil
}

// Authenticate checks an employee's login and password; an inactive
// employee cannot log in. The error does not say which was wrong.
func (s *Service) Authenticate(ctx context.Context, login, pw string) (Employee, error) {
	e, found, err := password.Lookup(ctx, login, pw, s.employeeByLogin, derrors.NotFound)
	if err != nil {
		return Employee{}, err
	}
	if !found || !e.Active || !password.Check(e.passwordHash, pw) {
		return Employee{}, ErrBadPassword
	}
	now := s.Clock.Now()
	if err := s.DB.Write(ctx, func(tx *store.Tx) error {
		_, err := tx.Exec(ctx, `UPDATE company_employees SET last_login_at = ? WHERE id = ?`, now.UTC(), e.ID)
		return err
	}); err != nil {
		return Employee{}, fmt.Errorf("employee %d: %w", e.ID, err)
	}
	e.LastLoginAt = now
	return e, nil
}

// EmployeeActor is how the audit log names an employee acting in the
// company cabinet.
func EmployeeActor(e Employee, address string) operator.Actor {
	return operator.Actor{Login: "employee:" + e.Login, Address: address}
}
