-- +goose Up
-- How the subscriber confirms a payment the processor created up front
-- (YooKassa): the processor's own payment id, asked about by the return
-- page, and the card page's address or the SBP link drawn as a QR code.
CREATE TABLE payment_confirmations (
  payment_id BIGINT PRIMARY KEY REFERENCES payments(id),
  method TEXT NOT NULL CHECK (method IN ('card', 'sbp')),
  processor_ref TEXT NOT NULL DEFAULT '',
  confirmation_url TEXT NOT NULL DEFAULT '',
  qr_data TEXT NOT NULL DEFAULT '',
  created_at TIMESTAMP NOT NULL
);

-- A card or SBP payment's money sent back through its processor by an
-- operator. One refund per payment (the whole amount): its key is the
-- processor's Idempotence-Key, so a retried request never refunds twice.
CREATE TABLE payment_refunds (
  id INTEGER PRIMARY KEY,
  payment_id BIGINT NOT NULL UNIQUE REFERENCES payments(id),
  idempotence_key TEXT NOT NULL,
  processor_ref TEXT NOT NULL DEFAULT '',
  amount BIGINT NOT NULL CHECK (amount > 0),
  status TEXT NOT NULL CHECK (status IN ('pending', 'succeeded', 'failed')),
  operator TEXT NOT NULL,
  reason TEXT NOT NULL,
  ledger_txn_id BIGINT REFERENCES ledger_txns(id),
  created_at TIMESTAMP NOT NULL,
  updated_at TIMESTAMP NOT NULL
);

-- +goose Down
DROP TABLE payment_refunds;
DROP TABLE payment_confirmations;
