package officers

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"

	"github.com/go-webauthn/webauthn/protocol"
	"github.com/go-webauthn/webauthn/webauthn"

	"github.com/entity-account/idp/storage"
)

// ---- the officer's own passkeys ----

// Passkeys are the officer o's passkeys, oldest first.
func (s *Service) Passkeys(ctx context.Context, o storage.Officer) ([]storage.OfficerPasskey, error) {
	pk, err := s.deskPasskeys()
	if err != nil {
		return nil, err
	}
	if err := storage.OfficerMay(o, storage.ActUseDesk); err != nil {
		return nil, err
	}
	a, err := pk.store.OfficerPasskeyAccount(ctx, o.ID)
	return a.Passkeys, err
}

// changeable is the officer o's passkey account when it may change its
// passkeys now: proof (ConfirmPassword) fresh in sessionID.
func (s *Service) changeable(ctx context.Context, pk *deskPasskeys, o storage.Officer, sessionID, proof string) (storage.OfficerPasskeyAccount, error) {
	if err := storage.OfficerMay(o, storage.ActUseDesk); err != nil {
		return storage.OfficerPasskeyAccount{}, err
	}
	if !s.Fresh(ctx, o, sessionID, proof) {
		return storage.OfficerPasskeyAccount{}, errReauth()
	}
	return pk.store.OfficerPasskeyAccount(ctx, o.ID)
}

// BeginAddPasskey starts the enrolment of a passkey by the officer o,
// its password proven again in session sessionID (proof), below
// storage.MaxOfficerPasskeys. options is the JSON of
// navigator.credentials.create({publicKey}); its passkeys are excluded.
// state goes back to FinishAddPasskey within PasskeyCeremonyTTL. Nothing
// is stored.
func (s *Service) BeginAddPasskey(ctx context.Context, o storage.Officer, sessionID, proof string) (json.RawMessage, string, error) {
	pk, err := s.deskPasskeys()
	if err != nil {
		return nil, "", err
	}
	a, err := s.changeable(ctx, pk, o, sessionID, proof)
	if err != nil {
		return nil, "", err
	}
	if err := storage.MayAddOfficerPasskey(a.Officer, len(a.Passkeys)); err != nil {
		return nil, "", err
	}
	u := officerUserOf(a)
	exclude := make([]protocol.CredentialDescriptor, len(u.creds))
	for i := range u.creds {
		exclude[i] = u.creds[i].Descriptor()
	}
	creation, session, err := pk.wa.BeginRegistration(u, webauthn.WithExclusions(exclude),
		webauthn.WithResidentKeyRequirement(protocol.ResidentKeyRequirementPreferred),
		webauthn.WithConveyancePreference(protocol.PreferNoAttestation))
	if err != nil {
		return nil, "", err
	}
	return s.begin(pk, purposeAdd, o.ID, creation, session)
}

