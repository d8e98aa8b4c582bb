package tools

import (
	"bytes"
	"context"
	"crypto/cipher"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/go-webauthn/webauthn/protocol"
	"github.com/go-webauthn/webauthn/webauthn"

	"github.com/entity-account/idp/login/notify"
	"github.com/entity-account/idp/storage"
)

// Passkeys (WebAuthn). User verification (the face, fingerprint or PIN of
// the person's device) is required in every ceremony, and a passkey must be
// discoverable (a resident key), so that it can sign in alone; attestation
// is not asked for. Who may enrol, remove and switch passkeys off is the
// rule book's (storage/rules_tools.go); every change is audited and told to
// the holder in the transaction that makes it.
//
// The ceremonies keep nothing on the server between their two steps (see
// ceremony.go): an anonymous caller that loads a sign-in page makes us store
// nothing. A finished ceremony's challenge is marked used in Redis before
// its signature is checked, so neither its state nor its response works
// twice. An assertion whose signature counter did not move forward (both
// zero aside) is refused as the mark of a cloned authenticator.

// WebAuthnConfig is the relying party of passkeys: this provider.
type WebAuthnConfig struct {
	// RPID is the issuer's host name, without scheme or port (browsers
	// refuse an IP address).
	RPID string
	// Origins are where the ceremonies run: the issuer's scheme, host and
	// port (e.g. https://id.example.gov.mo).
	Origins []string
	// DisplayName is the name authenticators show: 澳門公共服務一戶通.
	DisplayName string
	// CeremonyKey (32 bytes) seals ceremony state:
	// op.DeriveKey(master, "webauthn-ceremony").
	CeremonyKey []byte
}

// UsedChallenges is the single-use gate of ceremonies (storage/redis).
type UsedChallenges interface {
	// Once marks key of purpose used for ttl and reports whether this was
	// its first use; of calls at once with one key, exactly one gets true.
	Once(ctx context.Context, purpose, key string, ttl time.Duration) (bool, error)
}

// passkeys is the state of the ceremonies, set by EnablePasskeys.
type passkeys struct {
	wa       *webauthn.WebAuthn
	ceremony cipher.AEAD
	used     UsedChallenges
}

// EnablePasskeys turns the passkey ceremonies (Begin*, Finish*) on; until
// then they fail. The rest (Tools, Status, RemovePasskey,
// SwitchOffPasskeys, EnablePasskeysFor) needs only the stores. Call it
// before the service is shared.
func (s *Service) EnablePasskeys(cfg WebAuthnConfig, used UsedChallenges) error {
	if used == nil {
		return errors.New("tools: passkeys need the used-challenge store")
	}
	aead, err := newCeremonyAEAD(cfg.CeremonyKey)
	if err != nil {
		return err
	}
	if cfg.DisplayName == "" {
		cfg.DisplayName = Issuer
	}
	wa, err := webauthn.New(&webauthn.Config{
		RPID:          cfg.RPID,
		RPDisplayName: cfg.DisplayName,
		RPOrigins:     cfg.Origins,
		AuthenticatorSelection: protocol.AuthenticatorSelection{
			RequireResidentKey: protocol.ResidentKeyRequired(),
			ResidentKey:        protocol.ResidentKeyRequirementRequired,
			UserVerification:   protocol.VerificationRequired,
		},
		AttestationPreference: protocol.PreferNoAttestation,
		Timeouts: webauthn.TimeoutsConfig{
			Login:        webauthn.TimeoutConfig{Timeout: CeremonyTTL, TimeoutUVD: CeremonyTTL},
			Registration: webauthn.TimeoutConfig{Timeout: CeremonyTTL, TimeoutUVD: CeremonyTTL},
		},
		// We act on no extension output but credProps; one a password manager
		// adds unasked is of no consequence and must not fail the ceremony.
		ExtensionsUnsolicitedOutputPolicy: protocol.UnsolicitedOutputPolicyIgnore,
	})
	if err != nil {
		return fmt.Errorf("tools: passkeys: %w", err)
	}
	s.passkeys = &passkeys{wa: wa, ceremony: aead, used: used}
	return nil
}

