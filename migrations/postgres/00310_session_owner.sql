-- +goose Up
-- Whose a web session is, so that a password change can end every other
-- session of that subscriber or operator. Written by the session store from
-- the session's own data; NULL for a visitor who has not logged in.
ALTER TABLE web_sessions ADD COLUMN account_id BIGINT;
ALTER TABLE web_sessions ADD COLUMN operator_id BIGINT;
CREATE INDEX web_sessions_account ON web_sessions(account_id) WHERE account_id IS NOT NULL;
CREATE INDEX web_sessions_operator ON web_sessions(operator_id) WHERE operator_id IS NOT NULL;

-- +goose Down
DROP INDEX web_sessions_operator;
DROP INDEX web_sessions_account;
ALTER TABLE web_sessions DROP COLUMN operator_id;
ALTER TABLE web_sessions DROP COLUMN account_id;
