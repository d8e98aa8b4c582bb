-- The sign-in history (登入記錄): one row per sign-in attempt, written in
-- batches by each node's background writer, never with a password.
--
-- subject is the account the attempt was about when it named one (a staff
-- login's EUID, an entity account's subject), '' for an unknown name; then
-- entity_number and username keep what was typed, normalised and bounded.
-- entity_id is the entity the attempt was about, known from the account or
-- from the typed entity number, so that an admin sees the attempts at
-- usernames of its entity that do not exist. No foreign keys: the history
-- outlives nothing it refers to (entities are closed, not deleted, and
-- logins soft-deleted), and a foreign key check per row would slow the
-- writer for nothing.
--
-- Indexes serve the three ways in: a login's events newest first, an
-- entity's events newest first (keyset pagination on (at, id)), and time
-- alone for the retention job, which deletes the oldest in batches.

-- +goose Up

CREATE TABLE signin_events (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at            timestamptz NOT NULL,
    entity_id     bigint,
    subject       text NOT NULL DEFAULT '' CHECK (length(subject) <= 16),
    entity_number text NOT NULL DEFAULT '' CHECK (length(entity_number) <= 32),
    username      text NOT NULL DEFAULT '' CHECK (length(username) <= 64),
    outcome       text NOT NULL CHECK (outcome IN ('signed_in', 'bad_credentials', 'throttled', 'refused',
                      'step_required', 'step_passed', 'step_failed', 'passkey_failed')),
    method        text NOT NULL CHECK (method IN ('password', 'passkey', 'code')),
    address       text NOT NULL DEFAULT '' CHECK (length(address) <= 64),
    user_agent    text NOT NULL DEFAULT '' CHECK (length(user_agent) <= 256),
    client_id     text NOT NULL DEFAULT '' CHECK (length(client_id) <= 128)
);

CREATE INDEX signin_events_subject_idx ON signin_events (subject, at DESC, id DESC);
CREATE INDEX signin_events_entity_idx ON signin_events (entity_id, at DESC, id DESC) WHERE entity_id IS NOT NULL;
CREATE INDEX signin_events_at_idx ON signin_events (at);

-- 最後登入時間: set by the same writer, once per batch.
ALTER TABLE staff_logins ADD COLUMN last_signin_at timestamptz;
ALTER TABLE entity_accounts ADD COLUMN last_signin_at timestamptz;

-- +goose Down

ALTER TABLE entity_accounts DROP COLUMN last_signin_at;
ALTER TABLE staff_logins DROP COLUMN last_signin_at;
DROP TABLE signin_events;
