-- Back-channel logout (OpenID Connect Back-Channel Logout 1.0).
--
-- A client may register a back-channel logout URI. When a browser session
-- ends, one outbox row per client that received tokens in it is written on
-- the channel 'backchannel'; the outbox worker signs the logout token when it
-- sends it (so that exp is fresh) and retries like any other message. These
-- rows carry no body: the session, subject, client and the token's jti are
-- plain columns, which the operator's listing also reads. The jti is chosen
-- once per row and kept across retries, so a relying party can drop a repeat.

-- +goose Up

ALTER TABLE clients ADD COLUMN backchannel_logout_uri text NOT NULL DEFAULT ''
    CHECK (backchannel_logout_uri = '' OR backchannel_logout_uri ~ '^https?://[^#]+$');

ALTER TABLE outbox
    ADD COLUMN client_id  text REFERENCES clients (id) ON DELETE CASCADE,
    ADD COLUMN session_id text,
    ADD COLUMN subject    text,
    ADD COLUMN jti        text;

ALTER TABLE outbox DROP CONSTRAINT outbox_channel_check;
ALTER TABLE outbox ADD CONSTRAINT outbox_channel_check CHECK (channel IN ('sms', 'email', 'backchannel'));

-- A logout row has no language and no body; every other row keeps the rules of 00002.
ALTER TABLE outbox DROP CONSTRAINT outbox_language_check;
ALTER TABLE outbox ADD CONSTRAINT outbox_language_check CHECK (
    CASE WHEN channel = 'backchannel' THEN language = '' ELSE language IN ('zh-Hant', 'pt', 'en') END);
ALTER TABLE outbox DROP CONSTRAINT outbox_check1;
ALTER TABLE outbox ADD CONSTRAINT outbox_body_check CHECK (
    CASE WHEN channel = 'backchannel' THEN body_sealed IS NULL
    ELSE (body_sealed IS NULL) = (num_nonnulls(delivered_at, failed_at, cancelled_at) = 1) END);
ALTER TABLE outbox ADD CONSTRAINT outbox_logout_check CHECK (
    num_nonnulls(client_id, session_id, subject, jti) = CASE WHEN channel = 'backchannel' THEN 4 ELSE 0 END);

-- Once per client per session, however many nodes end the session at once.
CREATE UNIQUE INDEX outbox_backchannel_once_idx ON outbox (session_id, client_id) WHERE channel = 'backchannel';
CREATE UNIQUE INDEX outbox_jti_idx ON outbox (jti) WHERE jti IS NOT NULL;
CREATE INDEX outbox_client_id_idx ON outbox (client_id, id) WHERE client_id IS NOT NULL;

-- +goose Down

DELETE FROM outbox WHERE channel = 'backchannel';
DROP INDEX outbox_client_id_idx;
DROP INDEX outbox_jti_idx;
DROP INDEX outbox_backchannel_once_idx;
ALTER TABLE outbox DROP CONSTRAINT outbox_logout_check;
ALTER TABLE outbox DROP CONSTRAINT outbox_body_check;
ALTER TABLE outbox ADD CONSTRAINT outbox_check1 CHECK (
    (body_sealed IS NULL) = (num_nonnulls(delivered_at, failed_at, cancelled_at) = 1));
ALTER TABLE outbox DROP CONSTRAINT outbox_language_check;
ALTER TABLE outbox ADD CONSTRAINT outbox_language_check CHECK (language IN ('zh-Hant', 'pt', 'en'));
ALTER TABLE outbox DROP CONSTRAINT outbox_channel_check;
ALTER TABLE outbox ADD CONSTRAINT outbox_channel_check CHECK (channel IN ('sms', 'email'));
ALTER TABLE outbox DROP COLUMN jti, DROP COLUMN subject, DROP COLUMN session_id, DROP COLUMN client_id;
ALTER TABLE clients DROP COLUMN backchannel_logout_uri;