// Errors of the ceremonies. They say no more than needed: a refused
// assertion does not tell an unknown passkey from a bad signature.
var (
	errState = &storage.Error{Code: storage.EInvalid, Key: "tool_error_passkey_state",
		Message: "The passkey step has expired, was already used or is not valid; start again."}
	errPasskey = &storage.Error{Code: storage.EInvalid, Key: "tool_error_passkey",
		Message: "The passkey was not accepted."}
	errNoPasskeys = errors.New("tools: passkeys are not enabled")
)

// PasskeysEnabled reports whether the passkey ceremonies are on
// (EnablePasskeys): an issuer with an IP address as its host has none.
func (s *Service) PasskeysEnabled() bool { return s.passkeys != nil }

func (s *Service) ceremonies() (*passkeys, error) {
	if s.passkeys == nil {
		return nil, errNoPasskeys
	}
	return s.passkeys, nil
}

// user is a staff login as go-webauthn sees it.
type user struct {
	handle        []byte
	name, display string
	creds         []webauthn.Credential
}

func (u *user) WebAuthnID() []byte                         { return u.handle }
func (u *user) WebAuthnName() string                       { return u.name }
func (u *user) WebAuthnDisplayName() string                { return u.display }
func (u *user) WebAuthnCredentials() []webauthn.Credential { return u.creds }

func userOf(a storage.PasskeyAccount) *user {
	u := &user{handle: a.Handle, name: a.EntityNumber + " " + a.Login.Username}
	u.display = strings.TrimSpace(a.Login.NameZH + " " + a.Login.NameForeign)
	if u.display == "" {
		u.display = u.name
	}
	for _, p := range a.Passkeys {
		transports := make([]protocol.AuthenticatorTransport, len(p.Transports))
		for i, t := range p.Transports {
			transports[i] = protocol.AuthenticatorTransport(t)
		}
		u.creds = append(u.creds, webauthn.Credential{
			ID: p.CredentialID, PublicKey: p.PublicKey, Transport: transports,
			Flags: webauthn.CredentialFlags{UserPresent: true, UserVerified: true,
				BackupEligible: p.BackupEligible, BackupState: p.BackupState},
			Authenticator: webauthn.Authenticator{AAGUID: p.AAGUID, SignCount: p.SignCount,
				Attachment: protocol.AuthenticatorAttachment(p.Attachment)},
		})
	}
	return u
}

// begin seals the session of a new ceremony and returns the options (JSON)
// with the state.
func (s *Service) begin(pk *passkeys, purpose string, loginID int64, options any, session *webauthn.SessionData) (json.RawMessage, string, error) {
	out, err := json.Marshal(options)
	if err != nil {
		return nil, "", err
	}
	state, err := sealCeremony(pk.ceremony, ceremony{Purpose: purpose, Login: loginID, Expires: s.Now().Add(CeremonyTTL), Session: *session})
	if err != nil {
		return nil, "", err
	}
	return out, state, nil
}

// finish opens state for purpose and loginID, then marks its challenge
// used: a second use of either is errState. It does so before anything of
// the response is believed.
func (s *Service) finish(ctx context.Context, pk *passkeys, state, purpose string, loginID int64) (webauthn.SessionData, error) {
	now := s.Now()
	c, err := openCeremony(pk.ceremony, state, purpose, loginID, now)
	if err != nil {
		return webauthn.SessionData{}, err
	}
	// The mark outlives the state (a second at least), so the state cannot
	// open again without it.
	first, err := pk.used.Once(ctx, "webauthn", c.Session.Challenge, max(c.Expires.Sub(now), time.Second))
	if err != nil {
		return webauthn.SessionData{}, err
	}
	if !first {
		return webauthn.SessionData{}, errState
	}
	return c.Session, nil
}

