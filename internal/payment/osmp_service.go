package payment

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/kabinet-billing/kabinet/internal/money"
	"github.com/kabinet-billing/kabinet/internal/store"
)

// errAccountNotFound and errAccountInactive carry the OSMP codes out of a
// transaction.
var (
	errAccountNotFound = errors.New("account not found")
	errAccountInactive = errors.New("account not active")
	errTxnConflict     = errors.New("txn_id repeated with a different sum or account")
)

type queryRower interface {
	QueryRow(ctx context.Context, q string, args ...any) *sql.Row
}

// findPayable finds the account a bank names (contract number or login) and
// whether it may be paid: a closed contract may not.
func findPayable(ctx context.Context, q queryRower, account string) (int64, error) {
	var id int64
	var status string
	err := q.QueryRow(ctx, `SELECT id, status FROM accounts WHERE contract_no = ? UNION ALL
		SELECT id, status FROM accounts WHERE login = ? LIMIT 1`, account, account).Scan(&id, &status)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, errAccountNotFound
	}
	if err != nil {
		return 0, fmt.Errorf("account %q: %w", account, err)
	}
	if status == "closed" {
		return id, errAccountInactive
	}
	return id, nil
}

func osmpCode(err error) OSMPResult {
	switch {
	case err == nil:
		return OSMPOK
	case errors.Is(err, errAccountNotFound):
		return OSMPAccountNotFound
	case errors.Is(err, errAccountInactive):
		return OSMPAccountInactive
	case errors.Is(err, errTxnConflict):
		return OSMPOther
	}
	// The database was away or busy: a retry can succeed, so say so.
	return OSMPTemporary
}

// OSMPCheck answers whether the account may be paid.
func (s *Service) OSMPCheck(ctx context.Context, ch *OSMPChannel, req OSMPRequest) OSMPResponse {
	_, err := findPayable(ctx, s.db, req.Account)
	code := osmpCode(err)
	if code == OSMPTemporary {
		s.log.Error("osmp check failed", "channel", ch.Name, "txn_id", req.TxnID, "err", err)
		code = OSMPCannotCheck
	}
	return OSMPResponse{Result: code, TxnID: req.TxnID, Sum: req.Sum}
}

// OSMPPay credits the payment once. A repeated txn_id with the same account
// and sum is answered with the first result (its prv_txn) and credits
// nothing; with another account or sum it is an error.
func (s *Service) OSMPPay(ctx context.Context, ch *OSMPChannel, req OSMPRequest) OSMPResponse {
	id, _, err := s.payOnce(ctx, OSMPChannelName(ch.Name), req.TxnID, req.Account, req.Sum, req.TxnDate, SourceOnline)
	resp := OSMPResponse{Result: osmpCode(err), TxnID: req.TxnID, Sum: req.Sum, PrvTxn: id}
	if err != nil {
		resp.PrvTxn = 0
		if resp.Result == OSMPTemporary {
			s.log.Error("osmp pay failed; the bank will repeat it", "channel", ch.Name, "txn_id", req.TxnID, "err", err)
		} else {
			s.log.Info("osmp pay refused", "channel", ch.Name, "txn_id", req.TxnID, "account", req.Account, "err", err)
		}
	}
	return resp
}

// payOnce records and credits a bank's payment unless (channel, txn) is
// already there; then it returns the first payment's id with credited=false,
// or errTxnConflict when that one was for another account or sum.
func (s *Service) payOnce(ctx context.Context, channel, txn, account string, sum money.Amount, paidAt time.Time, source string) (id int64, credited bool, err error) {
	now := s.clock.Now()
	if paidAt.IsZero() {
		paidAt = now
	}
	err = s.db.Write(ctx, func(tx *store.Tx) error {
		credited = false
		acct, err := findPayable(ctx, tx, account)
		if err != nil {
			return err
		}
		p := Payment{Channel: channel, ExternalID: txn, AccountID: acct, Amount: sum, Status: StatusSucceeded, Source: source, PaidAt: paidAt}
		newID, inserted, err := insertPayment(ctx, tx, p, now)
		if err != nil {
			return err
		}
		if !inserted {
			first, err := paymentByExternal(ctx, tx, channel, txn)
			if err != nil {
				return fmt.Errorf("payment %s/%s: %w", channel, txn, err)
			}
			if first.AccountID != acct || first.Amount != sum {
				return fmt.Errorf("txn_id %s was %s to account %d, now %s to %d: %w", txn, first.Amount, first.AccountID, sum, acct, errTxnConflict)
			}
			id = first.ID
			return nil
		}
		p.ID = newID
		txnID, err := s.credit(ctx, tx, p, now)
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE payments SET ledger_txn_id = ? WHERE id = ?`, txnID, newID); err != nil {
			return fmt.Errorf("payment %d: %w", newID, err)
		}
		id, credited = newID, true
		return nil
	})
	return id, credited, err
}
