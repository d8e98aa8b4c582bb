package officers

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/go-webauthn/webauthn/protocol"
	"github.com/go-webauthn/webauthn/webauthn"

	"github.com/entity-account/idp/login/seal"
	"github.com/entity-account/idp/storage"
)

// Passkeys at the desk: an officer's second factor beside its 安全驗證碼,
// after the password and never instead of it. The officer adds them
// itself, at most storage.MaxOfficerPasskeys, after proving its password
// again (ConfirmPassword: a proof bound to its desk session, good for
// ReauthLife), and removes them, never its last second factor. At the
// sign-in, the password's ticket names the officer: the assertion must be
// of one of its passkeys (allowCredentials), with user verification, its
// signature counter moving forward. Ceremonies keep nothing on the server
// between their steps: their state is sealed into the form, its challenge
// marked used (UsedChallenges) before the response is believed.

// PasskeyConfig is the relying party of the desk's passkeys: the desk's
// own origin (IDP_DESK_ORIGIN), whose host name is the RP ID.
type PasskeyConfig struct {
	RPID        string
	Origins     []string
	DisplayName string
	// CeremonyKey (32 bytes) seals ceremony state:
	// op.DeriveKey(master, "officer-webauthn").
	CeremonyKey []byte
}

// UsedChallenges is the single-use gate of ceremonies (storage/redis).
type UsedChallenges interface {
	Once(ctx context.Context, purpose, key string, ttl time.Duration) (bool, error)
}

// PasskeyStore is what the passkeys need of the durable store.
type PasskeyStore interface {
	OfficerPasskeyAccount(ctx context.Context, officerID int64) (storage.OfficerPasskeyAccount, error)
	AddOfficerPasskey(ctx context.Context, by storage.Actor, p *storage.OfficerPasskey) error
	RemoveOfficerPasskey(ctx context.Context, by storage.Actor, id int64) (storage.OfficerPasskey, error)
	UseOfficerPasskey(ctx context.Context, officerID, id int64, counter uint32, backupState bool) (bool, error)
}

const (
	// ReauthLife is how long a password proven again opens the changes of
	// an officer's passkeys.
	ReauthLife = 5 * time.Minute
	// PasskeyCeremonyTTL is how long a ceremony may take.
	PasskeyCeremonyTTL = 5 * time.Minute
	// MaxPasskeyResponse bounds the browser's credential JSON.
	MaxPasskeyResponse = 16 << 10
	maxPasskeyState    = 8 << 10

	purposeAdd    = "add"
	purposeSignIn = "signin"
)

type deskPasskeys struct {
	wa    *webauthn.WebAuthn
	seal  *seal.Sealer
	used  UsedChallenges
	store PasskeyStore
}

// EnablePasskeys turns the desk's passkeys on (after EnableSignIn); until
// then every passkey use case fails and PasskeysEnabled is false.
func (s *Service) EnablePasskeys(cfg PasskeyConfig, store PasskeyStore, used UsedChallenges) error {
	if s.auth == nil {
		return errors.New("officers: passkeys need the sign-in (EnableSignIn first)")
	}
	if used == nil || store == nil {
		return errors.New("officers: passkeys need their store and the used-challenge store")
	}
	sl, err := seal.New(cfg.CeremonyKey)
	if err != nil {
		return fmt.Errorf("officers: passkey ceremony key: %w", err)
	}
	if cfg.DisplayName == "" {
		cfg.DisplayName = totpIssuer
	}
	wa, err := webauthn.New(&webauthn.Config{
		RPID: cfg.RPID, RPDisplayName: cfg.DisplayName, RPOrigins: cfg.Origins,
		AuthenticatorSelection: protocol.AuthenticatorSelection{
			ResidentKey:      protocol.ResidentKeyRequirementPreferred,
			UserVerification: protocol.VerificationRequired,
		},
		AttestationPreference: protocol.PreferNoAttestation,
		Timeouts: webauthn.TimeoutsConfig{
			Login:        webauthn.TimeoutConfig{Timeout: PasskeyCeremonyTTL, TimeoutUVD: PasskeyCeremonyTTL},
			Registration: webauthn.TimeoutConfig{Timeout: PasskeyCeremonyTTL, TimeoutUVD: PasskeyCeremonyTTL},
		},
		ExtensionsUnsolicitedOutputPolicy: protocol.UnsolicitedOutputPolicyIgnore,
	})
	if err != nil {
		return fmt.Errorf("officers: passkeys: %w", err)
	}
	s.passkeys = &deskPasskeys{wa: wa, seal: sl, used: used, store: store}
	return nil
}

