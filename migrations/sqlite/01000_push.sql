-- +goose Up
-- Web Push (RFC 8030). The server's VAPID key pair (RFC 8292), made once at
-- the first start: one row. Browsers bind a subscription to the public key,
-- so it must outlive restarts and be the same on every instance.
CREATE TABLE push_vapid (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  public_key TEXT NOT NULL,
  private_key TEXT NOT NULL,
  created_at TIMESTAMP NOT NULL
);
-- The subscribers' devices: the push service's endpoint for each and the
-- keys its messages are encrypted with (RFC 8291).
CREATE TABLE push_subscriptions (
  id INTEGER PRIMARY KEY,
  account_id BIGINT NOT NULL REFERENCES accounts(id),
  endpoint TEXT NOT NULL UNIQUE,
  p256dh TEXT NOT NULL,
  auth TEXT NOT NULL,
  device TEXT NOT NULL DEFAULT '',
  created_at TIMESTAMP NOT NULL,
  last_sent_at TIMESTAMP
);
CREATE INDEX push_subscriptions_account ON push_subscriptions(account_id);

-- +goose Down
DROP TABLE push_subscriptions;
DROP TABLE push_vapid;
