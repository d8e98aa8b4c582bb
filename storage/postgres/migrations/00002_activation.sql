-- Activation codes and the outbox of notifications that carries them.
--
-- A code is stored only as an HMAC-SHA256 under a key derived from the master
-- key, so a dump of this table does not allow guessing codes offline. A code
-- lives until it is used, voided (a newer code superseded it, or too many
-- wrong tries) or past expires_at. The outbox row that delivers a code is
-- written in the same transaction as the code; its body (which contains the
-- code) is sealed with AES-GCM and cleared once the row is settled.

-- +goose Up

CREATE TABLE activation_codes (
    id                bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    entity_id         bigint NOT NULL REFERENCES entities (id) ON DELETE CASCADE,
    -- The account the code activates: exactly one of the two.
    entity_account_id bigint REFERENCES entity_accounts (id) ON DELETE CASCADE,
    staff_login_id    bigint REFERENCES staff_logins (id) ON DELETE CASCADE,
    code_hash         bytea NOT NULL CHECK (length(code_hash) = 32),
    channel           text NOT NULL CHECK (channel IN ('sms', 'email')),
    created_at        timestamptz NOT NULL,
    expires_at        timestamptz NOT NULL,
    max_attempts      integer NOT NULL CHECK (max_attempts > 0),
    attempts          integer NOT NULL DEFAULT 0,
    -- When the outbox worker handed the message to the gateway (最後發送啟動碼時間).
    sent_at           timestamptz,
    used_at           timestamptz,
    voided_at         timestamptz,
    void_reason       text CHECK (void_reason IN ('superseded', 'attempts')),
    CHECK ((entity_account_id IS NULL) <> (staff_login_id IS NULL)),
    CHECK (expires_at > created_at),
    CHECK (attempts BETWEEN 0 AND max_attempts),
    CHECK ((voided_at IS NULL) = (void_reason IS NULL)),
    CHECK (used_at IS NULL OR voided_at IS NULL)
);

-- At most one open (neither used nor voided) code per account: issuing a new
-- code must void the previous one in the same transaction.
CREATE UNIQUE INDEX activation_codes_open_entity_account_idx ON activation_codes (entity_account_id)
    WHERE entity_account_id IS NOT NULL AND used_at IS NULL AND voided_at IS NULL;
CREATE UNIQUE INDEX activation_codes_open_staff_login_idx ON activation_codes (staff_login_id)
    WHERE staff_login_id IS NOT NULL AND used_at IS NULL AND voided_at IS NULL;
CREATE INDEX activation_codes_entity_account_idx ON activation_codes (entity_account_id, id)
    WHERE entity_account_id IS NOT NULL;
CREATE INDEX activation_codes_staff_login_idx ON activation_codes (staff_login_id, id)
    WHERE staff_login_id IS NOT NULL;
CREATE INDEX activation_codes_entity_id_idx ON activation_codes (entity_id);

CREATE TABLE outbox (
    id                 bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    channel            text NOT NULL CHECK (channel IN ('sms', 'email')),
    recipient          text NOT NULL CHECK (recipient <> ''),
    language           text NOT NULL CHECK (language IN ('zh-Hant', 'pt', 'en')),
    -- nonce || AES-256-GCM(subject and text); NULL once delivered, failed or cancelled.
    body_sealed        bytea,
    entity_id          bigint REFERENCES entities (id) ON DELETE SET NULL,
    activation_code_id bigint REFERENCES activation_codes (id) ON DELETE CASCADE,
    created_at         timestamptz NOT NULL,
    -- Claims: a worker sets lease_token and pushes next_attempt_at past its
    -- lease; a worker that dies leaves the row to be claimed again after it.
    attempts           integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    next_attempt_at    timestamptz NOT NULL,
    lease_token        text,
    last_error         text NOT NULL DEFAULT '',
    delivered_at       timestamptz,
    failed_at          timestamptz, -- given up: the gateway refused the message for good
    cancelled_at       timestamptz, -- its code was voided or expired before delivery
    CHECK (num_nonnulls(delivered_at, failed_at, cancelled_at) <= 1),
    CHECK ((body_sealed IS NULL) = (num_nonnulls(delivered_at, failed_at, cancelled_at) = 1))
);

CREATE INDEX outbox_pending_idx ON outbox (next_attempt_at, id)
    WHERE delivered_at IS NULL AND failed_at IS NULL AND cancelled_at IS NULL;
CREATE INDEX outbox_activation_code_id_idx ON outbox (activation_code_id);
CREATE INDEX outbox_entity_id_idx ON outbox (entity_id);

-- +goose Down

DROP TABLE outbox;
DROP TABLE activation_codes;