// PasskeysEnabled reports whether the desk offers passkeys.
func (s *Service) PasskeysEnabled() bool { return s.passkeys != nil && s.auth != nil }

var errNoPasskeys = errors.New("officers: passkeys are not enabled")

func (s *Service) deskPasskeys() (*deskPasskeys, error) {
	if !s.PasskeysEnabled() {
		return nil, errNoPasskeys
	}
	return s.passkeys, nil
}

// The answers of the passkeys.
var (
	errPasskeyState = func() error {
		return storage.Errorf(storage.EInvalid, "the passkey step has expired or was used; start again").WithKey("desk_passkeys_err_state").WithField("passkey")
	}
	errPasskey = func() error {
		return storage.Errorf(storage.EInvalid, "the passkey was not accepted").WithKey("desk_passkeys_err_refused")
	}
	errPasskeySignIn = func() error {
		return storage.Errorf(storage.EUnauthenticated, "the passkey was not accepted").WithKey("desk_passkeys_err_signin").WithField("passkey")
	}
	errReauth = func() error {
		return storage.Errorf(storage.EForbidden, "enter the password again first").WithKey("desk_passkeys_err_reauth")
	}
)

// ---- the password again ----

// ConfirmPassword checks the password of the officer o again, in the desk
// session sessionID (tries reserved as the sign-in's), and returns the
// proof that opens the changes of its passkeys in that session for
// ReauthLife. Answers: desk_passkeys_err_password (field password),
// desk_auth_err_throttled, error_busy.
func (s *Service) ConfirmPassword(ctx context.Context, o storage.Officer, sessionID, pw string, m Meta) (string, error) {
	a, err := s.signIn()
	if err != nil {
		return "", err
	}
	if err := storage.OfficerMay(o, storage.ActUseDesk); err != nil {
		return "", err
	}
	norm, _ := storage.NormalizeOfficerLogin(o.Login)
	res, wait, err := s.reserve(ctx, storage.Limit{Key: "desk-pw:" + norm, Max: a.FailuresPerLogin},
		storage.Limit{Key: "desk-pw-ip:" + m.IP, Max: a.FailuresPerIP})
	if err != nil {
		return "", err
	}
	if wait > 0 {
		return "", throttled(wait)
	}
	sec, err := s.store.OfficerSecrets(ctx, o.ID)
	if err != nil {
		res.GiveBack(ctx)
		return "", err
	}
	right, err := s.verify(ctx, sec.PasswordHash, pw)
	if err != nil {
		res.GiveBack(ctx)
		return "", err
	}
	if !right || sec.PasswordHash == "" {
		return "", storage.Errorf(storage.EUnauthenticated, "wrong password").WithKey("desk_passkeys_err_password").WithField("password")
	}
	res.Succeeded(ctx)
	payload := make([]byte, 16)
	binary.BigEndian.PutUint64(payload, uint64(o.ID))
	binary.BigEndian.PutUint64(payload[8:], uint64(a.now().Add(ReauthLife).Unix()))
	return base64.RawURLEncoding.EncodeToString(payload) + "." + base64.RawURLEncoding.EncodeToString(a.reauthMAC(payload, sessionID, o, sec)), nil
}

func (a *auth) reauthMAC(payload []byte, sessionID string, o storage.Officer, sec storage.OfficerSecrets) []byte {
	m := hmac.New(sha256.New, a.TicketKey)
	m.Write([]byte("officer-reauth\x00" + sessionID + "\x00"))
	m.Write(a.ticketMAC(payload, o, sec)) // the password hash and the sessions' epoch
	return m.Sum(nil)
}

