-- An activation code also ends when the mobile or e-mail it went to is
-- changed: the person at the old address must not activate the login.

-- +goose Up

ALTER TABLE activation_codes DROP CONSTRAINT activation_codes_void_reason_check;
ALTER TABLE activation_codes ADD CONSTRAINT activation_codes_void_reason_check
    CHECK (void_reason IN ('superseded', 'attempts', 'account_deleted', 'entity_closed', 'contact_changed'));

-- +goose Down

UPDATE activation_codes SET void_reason = 'superseded' WHERE void_reason = 'contact_changed';
ALTER TABLE activation_codes DROP CONSTRAINT activation_codes_void_reason_check;
ALTER TABLE activation_codes ADD CONSTRAINT activation_codes_void_reason_check
    CHECK (void_reason IN ('superseded', 'attempts', 'account_deleted', 'entity_closed'));