// bounded refuses an empty or oversized response before it is parsed.
func bounded(response []byte) error {
	if len(response) == 0 || len(response) > MaxResponse {
		return errPasskey
	}
	return nil
}

// refused logs why go-webauthn refused a response and returns errPasskey.
func refused(ctx context.Context, what string, err error) error {
	attrs := []any{"err", err}
	var pe *protocol.Error
	if errors.As(err, &pe) {
		attrs = append(attrs, "type", pe.Type, "info", pe.DevInfo)
	}
	slog.InfoContext(ctx, "passkey "+what+" refused", attrs...)
	return errPasskey
}

// ---- registration ----

// passkeyEnrolment finds the login euid of the actor's entity and checks
// that the actor may add a passkey to it now.
func (s *Service) passkeyEnrolment(ctx context.Context, actor storage.Actor, euid string) (storage.StaffLogin, storage.PasskeyAccount, error) {
	sl, err := s.dir.StaffLoginOf(ctx, actor.EntityID, euid)
	if err != nil {
		return sl, storage.PasskeyAccount{}, notFound(err, "Staff login "+euid)
	}
	if !storage.CanEnrolTool(actor, sl) {
		return sl, storage.PasskeyAccount{}, forbidden("enrol an identity tool for this login (only the login itself may)")
	}
	if !storage.PasskeysAllowed(sl) {
		return sl, storage.PasskeyAccount{}, &storage.Error{Code: storage.EForbidden, Key: "tool_error_passkey_document", Err: storage.ErrForbidden,
			Message: "Only a staff login registered with a Macau resident ID card may add passkeys; others use the security verification code, approved in person."}
	}
	acct, err := s.dir.PasskeyAccount(ctx, sl.ID)
	if err != nil {
		return sl, acct, err
	}
	if acct.PasskeysOff != nil {
		return sl, acct, passkeyRefusal(storage.ErrPasskeysOff)
	}
	if !storage.CanEnrolPasskey(actor, acct.Login, false) { // the login changed since it was read
		return sl, acct, forbidden("add a passkey to this login")
	}
	if len(acct.Passkeys) >= storage.MaxPasskeys {
		return sl, acct, passkeyRefusal(storage.ErrTooManyPasskeys)
	}
	return acct.Login, acct, nil
}

// passkeyRefusal is the answer to the store's refusals of an enrolment.
func passkeyRefusal(err error) error {
	switch {
	case errors.Is(err, storage.ErrPasskeysOff):
		return &storage.Error{Code: storage.EConflict, Key: "tool_error_passkeys_off", Err: err,
			Message: "Passkeys of this login were switched off; 行政公職局 switches them on again, in person."}
	case errors.Is(err, storage.ErrTooManyPasskeys):
		return &storage.Error{Code: storage.EConflict, Key: "tool_error_passkey_limit", Err: err,
			Message: fmt.Sprintf("A login holds at most %d passkeys; remove one first.", storage.MaxPasskeys)}
	case errors.Is(err, storage.ErrPasskeyNameTaken):
		return &storage.Error{Code: storage.EConflict, Key: "tool_error_passkey_name_taken", Field: "name", Err: err,
			Message: "Another passkey of this login has this name."}
	case errors.Is(err, storage.ErrAlreadyExists):
		return &storage.Error{Code: storage.EConflict, Key: "tool_error_passkey_registered", Err: err,
			Message: "This passkey is already registered."}
	}
	return err
}

