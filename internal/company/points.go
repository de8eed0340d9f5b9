package company

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/kabinet-billing/kabinet/internal/clock"

	"github.com/kabinet-billing/kabinet/internal/derrors"
	"github.com/kabinet-billing/kabinet/internal/ledger"
	"github.com/kabinet-billing/kabinet/internal/money"
	"github.com/kabinet-billing/kabinet/internal/operator"
	"github.com/kabinet-billing/kabinet/internal/store"
	"github.com/kabinet-billing/kabinet/internal/subscriber"
)

// Point is a connection point: an account of the organisation.
type Point struct {
	AccountID  int64
	Login      string
	ContractNo string
	Name       string
	Address    string
	TariffID   int64
	TariffCode string
	TariffName string
	TariffFee  money.Amount // the tariff's monthly fee, VAT included
	Status     string
	LedgerID   int64
	Balance    money.Amount
	DebtSince  time.Time
	Label      string // the operator's name for the place ("Аптека на Ленина")
	AddedAt    time.Time
	LeftAt     time.Time // Departures only: when it left the contract
}

// Queryer is a database or a transaction, for reads that must see a
// transaction's own writes.
type Queryer = queryer

var (
	ErrPointTaken error = derrors.New(derrors.Conflict, CodePointTaken, "the account is already a point of an organisation")
	ErrPointDebt  error = derrors.New(derrors.Conflict, CodePointDebt, "the point is in debt and the contract's balance does not cover it")
	ErrNotPoint   error = derrors.New(derrors.NotFound, CodeNotPoint, "the account is not a point of this organisation")
)

const pointCols = `a.id, a.login, a.contract_no, a.name, a.address, a.tariff_id, t.code, t.name, t.fee, a.status, a.ledger_id, l.balance, a.debt_since, p.label, p.added_at`

// pointDest is where a row's pointCols go.
func pointDest(p *Point, debt *sql.NullTime) []any {
	return []any{&p.AccountID, &p.Login, &p.ContractNo, &p.Name, &p.Address, &p.TariffID, &p.TariffCode, &p.TariffName, &p.TariffFee,
		&p.Status, &p.LedgerID, &p.Balance, debt, &p.Label, &p.AddedAt}
}

func scanPoint(row interface{ Scan(...any) error }) (Point, error) {
	var p Point
	var debt sql.NullTime
	err := row.Scan(pointDest(&p, &debt)...)
	p.DebtSince = debt.Time
	return p, err
}

// byOrganisation reads rows of organisation_id and pointCols (and, for
// departures, left_at) into points by organisation, in the rows' order.
func byOrganisation(rows *sql.Rows, departed bool) (map[int64][]Point, error) {
	defer rows.Close()
	out := map[int64][]Point{}
	for rows.Next() {
		var org int64
		var p Point
		var debt sql.NullTime
		dest := append([]any{&org}, pointDest(&p, &debt)...)
		if departed {
			dest = append(dest, &p.LeftAt)
		}
		if err := rows.Scan(dest...); err != nil {
			return nil, err
		}
		p.DebtSince = debt.Time
		out[org] = append(out[org], p)
	}
	return out, rows.Err()
}

// Points lists an organisation's connection points in the order they were
// added.
func (s *Service) Points(ctx context.Context, orgID int64) ([]Point, error) {
	return PointsOf(ctx, s.DB, orgID)
}