// Fresh reports whether proof (of ConfirmPassword) is the officer o's, in
// session sessionID, and not yet expired.
func (s *Service) Fresh(ctx context.Context, o storage.Officer, sessionID, proof string) bool {
	a, err := s.signIn()
	if err != nil || proof == "" {
		return false
	}
	p, m, ok := strings.Cut(proof, ".")
	payload, err1 := base64.RawURLEncoding.DecodeString(p)
	mac, err2 := base64.RawURLEncoding.DecodeString(m)
	if !ok || err1 != nil || err2 != nil || len(payload) != 16 || int64(binary.BigEndian.Uint64(payload)) != o.ID {
		return false
	}
	if !a.now().Before(time.Unix(int64(binary.BigEndian.Uint64(payload[8:])), 0)) {
		return false
	}
	sec, err := s.store.OfficerSecrets(ctx, o.ID)
	return err == nil && hmac.Equal(mac, a.reauthMAC(payload, sessionID, o, sec))
}

// ---- ceremonies ----

type officerCeremony struct {
	Purpose string               `json:"p"`
	Officer int64                `json:"o"`
	Expires time.Time            `json:"e"`
	Session webauthn.SessionData `json:"s"`
}

func ceremonyAD(purpose string, officerID int64) []byte {
	return []byte("officer-webauthn\x00" + purpose + "\x00" + strconv.FormatInt(officerID, 10))
}

// begin seals a new ceremony's state and returns the options (JSON) with it.
func (s *Service) begin(pk *deskPasskeys, purpose string, officerID int64, options any, session *webauthn.SessionData) (json.RawMessage, string, error) {
	out, err := json.Marshal(options)
	if err != nil {
		return nil, "", err
	}
	plain, err := json.Marshal(officerCeremony{Purpose: purpose, Officer: officerID, Expires: s.auth.now().Add(PasskeyCeremonyTTL), Session: *session})
	if err != nil {
		return nil, "", err
	}
	sealed, err := pk.seal.Seal(plain, ceremonyAD(purpose, officerID))
	if err != nil {
		return nil, "", err
	}
	return out, base64.RawURLEncoding.EncodeToString(sealed), nil
}

// finish opens state for purpose and officerID and marks its challenge
// used: a second use of either, or any other state, is errPasskeyState.
func (s *Service) finish(ctx context.Context, pk *deskPasskeys, state, purpose string, officerID int64) (webauthn.SessionData, error) {
	var c officerCeremony
	now := s.auth.now()
	if state == "" || len(state) > maxPasskeyState {
		return c.Session, errPasskeyState()
	}
	raw, err := base64.RawURLEncoding.DecodeString(state)
	if err != nil {
		return c.Session, errPasskeyState()
	}
	plain, err := pk.seal.Open(raw, ceremonyAD(purpose, officerID))
	if err != nil || json.Unmarshal(plain, &c) != nil || c.Purpose != purpose || c.Officer != officerID ||
		!now.Before(c.Expires) || c.Session.Challenge == "" {
		return c.Session, errPasskeyState()
	}
	first, err := pk.used.Once(ctx, "officer-webauthn", c.Session.Challenge, max(c.Expires.Sub(now), time.Second))
	if err != nil {
		return c.Session, err
	}
	if !first {
		return c.Session, errPasskeyState()
	}
	return c.Session, nil
}

// officerUser is an officer as go-webauthn sees it.
type officerUser struct {
	handle        []byte
	name, display string
	creds         []webauthn.Credential
}

func (u *officerUser) WebAuthnID() []byte                         { return u.handle }
func (u *officerUser) WebAuthnName() string                       { return u.name }
func (u *officerUser) WebAuthnDisplayName() string                { return u.display }
func (u *officerUser) WebAuthnCredentials() []webauthn.Credential { return u.creds }

func officerUserOf(a storage.OfficerPasskeyAccount) *officerUser {
	u := &officerUser{handle: a.Handle, name: a.Officer.Login, display: a.Officer.DisplayName}
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

func refused(ctx context.Context, what string, err error) {
	attrs := []any{"err", err}
	var pe *protocol.Error
	if errors.As(err, &pe) {
		attrs = append(attrs, "type", pe.Type, "info", pe.DevInfo)
	}
	slog.InfoContext(ctx, "officer passkey "+what+" refused", attrs...)
}
