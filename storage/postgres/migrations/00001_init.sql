-- Initial schema of the entity-account identity provider.
--
-- Conventions: bigint identity ids, timestamptz everywhere, text constrained by
-- CHECK rather than enum types (a CHECK is changed by one ALTER inside a
-- transaction; an enum value cannot be dropped). Optional text that Go models as
-- "" is NOT NULL DEFAULT ''; a column is NULL only where NULL means "not yet"
-- (username and password before activation, timestamps of things that have not
-- happened).

-- +goose Up

-- Subjects and EUIDs come from sequences so that a value, once handed out, is
-- never handed out again, even after its row is deleted. MAXVALUE keeps lpad
-- from silently truncating a 10-digit number into a duplicate.
CREATE SEQUENCE entity_account_subject_seq START WITH 1 MINVALUE 1 MAXVALUE 999999999 NO CYCLE;
CREATE SEQUENCE euid_seq START WITH 100 MINVALUE 100 MAXVALUE 999999999 NO CYCLE;

CREATE TABLE entities (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    number     text NOT NULL UNIQUE CHECK (number ~ '^[0-9]{2}-[0-9]{6}$'),
    name_zh    text NOT NULL DEFAULT '',
    name_pt    text NOT NULL DEFAULT '',
    kind       text NOT NULL CHECK (kind <> ''),
    status     text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'closed')),
    created_at timestamptz NOT NULL DEFAULT now(),
    CHECK (name_zh <> '' OR name_pt <> '')
);

-- One username namespace per entity, shared by the entity account and every
-- staff login of the entity, compared case-insensitively. Rows are written only
-- by the trigger below, never by the application.
CREATE TABLE entity_usernames (
    entity_id      bigint NOT NULL REFERENCES entities (id) ON DELETE CASCADE,
    username_lower text NOT NULL CHECK (username_lower = lower(username_lower)),
    PRIMARY KEY (entity_id, username_lower)
);

CREATE TABLE entity_accounts (
    id                 bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    entity_id          bigint NOT NULL UNIQUE REFERENCES entities (id) ON DELETE CASCADE,
    subject            text NOT NULL UNIQUE
                       DEFAULT 'EA' || lpad(nextval('entity_account_subject_seq')::text, 9, '0')
                       CHECK (subject ~ '^EA[0-9]{9}$'),
    application_number text NOT NULL CHECK (application_number <> ''),
    username           text CHECK (username ~ '^[A-Za-z0-9][A-Za-z0-9._-]{2,31}$'),
    password_hash      text CHECK (password_hash <> ''),
    mobile             text NOT NULL DEFAULT '',
    email              text NOT NULL DEFAULT '',
    language           text NOT NULL DEFAULT 'zh-Hant' CHECK (language IN ('zh-Hant', 'pt', 'en')),
    activated_at       timestamptz,
    created_at         timestamptz NOT NULL DEFAULT now(),
    CHECK (activated_at IS NULL OR (username IS NOT NULL AND password_hash IS NOT NULL))
);

CREATE TABLE staff_logins (
    id                 bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    euid               text NOT NULL UNIQUE
                       DEFAULT 'CU' || lpad(nextval('euid_seq')::text, 9, '0')
                       CHECK (euid ~ '^CU[0-9]{9}$'),
    -- RESTRICT: staff logins are soft-deleted and their EUIDs appear in the
    -- audit trail; an entity that has had staff is closed, not deleted.
    entity_id          bigint NOT NULL REFERENCES entities (id) ON DELETE RESTRICT,
    username           text CHECK (username ~ '^[A-Za-z0-9][A-Za-z0-9._-]{2,31}$'),
    password_hash      text CHECK (password_hash <> ''),
    name_zh            text NOT NULL DEFAULT '',
    name_foreign       text NOT NULL DEFAULT '',
    id_doc_type        text NOT NULL CHECK (id_doc_type <> ''),
    id_doc_number      text NOT NULL CHECK (id_doc_number <> ''),
    id_doc_issue_place text NOT NULL DEFAULT '',
    -- The lower bound catches a form that left the date out (Go's zero time).
    birth_date         date NOT NULL CHECK (birth_date > DATE '1900-01-01'),
    mobile             text NOT NULL DEFAULT '',
    email              text NOT NULL DEFAULT '',
    language           text NOT NULL DEFAULT 'zh-Hant' CHECK (language IN ('zh-Hant', 'pt', 'en')),
    is_admin           boolean NOT NULL DEFAULT false,
    is_service_admin   boolean NOT NULL DEFAULT false,
    status             text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'deleted')),
    activated_at       timestamptz,
    created_at         timestamptz NOT NULL DEFAULT now(),
    updated_at         timestamptz NOT NULL DEFAULT now(),
    deleted_at         timestamptz,
    CHECK (name_zh <> '' OR name_foreign <> ''),
    CHECK (activated_at IS NULL OR (username IS NOT NULL AND password_hash IS NOT NULL)),
    CHECK ((status = 'deleted') = (deleted_at IS NOT NULL))
);

