-- +goose Up
-- Voluntary suspensions (добровольная блокировка): the account is frozen
-- from starts_at until ends_at (the planned end, or the moment of an early
-- resume). internal/suspension owns the rows; billing's monthly run reads
-- them so that a month whose 1st falls inside one is not charged the
-- tariff's fee.
CREATE TABLE suspensions (
  id INTEGER PRIMARY KEY,
  account_id BIGINT NOT NULL REFERENCES accounts(id),
  starts_at TIMESTAMP NOT NULL,
  ends_at TIMESTAMP NOT NULL,
  planned_ends_at TIMESTAMP NOT NULL,
  days INTEGER NOT NULL CHECK (days > 0),
  state TEXT NOT NULL DEFAULT 'scheduled' CHECK (state IN ('scheduled', 'active', 'ended', 'cancelled')),
  fee BIGINT NOT NULL DEFAULT 0 CHECK (fee >= 0),
  channel TEXT NOT NULL DEFAULT '',
  operator TEXT NOT NULL DEFAULT '',
  created_at TIMESTAMP NOT NULL,
  started_at TIMESTAMP,
  ended_at TIMESTAMP,
  end_reason TEXT NOT NULL DEFAULT '' CHECK (end_reason IN ('', 'expired', 'early', 'cancelled', 'inactive')),
  reminded_at TIMESTAMP
);
-- At most one scheduled or running suspension per account, however many
-- instances race.
CREATE UNIQUE INDEX suspensions_open ON suspensions(account_id) WHERE state IN ('scheduled', 'active');
CREATE INDEX suspensions_account ON suspensions(account_id, starts_at);
CREATE INDEX suspensions_due_start ON suspensions(starts_at) WHERE state = 'scheduled';
CREATE INDEX suspensions_due_end ON suspensions(ends_at) WHERE state = 'active';

-- +goose Down
DROP TABLE suspensions;
