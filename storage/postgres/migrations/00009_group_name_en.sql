-- A group may have an English name too (the department API sets it); ''
-- falls back to the Portuguese name. An index lets the department API list
-- the assignments of one e-service in one entity without scanning others.

-- +goose Up

ALTER TABLE service_groups ADD COLUMN name_en text NOT NULL DEFAULT '';

-- +goose Down

ALTER TABLE service_groups DROP COLUMN name_en;
