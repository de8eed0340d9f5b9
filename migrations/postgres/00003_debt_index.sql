-- +goose Up
-- The limit check runs every minute over the accounts in debt only.
CREATE INDEX accounts_debt_since ON accounts(status, debt_since) WHERE debt_since IS NOT NULL;

-- +goose Down
DROP INDEX accounts_debt_since;