// FinishAddPasskey completes an enrolment begun by BeginAddPasskey for the
// same officer: response is the browser's credential.toJSON(), serialised;
// name is what the officer calls the passkey (1–40 characters, unique
// among its passkeys). Stored and audited officer.passkey.add. Answers:
// desk_passkeys_err_name (field name), desk_passkeys_err_name_taken,
// desk_passkeys_err_limit, desk_passkeys_err_registered,
// desk_passkeys_err_state, desk_passkeys_err_refused,
// desk_passkeys_err_reauth.
func (s *Service) FinishAddPasskey(ctx context.Context, o storage.Officer, sessionID, proof, state, name string, response []byte) (storage.OfficerPasskey, error) {
	pk, err := s.deskPasskeys()
	if err != nil {
		return storage.OfficerPasskey{}, err
	}
	name, ok := storage.PasskeyName(name)
	if !ok {
		return storage.OfficerPasskey{}, storage.Errorf(storage.EInvalid, "give the passkey a name of 1 to %d characters", storage.MaxPasskeyName).
			WithKey("desk_passkeys_err_name").WithField("name")
	}
	if len(response) == 0 || len(response) > MaxPasskeyResponse {
		return storage.OfficerPasskey{}, errPasskey()
	}
	a, err := s.changeable(ctx, pk, o, sessionID, proof)
	if err != nil {
		return storage.OfficerPasskey{}, err
	}
	parsed, err := protocol.ParseCredentialCreationResponseBytes(response)
	if err != nil {
		refused(ctx, "registration", err)
		return storage.OfficerPasskey{}, errPasskey()
	}
	session, err := s.finish(ctx, pk, state, purposeAdd, o.ID)
	if err != nil {
		return storage.OfficerPasskey{}, err
	}
	cred, err := pk.wa.CreateCredential(officerUserOf(a), session, parsed)
	if err == nil && !parsed.Response.AttestationObject.AuthData.Flags.HasUserVerified() {
		err = errors.New("user not verified")
	}
	if err != nil {
		refused(ctx, "registration", err)
		return storage.OfficerPasskey{}, errPasskey()
	}
	p := storage.OfficerPasskey{Name: name, CredentialID: cred.ID, PublicKey: cred.PublicKey, SignCount: cred.Authenticator.SignCount,
		AAGUID: cred.Authenticator.AAGUID, BackupEligible: cred.Flags.BackupEligible, BackupState: cred.Flags.BackupState,
		Attachment: string(cred.Authenticator.Attachment)}
	if bytes.Equal(p.AAGUID, make([]byte, 16)) || len(p.AAGUID) != 16 {
		p.AAGUID = nil
	}
	for _, t := range cred.Transport {
		if len(p.Transports) < 8 && storage.CleanText(string(t), 32) {
			p.Transports = append(p.Transports, string(t))
		}
	}
	if err := pk.store.AddOfficerPasskey(ctx, s.actor(a.Officer), &p); err != nil {
		return storage.OfficerPasskey{}, passkeyRefusal(err)
	}
	return p, nil
}

func passkeyRefusal(err error) error {
	switch {
	case errors.Is(err, storage.ErrPasskeyNameTaken):
		return storage.Errorf(storage.EConflict, "another passkey of the officer has this name").WithKey("desk_passkeys_err_name_taken").WithField("name")
	case errors.Is(err, storage.ErrAlreadyExists):
		return storage.Errorf(storage.EConflict, "this passkey is already registered").WithKey("desk_passkeys_err_registered")
	case errors.Is(err, storage.ErrNotFound):
		return storage.Errorf(storage.ENotFound, "the passkey was not found").WithKey("desk_passkeys_err_not_found")
	}
	return err
}

// RemovePasskey removes the passkey id of the officer o, its password
// proven again in sessionID: never its last second factor
// (desk_passkeys_err_last). Audited officer.passkey.remove.
func (s *Service) RemovePasskey(ctx context.Context, o storage.Officer, sessionID, proof string, id int64) error {
	pk, err := s.deskPasskeys()
	if err != nil {
		return err
	}
	if _, err := s.changeable(ctx, pk, o, sessionID, proof); err != nil {
		return err
	}
	_, err = pk.store.RemoveOfficerPasskey(ctx, s.actor(o), id)
	return passkeyRefusal(err)
}

// ---- the sign-in ----

// SignInPasskeyOptions starts the passkey step of the sign-in after the
// password's ticket: options asks for one of the ticket's officer's
// passkeys, with user verification. ok is false (and nothing is offered)
// when passkeys are off or the officer holds none. Nothing is stored.
func (s *Service) SignInPasskeyOptions(ctx context.Context, ticket string) (options json.RawMessage, state string, ok bool, err error) {
	pk, err := s.deskPasskeys()
	if err != nil {
		return nil, "", false, nil
	}
	o, _, err := s.openTicket(ctx, ticket)
	if err != nil {
		return nil, "", false, err
	}
	a, err := pk.store.OfficerPasskeyAccount(ctx, o.ID)
	if err != nil || len(a.Passkeys) == 0 {
		return nil, "", false, err
	}
	assertion, session, err := pk.wa.BeginLogin(officerUserOf(a), webauthn.WithUserVerification(protocol.VerificationRequired))
	if err != nil {
		return nil, "", false, err
	}
	options, state, err = s.begin(pk, purposeSignIn, o.ID, assertion, session)
	return options, state, err == nil, err
}

