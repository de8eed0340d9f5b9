-- +goose Up
-- A point that left its organisation's contract (company.DetachPoint):
-- the act for the month it left in still lists what it was charged while
-- it was the organisation's.
CREATE TABLE company_point_departures (
  id INTEGER PRIMARY KEY,
  account_id BIGINT NOT NULL REFERENCES accounts(id),
  organisation_id BIGINT NOT NULL REFERENCES organisations(id),
  label TEXT NOT NULL DEFAULT '',
  added_at TIMESTAMP NOT NULL,
  left_at TIMESTAMP NOT NULL
);
CREATE INDEX company_point_departures_org ON company_point_departures(organisation_id, left_at);

-- +goose Down
DROP TABLE company_point_departures;