// BeginPasskey starts the enrolment of a passkey by the staff login euid of
// the actor's entity: the login itself only, registered with a Macau
// resident ID, its passkeys not switched off, below storage.MaxPasskeys.
// options is the JSON of the browser's
// navigator.credentials.create({publicKey}) call, {"publicKey":{…}} with
// base64url binaries (PublicKeyCredential.parseCreationOptionsFromJSON
// takes its publicKey); its passkeys are excluded, so an authenticator is
// not enrolled twice. state goes back to FinishPasskey within CeremonyTTL.
// Nothing is stored. Errors: ENotFound, EForbidden, EConflict (switched
// off, at the limit).
func (s *Service) BeginPasskey(ctx context.Context, actor storage.Actor, euid string) (options json.RawMessage, state string, err error) {
	pk, err := s.ceremonies()
	if err != nil {
		return nil, "", err
	}
	sl, acct, err := s.passkeyEnrolment(ctx, actor, euid)
	if err != nil {
		return nil, "", err
	}
	u := userOf(acct)
	exclude := make([]protocol.CredentialDescriptor, len(u.creds))
	for i := range u.creds {
		exclude[i] = u.creds[i].Descriptor()
	}
	creation, session, err := pk.wa.BeginRegistration(u,
		webauthn.WithExclusions(exclude),
		webauthn.WithResidentKeyRequirement(protocol.ResidentKeyRequirementRequired),
		webauthn.WithConveyancePreference(protocol.PreferNoAttestation),
		webauthn.WithExtensions(webauthn.WithExtensionCredProps()))
	if err != nil {
		return nil, "", err
	}
	return s.begin(pk, purposeRegister, sl.ID, creation, session)
}

// FinishPasskey completes an enrolment begun by BeginPasskey for the same
// login: response is the browser's credential.toJSON(), serialised; name is
// what the person calls the passkey (storage.PasskeyName: 1–40
// characters, unique among its passkeys). The passkey is stored active,
// with tool.passkey.add and a notice to the holder, and returned. Errors:
// EInvalid (name, state, response; field "name" for the name), ENotFound,
// EForbidden, EConflict (switched off, at the limit, name taken, already
// registered).
func (s *Service) FinishPasskey(ctx context.Context, actor storage.Actor, euid, state, name string, response []byte) (storage.IdentityTool, error) {
	pk, err := s.ceremonies()
	if err != nil {
		return storage.IdentityTool{}, err
	}
	name, ok := storage.PasskeyName(name)
	if !ok {
		return storage.IdentityTool{}, &storage.Error{Code: storage.EInvalid, Key: "tool_error_passkey_name", Field: "name",
			Message: fmt.Sprintf("Give the passkey a name of 1 to %d characters.", storage.MaxPasskeyName)}
	}
	if err := bounded(response); err != nil {
		return storage.IdentityTool{}, err
	}
	sl, acct, err := s.passkeyEnrolment(ctx, actor, euid)
	if err != nil {
		return storage.IdentityTool{}, err
	}
	for _, p := range acct.Passkeys {
		if strings.EqualFold(p.Name, name) {
			return storage.IdentityTool{}, passkeyRefusal(storage.ErrPasskeyNameTaken)
		}
	}
	parsed, err := protocol.ParseCredentialCreationResponseBytes(response)
	if err != nil {
		return storage.IdentityTool{}, refused(ctx, "registration", err)
	}
	session, err := s.finish(ctx, pk, state, purposeRegister, sl.ID)
	if err != nil {
		return storage.IdentityTool{}, err
	}
	cred, err := pk.wa.CreateCredential(userOf(acct), session, parsed)
	if err != nil {
		return storage.IdentityTool{}, refused(ctx, "registration", err)
	}
	flags := parsed.Response.AttestationObject.AuthData.Flags
	if !flags.HasUserVerified() {
		return storage.IdentityTool{}, refused(ctx, "registration", errors.New("user not verified"))
	}
	if rk := parsed.ClientExtensionResults.CredProps; rk != nil && rk.RK != nil && !*rk.RK {
		return storage.IdentityTool{}, refused(ctx, "registration", errors.New("not a discoverable credential"))
	}
	p := storage.Passkey{
		IdentityTool: storage.IdentityTool{Kind: storage.ToolPasskey, State: storage.ToolActive, Name: name},
		CredentialID: cred.ID, PublicKey: cred.PublicKey, SignCount: cred.Authenticator.SignCount,
		AAGUID: cred.Authenticator.AAGUID, BackupEligible: cred.Flags.BackupEligible, BackupState: cred.Flags.BackupState,
		Attachment: string(cred.Authenticator.Attachment),
	}
	if bytes.Equal(p.AAGUID, make([]byte, 16)) {
		p.AAGUID = nil
	}
	for _, t := range cred.Transport {
		if len(p.Transports) < 8 && storage.CleanText(string(t), 32) {
			p.Transports = append(p.Transports, string(t))
		}
	}
	notice, err := s.notice(ctx, sl, notify.ToolPasskeyAdded, name)
	if err != nil {
		return storage.IdentityTool{}, err
	}
	added, err := s.dir.AddPasskey(ctx, actor, sl, p, notice)
	if err != nil {
		return storage.IdentityTool{}, passkeyRefusal(err)
	}
	s.wake(notice)
	return added.IdentityTool, nil
}

