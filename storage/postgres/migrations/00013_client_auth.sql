-- How a confidential client authenticates at the token, introspection and
-- revocation endpoints.
--
-- token_auth_method NULL is the default: the client's secret in the HTTP
-- Basic header (client_secret_basic) or in the form body
-- (client_secret_post), whichever its library sends. A client registered
-- with one method is held to it. A private_key_jwt client has no secret: it
-- signs an assertion (RFC 7523) with a key of its own JWKS, given inline
-- (jwks) or published at an https address (jwks_uri), exactly one of them.
-- A public (native) client has neither secret nor method: it sends its
-- client_id and proves PKCE.

-- +goose Up

ALTER TABLE clients
    ADD COLUMN token_auth_method text,
    ADD COLUMN jwks jsonb,
    ADD COLUMN jwks_uri text,
    DROP CONSTRAINT clients_check,
    ADD CONSTRAINT clients_token_auth_method_check CHECK (
        token_auth_method IN ('client_secret_basic', 'client_secret_post', 'private_key_jwt')),
    ADD CONSTRAINT clients_jwks_uri_check CHECK (jwks_uri ~ '^https://[^\s]+$' AND length(jwks_uri) <= 2048),
    ADD CONSTRAINT clients_jwks_check CHECK (jsonb_typeof(jwks -> 'keys') = 'array'),
    ADD CONSTRAINT clients_credentials_check CHECK (CASE
        WHEN public THEN secret_hash IS NULL AND token_auth_method IS NULL AND jwks IS NULL AND jwks_uri IS NULL
        WHEN token_auth_method = 'private_key_jwt' THEN secret_hash IS NULL AND ((jwks IS NULL) <> (jwks_uri IS NULL))
        ELSE secret_hash IS NOT NULL AND jwks IS NULL AND jwks_uri IS NULL END);

-- +goose Down

DELETE FROM clients WHERE token_auth_method = 'private_key_jwt';
ALTER TABLE clients
    DROP CONSTRAINT clients_credentials_check,
    DROP CONSTRAINT clients_jwks_check,
    DROP CONSTRAINT clients_jwks_uri_check,
    DROP CONSTRAINT clients_token_auth_method_check,
    DROP COLUMN jwks_uri,
    DROP COLUMN jwks,
    DROP COLUMN token_auth_method,
    ADD CONSTRAINT clients_check CHECK (public = (secret_hash IS NULL));
