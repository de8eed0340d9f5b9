-- +goose Up
-- SMS handed to the SMSC over SMPP: one row per submit_sm (a long message
-- is several parts). message_ref is the sender's own id of the message
-- (the notification queue's), so a message's delivery is read from its
-- parts' receipts.
CREATE TABLE sms_parts (
  id INTEGER PRIMARY KEY,
  smsc_id TEXT NOT NULL,
  message_ref TEXT NOT NULL,
  account_id BIGINT REFERENCES accounts(id),
  phone TEXT NOT NULL,
  part INTEGER NOT NULL,
  parts INTEGER NOT NULL,
  submitted_at TIMESTAMP NOT NULL
);
CREATE INDEX sms_parts_smsc ON sms_parts(smsc_id);
CREATE INDEX sms_parts_ref ON sms_parts(message_ref);

-- Delivery receipts by the SMSC's message id: kept apart from the parts
-- because a part's receipt may come before the sender has recorded it
-- (the SMSC answers submit_sm and reports delivery on the same
-- connection, in either order). The latest receipt of an id wins.
CREATE TABLE sms_receipts (
  smsc_id TEXT PRIMARY KEY,
  state TEXT NOT NULL,
  error TEXT NOT NULL DEFAULT '',
  received_at TIMESTAMP NOT NULL
);

-- +goose Down
DROP TABLE sms_receipts;
DROP TABLE sms_parts;
