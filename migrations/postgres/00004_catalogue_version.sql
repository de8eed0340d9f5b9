-- +goose Up
-- One number that changes with every change to the tariffs or packages:
-- the home page reads it with the account and takes the catalogue's rows
-- from memory while it stays the same (billing.Brief). Triggers keep it,
-- so no writer, in this process or another, can forget to.
CREATE TABLE catalogue_version (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  version BIGINT NOT NULL
);
INSERT INTO catalogue_version (id, version) VALUES (1, 1);

-- +goose StatementBegin
CREATE FUNCTION bump_catalogue_version() RETURNS trigger AS $$
BEGIN
  UPDATE catalogue_version SET version = version + 1;
  RETURN NULL;
END
$$ LANGUAGE plpgsql;
-- +goose StatementEnd
CREATE TRIGGER tariffs_version AFTER INSERT OR UPDATE OR DELETE ON tariffs FOR EACH STATEMENT EXECUTE FUNCTION bump_catalogue_version();
CREATE TRIGGER packages_version AFTER INSERT OR UPDATE OR DELETE ON packages FOR EACH STATEMENT EXECUTE FUNCTION bump_catalogue_version();

-- +goose Down
DROP TRIGGER packages_version ON packages;
DROP TRIGGER tariffs_version ON tariffs;
DROP FUNCTION bump_catalogue_version();
DROP TABLE catalogue_version;
