-- An e-service's minimum assurance level (services.min_acr) is one of the
-- acr values the provider can satisfy; NULL demands nothing beyond the
-- password. A value the sign-in does not know could not be honoured, so the
-- database refuses it rather than leave the e-service's demand unclear.

-- +goose Up

ALTER TABLE services ADD CONSTRAINT services_min_acr_known
    CHECK (min_acr IN ('urn:entity-account:acr:password', 'urn:entity-account:acr:tool'));

-- +goose Down

ALTER TABLE services DROP CONSTRAINT services_min_acr_known;