// ---- use at sign-in ----

// amrOf is what a passkey use proves: a key bound to its device (hwk) or
// one that may be synced (swk), the user verified by the device, and so
// more than one factor.
func amrOf(p storage.Passkey) []string {
	key := storage.AMRHardwareKey
	if p.BackupEligible {
		key = storage.AMRSoftwareKey
	}
	return []string{key, storage.AMRUser, storage.AMRMulti}
}

// BeginPasskeyCheck starts a passkey check as the second factor of staff
// login loginID, which has already given its password: options asks for
// one of its passkeys (allowCredentials), with user verification. Nothing
// is stored. Errors: ENotFound (no such login), EConflict (no passkey
// usable now).
func (s *Service) BeginPasskeyCheck(ctx context.Context, loginID int64) (options json.RawMessage, state string, err error) {
	pk, err := s.ceremonies()
	if err != nil {
		return nil, "", err
	}
	acct, err := s.dir.PasskeyAccount(ctx, loginID)
	if err != nil {
		return nil, "", notFound(err, "The staff login")
	}
	if !storage.PasskeysUsable(acct) || len(acct.Passkeys) == 0 {
		return nil, "", &storage.Error{Code: storage.EConflict, Key: "tool_error_passkey_none", Err: storage.ErrConflict,
			Message: "The staff login has no passkey it can use now."}
	}
	assertion, session, err := pk.wa.BeginLogin(userOf(acct), webauthn.WithUserVerification(protocol.VerificationRequired))
	if err != nil {
		return nil, "", err
	}
	return s.begin(pk, purposeCheck, loginID, assertion, session)
}

// FinishPasskeyCheck checks the assertion (the browser's
// credential.toJSON(), serialised) for a check begun by BeginPasskeyCheck
// for the same login, and returns what it proves: amr ["hwk" or "swk",
// "user", "mfa"]. The passkey's counter and last use are stored. Errors:
// EInvalid (state, response, signature, counter).
func (s *Service) FinishPasskeyCheck(ctx context.Context, loginID int64, state string, response []byte) (amr []string, err error) {
	pk, err := s.ceremonies()
	if err != nil {
		return nil, err
	}
	if err := bounded(response); err != nil {
		return nil, err
	}
	parsed, err := protocol.ParseCredentialRequestResponseBytes(response)
	if err != nil {
		return nil, refused(ctx, "check", err)
	}
	session, err := s.finish(ctx, pk, state, purposeCheck, loginID)
	if err != nil {
		return nil, err
	}
	acct, err := s.dir.PasskeyAccount(ctx, loginID)
	if errors.Is(err, storage.ErrNotFound) {
		return nil, errPasskey
	}
	if err != nil {
		return nil, err
	}
	if !storage.PasskeysUsable(acct) {
		return nil, errPasskey
	}
	cred, err := pk.wa.ValidateLogin(userOf(acct), session, parsed)
	if err != nil {
		return nil, refused(ctx, "check", err)
	}
	p, err := s.used(ctx, acct, cred, parsed)
	if err != nil {
		return nil, err
	}
	return amrOf(p), nil
}

