package storage

import "time"

// The rule book, a client's secret: rotating it with a grace period, and
// disabling a client. Only the operator does either (CanRegisterClient).

// MaxSecretGrace bounds how long a rotated-out secret keeps working: long
// enough for a department to deploy the new one, short enough that a
// secret rotated because it leaked does not linger.
const MaxSecretGrace = 30 * 24 * time.Hour

// DefaultSecretGrace is the grace when the operator names none.
const DefaultSecretGrace = 24 * time.Hour

// MayRotateSecret: actor rotates the secret of c, keeping the old one for
// grace. Only a client with a secret has one to rotate: a public client
// proves PKCE, a private_key_jwt client signs with its own keys.
func MayRotateSecret(actor Actor, c Client, grace time.Duration) error {
	switch {
	case !CanRegisterClient(actor):
		return Errorf(EForbidden, "you may not rotate a client's secret").WithKey("desk_err_supervisor_only")
	case ActorMay(actor, ActRegisterClient) != nil:
		return ActorMay(actor, ActRegisterClient)
	case c.Public:
		return Errorf(EInvalid, "client %s is a public client: it has no secret to rotate (it proves PKCE)", c.ID)
	case c.TokenAuth == TokenAuthPrivateKeyJWT:
		return Errorf(EInvalid, "client %s authenticates with private_key_jwt: it has no secret to rotate (it signs with its own keys)", c.ID)
	case grace < 0 || grace > MaxSecretGrace:
		return Errorf(EInvalid, "the grace must be between 0 (the old secret stops at once) and %s", MaxSecretGrace)
	}
	return nil
}

// MaySetClientDisabled: actor disables or enables a client.
func MaySetClientDisabled(actor Actor) error {
	if !CanRegisterClient(actor) {
		return Errorf(EForbidden, "you may not disable or enable a client").WithKey("desk_err_supervisor_only")
	}
	if err := ActorMay(actor, ActRegisterClient); err != nil {
		return err
	}
	return nil
}

// AcceptsPreviousSecret reports whether the previous secret of c still
// authenticates it at now.
func (c Client) AcceptsPreviousSecret(now time.Time) bool {
	return len(c.PreviousSecretHash) > 0 && now.Before(c.PreviousSecretExpiresAt)
}

// HonoursTokenIssuedAt reports whether a token of c issued at issued may
// still be honoured: not one issued before c was last disabled.
func (c Client) HonoursTokenIssuedAt(issued time.Time) bool {
	return !issued.Before(c.TokensValidAfter)
}
