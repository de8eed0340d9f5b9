-- +goose Up
-- A NAS must now sign its Access-Requests (Message-Authenticator) unless an
-- operator allows it not to. Rows that have never reported a session are
-- switched to requiring it: nothing runs through them that could break,
-- and one added with the old default would otherwise stay open to forged
-- requests. A NAS with sessions on record is left as it was, because
-- requiring signatures from a router that does not send them would lock
-- out every subscriber behind it at the upgrade; the server logs its first
-- unsigned request, requires signing from the first signed one (kept in
-- require_ma), and the back office shows and changes the setting per NAS.
UPDATE nas SET require_ma = TRUE
WHERE require_ma = FALSE AND NOT EXISTS (SELECT 1 FROM sessions WHERE sessions.nas_id = nas.id);

-- +goose Down
-- Nothing: which rows the Up changed is not recorded, and requiring
-- signatures is never less safe.
SELECT 1;