// BeginPasskeySignIn starts a sign-in with a passkey alone: options asks
// for any discoverable credential of this provider (no allowCredentials),
// with user verification; the passkey chosen names the login. Nothing is
// stored and no store is read: an anonymous caller may call it freely.
func (s *Service) BeginPasskeySignIn(ctx context.Context) (options json.RawMessage, state string, err error) {
	pk, err := s.ceremonies()
	if err != nil {
		return nil, "", err
	}
	assertion, session, err := pk.wa.BeginDiscoverableLogin(webauthn.WithUserVerification(protocol.VerificationRequired))
	if err != nil {
		return nil, "", err
	}
	return s.begin(pk, purposeSignIn, 0, assertion, session)
}

// FinishPasskeySignIn checks the assertion for a sign-in begun by
// BeginPasskeySignIn and returns the staff login its passkey belongs to
// (its id and subject, the EUID) and what it proves: amr ["hwk" or "swk",
// "user", "mfa"], storage.LevelTool. Only a login whose passkeys are usable
// now (storage.PasskeysUsable: active, activated, entity open) signs in.
// The passkey's counter and last use are stored. Errors: EInvalid (state,
// response, unknown passkey, signature, counter), all alike.
func (s *Service) FinishPasskeySignIn(ctx context.Context, state string, response []byte) (loginID int64, subject string, amr []string, err error) {
	pk, err := s.ceremonies()
	if err != nil {
		return 0, "", nil, err
	}
	if err := bounded(response); err != nil {
		return 0, "", nil, err
	}
	parsed, err := protocol.ParseCredentialRequestResponseBytes(response)
	if err != nil {
		return 0, "", nil, refused(ctx, "sign-in", err)
	}
	session, err := s.finish(ctx, pk, state, purposeSignIn, 0)
	if err != nil {
		return 0, "", nil, err
	}
	var acct storage.PasskeyAccount
	var storeErr error
	lookup := func(_, handle []byte) (webauthn.User, error) {
		acct, storeErr = s.dir.PasskeyAccountByHandle(ctx, handle)
		if storeErr != nil {
			return nil, storeErr
		}
		if !storage.PasskeysUsable(acct) {
			return nil, errors.New("the login may not sign in with a passkey now")
		}
		return userOf(acct), nil
	}
	_, cred, err := pk.wa.ValidatePasskeyLogin(lookup, session, parsed)
	if storeErr != nil && !errors.Is(storeErr, storage.ErrNotFound) {
		return 0, "", nil, storeErr // the store failed; the response may be fine
	}
	if err != nil {
		return 0, "", nil, refused(ctx, "sign-in", err)
	}
	p, err := s.used(ctx, acct, cred, parsed)
	if err != nil {
		return 0, "", nil, err
	}
	return acct.Login.ID, acct.Login.EUID, amrOf(p), nil
}

