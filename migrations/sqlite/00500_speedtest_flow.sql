-- +goose Up
-- Speed-test results a subscriber ran from the portal or the app, with the
-- tariff speed at that moment so that history compares like with like after
-- a tariff change.
CREATE TABLE speedtests (
  id INTEGER PRIMARY KEY,
  account_id BIGINT NOT NULL REFERENCES accounts(id),
  at TIMESTAMP NOT NULL,
  ip TEXT NOT NULL DEFAULT '',
  down_kbps BIGINT NOT NULL,
  up_kbps BIGINT NOT NULL,
  ping_us BIGINT NOT NULL,
  jitter_us BIGINT NOT NULL,
  tariff_down_kbps BIGINT NOT NULL DEFAULT 0,
  tariff_up_kbps BIGINT NOT NULL DEFAULT 0,
  limited BOOLEAN NOT NULL DEFAULT 0,
  user_agent TEXT NOT NULL DEFAULT ''
);
CREATE INDEX speedtests_account ON speedtests(account_id, at);

-- Traffic classes ("where the bytes went"): the remote address of a flow
-- picks the class whose prefix matches longest; no match is the default
-- class 'internet'.
CREATE TABLE traffic_classes (
  code TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  name_en TEXT NOT NULL DEFAULT '',
  prefixes TEXT NOT NULL DEFAULT '',
  position INTEGER NOT NULL DEFAULT 0
);
INSERT INTO traffic_classes (code, name, name_en, prefixes, position) VALUES ('internet', 'Интернет', 'Internet', '', 100);

-- Bytes per subscriber per day (provider's zone) per class, from NetFlow;
-- input is upload. Written in batches by the collector.
CREATE TABLE usage_class_daily (
  account_id BIGINT NOT NULL REFERENCES accounts(id),
  day TEXT NOT NULL,
  class TEXT NOT NULL,
  input_octets BIGINT NOT NULL DEFAULT 0,
  output_octets BIGINT NOT NULL DEFAULT 0,
  flows BIGINT NOT NULL DEFAULT 0,
  PRIMARY KEY (account_id, day, class)
);

-- +goose Down
DROP TABLE usage_class_daily;
DROP TABLE traffic_classes;
DROP TABLE speedtests;
