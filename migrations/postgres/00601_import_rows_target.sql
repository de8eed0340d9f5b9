-- +goose Up
-- An account's card names the billing it was imported from (its credit
-- there, a second phone): found by the account.
CREATE INDEX import_rows_target ON import_rows(target_id);

-- +goose Down
DROP INDEX import_rows_target;
