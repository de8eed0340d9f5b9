package fiscal

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/kabinet-billing/kabinet/internal/derrors"
	"github.com/kabinet-billing/kabinet/internal/store"
)

var errNoRows = sql.ErrNoRows

const receiptCols = `id, kind, ledger_txn_id, COALESCE(refund_of, 0), account_id, channel, payment_ref, amount, item,
	client_email, client_phone, company_email, inn, payment_address, sno, vat, payment_method, payment_object, payment_type,
	external_id, status, uuid, attempts, resends, next_attempt_at, last_error, fn_number, fiscal_document_number,
	fiscal_document_attribute, fiscal_receipt_number, shift_number, receipt_datetime, ecr_registration_number, fns_site,
	check_url, created_at, done_at`

func scanReceipt(row interface{ Scan(...any) error }) (Receipt, error) {
	var r Receipt
	var done store.Time
	err := row.Scan(&r.ID, &r.Kind, &r.LedgerTxnID, &r.RefundOf, &r.AccountID, &r.Channel, &r.PaymentRef, &r.Amount, &r.Item,
		&r.ClientEmail, &r.ClientPhone, &r.CompanyEmail, &r.INN, &r.PaymentAddress, &r.SNO, &r.VAT, &r.PaymentMethod,
		&r.PaymentObject, &r.PaymentType, &r.ExternalID, &r.Status, &r.UUID, &r.Attempts, &r.Resends, &r.NextAttemptAt,
		&r.LastError, &r.FNNumber, &r.FiscalDocumentNumber, &r.FiscalDocumentAttribute, &r.FiscalReceiptNumber,
		&r.ShiftNumber, &r.ReceiptDatetime, &r.ECRRegistrationNumber, &r.FNSSite, &r.CheckURL, &r.CreatedAt, &done)
	r.DoneAt = done.Time
	return r, err
}

// Filter selects receipts for the back office and the command line.
type Filter struct {
	AccountID int64
	// Status is one status, "unfinished" (queued and wait) or "attention"
	// (unfinished and failed: what an operator must watch); empty: all.
	Status string
	Limit  int
	// Sort (date, kind, amount, status, attempts; default date) and Desc
	// order a Page; Offset is its first row. List is newest first.
	Sort   string
	Desc   bool
	Offset int
}

// pageSorts are the columns a Page sorts by; id breaks ties so that a page
// never repeats or skips a row.
var pageSorts = map[string]string{"date": "id", "kind": "kind", "amount": "amount", "status": "status", "attempts": "attempts"}

// where is the filter's condition and its arguments.
func (f Filter) where() (string, []any, error) {
	where, args := []string{"1 = 1"}, []any{}
	if f.AccountID != 0 {
		where, args = append(where, "account_id = ?"), append(args, f.AccountID)
	}
	switch f.Status {
	case "":
	case "unfinished":
		where, args = append(where, "status IN (?, ?)"), append(args, StatusQueued, StatusWait)
	case "attention":
		where, args = append(where, "status IN (?, ?, ?)"), append(args, StatusQueued, StatusWait, StatusFailed)
	case StatusQueued, StatusWait, StatusDone, StatusFailed:
		where, args = append(where, "status = ?"), append(args, f.Status)
	default:
		return "", nil, fmt.Errorf("receipts: status %q: %w", f.Status, derrors.New(derrors.Invalid, "status", "want queued, wait, done, failed, unfinished or attention"))
	}
	return strings.Join(where, " AND "), args, nil
}

// List reads receipts, newest first.
func (q *Queue) List(ctx context.Context, f Filter) ([]Receipt, error) {
	if f.Limit <= 0 || f.Limit > 5000 {
		f.Limit = 500
	}
	where, args, err := f.where()
	if err != nil {
		return nil, err
	}
	return q.list(ctx, where+` ORDER BY id DESC LIMIT ?`, append(args, f.Limit)...)
}

