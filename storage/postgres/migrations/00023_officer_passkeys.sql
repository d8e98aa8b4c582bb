-- Passkeys (WebAuthn credentials) of the officers of 行政公職局: a second
-- factor at the operator's desk, beside the 安全驗證碼, after the password
-- (never instead of it). They are kept apart from the staff logins'
-- identity tools: an officer is not a staff login, and nothing of one
-- ever opens the other.
--
-- A row carries the credential id (unique), its COSE public key, the
-- authenticator's signature counter, model (AAGUID), backup flags,
-- transports and attachment: no secret. Names are unique per officer,
-- whatever their case. Every officer gets a WebAuthn user handle: 32
-- random bytes, given once and kept, that tell nothing of the officer.

-- +goose Up

ALTER TABLE officers
    ADD COLUMN webauthn_handle bytea NOT NULL UNIQUE
        DEFAULT (uuid_send(gen_random_uuid()) || uuid_send(gen_random_uuid()))
        CHECK (length(webauthn_handle) = 32);

CREATE TABLE officer_passkeys (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    officer_id      bigint NOT NULL REFERENCES officers (id),
    name            text NOT NULL CHECK (length(name) BETWEEN 1 AND 40),
    credential_id   bytea NOT NULL UNIQUE CHECK (length(credential_id) BETWEEN 1 AND 1023),
    public_key      bytea NOT NULL CHECK (length(public_key) BETWEEN 1 AND 4096),
    sign_count      bigint NOT NULL DEFAULT 0 CHECK (sign_count BETWEEN 0 AND 4294967295),
    aaguid          bytea CHECK (length(aaguid) = 16),
    backup_eligible boolean NOT NULL DEFAULT false,
    backup_state    boolean NOT NULL DEFAULT false,
    transports      text[] NOT NULL DEFAULT '{}' CHECK (cardinality(transports) <= 8),
    attachment      text NOT NULL DEFAULT '' CHECK (attachment IN ('', 'platform', 'cross-platform')),
    created_at      timestamptz NOT NULL,
    last_used_at    timestamptz,
    CHECK (backup_eligible OR NOT backup_state)
);
CREATE UNIQUE INDEX officer_passkeys_name_idx ON officer_passkeys (officer_id, lower(name));

ALTER TABLE officer_signins DROP CONSTRAINT officer_signins_outcome_check;
ALTER TABLE officer_signins ADD CONSTRAINT officer_signins_outcome_check
    CHECK (outcome IN ('success', 'wrong_password', 'wrong_code', 'wrong_passkey', 'locked', 'disabled'));

-- +goose Down

DELETE FROM officer_signins WHERE outcome = 'wrong_passkey';
ALTER TABLE officer_signins DROP CONSTRAINT officer_signins_outcome_check;
ALTER TABLE officer_signins ADD CONSTRAINT officer_signins_outcome_check
    CHECK (outcome IN ('success', 'wrong_password', 'wrong_code', 'locked', 'disabled'));
DROP TABLE officer_passkeys;
ALTER TABLE officers DROP COLUMN webauthn_handle;
