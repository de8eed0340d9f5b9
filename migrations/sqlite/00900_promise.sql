-- +goose Up
-- Promised payments: the subscriber (or an operator) promises to pay; the
-- line runs unlimited until ends_at, the balance does not move.
CREATE TABLE promises (
  id INTEGER PRIMARY KEY,
  account_id BIGINT NOT NULL REFERENCES accounts(id),
  amount BIGINT NOT NULL CHECK (amount > 0),
  fee BIGINT NOT NULL DEFAULT 0 CHECK (fee >= 0),
  taken_at TIMESTAMP NOT NULL,
  ends_at TIMESTAMP NOT NULL,
  ended_at TIMESTAMP,
  end_reason TEXT NOT NULL DEFAULT '' CHECK (end_reason IN ('', 'paid', 'expired', 'cancelled')),
  channel TEXT NOT NULL DEFAULT '',
  operator TEXT NOT NULL DEFAULT ''
);
-- At most one open promise per account, however many instances race.
CREATE UNIQUE INDEX promises_open ON promises(account_id) WHERE ended_at IS NULL;
CREATE INDEX promises_account ON promises(account_id, taken_at);
CREATE INDEX promises_due ON promises(ends_at) WHERE ended_at IS NULL;

-- The line's hold: while promised_until is in the future the debt does not
-- limit the line (billing's limit check skips it).
ALTER TABLE accounts ADD COLUMN promised_until TIMESTAMP;

-- +goose Down
ALTER TABLE accounts DROP COLUMN promised_until;
DROP TABLE promises;
