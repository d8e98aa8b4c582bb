-- The staff list's search: the identity document number in its normalised
-- form (upper-case letters and digits; the twin of storage.NormalizeIDDocNumber)
-- is kept beside the number as typed, so that a search or a duplicate check
-- compares it without normalising every row again.

-- +goose Up

ALTER TABLE staff_logins ADD COLUMN id_doc_key text
    GENERATED ALWAYS AS (upper(regexp_replace(id_doc_number, '[^A-Za-z0-9]', '', 'g'))) STORED;
CREATE INDEX staff_logins_entity_doc_idx ON staff_logins (entity_id, id_doc_key);

-- +goose Down

DROP INDEX staff_logins_entity_doc_idx;
ALTER TABLE staff_logins DROP COLUMN id_doc_key;