// PointsOf is Points over q (a transaction, to see its own writes).
func PointsOf(ctx context.Context, q Queryer, orgID int64) ([]Point, error) {
	rows, err := q.Query(ctx, `SELECT `+pointCols+` FROM company_points p JOIN accounts a ON a.id = p.account_id
		JOIN tariffs t ON t.id = a.tariff_id JOIN ledger_accounts l ON l.id = a.ledger_id
		WHERE p.organisation_id = ? ORDER BY p.added_at, a.id`, orgID)
	if err != nil {
		return nil, fmt.Errorf("points of organisation %d: %w", orgID, err)
	}
	defer rows.Close()
	var out []Point
	for rows.Next() {
		p, err := scanPoint(rows)
		if err != nil {
			return nil, fmt.Errorf("points of organisation %d: %w", orgID, err)
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

// AllPoints is every organisation's points (by organisation id, each in
// the order they were added) in one query: the documents run lists
// thousands of organisations at once.
func (s *Service) AllPoints(ctx context.Context) (map[int64][]Point, error) {
	rows, err := s.DB.Query(ctx, `SELECT p.organisation_id, `+pointCols+` FROM company_points p JOIN accounts a ON a.id = p.account_id
		JOIN tariffs t ON t.id = a.tariff_id JOIN ledger_accounts l ON l.id = a.ledger_id
		ORDER BY p.organisation_id, p.added_at, a.id`)
	if err != nil {
		return nil, fmt.Errorf("points: %w", err)
	}
	out, err := byOrganisation(rows, false)
	if err != nil {
		return nil, fmt.Errorf("points: %w", err)
	}
	return out, nil
}

// OrganisationOf tells whose point accountID is: found false for a
// subscriber who is a person.
func (s *Service) OrganisationOf(ctx context.Context, accountID int64) (Organisation, bool, error) {
	var orgID int64
	err := s.DB.QueryRow(ctx, `SELECT organisation_id FROM company_points WHERE account_id = ?`, accountID).Scan(&orgID)
	if errors.Is(err, sql.ErrNoRows) {
		return Organisation{}, false, nil
	}
	if err != nil {
		return Organisation{}, false, fmt.Errorf("organisation of account %d: %w", accountID, err)
	}
	o, err := s.Get(ctx, orgID)
	return o, err == nil, err
}

// AttachPoint makes an existing account a point of the organisation. In
// balance mode "contract" the account's balance joins the contract's at
// once (Pool), in the same transaction as the audit entry.
func (s *Service) AttachPoint(ctx context.Context, actor operator.Actor, orgID, accountID int64, label string) error {
	now := s.Clock.Now()
	err := s.DB.Write(ctx, func(tx *store.Tx) error {
		if _, err := getOrg(ctx, tx, "o.id = ?", orgID); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `INSERT INTO company_points (account_id, organisation_id, label, added_at) VALUES (?, ?, ?, ?)`, accountID, orgID, clean(label), now.UTC())
		if store.IsUniqueViolation(err) {
			return fmt.Errorf("account %d: %w", accountID, ErrPointTaken)
		}
		if err != nil {
			if e := tx.QueryRow(ctx, `SELECT id FROM accounts WHERE id = ?`, accountID).Scan(new(int64)); errors.Is(e, sql.ErrNoRows) {
				return fmt.Errorf("account %d: %w", accountID, derrors.NotFound)
			}
			return err
		}
		if err := operator.Audit(ctx, tx, now, actor, operator.Entry{Action: "company.point_add", Object: object(orgID),
			After: map[string]any{"account_id": accountID, "label": label}}); err != nil {
			return err
		}
		_, err = s.Pool(ctx, tx, orgID, now)
		return err
	})
	if err != nil {
		return fmt.Errorf("point %d of organisation %d: %w", accountID, orgID, err)
	}
	s.points.Store(nil) // PointOrg loads them again
	return nil
}

// DetachPoint takes a point out of the organisation's contract: from then
// on it is an ordinary subscriber's account, billed and paid on its own,
// and the contract's invoices and acts leave it out. The contract settles
// with it first (Pool), in the same transaction as the audit entry: a
// point still in debt after that (the contract's balance did not cover
// it) is refused with ErrPointDebt, as that debt is the company's to pay.
// In balance mode "points" what was paid for the point stays on it.
func (s *Service) DetachPoint(ctx context.Context, actor operator.Actor, orgID, accountID int64) error {
	now := s.Clock.Now()
	err := s.DB.Write(ctx, func(tx *store.Tx) error {
		if _, err := s.Pool(ctx, tx, orgID, now); err != nil {
			return err
		}
		points, err := PointsOf(ctx, tx, orgID)
		if err != nil {
			return err
		}
		i := slices.IndexFunc(points, func(p Point) bool { return p.AccountID == accountID })
		if i < 0 {
			return ErrNotPoint
		}
		p := points[i]
		if p.Balance < 0 && p.Status != "closed" {
			return ErrPointDebt
		}
		// Kept for the act of the month it leaves in (Departures).
		if _, err := tx.Exec(ctx, `INSERT INTO company_point_departures (account_id, organisation_id, label, added_at, left_at)
			SELECT account_id, organisation_id, label, added_at, ? FROM company_points WHERE account_id = ? AND organisation_id = ?`,
			now.UTC(), accountID, orgID); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `DELETE FROM company_points WHERE account_id = ? AND organisation_id = ?`, accountID, orgID); err != nil {
			return err
		}
		if err := operator.Audit(ctx, tx, now, actor, operator.Entry{Action: "company.point_remove", Object: object(orgID),
			Before: map[string]any{"account_id": accountID, "login": p.Login, "label": p.Label, "balance": p.Balance.Decimal()}}); err != nil {
			return err
		}
		// The organisation's debt mark follows its remaining points.
		_, err = s.Pool(ctx, tx, orgID, now)
		return err
	})
	if err != nil {
		return fmt.Errorf("point %d of organisation %d: %w", accountID, orgID, err)
	}
	s.points.Store(nil) // PointOrg loads them again
	return nil
}

// CreatePoint signs a new account (its login, password, tariff, address)
// and attaches it. The account is made in its own transaction, as every
// contract is (subscriber.Directory.Create charges the first month), then
// attached; if the attach fails the account stays, a person's, and the
// error says so.
func (s *Service) CreatePoint(ctx context.Context, actor operator.Actor, orgID int64, n subscriber.NewAccount, label string) (subscriber.Account, error) {
	o, err := s.Get(ctx, orgID)
	if err != nil {
		return subscriber.Account{}, err
	}
	if n.Name == "" {
		n.Name = o.ShortName
	}
	if n.Email == "" {
		n.Email = o.Email
	}
	a, err := s.Dir.Create(ctx, n)
	if err != nil {
		return a, err
	}
	if err := s.AttachPoint(ctx, actor, orgID, a.ID, label); err != nil {
		return a, fmt.Errorf("account %s made but not attached: %w", a.Login, err)
	}
	return a, nil
}

// Pool settles the contract's money with its points inside tx, with the
// organisation's row locked (PostgreSQL) so that two instances take turns.
//
// Balance mode "contract": a point's positive balance moves to the
// contract; then, if the contract's balance covers every point's debt, the
// debts are covered (each point back at zero: billing's settle clears its
// debt and lifts its limit); if it does not, none is, and every point
// charged stays in debt, so billing limits them all when it is overdue.
// Balance mode "points": the contract's balance (payments not given to a
// point) covers the points' debts one by one while it lasts.
//
// Every move is a ledger transaction keyed by the point and its last
// posting, so a repeat from another instance with the same state moves
// nothing. It reports how many moves it made.
func (s *Service) Pool(ctx context.Context, tx *store.Tx, orgID int64, now time.Time) (int, error) {
	var mode string
	var lid int64
	if err := tx.QueryRow(ctx, `SELECT balance_mode, ledger_id FROM organisations WHERE id = ?`+tx.ForUpdate(), orgID).Scan(&mode, &lid); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return 0, fmt.Errorf("organisation %d: %w", orgID, errNoOrg)
		}
		return 0, fmt.Errorf("pool organisation %d: %w", orgID, err)
	}
	contract, err := ledger.Balance(ctx, tx, lid)
	if err != nil {
		return 0, err
	}
	points, err := PointsOf(ctx, tx, orgID)
	if err != nil {
		return 0, err
	}
	moves := 0
	move := func(p Point, amount money.Amount, memo string) error {
		var last int64
		if err := tx.QueryRow(ctx, `SELECT COALESCE(MAX(id), 0) FROM postings WHERE ledger_account_id = ?`, p.LedgerID).Scan(&last); err != nil {
			return err
		}
		r, err := s.Biller.PostAndSettle(ctx, tx, p.AccountID, ledger.Txn{Key: fmt.Sprintf("pool:%d:%d", p.AccountID, last), Kind: TxnTransfer,
			Amount: amount, Service: LedgerCode(orgID), Memo: memo, EffectiveAt: now}, LedgerCode(orgID), KindLedger, now)
		if err == nil && !r.Duplicate {
			moves++
			contract -= amount
		}
		return err
	}
	var need money.Amount
	for _, p := range points {
		switch {
		case mode == BalanceContract && p.Balance > 0 && p.Status != "closed":
			if err := move(p, -p.Balance, "to the contract's balance"); err != nil {
				return moves, err
			}
		case p.Balance < 0 && p.Status != "closed":
			need -= p.Balance
		}
	}
	// Contract mode: all or none.
	cover := mode != BalanceContract || contract >= need
	for _, p := range points {
		if !cover || p.Balance >= 0 || p.Status == "closed" || contract < -p.Balance {
			continue
		}
		if err := move(p, -p.Balance, "from the contract's balance"); err != nil {
			return moves, err
		}
	}
	// The organisation's own debt mark, for the debtors' list.
	b, err := balanceOf(ctx, tx, orgID)
	if err != nil {
		return moves, err
	}
	if b.Total < 0 {
		_, err = tx.Exec(ctx, `UPDATE organisations SET debt_since = ? WHERE id = ? AND debt_since IS NULL`, now.UTC(), orgID)
	} else {
		_, err = tx.Exec(ctx, `UPDATE organisations SET debt_since = NULL WHERE id = ? AND debt_since IS NOT NULL`, orgID)
	}
	return moves, err
}

