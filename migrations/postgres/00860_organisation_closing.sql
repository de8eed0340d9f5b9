-- +goose Up
-- The document an organisation gets for a past month: '' the provider's
-- [documents] closing, or its own choice of 'act' or 'upd'.
ALTER TABLE organisations ADD COLUMN closing TEXT NOT NULL DEFAULT '' CHECK (closing IN ('', 'act', 'upd'));

-- +goose Down
ALTER TABLE organisations DROP COLUMN closing;
