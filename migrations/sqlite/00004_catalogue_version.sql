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
CREATE TRIGGER tariffs_insert_version AFTER INSERT ON tariffs BEGIN UPDATE catalogue_version SET version = version + 1; END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER tariffs_update_version AFTER UPDATE ON tariffs BEGIN UPDATE catalogue_version SET version = version + 1; END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER tariffs_delete_version AFTER DELETE ON tariffs BEGIN UPDATE catalogue_version SET version = version + 1; END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER packages_insert_version AFTER INSERT ON packages BEGIN UPDATE catalogue_version SET version = version + 1; END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER packages_update_version AFTER UPDATE ON packages BEGIN UPDATE catalogue_version SET version = version + 1; END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER packages_delete_version AFTER DELETE ON packages BEGIN UPDATE catalogue_version SET version = version + 1; END;
-- +goose StatementEnd

-- +goose Down
DROP TRIGGER packages_delete_version;
DROP TRIGGER packages_update_version;
DROP TRIGGER packages_insert_version;
DROP TRIGGER tariffs_delete_version;
DROP TRIGGER tariffs_update_version;
DROP TRIGGER tariffs_insert_version;
DROP TABLE catalogue_version;
