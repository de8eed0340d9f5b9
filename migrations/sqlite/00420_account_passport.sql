-- +goose Up
-- The subscriber's passport as the contract states it ([contract] passport).
-- Personal data kept apart from accounts, so that lists and searches never
-- read it and one DELETE forgets it.
CREATE TABLE account_passports (
  account_id BIGINT PRIMARY KEY REFERENCES accounts(id),
  series TEXT NOT NULL,
  number TEXT NOT NULL,
  issued_by TEXT NOT NULL,
  issued_on TEXT NOT NULL, -- YYYY-MM-DD
  created_at TIMESTAMP NOT NULL
);

-- +goose Down
DROP TABLE account_passports;
