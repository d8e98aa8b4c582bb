-- Machine clients: a department's back end authenticates as itself (no
-- user) with the OAuth 2.0 client_credentials grant.
--
-- Every client now has a kind (web, native, machine), its allowed grant
-- types and, for a machine client, its registered scopes. A web or native
-- client belongs to an e-service (service_id); a machine client belongs to
-- a department (department_id), has a secret and no redirect or logout
-- addresses, and may use client_credentials only, which no other kind may.

-- +goose Up

ALTER TABLE clients
    ADD COLUMN kind          text,
    ADD COLUMN department_id bigint REFERENCES departments (id) ON DELETE RESTRICT,
    ADD COLUMN grant_types   text[],
    ADD COLUMN scopes        text[] NOT NULL DEFAULT '{}';

UPDATE clients SET kind = CASE WHEN public THEN 'native' ELSE 'web' END,
    grant_types = '{authorization_code,refresh_token}';

ALTER TABLE clients
    ALTER COLUMN kind SET NOT NULL,
    ALTER COLUMN grant_types SET NOT NULL,
    ALTER COLUMN service_id DROP NOT NULL,
    DROP CONSTRAINT clients_redirect_uris_check,
    ADD CONSTRAINT clients_kind_check CHECK (kind IN ('web', 'native', 'machine')),
    -- Only a native app is public (no secret).
    ADD CONSTRAINT clients_public_kind_check CHECK (public = (kind = 'native')),
    ADD CONSTRAINT clients_owner_check CHECK (CASE WHEN kind = 'machine'
        THEN department_id IS NOT NULL AND service_id IS NULL
        ELSE service_id IS NOT NULL AND department_id IS NULL END),
    ADD CONSTRAINT clients_redirect_uris_check CHECK (CASE WHEN kind = 'machine'
        THEN cardinality(redirect_uris) = 0 AND cardinality(post_logout_redirect_uris) = 0 AND backchannel_logout_uri = ''
        ELSE cardinality(redirect_uris) > 0 END),
    ADD CONSTRAINT clients_grant_types_check CHECK (
        cardinality(grant_types) > 0
        AND grant_types <@ '{authorization_code,refresh_token,client_credentials}'::text[]
        AND CASE WHEN kind = 'machine' THEN grant_types = '{client_credentials}'::text[]
            ELSE NOT 'client_credentials' = ANY (grant_types) END),
    ADD CONSTRAINT clients_scopes_check CHECK (
        CASE WHEN kind = 'machine' THEN cardinality(scopes) > 0 ELSE cardinality(scopes) = 0 END
        AND array_position(scopes, NULL) IS NULL);

CREATE INDEX clients_department_id_idx ON clients (department_id) WHERE department_id IS NOT NULL;

-- +goose Down

DELETE FROM clients WHERE kind = 'machine';
DROP INDEX clients_department_id_idx;
ALTER TABLE clients
    DROP CONSTRAINT clients_scopes_check,
    DROP CONSTRAINT clients_grant_types_check,
    DROP CONSTRAINT clients_redirect_uris_check,
    DROP CONSTRAINT clients_owner_check,
    DROP CONSTRAINT clients_public_kind_check,
    DROP CONSTRAINT clients_kind_check,
    ALTER COLUMN service_id SET NOT NULL,
    ADD CONSTRAINT clients_redirect_uris_check CHECK (cardinality(redirect_uris) > 0),
    DROP COLUMN scopes,
    DROP COLUMN grant_types,
    DROP COLUMN department_id,
    DROP COLUMN kind;
