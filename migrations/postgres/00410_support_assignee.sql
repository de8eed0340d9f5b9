-- +goose Up
-- Who in the back office handles a subscriber's request. Kept
-- beside support_requests so that the portal's table stays as it is.
CREATE TABLE support_assignments (
  request_id BIGINT PRIMARY KEY REFERENCES support_requests(id),
  operator TEXT NOT NULL,
  assigned_at TIMESTAMPTZ NOT NULL
);

-- +goose Down
DROP TABLE support_assignments;
