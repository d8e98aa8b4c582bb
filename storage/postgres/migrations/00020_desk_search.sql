-- The operator's desk finds entities and staff logins across every entity
-- (storage/postgres desk_entities.go). Its searches by a prefix of the
-- entity number, of the username and of the normalised identity document
-- number use these indexes: text_pattern_ops lets a btree serve LIKE 'x%'
-- whatever the database's collation. A search by any part of a name (LIKE
-- '%x%') cannot use a btree; it is a scan that stops at the desk's limit
-- (storage.SearchLimit), acceptable for the office's few concurrent
-- searches. pg_trgm would index it, at the price of an extension the
-- deployment must allow; not needed yet.

-- +goose Up

CREATE INDEX entities_number_prefix_idx ON entities (number text_pattern_ops);
CREATE INDEX staff_logins_username_prefix_idx ON staff_logins (lower(username) text_pattern_ops);
CREATE INDEX staff_logins_doc_key_prefix_idx ON staff_logins (id_doc_key text_pattern_ops);

-- +goose Down

DROP INDEX staff_logins_doc_key_prefix_idx;
DROP INDEX staff_logins_username_prefix_idx;
DROP INDEX entities_number_prefix_idx;
