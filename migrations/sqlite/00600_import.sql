-- +goose Up
-- What `kabinet import` brought in, one row per source row (a tariff, a
-- subscriber), keyed by the system and the row's own key there: a second run
-- of the same source finds its rows here, adds nothing twice and reports
-- what changed since from the fields as they were imported.
CREATE TABLE import_rows (
  key TEXT PRIMARY KEY,
  target_id BIGINT NOT NULL,
  fields TEXT NOT NULL,
  note TEXT NOT NULL DEFAULT '',
  imported_at TIMESTAMP NOT NULL
);

-- Payments made in the old billing, before the cut-over: shown in the
-- portal's payment history and in statements, never credited (the imported
-- opening balance already holds them). key is the system's and the source
-- row's: a repeated import adds none twice.
CREATE TABLE payment_history (
  id INTEGER PRIMARY KEY,
  key TEXT NOT NULL UNIQUE,
  account_id BIGINT NOT NULL REFERENCES accounts(id),
  paid_at TIMESTAMP NOT NULL,
  amount BIGINT NOT NULL,
  channel TEXT NOT NULL DEFAULT '',
  memo TEXT NOT NULL DEFAULT ''
);
CREATE INDEX payment_history_account ON payment_history(account_id, paid_at);

-- +goose Down
DROP TABLE payment_history;
DROP TABLE import_rows;
