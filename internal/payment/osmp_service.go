package payment

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/kabinet-billing/kabinet/internal/billing"
	"github.com/kabinet-billing/kabinet/internal/derrors"
	"github.com/kabinet-billing/kabinet/internal/money"
	"github.com/kabinet-billing/kabinet/internal/store"
)

// errAccountNotFound, errAccountInactive and errTxnConflict refuse one
// payment of a transaction; osmpCode gives their OSMP codes by kind.
var (
	errAccountNotFound error = derrors.New(derrors.NotFound, "", "account not found")
	errAccountInactive error = derrors.New(derrors.Conflict, "inactive", "account not active")
	errTxnConflict     error = derrors.New(derrors.Conflict, "", "txn_id repeated with a different sum or account")
)

type querier interface {
	Query(ctx context.Context, q string, args ...any) (*sql.Rows, error)
}

// findPayable finds the account a bank names (contract number or login) and
// whether it may be paid: a closed contract may not.
func findPayable(ctx context.Context, q querier, account string) (int64, error) {
	found, err := findPayables(ctx, q, []string{account})
	if err != nil {
		return 0, fmt.Errorf("account %q: %w", account, err)
	}
	return found[account].id, found[account].err
}

// findPayables is findPayable for many accounts, a statement per
// store.ChunkRows: a
// result per name in accounts, with errAccountNotFound or
// errAccountInactive as findPayable gives them.
func findPayables(ctx context.Context, q querier, accounts []string) (map[string]payable, error) {
	found := make(map[string]payable, len(accounts))
	for chunk := range slices.Chunk(accounts, store.ChunkRows) {
		marks, args := store.InList(chunk)
		rows, err := q.Query(ctx, `SELECT id, status, contract_no, login FROM accounts WHERE contract_no IN (`+marks+`) OR login IN (`+marks+`)`,
			append(args, args...)...)
		if err != nil {
			return nil, fmt.Errorf("accounts: %w", err)
		}
		byContract, byLogin := map[string]payable{}, map[string]payable{}
		for rows.Next() {
			var p payable
			var status, contract, login string
			if err := rows.Scan(&p.id, &status, &contract, &login); err != nil {
				rows.Close()
				return nil, fmt.Errorf("accounts: %w", err)
			}
			if status == "closed" {
				p.err = errAccountInactive
			}
			byContract[contract], byLogin[login] = p, p
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("accounts: %w", err)
		}
		for _, a := range chunk {
			// The contract number wins when one account's login is another's number.
			p, ok := byContract[a]
			if !ok {
				p, ok = byLogin[a]
			}
			if !ok {
				p.err = errAccountNotFound
			}
			found[a] = p
		}
	}
	return found, nil
}

// payable is an account a bank names, or why it may not be paid.
type payable struct {
	id  int64
	err error
}

// osmpCode is the OSMP result for err, by its kind: the one place the
// protocol's codes meet the error kinds.
func osmpCode(err error) OSMPResult {
	if err == nil {
		return OSMPOK
	}
	if derrors.Code(err) == "inactive" {
		return OSMPAccountInactive
	}
	switch derrors.Kind(err) {
	case derrors.NotFound:
		return OSMPAccountNotFound
	case derrors.Invalid:
		return OSMPBadAccount
	case derrors.Conflict:
		return OSMPOther
	case derrors.Forbidden:
		return OSMPForbidden
	}
	// The database was away or busy (Unavailable, or an unexpected error):
	// a retry can succeed, so say so.
	return OSMPTemporary
}

// OSMPCheck answers whether the account may be paid.
func (s *Service) OSMPCheck(ctx context.Context, ch *OSMPChannel, req OSMPRequest) OSMPResponse {
	_, err := findPayable(ctx, s.db, req.Account)
	code := osmpCode(err)
	if code == OSMPTemporary {
		// 1, not 243: banks treat 243 as final and refuse the payment, while
		// the database may be back in a second.
		s.log.Error("osmp check failed; the bank will repeat it", "channel", ch.Name, "txn_id", req.TxnID, "err", err)
	}
	return OSMPResponse{Result: code, TxnID: req.TxnID, Sum: req.Sum}
}

// OSMPPay credits the payment once. A repeated txn_id with the same account
// and sum is answered with the first result (its prv_txn) and credits
// nothing; with another account or sum it is an error.
func (s *Service) OSMPPay(ctx context.Context, ch *OSMPChannel, req OSMPRequest) OSMPResponse {
	j := &bankPay{channel: OSMPChannelName(ch.Name), txn: req.TxnID, account: req.Account, sum: req.Sum, paidAt: req.TxnDate, source: SourceOnline,
		done: make(chan struct{})}
	s.pays.add(j, s.payBatch)
	<-j.done
	resp := OSMPResponse{Result: osmpCode(j.err), TxnID: req.TxnID, Sum: req.Sum, PrvTxn: j.id}
	if j.err != nil {
		resp.PrvTxn = 0
		if resp.Result == OSMPTemporary {
			s.log.Error("osmp pay failed; the bank will repeat it", "channel", ch.Name, "txn_id", req.TxnID, "err", j.err)
		} else {
			s.log.Info("osmp pay refused", "channel", ch.Name, "txn_id", req.TxnID, "account", req.Account, "err", j.err)
		}
	}
	return resp
}