CREATE INDEX staff_logins_entity_id_idx ON staff_logins (entity_id);
-- Serves the login lookup (entity, lower(username)); entity_usernames already
-- guarantees uniqueness across both tables, this makes it hold here as well.
CREATE UNIQUE INDEX staff_logins_entity_username_idx ON staff_logins (entity_id, lower(username));

-- guard_username keeps the username namespace in entity_usernames and makes
-- usernames (and the owning entity) immutable once set. A clash raises
-- unique_violation on entity_usernames_pkey.
-- +goose StatementBegin
CREATE FUNCTION guard_username() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' THEN
        IF NEW.entity_id IS DISTINCT FROM OLD.entity_id THEN
            RAISE EXCEPTION '%: entity_id is immutable', TG_TABLE_NAME
                USING ERRCODE = 'integrity_constraint_violation';
        END IF;
        IF OLD.username IS NOT NULL AND NEW.username IS DISTINCT FROM OLD.username THEN
            RAISE EXCEPTION '%: username is immutable once set', TG_TABLE_NAME
                USING ERRCODE = 'integrity_constraint_violation';
        END IF;
    END IF;
    IF NEW.username IS NOT NULL AND (TG_OP = 'INSERT' OR OLD.username IS NULL) THEN
        INSERT INTO entity_usernames (entity_id, username_lower)
        VALUES (NEW.entity_id, lower(NEW.username));
    END IF;
    RETURN NEW;
END;
$$;
-- +goose StatementEnd

CREATE TRIGGER entity_accounts_guard_username
    BEFORE INSERT OR UPDATE ON entity_accounts
    FOR EACH ROW EXECUTE FUNCTION guard_username();

CREATE TRIGGER staff_logins_guard_username
    BEFORE INSERT OR UPDATE ON staff_logins
    FOR EACH ROW EXECUTE FUNCTION guard_username();

CREATE TABLE departments (
    id      bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    code    text NOT NULL UNIQUE CHECK (code ~ '^[A-Za-z0-9][A-Za-z0-9_-]{0,31}$'),
    name_zh text NOT NULL DEFAULT '',
    name_pt text NOT NULL DEFAULT '',
    name_en text NOT NULL DEFAULT ''
);

CREATE TABLE services (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    code          text NOT NULL UNIQUE CHECK (code ~ '^[a-z0-9][a-z0-9_-]{1,31}$'),
    department_id bigint NOT NULL REFERENCES departments (id) ON DELETE RESTRICT,
    name_zh       text NOT NULL DEFAULT '',
    name_pt       text NOT NULL DEFAULT '',
    name_en       text NOT NULL DEFAULT '',
    access_policy text NOT NULL DEFAULT 'assigned' CHECK (access_policy IN ('assigned', 'enrolled')),
    -- The minimum assurance level (acr) an e-service demands; NULL: any.
    min_acr       text CHECK (min_acr <> '')
);

CREATE INDEX services_department_id_idx ON services (department_id);

CREATE TABLE service_groups (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    service_id bigint NOT NULL REFERENCES services (id) ON DELETE CASCADE,
    code       text NOT NULL CHECK (code ~ '^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$'),
    name_zh    text NOT NULL DEFAULT '',
    name_pt    text NOT NULL DEFAULT '',
    UNIQUE (service_id, code)
);

