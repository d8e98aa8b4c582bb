-- The officers' way in to the operator's desk: activation codes sent to an
-- officer's mobile (or e-mail), a password and a 安全驗證碼 (TOTP) of its
-- own, and the record of every sign-in attempt, which the officer reads
-- back at the desk (its own, of the last 90 days).
--
-- An officer's code is stored only as an HMAC-SHA256 under a key derived
-- from the master key, like the staff logins' codes; the password and the
-- TOTP secret chosen while a code is being used wait on the code's row
-- (pending_*) until the first TOTP code confirms them, and then move to
-- the officer in one transaction. The TOTP secret is sealed (AES-GCM) under
-- a key derived from the master key for this purpose only.

-- +goose Up

ALTER TABLE officers
    ADD COLUMN totp_sealed          bytea,
    -- The last TOTP time step accepted: a code is accepted once.
    ADD COLUMN totp_last_step       bigint NOT NULL DEFAULT 0,
    -- Desk sessions opened before this time are over (disable, reset).
    ADD COLUMN sessions_valid_after timestamptz,
    ADD COLUMN last_signin_at       timestamptz,
    ADD CONSTRAINT officers_totp_with_password CHECK (totp_sealed IS NULL OR password_hash IS NOT NULL);

CREATE TABLE officer_codes (
    id                    bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    officer_id            bigint NOT NULL REFERENCES officers (id),
    code_hash             bytea NOT NULL CHECK (length(code_hash) = 32),
    channel               text NOT NULL CHECK (channel IN ('sms', 'email')),
    created_at            timestamptz NOT NULL,
    expires_at            timestamptz NOT NULL,
    max_attempts          integer NOT NULL CHECK (max_attempts > 0),
    attempts              integer NOT NULL DEFAULT 0,
    used_at               timestamptz,
    voided_at             timestamptz,
    void_reason           text CHECK (void_reason IN ('superseded', 'attempts')),
    -- Set by the activation's first step (the code and a new password were
    -- right): the hash of the browser's ticket, the password's hash and
    -- the sealed TOTP secret shown to the officer.
    ticket_hash           bytea,
    pending_password_hash text,
    pending_totp_sealed   bytea,
    CHECK (expires_at > created_at),
    CHECK (attempts BETWEEN 0 AND max_attempts),
    CHECK ((voided_at IS NULL) = (void_reason IS NULL)),
    CHECK (used_at IS NULL OR voided_at IS NULL)
);
-- At most one open code per officer: a new code voids the previous one.
CREATE UNIQUE INDEX officer_codes_open_idx ON officer_codes (officer_id) WHERE used_at IS NULL AND voided_at IS NULL;
CREATE INDEX officer_codes_officer_idx ON officer_codes (officer_id, id);
CREATE UNIQUE INDEX officer_codes_ticket_idx ON officer_codes (ticket_hash) WHERE ticket_hash IS NOT NULL;

-- The message that carries an officer's code: cancelled with it.
ALTER TABLE outbox ADD COLUMN officer_code_id bigint REFERENCES officer_codes (id) ON DELETE CASCADE;
CREATE INDEX outbox_officer_code_idx ON outbox (officer_code_id) WHERE officer_code_id IS NOT NULL;

-- Every attempt to sign in at the desk: the officer when the login name
-- named one, the client's address and a summary of its user agent, and the
-- outcome.
CREATE TABLE officer_signins (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    officer_id bigint REFERENCES officers (id),
    at         timestamptz NOT NULL,
    ip         text NOT NULL DEFAULT '',
    user_agent text NOT NULL DEFAULT '',
    outcome    text NOT NULL CHECK (outcome IN ('success', 'wrong_password', 'wrong_code', 'locked', 'disabled'))
);
CREATE INDEX officer_signins_officer_idx ON officer_signins (officer_id, at);

-- +goose Down

DROP TABLE officer_signins;
DROP INDEX outbox_officer_code_idx;
ALTER TABLE outbox DROP COLUMN officer_code_id;
DROP TABLE officer_codes;
ALTER TABLE officers
    DROP CONSTRAINT officers_totp_with_password,
    DROP COLUMN last_signin_at,
    DROP COLUMN sessions_valid_after,
    DROP COLUMN totp_last_step,
    DROP COLUMN totp_sealed;
