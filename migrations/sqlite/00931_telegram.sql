-- +goose Up
-- Telegram chats linked to accounts: one chat per account and one account
-- per chat; linking again replaces the link.
CREATE TABLE telegram_chats (
  chat_id BIGINT PRIMARY KEY,
  account_id BIGINT NOT NULL UNIQUE REFERENCES accounts(id),
  username TEXT NOT NULL DEFAULT '',
  lang TEXT NOT NULL DEFAULT '',
  linked_at TIMESTAMP NOT NULL
);

-- One-time tokens of the portal's "connect Telegram" link
-- (https://t.me/<bot>?start=<token>): only the token's SHA-256 is kept;
-- a token links once, before expires_at.
CREATE TABLE telegram_link_tokens (
  id INTEGER PRIMARY KEY,
  account_id BIGINT NOT NULL REFERENCES accounts(id),
  token_hash TEXT NOT NULL UNIQUE,
  created_at TIMESTAMP NOT NULL,
  expires_at TIMESTAMP NOT NULL,
  used_at TIMESTAMP,
  chat_id BIGINT
);
CREATE INDEX telegram_link_tokens_account ON telegram_link_tokens(account_id);

-- +goose Down
DROP TABLE telegram_link_tokens;
DROP TABLE telegram_chats;