-- An e-service opened to an entity.
CREATE TABLE service_enrollments (
    service_id bigint NOT NULL REFERENCES services (id) ON DELETE CASCADE,
    entity_id  bigint NOT NULL REFERENCES entities (id) ON DELETE CASCADE,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (service_id, entity_id)
);

CREATE INDEX service_enrollments_entity_id_idx ON service_enrollments (entity_id);

CREATE TABLE service_assignments (
    staff_login_id bigint NOT NULL REFERENCES staff_logins (id) ON DELETE CASCADE,
    service_id     bigint NOT NULL REFERENCES services (id) ON DELETE CASCADE,
    created_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (staff_login_id, service_id)
);

CREATE INDEX service_assignments_service_id_idx ON service_assignments (service_id);

CREATE TABLE group_members (
    staff_login_id bigint NOT NULL REFERENCES staff_logins (id) ON DELETE CASCADE,
    group_id       bigint NOT NULL REFERENCES service_groups (id) ON DELETE CASCADE,
    created_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (staff_login_id, group_id)
);

CREATE INDEX group_members_group_id_idx ON group_members (group_id);

CREATE TABLE clients (
    -- URL-safe and free of ':' so that it survives HTTP Basic authentication.
    id                        text PRIMARY KEY CHECK (id ~ '^[A-Za-z0-9][A-Za-z0-9._~-]{0,127}$'),
    service_id                bigint NOT NULL REFERENCES services (id) ON DELETE RESTRICT,
    name                      text NOT NULL CHECK (name <> ''),
    secret_hash               bytea,
    public                    boolean NOT NULL,
    redirect_uris             text[] NOT NULL CHECK (cardinality(redirect_uris) > 0),
    post_logout_redirect_uris text[] NOT NULL DEFAULT '{}',
    created_at                timestamptz NOT NULL DEFAULT now(),
    disabled_at               timestamptz,
    -- A public client has no secret; a confidential one must have one.
    CHECK (public = (secret_hash IS NULL))
);

CREATE INDEX clients_service_id_idx ON clients (service_id);

CREATE TABLE signing_keys (
    kid                text PRIMARY KEY CHECK (kid <> ''),
    algorithm          text NOT NULL CHECK (algorithm <> ''),
    private_key_sealed bytea NOT NULL,
    public_jwk         jsonb NOT NULL,
    created_at         timestamptz NOT NULL DEFAULT now(),
    activated_at       timestamptz,
    retired_at         timestamptz,
    expires_at         timestamptz,
    CHECK (retired_at IS NULL OR activated_at IS NOT NULL)
);

-- At most one key signs at any time.
CREATE UNIQUE INDEX signing_keys_one_active_idx ON signing_keys ((true))
    WHERE activated_at IS NOT NULL AND retired_at IS NULL;

CREATE TABLE audit_events (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at         timestamptz NOT NULL DEFAULT now(),
    actor_kind text NOT NULL CHECK (actor_kind <> ''),
    actor_id   text NOT NULL DEFAULT '',
    -- SET NULL: the trail outlives the entity it was about.
    entity_id  bigint REFERENCES entities (id) ON DELETE SET NULL,
    action     text NOT NULL CHECK (action <> ''),
    target     text NOT NULL DEFAULT '',
    ip         text NOT NULL DEFAULT '',
    details    jsonb NOT NULL DEFAULT '{}'
);

CREATE INDEX audit_events_entity_id_at_idx ON audit_events (entity_id, at);
CREATE INDEX audit_events_at_idx ON audit_events (at);

-- +goose Down

DROP TABLE audit_events;
DROP TABLE signing_keys;
DROP TABLE clients;
DROP TABLE group_members;
DROP TABLE service_assignments;
DROP TABLE service_enrollments;
DROP TABLE service_groups;
DROP TABLE services;
DROP TABLE departments;
DROP TABLE staff_logins;
DROP TABLE entity_accounts;
DROP FUNCTION guard_username();
DROP TABLE entity_usernames;
DROP TABLE entities;
DROP SEQUENCE euid_seq;
DROP SEQUENCE entity_account_subject_seq;
