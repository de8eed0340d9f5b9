-- +goose Up
-- Company clients' documents: invoices, acts, UPDs, reconciliation acts.
-- A counter row per kind and year is moved in the transaction that stores
-- the documents it numbers, so numbers have no gaps and never repeat, also
-- under two runs at once.
CREATE TABLE document_counters (
  kind TEXT NOT NULL,
  year INTEGER NOT NULL,
  last BIGINT NOT NULL DEFAULT 0,
  PRIMARY KEY (kind, year)
);

-- A document once issued never changes: its data (JSON, as it was issued)
-- and its PDF are kept, and the triggers below refuse any change to them
-- and any deletion. Only the status, and when it was sent and paid, move.
-- doc_key makes the regular documents (an organisation's invoice or
-- closing document for a month) issued once; on-demand ones have none.
CREATE TABLE documents (
  id INTEGER PRIMARY KEY,
  kind TEXT NOT NULL CHECK (kind IN ('invoice', 'act', 'upd', 'reconciliation')),
  year INTEGER NOT NULL,
  seq BIGINT NOT NULL,
  number TEXT NOT NULL,
  org_id BIGINT NOT NULL,
  org_name TEXT NOT NULL,
  org_inn TEXT NOT NULL DEFAULT '',
  period TEXT NOT NULL,
  doc_date TEXT NOT NULL,
  total BIGINT NOT NULL,
  vat BIGINT NOT NULL,
  doc_key TEXT UNIQUE,
  corrects BIGINT REFERENCES documents(id),
  data TEXT NOT NULL,
  pdf BLOB NOT NULL,
  pdf_sha256 TEXT NOT NULL,
  status TEXT NOT NULL DEFAULT 'issued' CHECK (status IN ('issued', 'sent', 'paid')),
  paid BIGINT NOT NULL DEFAULT 0,
  created_at TIMESTAMP NOT NULL,
  sent_at TIMESTAMP,
  paid_at TIMESTAMP,
  UNIQUE (kind, year, seq)
);
CREATE INDEX documents_org ON documents(org_id, kind, doc_date);
CREATE INDEX documents_kind_status ON documents(kind, status, id);
CREATE INDEX documents_number ON documents(number);

-- +goose StatementBegin
CREATE TRIGGER documents_immutable BEFORE UPDATE OF kind, year, seq, number, org_id, org_name, org_inn, period, doc_date, total, vat, doc_key, corrects, data, pdf, pdf_sha256, created_at ON documents
BEGIN
  SELECT RAISE(ABORT, 'documents are immutable: a correction is a new document');
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER documents_no_delete BEFORE DELETE ON documents
BEGIN
  SELECT RAISE(ABORT, 'documents are immutable: a correction is a new document');
END;
-- +goose StatementEnd

-- The payments that cover an invoice: a part of a ledger payment per row,
-- so a payment split over invoices, or an invoice paid in parts, adds up.
CREATE TABLE document_payments (
  id INTEGER PRIMARY KEY,
  document_id BIGINT NOT NULL REFERENCES documents(id),
  txn_id BIGINT NOT NULL REFERENCES ledger_txns(id),
  amount BIGINT NOT NULL CHECK (amount > 0),
  created_at TIMESTAMP NOT NULL,
  UNIQUE (document_id, txn_id)
);
CREATE INDEX document_payments_txn ON document_payments(txn_id);

-- +goose Down
DROP TABLE document_payments;
DROP TRIGGER documents_no_delete;
DROP TRIGGER documents_immutable;
DROP TABLE documents;
DROP TABLE document_counters;
