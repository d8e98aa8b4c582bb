-- Personal data of deleted staff logins is erased after the retention
-- period (IDP_DELETED_RETENTION_DAYS): the identity document number, the
-- birth date, the mobile number and the e-mail address. The EUID, the
-- names and the audit trail stay, so that the history of what the login did
-- can still be read. erased_at says when; an erased login is a deleted one
-- and holds none of those facts, and only an erased one lacks them.

-- +goose Up

ALTER TABLE staff_logins
    ADD COLUMN erased_at timestamptz,
    ALTER COLUMN id_doc_number DROP NOT NULL,
    ALTER COLUMN birth_date DROP NOT NULL,
    ADD CONSTRAINT staff_logins_erased_check CHECK (CASE WHEN erased_at IS NULL
        THEN id_doc_number IS NOT NULL AND birth_date IS NOT NULL
        ELSE status = 'deleted' AND id_doc_number IS NULL AND birth_date IS NULL AND mobile = '' AND email = '' END);

-- Finds the logins due for erasure without reading every deleted one.
CREATE INDEX staff_logins_erasable_idx ON staff_logins (deleted_at) WHERE status = 'deleted' AND erased_at IS NULL;

-- +goose Down

DROP INDEX staff_logins_erasable_idx;
-- Erased facts cannot come back: such rows get placeholders to fit NOT NULL.
UPDATE staff_logins SET id_doc_number = 'erased', birth_date = DATE '1900-01-02' WHERE erased_at IS NOT NULL;
ALTER TABLE staff_logins
    DROP CONSTRAINT staff_logins_erased_check,
    ALTER COLUMN id_doc_number SET NOT NULL,
    ALTER COLUMN birth_date SET NOT NULL,
    DROP COLUMN erased_at;