// used records a verified assertion of one of acct's passkeys: refused
// unless the device verified the user and the signature counter moved
// forward (both zero aside: an authenticator without a counter), then the
// counter and last use are stored, atomically against another use.
func (s *Service) used(ctx context.Context, acct storage.PasskeyAccount, cred *webauthn.Credential, parsed *protocol.ParsedCredentialAssertionData) (storage.Passkey, error) {
	var p storage.Passkey
	for _, q := range acct.Passkeys {
		if bytes.Equal(q.CredentialID, cred.ID) {
			p = q
		}
	}
	data := parsed.Response.AuthenticatorData
	if p.ID == 0 || !data.Flags.HasUserVerified() {
		return p, refused(ctx, "assertion", errors.New("unknown passkey or user not verified"))
	}
	if cred.Authenticator.CloneWarning {
		slog.WarnContext(ctx, "passkey refused: its signature counter did not move forward; the authenticator may have been cloned",
			"euid", acct.Login.EUID, "tool_id", p.ID, "stored_count", p.SignCount, "presented_count", data.Counter)
		return p, errPasskey
	}
	ok, err := s.dir.UsePasskey(ctx, p.ID, data.Counter, data.Flags.HasBackupState())
	if err != nil {
		return p, err
	}
	if !ok {
		slog.WarnContext(ctx, "passkey refused: another use moved its counter first, or it was removed",
			"euid", acct.Login.EUID, "tool_id", p.ID, "presented_count", data.Counter)
		return p, errPasskey
	}
	return p, nil
}

// ---- the login's own tools ----

// ToolStatus is what a staff login holds that it can use at sign-in now,
// and where its passkeys stand.
type ToolStatus struct {
	// TOTP is the state of its security verification code; "" when none.
	TOTP storage.ToolState
	// Passkeys is how many passkeys it can sign in with now (0 when its
	// passkeys are not usable: storage.PasskeysUsable).
	Passkeys int
	// PasskeysOff: its holder switched passkeys off; only the operator
	// switches them on again, in person.
	PasskeysOff bool
	// MayAddPasskey: the login may enrol a passkey itself now (a Macau
	// resident ID, passkeys on, below storage.MaxPasskeys).
	MayAddPasskey bool
	// SelfConfirms: the login enables its tools alone (a Macau resident
	// ID); any other document needs a visit in person.
	SelfConfirms bool
}

// TOTPActive reports whether the login's TOTP can be used at sign-in.
func (st ToolStatus) TOTPActive() bool { return st.TOTP == storage.ToolActive }

// Status tells what staff login loginID holds that can be used at sign-in
// now (an active TOTP, its passkeys), and whether its passkeys are
// switched off or it may enrol one itself. It reads; it checks no actor:
// the sign-in and the login's own pages call it for the login at hand.
// Errors: ENotFound.
func (s *Service) Status(ctx context.Context, loginID int64) (ToolStatus, error) {
	acct, err := s.dir.PasskeyAccount(ctx, loginID)
	if err != nil {
		return ToolStatus{}, notFound(err, "The staff login")
	}
	st := ToolStatus{PasskeysOff: acct.PasskeysOff != nil, SelfConfirms: storage.SelfConfirmsTools(acct.Login)}
	if storage.PasskeysUsable(acct) {
		st.Passkeys = len(acct.Passkeys)
		st.MayAddPasskey = len(acct.Passkeys) < storage.MaxPasskeys
	}
	t, _, err := s.dir.TOTP(ctx, loginID)
	switch {
	case err == nil:
		st.TOTP = t.State
	case !errors.Is(err, storage.ErrNotFound):
		return ToolStatus{}, err
	}
	return st, nil
}

// Tools lists the identity tools of the staff login euid of the actor's
// entity, for its profile: kind, name, state, when added and last used,
// oldest first. The login itself only (storage.CanViewTools). Errors:
// ENotFound, EForbidden.
func (s *Service) Tools(ctx context.Context, actor storage.Actor, euid string) ([]storage.IdentityTool, error) {
	sl, err := s.dir.StaffLoginOf(ctx, actor.EntityID, euid)
	if err != nil {
		return nil, notFound(err, "Staff login "+euid)
	}
	if !storage.CanViewTools(actor, sl) {
		return nil, forbidden("see the identity tools of this login (only the login itself may)")
	}
	return s.dir.Tools(ctx, sl.ID)
}

