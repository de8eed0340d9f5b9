-- +goose Up
-- Bearer tokens of the mobile app. Only a SHA-256 of the token is kept: the
-- token is 32 random bytes, so a fast hash is enough to make a stolen table
-- useless, and lookups stay one index probe per request.
CREATE TABLE api_tokens (
  id INTEGER PRIMARY KEY,
  account_id BIGINT NOT NULL REFERENCES accounts(id),
  hash TEXT NOT NULL UNIQUE,
  name TEXT NOT NULL DEFAULT '',
  created_at TIMESTAMP NOT NULL,
  last_used_at TIMESTAMP NOT NULL,
  revoked_at TIMESTAMP
);
CREATE INDEX api_tokens_account ON api_tokens(account_id);

-- +goose Down
DROP TABLE api_tokens;
