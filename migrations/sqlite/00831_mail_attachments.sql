-- +goose Up
-- Files a letter carries (a company's invoice and act as PDFs), written with
-- the letter in its transaction.
CREATE TABLE mail_attachments (
  id INTEGER PRIMARY KEY,
  mail_id BIGINT NOT NULL REFERENCES mail_queue(id),
  name TEXT NOT NULL,
  content_type TEXT NOT NULL,
  body BLOB NOT NULL
);
CREATE INDEX mail_attachments_mail ON mail_attachments(mail_id);

-- +goose Down
DROP TABLE mail_attachments;
