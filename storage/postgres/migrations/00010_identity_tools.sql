-- Electronic identity tools of staff logins (電子身份識別工具).
-- One TOTP (安全驗證碼) per login. The secret is sealed with AES-256-GCM
-- under a key derived from IDP_MASTER_KEY before it reaches the database:
-- only the sealed bytes are stored. last_step is the last accepted time
-- step (unix time / 30); a code is accepted only for a later step, set by
-- one conditional UPDATE, so no code works twice.

-- +goose Up

CREATE TABLE identity_tools (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    staff_login_id bigint NOT NULL REFERENCES staff_logins (id) ON DELETE CASCADE,
    kind           text NOT NULL CHECK (kind IN ('totp')),
    state          text NOT NULL CHECK (state IN ('unconfirmed', 'pending', 'active')),
    name           text NOT NULL DEFAULT '',
    secret_sealed  bytea NOT NULL CHECK (length(secret_sealed) > 0),
    last_step      bigint NOT NULL DEFAULT 0,
    created_at     timestamptz NOT NULL,
    confirmed_at   timestamptz,
    approved_at    timestamptz,
    last_used_at   timestamptz
);

CREATE UNIQUE INDEX identity_tools_one_totp ON identity_tools (staff_login_id) WHERE kind = 'totp';

-- +goose Down

DROP TABLE identity_tools;
