-- A client's secret rotated with a grace period: the previous secret's
-- SHA-256 (as secret_hash) keeps authenticating the client until
-- previous_secret_expires_at, so that a department can deploy the new one
-- without an outage. Rotating again replaces it. Only a client with a
-- secret has a previous one.
--
-- tokens_valid_after: disabling a client sets it, and the provider honours
-- no token of the client issued before it, even once the client is enabled
-- again (its old tokens stay ended; it gets new ones).

-- +goose Up

ALTER TABLE clients
    ADD COLUMN previous_secret_hash bytea,
    ADD COLUMN previous_secret_expires_at timestamptz,
    ADD COLUMN tokens_valid_after timestamptz,
    ADD CONSTRAINT clients_previous_secret_check CHECK (
        (previous_secret_hash IS NULL) = (previous_secret_expires_at IS NULL)
        AND (previous_secret_hash IS NULL OR secret_hash IS NOT NULL));

-- +goose Down

ALTER TABLE clients
    DROP CONSTRAINT clients_previous_secret_check,
    DROP COLUMN tokens_valid_after,
    DROP COLUMN previous_secret_expires_at,
    DROP COLUMN previous_secret_hash;
