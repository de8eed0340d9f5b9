-- +goose Up
-- Company clients (internal/company). An organisation signs one contract;
-- its connection points are ordinary accounts (own login, tariff, address,
-- RADIUS line) listed in company_points. In balance mode 'contract' the
-- organisation's own ledger account (ledger_id, code company:<id>) holds the
-- money for every point: company.Pool covers the points' charges from it,
-- all or none. In mode 'points' each point keeps its own balance and the
-- organisation's ledger account only holds payments not yet given to one.
CREATE TABLE organisations (
  id INTEGER PRIMARY KEY,
  kind TEXT NOT NULL CHECK (kind IN ('legal', 'entrepreneur')),
  full_name TEXT NOT NULL,
  short_name TEXT NOT NULL,
  -- lower-cased names and INN for search: SQLite's LOWER() knows only ASCII.
  search TEXT NOT NULL DEFAULT '',
  inn TEXT NOT NULL,
  kpp TEXT NOT NULL DEFAULT '',
  ogrn TEXT NOT NULL DEFAULT '',
  legal_address TEXT NOT NULL DEFAULT '',
  postal_address TEXT NOT NULL DEFAULT '',
  bank_name TEXT NOT NULL DEFAULT '',
  bik TEXT NOT NULL DEFAULT '',
  settlement_account TEXT NOT NULL DEFAULT '',
  corr_account TEXT NOT NULL DEFAULT '',
  director TEXT NOT NULL DEFAULT '',
  accountant TEXT NOT NULL DEFAULT '',
  email TEXT NOT NULL DEFAULT '',
  phone TEXT NOT NULL DEFAULT '',
  vat_mode TEXT NOT NULL DEFAULT 'vat' CHECK (vat_mode IN ('vat', 'none')),
  contract_no TEXT NOT NULL UNIQUE,
  contract_date TEXT NOT NULL,
  balance_mode TEXT NOT NULL DEFAULT 'contract' CHECK (balance_mode IN ('contract', 'points')),
  ledger_id BIGINT NOT NULL UNIQUE REFERENCES ledger_accounts(id),
  debt_since TIMESTAMP,
  created_at TIMESTAMP NOT NULL,
  updated_at TIMESTAMP NOT NULL
);
-- A branch (обособленное подразделение) shares the INN with its own KPP.
CREATE UNIQUE INDEX organisations_inn_kpp ON organisations(inn, kpp);
CREATE INDEX organisations_name ON organisations(short_name);

CREATE TABLE company_points (
  account_id BIGINT PRIMARY KEY REFERENCES accounts(id),
  organisation_id BIGINT NOT NULL REFERENCES organisations(id),
  label TEXT NOT NULL DEFAULT '',
  added_at TIMESTAMP NOT NULL
);
CREATE INDEX company_points_org ON company_points(organisation_id);

-- Employees log into the portal in the company's role with their e-mail
-- as login (subscribers' logins never hold '@', so the two never clash).
CREATE TABLE company_employees (
  id INTEGER PRIMARY KEY,
  organisation_id BIGINT NOT NULL REFERENCES organisations(id),
  login TEXT NOT NULL UNIQUE,
  name TEXT NOT NULL DEFAULT '',
  password_hash TEXT NOT NULL,
  active BOOLEAN NOT NULL DEFAULT 1,
  created_at TIMESTAMP NOT NULL,
  last_login_at TIMESTAMP
);
CREATE INDEX company_employees_org ON company_employees(organisation_id);

-- Incoming bank transfers from 1C statements. The bank document's number,
-- date and payer account identify it: a statement imported twice, or two
-- overlapping statements, credit it once.
CREATE TABLE bank_payments (
  id INTEGER PRIMARY KEY,
  doc_no TEXT NOT NULL,
  doc_date TEXT NOT NULL,
  payer_account TEXT NOT NULL,
  amount BIGINT NOT NULL CHECK (amount > 0),
  payer_inn TEXT NOT NULL DEFAULT '',
  payer_kpp TEXT NOT NULL DEFAULT '',
  payer_name TEXT NOT NULL DEFAULT '',
  payer_bik TEXT NOT NULL DEFAULT '',
  recipient_account TEXT NOT NULL DEFAULT '',
  purpose TEXT NOT NULL DEFAULT '',
  invoice_no TEXT NOT NULL DEFAULT '',
  status TEXT NOT NULL CHECK (status IN ('credited', 'unsorted')),
  organisation_id BIGINT REFERENCES organisations(id),
  account_id BIGINT REFERENCES accounts(id),
  ledger_txn_id BIGINT REFERENCES ledger_txns(id),
  source TEXT NOT NULL DEFAULT '',
  assigned_by TEXT NOT NULL DEFAULT '',
  created_at TIMESTAMP NOT NULL,
  credited_at TIMESTAMP
);
CREATE UNIQUE INDEX bank_payments_doc ON bank_payments(doc_no, doc_date, payer_account);
CREATE INDEX bank_payments_org ON bank_payments(organisation_id, doc_date);
CREATE INDEX bank_payments_status ON bank_payments(status, created_at);

-- +goose Down
DROP TABLE bank_payments;
DROP TABLE company_employees;
DROP TABLE company_points;
DROP TABLE organisations;