// SignInPasskey takes the assertion (the browser's credential.toJSON(),
// serialised) of a passkey step begun by SignInPasskeyOptions with the
// same ticket, and returns the officer, to be signed in with the factor
// "passkey". Tries are reserved as the codes' are. Answers:
// desk_passkeys_err_signin (any refusal, alike), desk_passkeys_err_state,
// desk_auth_err_stale, desk_auth_err_throttled.
func (s *Service) SignInPasskey(ctx context.Context, ticket, state string, response []byte, m Meta) (storage.Officer, error) {
	a, err := s.signIn()
	if err != nil {
		return storage.Officer{}, err
	}
	pk, err := s.deskPasskeys()
	if err != nil {
		return storage.Officer{}, err
	}
	o, _, err := s.openTicket(ctx, ticket)
	if err != nil {
		return storage.Officer{}, err
	}
	res, wait, err := s.reserve(ctx, storage.Limit{Key: idKey("desk-totp:", o.ID), Max: a.FailuresPerLogin}, storage.Limit{Key: "desk-totp-ip:" + m.IP, Max: a.FailuresPerIP})
	if err != nil {
		return storage.Officer{}, err
	}
	if wait > 0 {
		s.record(ctx, o.ID, m, storage.DeskLocked)
		return storage.Officer{}, throttled(wait)
	}
	err = s.checkAssertion(ctx, pk, o, state, response)
	var e *storage.Error
	if err != nil && !errors.As(err, &e) {
		res.GiveBack(ctx) // the store failed: no try spent
		return storage.Officer{}, err
	}
	if err != nil {
		s.record(ctx, o.ID, m, storage.DeskWrongPasskey)
		return storage.Officer{}, err
	}
	res.Succeeded(ctx)
	s.record(ctx, o.ID, m, storage.DeskSignedIn)
	return o, nil
}

// checkAssertion verifies response for the sign-in ceremony state of o:
// single use, one of o's passkeys, user verified, counter forward.
func (s *Service) checkAssertion(ctx context.Context, pk *deskPasskeys, o storage.Officer, state string, response []byte) error {
	if len(response) == 0 || len(response) > MaxPasskeyResponse {
		return errPasskeySignIn()
	}
	parsed, err := protocol.ParseCredentialRequestResponseBytes(response)
	if err != nil {
		refused(ctx, "sign-in", err)
		return errPasskeySignIn()
	}
	session, err := s.finish(ctx, pk, state, purposeSignIn, o.ID)
	if err != nil {
		return err
	}
	acct, err := pk.store.OfficerPasskeyAccount(ctx, o.ID)
	if err != nil {
		return err
	}
	cred, err := pk.wa.ValidateLogin(officerUserOf(acct), session, parsed)
	if err != nil {
		refused(ctx, "sign-in", err)
		return errPasskeySignIn()
	}
	var p storage.OfficerPasskey
	for _, q := range acct.Passkeys {
		if bytes.Equal(q.CredentialID, cred.ID) {
			p = q
		}
	}
	data := parsed.Response.AuthenticatorData
	switch {
	case p.ID == 0 || !data.Flags.HasUserVerified():
		refused(ctx, "sign-in", errors.New("not the officer's passkey, or user not verified"))
		return errPasskeySignIn()
	case cred.Authenticator.CloneWarning:
		slog.WarnContext(ctx, "officer passkey refused: its signature counter did not move forward; the authenticator may have been cloned",
			"officer", o.Login, "passkey_id", p.ID, "stored_count", p.SignCount, "presented_count", data.Counter)
		return errPasskeySignIn()
	}
	ok, err := pk.store.UseOfficerPasskey(ctx, o.ID, p.ID, data.Counter, data.Flags.HasBackupState())
	if err != nil {
		return fmt.Errorf("officers: use passkey: %w", err)
	}
	if !ok {
		refused(ctx, "sign-in", errors.New("another use moved the counter first, or the passkey was removed"))
		return errPasskeySignIn()
	}
	return nil
}
