-- +goose Up
-- Back-office staff. Roles decide what an operator may do (see
-- internal/operator); failed_logins and locked_until hold the lockout so
-- that it survives a restart and is shared by every instance.
CREATE TABLE operators (
  id INTEGER PRIMARY KEY,
  login TEXT NOT NULL UNIQUE,
  name TEXT NOT NULL DEFAULT '',
  email TEXT NOT NULL DEFAULT '',
  role TEXT NOT NULL CHECK (role IN ('admin', 'manager', 'cashier', 'support')),
  password_hash TEXT NOT NULL,
  disabled BOOLEAN NOT NULL DEFAULT 0,
  failed_logins INTEGER NOT NULL DEFAULT 0,
  locked_until TIMESTAMP,
  last_login_at TIMESTAMP,
  created_at TIMESTAMP NOT NULL,
  updated_at TIMESTAMP NOT NULL
);

-- Every operator action: who, when, what, on which object, the state before
-- and after (JSON). Rows are only ever inserted.
CREATE TABLE audit_log (
  id INTEGER PRIMARY KEY,
  at TIMESTAMP NOT NULL,
  operator_id BIGINT REFERENCES operators(id),
  operator_login TEXT NOT NULL,
  action TEXT NOT NULL,
  object TEXT NOT NULL DEFAULT '',
  before_json TEXT NOT NULL DEFAULT '',
  after_json TEXT NOT NULL DEFAULT '',
  note TEXT NOT NULL DEFAULT '',
  address TEXT NOT NULL DEFAULT ''
);
CREATE INDEX audit_log_at ON audit_log(at);
CREATE INDEX audit_log_operator ON audit_log(operator_login, at);
CREATE INDEX audit_log_object ON audit_log(object);

-- Outgoing mail. A row is written in the transaction (or right after the
-- event) that caused it, so a crash loses nothing; the sender retries with
-- backoff. dedup_key makes a re-read event or a re-run reminder enqueue once.
CREATE TABLE mail_queue (
  id INTEGER PRIMARY KEY,
  kind TEXT NOT NULL,
  account_id BIGINT,
  to_addr TEXT NOT NULL,
  subject TEXT NOT NULL,
  body TEXT NOT NULL,
  dedup_key TEXT UNIQUE,
  status TEXT NOT NULL DEFAULT 'queued' CHECK (status IN ('queued', 'sent', 'failed')),
  attempts INTEGER NOT NULL DEFAULT 0,
  next_attempt_at TIMESTAMP NOT NULL,
  last_error TEXT NOT NULL DEFAULT '',
  created_at TIMESTAMP NOT NULL,
  sent_at TIMESTAMP
);
CREATE INDEX mail_queue_due ON mail_queue(status, next_attempt_at);

-- How far the mail notifier has read the events table.
CREATE TABLE mail_event_cursor (
  name TEXT PRIMARY KEY,
  last_id BIGINT NOT NULL DEFAULT 0
);

-- +goose Down
DROP TABLE mail_event_cursor;
DROP TABLE mail_queue;
DROP TABLE audit_log;
DROP TABLE operators;
