-- +goose Up
-- Partial refunds: a payment may be refunded in several parts, each its own
-- row (its own Idempotence-Key at the processor, its own ledger transaction
-- and its own "возврат прихода" receipt), as long as their sum stays within
-- the payment. request_key is the back office form's one-time key: the same
-- form sent twice makes one refund.
ALTER TABLE payment_refunds DROP CONSTRAINT payment_refunds_payment_id_key;
ALTER TABLE payment_refunds ADD COLUMN request_key TEXT NOT NULL DEFAULT '';
CREATE INDEX payment_refunds_payment ON payment_refunds(payment_id, id);
CREATE UNIQUE INDEX payment_refunds_request ON payment_refunds(payment_id, request_key) WHERE request_key <> '';
CREATE UNIQUE INDEX payment_refunds_key ON payment_refunds(idempotence_key);

-- +goose Down
DROP INDEX payment_refunds_key;
DROP INDEX payment_refunds_request;
DROP INDEX payment_refunds_payment;
ALTER TABLE payment_refunds DROP COLUMN request_key;
ALTER TABLE payment_refunds ADD CONSTRAINT payment_refunds_payment_id_key UNIQUE (payment_id);