// RemovePasskey removes the passkey toolID of the staff login euid of the
// actor's entity, by the login itself: with tool.passkey.remove and a
// notice to the holder. It does not switch passkeys off. A tool id that is
// not one of the login's passkeys is ENotFound, like a missing one.
// Errors: ENotFound, EForbidden.
func (s *Service) RemovePasskey(ctx context.Context, actor storage.Actor, euid string, toolID int64) error {
	sl, err := s.dir.StaffLoginOf(ctx, actor.EntityID, euid)
	if err != nil {
		return notFound(err, "Staff login "+euid)
	}
	if !storage.CanRemovePasskeys(actor, sl) {
		return forbidden("remove passkeys of this login (only the login itself may)")
	}
	acct, err := s.dir.PasskeyAccount(ctx, sl.ID)
	if err != nil {
		return err
	}
	name := ""
	for _, p := range acct.Passkeys {
		if p.ID == toolID {
			name = p.Name
		}
	}
	errNone := &storage.Error{Code: storage.ENotFound, Key: "tool_error_passkey_not_found", Err: storage.ErrNotFound,
		Message: "The passkey was not found."}
	if name == "" {
		return errNone
	}
	notice, err := s.notice(ctx, sl, notify.ToolPasskeyRemoved, name)
	if err != nil {
		return err
	}
	err = s.dir.RemovePasskey(ctx, actor, sl, toolID, notice)
	if errors.Is(err, storage.ErrNotFound) {
		return errNone
	}
	if err == nil {
		s.wake(notice)
	}
	return err
}

// SwitchOffPasskeys switches passkeys off for the staff login euid of the
// actor's entity, by the login itself: every passkey of it is removed, and
// it may not enrol another until the operator switches them on again in
// person (EnablePasskeysFor). Audited (tool.passkey.off) and told to the
// holder. Errors: ENotFound, EForbidden, EConflict (already off).
func (s *Service) SwitchOffPasskeys(ctx context.Context, actor storage.Actor, euid string) error {
	sl, err := s.dir.StaffLoginOf(ctx, actor.EntityID, euid)
	if err != nil {
		return notFound(err, "Staff login "+euid)
	}
	if !storage.CanRemovePasskeys(actor, sl) {
		return forbidden("switch passkeys off for this login (only the login itself may)")
	}
	notice, err := s.notice(ctx, sl, notify.ToolPasskeysOff, "")
	if err != nil {
		return err
	}
	_, err = s.dir.SwitchOffPasskeys(ctx, actor, sl, notice)
	if errors.Is(err, storage.ErrConflict) {
		return &storage.Error{Code: storage.EConflict, Key: "tool_error_passkeys_already_off", Err: err,
			Message: "Passkeys of this login are already switched off."}
	}
	if err == nil {
		s.wake(notice)
	}
	return err
}

// EnablePasskeysFor switches passkeys on again for the staff login euid of
// entity entityNumber after its holder switched them off: the operator
// only (行政公職局, after seeing the person). Audited (tool.passkey.enable)
// and told to the holder. Errors: EInvalid (entity number), ENotFound,
// EForbidden, EConflict (not switched off).
func (s *Service) EnablePasskeysFor(ctx context.Context, operator storage.Actor, entityNumber, euid string) error {
	if !storage.CanEnablePasskeys(operator) {
		return forbidden("switch passkeys on again (only 行政公職局 may)")
	}
	sl, err := s.staffOf(ctx, entityNumber, euid)
	if err != nil {
		return err
	}
	notice, err := s.notice(ctx, sl, notify.ToolPasskeysOn, "")
	if err != nil {
		return err
	}
	err = s.dir.EnablePasskeys(ctx, operator, sl, notice)
	if errors.Is(err, storage.ErrConflict) {
		return &storage.Error{Code: storage.EConflict, Key: "tool_error_passkeys_not_off", Err: err,
			Message: "Passkeys of this staff login are not switched off."}
	}
	if err == nil {
		s.wake(notice)
	}
	return err
}
