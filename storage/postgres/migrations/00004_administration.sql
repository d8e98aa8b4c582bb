-- Entity administration: an activation code also ends when its account is
-- deleted or its entity closed, and says so.

-- +goose Up

ALTER TABLE activation_codes DROP CONSTRAINT activation_codes_void_reason_check;
ALTER TABLE activation_codes ADD CONSTRAINT activation_codes_void_reason_check
    CHECK (void_reason IN ('superseded', 'attempts', 'account_deleted', 'entity_closed'));

-- +goose Down

UPDATE activation_codes SET void_reason = 'superseded' WHERE void_reason IN ('account_deleted', 'entity_closed');
ALTER TABLE activation_codes DROP CONSTRAINT activation_codes_void_reason_check;
ALTER TABLE activation_codes ADD CONSTRAINT activation_codes_void_reason_check
    CHECK (void_reason IN ('superseded', 'attempts'));
