-- Password reset codes share the activation codes' table and machinery
-- (HMAC-hashed, single use, expiring, attempt-limited, voided by a newer
-- code, delivered through the outbox), told apart by their purpose: an
-- activation code never resets a password, a reset code never activates.
-- A login is either not activated (it may hold an activation code) or
-- activated (a reset code), so one open code per account still holds.

-- +goose Up

ALTER TABLE activation_codes ADD COLUMN purpose text NOT NULL DEFAULT 'activation'
    CHECK (purpose IN ('activation', 'reset'));

-- +goose Down

DELETE FROM activation_codes WHERE purpose = 'reset';
ALTER TABLE activation_codes DROP COLUMN purpose;
