-- +goose Up
-- A payment method a processor keeps for later charges without the
-- subscriber (autopay): the processor's token (YooKassa's payment_method_id,
-- ChronoPay's rebill reference, the sandbox's own), never a card number.
-- masked ("•••• 4242"), expiry ("12/28") and title ("Visa") are what the
-- subscriber is shown. A method refused as expired or blocked is revoked
-- and never charged again.
CREATE TABLE saved_methods (
  id INTEGER PRIMARY KEY,
  account_id BIGINT NOT NULL REFERENCES accounts(id),
  processor TEXT NOT NULL,
  token TEXT NOT NULL,
  masked TEXT NOT NULL DEFAULT '',
  expiry TEXT NOT NULL DEFAULT '',
  title TEXT NOT NULL DEFAULT '',
  payment_id BIGINT REFERENCES payments(id),
  created_at TIMESTAMP NOT NULL,
  revoked_at TIMESTAMP,
  revoke_reason TEXT NOT NULL DEFAULT ''
);
CREATE UNIQUE INDEX saved_methods_token ON saved_methods(processor, token);
CREATE INDEX saved_methods_account ON saved_methods(account_id, created_at);

-- A card payment whose subscriber asked to remember the card: its paid
-- callback stores the method the processor returns.
CREATE TABLE saved_method_requests (
  payment_id BIGINT PRIMARY KEY REFERENCES payments(id)
);

-- A charge of a saved method, by the caller's idempotency key: a charge
-- resumed after a crash finds its payment instead of making another, and the
-- processor gets the same key again.
CREATE TABLE saved_method_charges (
  charge_key TEXT PRIMARY KEY,
  payment_id BIGINT NOT NULL REFERENCES payments(id),
  method_id BIGINT NOT NULL REFERENCES saved_methods(id),
  created_at TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX saved_method_charges_payment ON saved_method_charges(payment_id);

-- +goose Down
DROP TABLE saved_method_charges;
DROP TABLE saved_method_requests;
DROP TABLE saved_methods;
