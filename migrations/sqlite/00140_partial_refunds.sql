-- +goose Up
-- Partial refunds: a payment may be refunded in several parts, each its own
-- row (its own Idempotence-Key at the processor, its own ledger transaction
-- and its own "возврат прихода" receipt), as long as their sum stays within
-- the payment. request_key is the back office form's one-time key: the same
-- form sent twice makes one refund. SQLite cannot drop a UNIQUE constraint,
-- so the table is rebuilt.
CREATE TABLE payment_refunds_new (
  id INTEGER PRIMARY KEY,
  payment_id BIGINT NOT NULL REFERENCES payments(id),
  idempotence_key TEXT NOT NULL,
  request_key TEXT NOT NULL DEFAULT '',
  processor_ref TEXT NOT NULL DEFAULT '',
  amount BIGINT NOT NULL CHECK (amount > 0),
  status TEXT NOT NULL CHECK (status IN ('pending', 'succeeded', 'failed')),
  operator TEXT NOT NULL,
  reason TEXT NOT NULL,
  ledger_txn_id BIGINT REFERENCES ledger_txns(id),
  created_at TIMESTAMP NOT NULL,
  updated_at TIMESTAMP NOT NULL
);
INSERT INTO payment_refunds_new (id, payment_id, idempotence_key, processor_ref, amount, status, operator, reason, ledger_txn_id, created_at, updated_at)
  SELECT id, payment_id, idempotence_key, processor_ref, amount, status, operator, reason, ledger_txn_id, created_at, updated_at FROM payment_refunds;
DROP TABLE payment_refunds;
ALTER TABLE payment_refunds_new RENAME TO payment_refunds;
CREATE INDEX payment_refunds_payment ON payment_refunds(payment_id, id);
CREATE UNIQUE INDEX payment_refunds_request ON payment_refunds(payment_id, request_key) WHERE request_key <> '';
CREATE UNIQUE INDEX payment_refunds_key ON payment_refunds(idempotence_key);

-- +goose Down
DROP INDEX payment_refunds_key;
DROP INDEX payment_refunds_request;
DROP INDEX payment_refunds_payment;