// PoolAll runs Pool for every organisation that may need it, each in its
// own transaction; serve runs it every minute and after billing (the 1st's
// charges land on the points). It reports how many moves it made.
func (s *Service) PoolAll(ctx context.Context) (int, error) {
	// Only where there is money to move or a debt mark to clear: most
	// minutes that is nobody.
	ids, err := store.IDs(s.DB.Query(ctx, `SELECT p.organisation_id FROM company_points p JOIN accounts a ON a.id = p.account_id
		JOIN ledger_accounts l ON l.id = a.ledger_id WHERE l.balance <> 0
		UNION SELECT id FROM organisations WHERE debt_since IS NOT NULL ORDER BY 1`))
	if err != nil {
		return 0, fmt.Errorf("pool: %w", err)
	}
	total := 0
	for _, id := range ids {
		err := s.DB.Write(ctx, func(tx *store.Tx) error {
			n, err := s.Pool(ctx, tx, id, s.Clock.Now())
			total += n
			return err
		})
		if err != nil {
			return total, fmt.Errorf("pool organisation %d: %w", id, err)
		}
	}
	return total, nil
}

// Debtor is an organisation whose balance is below zero.
type Debtor struct {
	Organisation
	Balance Balance
}

// Debtors lists organisations in debt, the oldest debt first.
func (s *Service) Debtors(ctx context.Context, limit int) ([]Debtor, error) {
	if limit <= 0 || limit > 1000 {
		limit = 200
	}
	orgs, err := collect(s.DB.Query(ctx, `SELECT `+orgCols+` FROM organisations o WHERE o.debt_since IS NOT NULL ORDER BY o.debt_since, o.id LIMIT ?`, limit))
	if err != nil {
		return nil, err
	}
	out := make([]Debtor, 0, len(orgs))
	for _, o := range orgs {
		b, err := s.Balance(ctx, o.ID)
		if err != nil {
			return nil, err
		}
		if b.Total < 0 {
			out = append(out, Debtor{Organisation: o, Balance: b})
		}
	}
	return out, nil
}

