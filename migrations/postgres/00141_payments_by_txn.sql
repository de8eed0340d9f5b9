-- +goose Up
-- Payments by their ledger transaction: a reversal marks its payment by
-- it, the mail queue asks whether a credited payment was an autopay charge,
-- and a refund check finds the payment's refunds. Without the index each is
-- a scan of every payment.
CREATE INDEX payments_ledger_txn ON payments(ledger_txn_id) WHERE ledger_txn_id IS NOT NULL;

-- +goose Down
DROP INDEX payments_ledger_txn;