// Page is the back office's page of receipts as f says (sorted, from
// f.Offset), and how many match in all.
func (q *Queue) Page(ctx context.Context, f Filter) ([]Receipt, int, error) {
	if f.Limit <= 0 || f.Limit > 500 {
		f.Limit = 50
	}
	where, args, err := f.where()
	if err != nil {
		return nil, 0, err
	}
	col, ok := pageSorts[f.Sort]
	if !ok {
		col = pageSorts["date"]
	}
	dir := " ASC"
	if f.Desc {
		dir = " DESC"
	}
	var total int
	if err := q.db.QueryRow(ctx, `SELECT COUNT(*) FROM fiscal_receipts WHERE `+where, args...).Scan(&total); err != nil {
		return nil, 0, fmt.Errorf("receipts: %w", err)
	}
	out, err := q.list(ctx, where+` ORDER BY `+col+dir+`, id`+dir+` LIMIT ? OFFSET ?`, append(args, f.Limit, max(f.Offset, 0))...)
	return out, total, err
}

// list reads the receipts of the condition (with its order and bounds).
func (q *Queue) list(ctx context.Context, cond string, args ...any) ([]Receipt, error) {
	rows, err := q.db.Query(ctx, `SELECT `+receiptCols+` FROM fiscal_receipts WHERE `+cond, args...)
	if err != nil {
		return nil, fmt.Errorf("receipts: %w", err)
	}
	defer rows.Close()
	var out []Receipt
	for rows.Next() {
		r, err := scanReceipt(rows)
		if err != nil {
			return nil, fmt.Errorf("receipts: %w", err)
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// ByTxn maps the account's payments' ledger transactions (and their
// reversals') to their receipts, for the portal's payment history. Scoped
// by account.
func (q *Queue) ByTxn(ctx context.Context, accountID int64) (map[int64][]Receipt, error) {
	rs, err := q.List(ctx, Filter{AccountID: accountID, Limit: 5000})
	if err != nil {
		return nil, err
	}
	sells := map[int64]int64{} // receipt id → the payment's transaction
	out := map[int64][]Receipt{}
	for i := len(rs) - 1; i >= 0; i-- { // oldest first: a sell before its refund
		r := rs[i]
		txn := r.LedgerTxnID
		if r.Kind == KindSellRefund {
			if t, ok := sells[r.RefundOf]; ok {
				txn = t
			}
		} else {
			sells[r.ID] = txn
		}
		out[txn] = append(out[txn], r)
	}
	return out, nil
}

// Get reads one receipt.
func (q *Queue) Get(ctx context.Context, id int64) (Receipt, error) {
	r, err := scanReceipt(q.db.QueryRow(ctx, `SELECT `+receiptCols+` FROM fiscal_receipts WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return r, fmt.Errorf("receipt %d: %w", id, derrors.NotFound)
	}
	return r, err
}

// ResendTx sends the receipt again at once, in tx (the back office audits
// the resend in the same transaction). A receipt still unfinished keeps its
// key, so the operator answers with the receipt it may already have made; a
// failed one (the operator made none) takes a new key. It returns the
// receipt as it was before.
func (q *Queue) ResendTx(ctx context.Context, tx *store.Tx, id int64) (Receipt, error) {
	r, err := scanReceipt(tx.QueryRow(ctx, `SELECT `+receiptCols+` FROM fiscal_receipts WHERE id = ?`+tx.ForUpdate(), id))
	if errors.Is(err, sql.ErrNoRows) {
		return r, fmt.Errorf("receipt %d: %w", id, derrors.NotFound)
	}
	if err != nil {
		return r, fmt.Errorf("receipt %d: %w", id, err)
	}
	now := q.clock.Now().UTC()
	switch r.Status {
	case StatusDone:
		return r, fmt.Errorf("receipt %d: %w", id, ErrDone)
	case StatusFailed:
		_, err = tx.Exec(ctx, `UPDATE fiscal_receipts SET status = ?, uuid = '', external_id = ?, resends = resends + 1, attempts = 0,
			next_attempt_at = ?, updated_at = ? WHERE id = ?`, StatusQueued, externalID(r.Kind, r.LedgerTxnID, r.Resends+1), now, now, id)
	default:
		_, err = tx.Exec(ctx, `UPDATE fiscal_receipts SET attempts = 0, next_attempt_at = ?, updated_at = ? WHERE id = ?`, now, now, id)
	}
	if err != nil {
		return r, fmt.Errorf("receipt %d: %w", id, err)
	}
	tx.OnCommit(q.Wake)
	return r, nil
}
