-- +goose Up
CREATE TABLE cities (
  id INTEGER PRIMARY KEY,
  code TEXT NOT NULL UNIQUE,
  name TEXT NOT NULL,
  name_en TEXT NOT NULL DEFAULT ''
);

CREATE TABLE tariffs (
  id INTEGER PRIMARY KEY,
  code TEXT NOT NULL UNIQUE,
  name TEXT NOT NULL,
  name_en TEXT NOT NULL DEFAULT '',
  description TEXT NOT NULL DEFAULT '',
  fee BIGINT NOT NULL CHECK (fee >= 0),
  down_kbps BIGINT NOT NULL CHECK (down_kbps > 0),
  up_kbps BIGINT NOT NULL CHECK (up_kbps > 0),
  city_id BIGINT REFERENCES cities(id),
  public BOOLEAN NOT NULL DEFAULT 1,
  archived BOOLEAN NOT NULL DEFAULT 0,
  prorate BOOLEAN NOT NULL DEFAULT 0,
  created_at TIMESTAMP NOT NULL
);

CREATE TABLE packages (
  id INTEGER PRIMARY KEY,
  code TEXT NOT NULL UNIQUE,
  kind TEXT NOT NULL CHECK (kind IN ('tv', 'antivirus', 'static_ip', 'boost', 'other')),
  name TEXT NOT NULL,
  name_en TEXT NOT NULL DEFAULT '',
  description TEXT NOT NULL DEFAULT '',
  price BIGINT NOT NULL CHECK (price >= 0),
  pricing TEXT NOT NULL CHECK (pricing IN ('monthly', 'once', 'duration')),
  duration_hours INTEGER NOT NULL DEFAULT 0,
  speed_percent INTEGER NOT NULL DEFAULT 0,
  city_id BIGINT REFERENCES cities(id),
  archived BOOLEAN NOT NULL DEFAULT 0,
  created_at TIMESTAMP NOT NULL
);

CREATE TABLE ledger_accounts (
  id INTEGER PRIMARY KEY,
  code TEXT NOT NULL UNIQUE,
  kind TEXT NOT NULL,
  balance BIGINT NOT NULL DEFAULT 0
);

CREATE TABLE accounts (
  id INTEGER PRIMARY KEY,
  login TEXT NOT NULL UNIQUE,
  contract_no TEXT NOT NULL UNIQUE,
  contract_date TEXT NOT NULL,
  name TEXT NOT NULL DEFAULT '',
  address TEXT NOT NULL DEFAULT '',
  city_id BIGINT REFERENCES cities(id),
  phone TEXT NOT NULL DEFAULT '',
  email TEXT NOT NULL DEFAULT '',
  password_hash TEXT NOT NULL,
  password_enc TEXT NOT NULL,
  tariff_id BIGINT NOT NULL REFERENCES tariffs(id),
  next_tariff_id BIGINT REFERENCES tariffs(id),
  next_tariff_at TIMESTAMP,
  status TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'limited', 'blocked', 'frozen', 'closed')),
  ledger_id BIGINT NOT NULL UNIQUE REFERENCES ledger_accounts(id),
  debt_since TIMESTAMP,
  limited_since TIMESTAMP,
  notify_email BOOLEAN NOT NULL DEFAULT 1,
  notify_sms BOOLEAN NOT NULL DEFAULT 0,
  lang TEXT NOT NULL DEFAULT 'ru',
  created_at TIMESTAMP NOT NULL,
  updated_at TIMESTAMP NOT NULL
);
CREATE INDEX accounts_status ON accounts(status);
CREATE INDEX accounts_city ON accounts(city_id);

CREATE TABLE subscriptions (
  id INTEGER PRIMARY KEY,
  account_id BIGINT NOT NULL REFERENCES accounts(id),
  package_id BIGINT NOT NULL REFERENCES packages(id),
  started_at TIMESTAMP NOT NULL,
  ends_at TIMESTAMP,
  ended_at TIMESTAMP,
  license_key TEXT NOT NULL DEFAULT '',
  static_ip TEXT NOT NULL DEFAULT ''
);
CREATE INDEX subscriptions_account ON subscriptions(account_id);

CREATE TABLE tariff_changes (
  id INTEGER PRIMARY KEY,
  account_id BIGINT NOT NULL REFERENCES accounts(id),
  from_tariff_id BIGINT NOT NULL REFERENCES tariffs(id),
  to_tariff_id BIGINT NOT NULL REFERENCES tariffs(id),
  requested_at TIMESTAMP NOT NULL,
  effective_at TIMESTAMP NOT NULL
);
CREATE INDEX tariff_changes_account ON tariff_changes(account_id);

CREATE TABLE ledger_txns (
  id INTEGER PRIMARY KEY,
  key TEXT NOT NULL UNIQUE,
  kind TEXT NOT NULL,
  account_id BIGINT REFERENCES accounts(id),
  amount BIGINT NOT NULL,
  service TEXT NOT NULL DEFAULT '',
  period TEXT NOT NULL DEFAULT '',
  memo TEXT NOT NULL DEFAULT '',
  effective_at TIMESTAMP NOT NULL,
  created_at TIMESTAMP NOT NULL,
  reverses BIGINT REFERENCES ledger_txns(id),
  batch BIGINT
);
CREATE INDEX ledger_txns_account ON ledger_txns(account_id, effective_at);
CREATE INDEX ledger_txns_batch ON ledger_txns(batch) WHERE batch IS NOT NULL;

CREATE TABLE postings (
  id INTEGER PRIMARY KEY,
  txn_id BIGINT NOT NULL REFERENCES ledger_txns(id),
  ledger_account_id BIGINT NOT NULL REFERENCES ledger_accounts(id),
  amount BIGINT NOT NULL
);
CREATE INDEX postings_txn ON postings(txn_id);
CREATE INDEX postings_account ON postings(ledger_account_id);

CREATE TABLE events (
  id INTEGER PRIMARY KEY,
  kind TEXT NOT NULL,
  account_id BIGINT,
  data TEXT NOT NULL DEFAULT '{}',
  created_at TIMESTAMP NOT NULL
);

CREATE TABLE billing_runs (
  id INTEGER PRIMARY KEY,
  at TIMESTAMP NOT NULL,
  period TEXT NOT NULL,
  started_at TIMESTAMP NOT NULL,
  finished_at TIMESTAMP,
  charges BIGINT NOT NULL DEFAULT 0,
  total BIGINT NOT NULL DEFAULT 0,
  limited BIGINT NOT NULL DEFAULT 0
);

-- +goose Down
DROP TABLE billing_runs;
DROP TABLE events;
DROP TABLE postings;
DROP TABLE ledger_txns;
DROP TABLE tariff_changes;
DROP TABLE subscriptions;
DROP TABLE accounts;
DROP TABLE ledger_accounts;
DROP TABLE packages;
DROP TABLE tariffs;
DROP TABLE cities;
