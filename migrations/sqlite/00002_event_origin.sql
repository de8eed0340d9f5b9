-- +goose Up
-- Which process wrote an event, so that every instance can deliver the
-- events of the others (CoA, cache invalidation) without repeating its own.
ALTER TABLE events ADD COLUMN origin TEXT NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE events DROP COLUMN origin;