// bankPay is one payment a bank reports, online or in its registry.
type bankPay struct {
	channel, txn, account string
	sum                   money.Amount
	paidAt                time.Time
	source                string
	// results
	id       int64
	credited bool
	err      error
	done     chan struct{}
}

// refusal tells whether err refuses one payment on its own merits. Such
// errors come before the payment writes anything, so the others in its
// transaction stand; any other error fails the whole transaction.
func refusal(err error) bool {
	return errors.Is(err, errAccountNotFound) || errors.Is(err, errAccountInactive) || errors.Is(err, errTxnConflict)
}

// payAll records and credits payments in one transaction. An error that is
// not one payment's refusal rolls back all of them, and each then carries it.
func (s *Service) payAll(ctx context.Context, batch []*bankPay) error {
	now := s.clock.Now()
	err := s.db.Write(ctx, func(tx *store.Tx) error {
		return s.payTx(ctx, tx, batch, now)
	})
	if err != nil {
		for _, p := range batch {
			p.id, p.credited, p.err = 0, false, err
		}
	}
	return err
}

// payTx records and credits banks' payments, each unless its (channel, txn)
// is already there; then it gives the first payment's id with
// credited=false, or errTxnConflict when that one was for another account
// or sum. The money moves first, all payments together: the ledger's key
// (channel, txn) decides which are new, and only those get a payments row.
func (s *Service) payTx(ctx context.Context, tx *store.Tx, batch []*bankPay, now time.Time) error {
	var names []string
	for _, p := range batch {
		if !slices.Contains(names, p.account) {
			names = append(names, p.account)
		}
	}
	found, err := findPayables(ctx, tx, names)
	if err != nil {
		return err
	}
	var pays []billing.Payment
	var paying []*bankPay
	for _, p := range batch {
		p.id, p.credited, p.err = 0, false, nil
		acct, err := found[p.account].id, found[p.account].err
		if errors.Is(err, errAccountInactive) {
			// A contract closed since: a retry of a payment made before it
			// still gets the first answer.
			if first, ferr := paymentByExternal(ctx, tx, p.channel, p.txn); ferr == nil && first.AccountID == acct && first.Amount == p.sum {
				p.id = first.ID
				continue
			}
		}
		if err != nil {
			p.err = err
			continue
		}
		at := p.paidAt
		if at.IsZero() || at.After(now) {
			// A bank's clock ahead of ours must not date money into the future.
			at = now
		}
		pays = append(pays, billing.Payment{AccountID: acct, Channel: p.channel, ExternalID: p.txn, Amount: p.sum, At: at})
		paying = append(paying, p)
	}
	if len(pays) == 0 {
		return nil
	}
	rs, err := s.biller.CreditMany(ctx, tx, pays, now)
	if err != nil {
		return err
	}
	// New payments first, so that a repeat later in the batch finds the row.
	var rows []Payment
	var fresh []*bankPay
	var bonus []accrual
	for i, p := range paying {
		if rs[i].Duplicate {
			continue
		}
		paidAt := p.paidAt
		if paidAt.IsZero() {
			paidAt = now
		}
		rows = append(rows, Payment{Channel: p.channel, ExternalID: p.txn, AccountID: pays[i].AccountID,
			Amount: p.sum, Status: StatusSucceeded, Source: p.source, PaidAt: paidAt, LedgerTxnID: rs[i].TxnID})
		fresh = append(fresh, p)
		bonus = append(bonus, accrual{pays[i].AccountID, billing.PaymentKey(p.channel, p.txn), p.sum})
	}
	ids, err := insertNew(ctx, tx, rows, now)
	if err != nil {
		return err
	}
	for i, p := range fresh {
		p.id, p.credited = ids[i], true
	}
	for i, p := range paying {
		if !rs[i].Duplicate {
			continue
		}
		first, err := paymentByExternal(ctx, tx, p.channel, p.txn)
		if err != nil {
			return fmt.Errorf("payment %s/%s: %w", p.channel, p.txn, err)
		}
		if first.AccountID != pays[i].AccountID || first.Amount != p.sum {
			p.err = fmt.Errorf("%s id %s was %s to account %d, now %s to %d: %w",
				p.channel, p.txn, first.Amount, first.AccountID, p.sum, pays[i].AccountID, errTxnConflict)
			continue
		}
		p.id = first.ID
	}
	return s.accrueBonus(ctx, tx, bonus, now)
}

// payBatch runs a batch in one transaction. The batch is not any one
// request's: a bank hanging up must not roll back the others' payments. When
// the transaction fails, each payment is tried again alone, so that one
// payment the database refuses does not fail the others with it, batch
// after batch.
func (s *Service) payBatch(batch []*bankPay) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := s.payAll(ctx, batch); err != nil && len(batch) > 1 {
		for _, p := range batch {
			s.payAll(ctx, []*bankPay{p})
		}
	}
	for _, p := range batch {
		close(p.done)
	}
}
