-- +goose Up
-- One durable queue for every channel (e-mail, Telegram, SMS, Web Push).
-- A row is one message to one recipient on one channel, written in the
-- transaction that caused it; dedup_key (the event, the reminder's period,
-- the broadcast, with the channel) makes a repeat queue nothing.
-- status: queued → sending (written before the channel is asked) → sent or
-- failed. A claim (claim, lease_until) reserves queued rows for one
-- instance's deliverer without sending them; a crash leaves them queued and
-- the lease ends. A row left "sending" by a crash is settled by the
-- channel's rule (notify/queue.go: at most once, or at least once).
CREATE TABLE notifications (
  id INTEGER PRIMARY KEY,
  channel TEXT NOT NULL,
  kind TEXT NOT NULL,
  account_id BIGINT,
  to_addr TEXT NOT NULL,
  subject TEXT NOT NULL DEFAULT '',
  body TEXT NOT NULL,
  dedup_key TEXT UNIQUE,
  broadcast_id BIGINT,
  status TEXT NOT NULL DEFAULT 'queued' CHECK (status IN ('queued', 'sending', 'sent', 'failed')),
  attempts INTEGER NOT NULL DEFAULT 0,
  next_attempt_at TIMESTAMP NOT NULL,
  claim TEXT NOT NULL DEFAULT '',
  lease_until TIMESTAMP,
  last_error TEXT NOT NULL DEFAULT '',
  ref TEXT NOT NULL DEFAULT '',
  created_at TIMESTAMP NOT NULL,
  sent_at TIMESTAMP
);
CREATE INDEX notifications_due ON notifications(channel, status, next_attempt_at);
CREATE INDEX notifications_account ON notifications(account_id);

INSERT INTO notifications (id, channel, kind, account_id, to_addr, subject, body, dedup_key, status, attempts, next_attempt_at, last_error, created_at, sent_at)
  SELECT id, 'email', kind, account_id, to_addr, subject, body, CASE WHEN dedup_key IS NULL THEN NULL ELSE dedup_key || ':email' END,
    status, attempts, next_attempt_at, last_error, created_at, sent_at FROM mail_queue;
-- A letter's files (00831) follow it into the new table.
CREATE TABLE notification_files (
  id INTEGER PRIMARY KEY,
  mail_id BIGINT NOT NULL REFERENCES notifications(id),
  name TEXT NOT NULL,
  content_type TEXT NOT NULL,
  body BLOB NOT NULL
);
INSERT INTO notification_files (id, mail_id, name, content_type, body) SELECT id, mail_id, name, content_type, body FROM mail_attachments;
DROP TABLE mail_attachments;
ALTER TABLE notification_files RENAME TO mail_attachments;
CREATE INDEX mail_attachments_mail ON mail_attachments(mail_id);
DROP TABLE mail_queue;

-- What the subscriber chose against the defaults (notify/prefs.go): a row
-- only where they changed something.
CREATE TABLE notify_prefs (
  account_id BIGINT NOT NULL REFERENCES accounts(id),
  topic TEXT NOT NULL,
  channel TEXT NOT NULL,
  enabled BOOLEAN NOT NULL,
  PRIMARY KEY (account_id, topic, channel)
);

-- Where an account is reached on a channel that is not on the contract (a
-- Telegram chat, a push subscription); e-mail and phone are the account's.
CREATE TABLE notify_addresses (
  account_id BIGINT NOT NULL REFERENCES accounts(id),
  channel TEXT NOT NULL,
  address TEXT NOT NULL,
  created_at TIMESTAMP NOT NULL,
  PRIMARY KEY (account_id, channel)
);

-- Operators' broadcasts: the key makes a re-run queue nothing twice.
CREATE TABLE notify_broadcasts (
  id INTEGER PRIMARY KEY,
  key TEXT NOT NULL UNIQUE,
  channel TEXT NOT NULL,
  target TEXT NOT NULL,
  body TEXT NOT NULL,
  operator TEXT NOT NULL DEFAULT '',
  recipients INTEGER NOT NULL DEFAULT 0,
  created_at TIMESTAMP NOT NULL
);

-- +goose Down
DROP TABLE notify_broadcasts;
DROP TABLE notify_addresses;
DROP TABLE notify_prefs;
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
INSERT INTO mail_queue (id, kind, account_id, to_addr, subject, body, dedup_key, status, attempts, next_attempt_at, last_error, created_at, sent_at)
  SELECT id, kind, account_id, to_addr, subject, body, dedup_key, CASE WHEN status = 'sending' THEN 'queued' ELSE status END,
    attempts, next_attempt_at, last_error, created_at, sent_at FROM notifications WHERE channel = 'email';
CREATE TABLE mail_files (
  id INTEGER PRIMARY KEY,
  mail_id BIGINT NOT NULL REFERENCES mail_queue(id),
  name TEXT NOT NULL,
  content_type TEXT NOT NULL,
  body BLOB NOT NULL
);
INSERT INTO mail_files SELECT f.id, f.mail_id, f.name, f.content_type, f.body FROM mail_attachments f JOIN mail_queue q ON q.id = f.mail_id;
DROP TABLE mail_attachments;
ALTER TABLE mail_files RENAME TO mail_attachments;
CREATE INDEX mail_attachments_mail ON mail_attachments(mail_id);
DROP TABLE notifications;
