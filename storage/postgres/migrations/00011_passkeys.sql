-- Passkeys (WebAuthn credentials) are identity tools of staff logins,
-- stored in identity_tools beside the TOTP: one list of a login's tools,
-- one reset that removes them all. A TOTP row carries its sealed secret and
-- nothing of a passkey; a passkey row carries its credential id (unique
-- among all logins), its COSE public key, the authenticator's signature
-- counter, model (AAGUID), backup flags, transports and attachment, and no
-- secret. A passkey is active from its enrolment; names are unique per
-- login, whatever their case.
--
-- Every staff login gets a WebAuthn user handle: 32 random bytes, given
-- once and kept, that tell nothing of the login (neither its EUID nor its
-- id). passkeys_off_at is set when the holder switches passkeys off, which
-- keeps the login from enrolling one until the operator clears it.

-- +goose Up

ALTER TABLE identity_tools DROP CONSTRAINT identity_tools_kind_check;
ALTER TABLE identity_tools ADD CONSTRAINT identity_tools_kind_check CHECK (kind IN ('totp', 'passkey'));
ALTER TABLE identity_tools ALTER COLUMN secret_sealed DROP NOT NULL;

ALTER TABLE identity_tools
    ADD COLUMN credential_id   bytea UNIQUE CHECK (length(credential_id) BETWEEN 1 AND 1023),
    ADD COLUMN public_key      bytea CHECK (length(public_key) BETWEEN 1 AND 4096),
    ADD COLUMN sign_count      bigint NOT NULL DEFAULT 0 CHECK (sign_count BETWEEN 0 AND 4294967295),
    ADD COLUMN aaguid          bytea CHECK (length(aaguid) = 16),
    ADD COLUMN backup_eligible boolean NOT NULL DEFAULT false,
    ADD COLUMN backup_state    boolean NOT NULL DEFAULT false,
    ADD COLUMN transports      text[] NOT NULL DEFAULT '{}' CHECK (cardinality(transports) <= 8),
    ADD COLUMN attachment      text NOT NULL DEFAULT '' CHECK (attachment IN ('', 'platform', 'cross-platform')),
    ADD CONSTRAINT identity_tools_kind_columns CHECK (CASE kind
        WHEN 'totp' THEN secret_sealed IS NOT NULL AND credential_id IS NULL AND public_key IS NULL
        WHEN 'passkey' THEN secret_sealed IS NULL AND credential_id IS NOT NULL AND public_key IS NOT NULL
            AND state = 'active' AND last_step = 0
        ELSE false END),
    -- A credential cannot be synced (backed up) without being eligible for it.
    ADD CONSTRAINT identity_tools_backup CHECK (backup_eligible OR NOT backup_state);

CREATE UNIQUE INDEX identity_tools_passkey_name ON identity_tools (staff_login_id, lower(name)) WHERE kind = 'passkey';

ALTER TABLE staff_logins
    ADD COLUMN webauthn_handle bytea NOT NULL UNIQUE
        DEFAULT (uuid_send(gen_random_uuid()) || uuid_send(gen_random_uuid()))
        CHECK (length(webauthn_handle) = 32),
    ADD COLUMN passkeys_off_at timestamptz;

-- +goose Down

DELETE FROM identity_tools WHERE kind = 'passkey';
ALTER TABLE staff_logins DROP COLUMN passkeys_off_at, DROP COLUMN webauthn_handle;
DROP INDEX identity_tools_passkey_name;
ALTER TABLE identity_tools
    DROP CONSTRAINT identity_tools_backup,
    DROP CONSTRAINT identity_tools_kind_columns,
    DROP COLUMN attachment,
    DROP COLUMN transports,
    DROP COLUMN backup_state,
    DROP COLUMN backup_eligible,
    DROP COLUMN aaguid,
    DROP COLUMN sign_count,
    DROP COLUMN public_key,
    DROP COLUMN credential_id;
ALTER TABLE identity_tools ALTER COLUMN secret_sealed SET NOT NULL;
ALTER TABLE identity_tools DROP CONSTRAINT identity_tools_kind_check;
ALTER TABLE identity_tools ADD CONSTRAINT identity_tools_kind_check CHECK (kind IN ('totp'));
