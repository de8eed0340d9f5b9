-- +goose Up
-- Every payment that reaches Kabinet from a channel: card processors
-- (channel "card:NAME", pending until the processor's callback), banks and
-- terminals over OSMP or their registries ("osmp:NAME"), and the cashier
-- ("cash"). The (channel, external_id) pair is the payment's idempotency key:
-- a retried callback or pay, or a registry line already paid online, finds
-- the first row and credits nothing again.
CREATE TABLE payments (
  id INTEGER PRIMARY KEY,
  channel TEXT NOT NULL,
  external_id TEXT,
  account_id BIGINT NOT NULL REFERENCES accounts(id),
  amount BIGINT NOT NULL CHECK (amount > 0),
  status TEXT NOT NULL CHECK (status IN ('pending', 'succeeded', 'failed', 'reversed')),
  reason TEXT NOT NULL DEFAULT '',
  decline_code TEXT NOT NULL DEFAULT '',
  source TEXT NOT NULL DEFAULT 'online' CHECK (source IN ('online', 'registry', 'cashier')),
  ledger_txn_id BIGINT REFERENCES ledger_txns(id),
  operator TEXT NOT NULL DEFAULT '',
  memo TEXT NOT NULL DEFAULT '',
  paid_at TIMESTAMP,
  created_at TIMESTAMP NOT NULL,
  updated_at TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX payments_channel_external ON payments(channel, external_id) WHERE external_id IS NOT NULL;
CREATE INDEX payments_account ON payments(account_id, created_at);
CREATE INDEX payments_channel_paid ON payments(channel, paid_at);

-- +goose Down
DROP TABLE payments;