// Departures are the points that left organisations' contracts after
// since (by organisation id, in the order they left), each with its
// account as it is now and LeftAt: an act for a month a point left in
// lists what it was charged until then.
func (s *Service) Departures(ctx context.Context, since time.Time) (map[int64][]Point, error) {
	rows, err := s.DB.Query(ctx, `SELECT p.organisation_id, `+pointCols+`, p.left_at FROM company_point_departures p JOIN accounts a ON a.id = p.account_id
		JOIN tariffs t ON t.id = a.tariff_id JOIN ledger_accounts l ON l.id = a.ledger_id
		WHERE p.left_at > ? ORDER BY p.organisation_id, p.left_at, p.id`, since.UTC())
	if err != nil {
		return nil, fmt.Errorf("point departures: %w", err)
	}
	out, err := byOrganisation(rows, true)
	if err != nil {
		return nil, fmt.Errorf("point departures: %w", err)
	}
	return out, nil
}

// PointOrg is the organisation whose point the account is, from a map
// loaded on first use and kept fresh by Loop every minute (another
// instance's attach or detach is seen within one) and at once after this
// instance's own.
func (s *Service) PointOrg(ctx context.Context, accountID int64) (int64, bool, error) {
	m := s.points.Load()
	if m == nil {
		if err := s.loadPoints(ctx); err != nil {
			return 0, false, err
		}
		m = s.points.Load()
	}
	org, ok := (*m)[accountID]
	return org, ok, nil
}

func (s *Service) loadPoints(ctx context.Context) error {
	rows, err := s.DB.Query(ctx, `SELECT account_id, organisation_id FROM company_points`)
	if err != nil {
		return fmt.Errorf("points: %w", err)
	}
	defer rows.Close()
	m := map[int64]int64{}
	for rows.Next() {
		var acct, org int64
		if err := rows.Scan(&acct, &org); err != nil {
			return fmt.Errorf("points: %w", err)
		}
		m[acct] = org
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("points: %w", err)
	}
	s.points.Store(&m)
	return nil
}

// Loop runs PoolAll at once and then every interval until ctx ends (serve);
// PoolAll's moves are keyed, so instances sharing PostgreSQL may all run it.
func (s *Service) Loop(ctx context.Context, every time.Duration, log *slog.Logger) {
	tick := func(ctx context.Context) {
		if err := s.loadPoints(ctx); err != nil && log != nil && !errors.Is(err, context.Canceled) {
			log.Error("company points", "err", err)
		}
		n, err := s.PoolAll(ctx)
		switch {
		case err != nil && !errors.Is(err, context.Canceled) && log != nil:
			log.Error("company balances", "err", err)
		case n > 0 && log != nil:
			log.Info("company balances", "moves", n)
		}
	}
	if ctx.Err() == nil {
		tick(context.WithoutCancel(ctx))
	}
	clock.Every(ctx, every, tick)
}
