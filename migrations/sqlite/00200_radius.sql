-- +goose Up
-- Access routers allowed to talk RADIUS to us; the source address of a
-- request picks the row.
CREATE TABLE nas (
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  address TEXT NOT NULL UNIQUE,
  secret TEXT NOT NULL,
  kind TEXT NOT NULL DEFAULT 'mikrotik' CHECK (kind IN ('mikrotik', 'cisco', 'juniper', 'accel', 'generic')),
  coa_port INTEGER NOT NULL DEFAULT 3799,
  require_ma BOOLEAN NOT NULL DEFAULT 0,
  created_at TIMESTAMP NOT NULL
);

-- One row per session the NAS reported. Acct-Session-Id is unique per NAS
-- only among open sessions: a rebooted MikroTik starts its counter again.
CREATE TABLE sessions (
  id INTEGER PRIMARY KEY,
  nas_id BIGINT NOT NULL REFERENCES nas(id),
  session_key TEXT NOT NULL,
  account_id BIGINT REFERENCES accounts(id),
  login TEXT NOT NULL DEFAULT '',
  nas_port BIGINT NOT NULL DEFAULT 0,
  nas_port_id TEXT NOT NULL DEFAULT '',
  framed_ip TEXT NOT NULL DEFAULT '',
  calling_station_id TEXT NOT NULL DEFAULT '',
  started_at TIMESTAMP NOT NULL,
  updated_at TIMESTAMP NOT NULL,
  stopped_at TIMESTAMP,
  input_octets BIGINT NOT NULL DEFAULT 0,
  output_octets BIGINT NOT NULL DEFAULT 0,
  session_time BIGINT NOT NULL DEFAULT 0,
  stop_cause TEXT NOT NULL DEFAULT ''
);
CREATE UNIQUE INDEX sessions_open_key ON sessions(nas_id, session_key) WHERE stopped_at IS NULL;
CREATE INDEX sessions_key ON sessions(nas_id, session_key);
CREATE INDEX sessions_account ON sessions(account_id, started_at);
CREATE INDEX sessions_open_updated ON sessions(updated_at) WHERE stopped_at IS NULL;

-- Bytes per subscriber per day (provider's zone); input is upload.
CREATE TABLE usage_daily (
  account_id BIGINT NOT NULL REFERENCES accounts(id),
  day TEXT NOT NULL,
  input_octets BIGINT NOT NULL DEFAULT 0,
  output_octets BIGINT NOT NULL DEFAULT 0,
  PRIMARY KEY (account_id, day)
);

-- CoA and Disconnect outcomes the operators look at.
CREATE TABLE coa_log (
  id INTEGER PRIMARY KEY,
  at TIMESTAMP NOT NULL,
  nas_id BIGINT,
  account_id BIGINT,
  session_key TEXT NOT NULL DEFAULT '',
  login TEXT NOT NULL DEFAULT '',
  action TEXT NOT NULL,
  ok BOOLEAN NOT NULL,
  fell_back BOOLEAN NOT NULL DEFAULT 0,
  error_cause BIGINT NOT NULL DEFAULT 0,
  attempts INTEGER NOT NULL DEFAULT 0,
  error TEXT NOT NULL DEFAULT '',
  reason TEXT NOT NULL DEFAULT ''
);
CREATE INDEX coa_log_at ON coa_log(at);

-- +goose Down
DROP TABLE coa_log;
DROP TABLE usage_daily;
DROP TABLE sessions;
DROP TABLE nas;
