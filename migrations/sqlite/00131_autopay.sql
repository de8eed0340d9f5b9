-- +goose Up
-- An account's autopay: the saved method charged before the 1st and the
-- amount rule (the recommended payment, or a fixed sum). off_reason says why
-- it is off: '' by the subscriber, card_expired or card_blocked after the
-- card was refused for good.
CREATE TABLE autopay (
  account_id BIGINT PRIMARY KEY REFERENCES accounts(id),
  method_id BIGINT NOT NULL REFERENCES saved_methods(id),
  enabled BOOLEAN NOT NULL,
  amount_rule TEXT NOT NULL CHECK (amount_rule IN ('recommended', 'fixed')),
  fixed_amount BIGINT NOT NULL DEFAULT 0 CHECK (fixed_amount >= 0),
  off_reason TEXT NOT NULL DEFAULT '',
  updated_at TIMESTAMP NOT NULL
);

-- A card payment started from the autopay page: when its method is saved,
-- autopay turns on with the rule asked for.
CREATE TABLE autopay_requests (
  payment_id BIGINT PRIMARY KEY REFERENCES payments(id),
  account_id BIGINT NOT NULL REFERENCES accounts(id),
  amount_rule TEXT NOT NULL CHECK (amount_rule IN ('recommended', 'fixed')),
  fixed_amount BIGINT NOT NULL DEFAULT 0,
  created_at TIMESTAMP NOT NULL
);

-- One charge per account and period (the month it pays for, "2027-01"):
-- the unique pair makes it once however many instances plan it. status:
-- due (waiting for next_attempt_at), charging (claimed by an instance until
-- lease_until; a lease run out is a crashed attempt, resumed with its key),
-- succeeded, failed (after the retries or a card refused for good), skipped
-- (nothing to pay, or autopay turned off before it ran).
CREATE TABLE autopay_charges (
  id INTEGER PRIMARY KEY,
  account_id BIGINT NOT NULL REFERENCES accounts(id),
  period TEXT NOT NULL,
  method_id BIGINT NOT NULL REFERENCES saved_methods(id),
  amount BIGINT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('due', 'charging', 'succeeded', 'failed', 'skipped')),
  attempts INTEGER NOT NULL DEFAULT 0,
  next_attempt_at TIMESTAMP NOT NULL,
  lease_until TIMESTAMP,
  payment_id BIGINT REFERENCES payments(id),
  reason TEXT NOT NULL DEFAULT '',
  created_at TIMESTAMP NOT NULL,
  updated_at TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX autopay_charges_period ON autopay_charges(account_id, period);
CREATE INDEX autopay_charges_due ON autopay_charges(status, next_attempt_at);

-- +goose Down
DROP TABLE autopay_charges;
DROP TABLE autopay_requests;
DROP TABLE autopay;
