-- The officers of 行政公職局 who act as the operator: accounts of their own
-- kind, not staff logins of an entity. The idp command requires one
-- (--officer or IDP_OFFICER); the operator's desk will sign them in
-- (password_hash is set at the first sign-in there). Officers are disabled,
-- never deleted: the audit trail names them.

-- +goose Up

CREATE TABLE officers (
    id            bigserial PRIMARY KEY,
    login         text NOT NULL CHECK (login = lower(login) AND length(login) BETWEEN 2 AND 40),
    display_name  text NOT NULL CHECK (display_name <> ''),
    role          text NOT NULL CHECK (role IN ('counter', 'supervisor')),
    status        text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'disabled')),
    mobile        text NOT NULL DEFAULT '',
    email         text NOT NULL DEFAULT '',
    password_hash text,
    created_at    timestamptz NOT NULL,
    updated_at    timestamptz NOT NULL,
    created_by    bigint REFERENCES officers (id)
);
CREATE UNIQUE INDEX officers_login_key ON officers (lower(login));

-- The officer who acted, for the operator's events (actor_id keeps the
-- login name, as it kept the shell user's name before).
ALTER TABLE audit_events ADD COLUMN officer_id bigint REFERENCES officers (id);

-- +goose Down

ALTER TABLE audit_events DROP COLUMN officer_id;
DROP TABLE officers;
