-- +goose Up
-- 54-FZ fiscal receipts. A row is written in the transaction that credits
-- (or reverses) the payment, so a payment never exists without its
-- receipt's row; the worker sends it to the fiscal data operator afterwards
-- and retries while the operator is away. One row per ledger transaction:
-- a payment's credit gets its "sell", a reversal its "sell_refund".
CREATE TABLE fiscal_receipts (
  id INTEGER PRIMARY KEY,
  kind TEXT NOT NULL CHECK (kind IN ('sell', 'sell_refund')),
  ledger_txn_id BIGINT NOT NULL UNIQUE REFERENCES ledger_txns(id),
  refund_of BIGINT REFERENCES fiscal_receipts(id),
  account_id BIGINT NOT NULL REFERENCES accounts(id),
  channel TEXT NOT NULL,
  payment_ref TEXT NOT NULL,
  amount BIGINT NOT NULL CHECK (amount > 0),
  item TEXT NOT NULL,
  client_email TEXT NOT NULL DEFAULT '',
  client_phone TEXT NOT NULL DEFAULT '',
  company_email TEXT NOT NULL,
  inn TEXT NOT NULL,
  payment_address TEXT NOT NULL,
  sno TEXT NOT NULL,
  vat TEXT NOT NULL,
  payment_method TEXT NOT NULL,
  payment_object INTEGER NOT NULL,
  payment_type INTEGER NOT NULL,
  -- The operator's idempotency key: a resend under the same key never
  -- makes a second receipt. A new key only after the operator failed it.
  external_id TEXT NOT NULL UNIQUE,
  status TEXT NOT NULL DEFAULT 'queued' CHECK (status IN ('queued', 'wait', 'done', 'failed')),
  uuid TEXT NOT NULL DEFAULT '',
  attempts INTEGER NOT NULL DEFAULT 0,
  resends INTEGER NOT NULL DEFAULT 0,
  next_attempt_at TIMESTAMP NOT NULL,
  last_error TEXT NOT NULL DEFAULT '',
  fn_number TEXT NOT NULL DEFAULT '',
  fiscal_document_number BIGINT NOT NULL DEFAULT 0,
  fiscal_document_attribute TEXT NOT NULL DEFAULT '',
  fiscal_receipt_number BIGINT NOT NULL DEFAULT 0,
  shift_number BIGINT NOT NULL DEFAULT 0,
  receipt_datetime TEXT NOT NULL DEFAULT '',
  ecr_registration_number TEXT NOT NULL DEFAULT '',
  fns_site TEXT NOT NULL DEFAULT '',
  check_url TEXT NOT NULL DEFAULT '',
  created_at TIMESTAMP NOT NULL,
  updated_at TIMESTAMP NOT NULL,
  done_at TIMESTAMP
);
CREATE INDEX fiscal_receipts_due ON fiscal_receipts(status, next_attempt_at);
CREATE INDEX fiscal_receipts_account ON fiscal_receipts(account_id, id);

-- +goose Down
DROP TABLE fiscal_receipts;
