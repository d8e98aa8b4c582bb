package officers

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"

	"github.com/entity-account/idp/login/activation"
	"github.com/entity-account/idp/login/password"
	"github.com/entity-account/idp/storage"
)

// Activation at the desk: the officer types its login name, the code it
// was sent and a new password (BeginActivation); the desk shows a new
// 安全驗證碼 to enrol, and its first code (ConfirmActivation) makes the
// password and the 安全驗證碼 the officer's, uses the code and signs the
// officer in. Until then nothing of the officer changes: what the first
// step chose waits on the code's row, under the hash of a ticket only the
// officer's browser holds.

// ActivationForm is what the activation's first step submits.
type ActivationForm struct{ Login, Code, Password, Confirm string }

// Enrolment is the 安全驗證碼 the officer is to add to its app: the ticket
// the browser keeps for the second step, the secret (as typed into an app)
// and its otpauth:// address (the QR code's).
type Enrolment struct {
	Ticket      string
	Login       string
	Secret, URL string
}

// BeginActivation checks the login name and the code (tries reserved per
// login name and per address before anything is compared, and on the code
// itself), then the new password against the policy, hashes it and keeps
// it with a new TOTP secret on the code. Answers: desk_auth_err_activation
// for any wrong login name or code (never saying which), a password
// policy's key, desk_auth_err_throttled, error_busy.
func (s *Service) BeginActivation(ctx context.Context, f ActivationForm, m Meta) (Enrolment, error) {
	a, err := s.signIn()
	if err != nil {
		return Enrolment{}, err
	}
	login, okLogin := storage.NormalizeOfficerLogin(f.Login)
	code, okCode := activation.NormalizeCode(f.Code)
	if f.Password != f.Confirm {
		return Enrolment{}, storage.Errorf(storage.EInvalid, "the passwords differ").WithField("confirm").WithKey("desk_auth_err_passwords_differ")
	}
	if !okLogin || !okCode {
		return Enrolment{}, errActivation()
	}
	res, wait, err := s.reserve(ctx, storage.Limit{Key: "desk-act:" + login, Max: a.FailuresPerLogin}, storage.Limit{Key: "desk-act-ip:" + m.IP, Max: a.FailuresPerIP})
	if err != nil || wait > 0 {
		return Enrolment{}, errOr(err, throttled(wait))
	}
	o, err := s.checkCode(ctx, login, code)
	if err != nil {
		return Enrolment{}, err
	}
	res.Succeeded(ctx) // the code was right: no guess
	if err := password.CheckPolicy(f.Password, o.Officer.Login, o.Officer.DisplayName); err != nil {
		var pe *password.PolicyError
		if errors.As(err, &pe) {
			return Enrolment{}, storage.Errorf(storage.EInvalid, "%v", err).WithField("password").WithKey(pe.Key)
		}
		return Enrolment{}, err
	}
	hash, err := a.Hasher.Hash(ctx, f.Password)
	if errors.Is(err, password.ErrBusy) {
		return Enrolment{}, busy()
	}
	if err != nil {
		return Enrolment{}, err
	}
	secret, url, err := newTOTP(o.Officer.Login)
	if err != nil {
		return Enrolment{}, err
	}
	sealed, err := a.sealTOTP(o.Officer.ID, secret)
	if err != nil {
		return Enrolment{}, err
	}
	ticket, err := randomTicket()
	if err != nil {
		return Enrolment{}, err
	}
	if err := s.store.StageOfficerActivation(ctx, o.Code.ID, ticketHash(ticket), hash, sealed); err != nil {
		if errors.Is(err, storage.ErrCodeNotLive) {
			return Enrolment{}, errActivation()
		}
		return Enrolment{}, err
	}
	return Enrolment{Ticket: ticket, Login: o.Officer.Login, Secret: secret, URL: url}, nil
}

type checked struct {
	Officer storage.Officer
	Code    storage.OfficerCode
}

// checkCode is the active officer login and its live code, if code is it:
// a try of the code is reserved before it is compared and given back when
// it was right; a wrong one that takes the last try voids the code.
func (s *Service) checkCode(ctx context.Context, login, code string) (checked, error) {
	o, err := s.store.OfficerByLogin(ctx, login)
	if errors.Is(err, storage.ErrNotFound) {
		return checked{}, errActivation()
	}
	if err != nil {
		return checked{}, err
	}
	c, err := s.store.OfficerLiveCode(ctx, o.ID)
	if errors.Is(err, storage.ErrNotFound) {
		return checked{}, errActivation()
	}
	if err != nil {
		return checked{}, err
	}
	ok, err := s.store.ReserveOfficerCodeAttempt(ctx, c.ID)
	if err != nil || !ok {
		return checked{}, errOr(err, errActivation())
	}
	if !hmac.Equal(c.Hash, s.auth.codeHash(code)) {
		return checked{}, errOr(s.store.FailOfficerCodeAttempt(ctx, c.ID), errActivation())
	}
	if err := s.store.ReturnOfficerCodeAttempt(ctx, c.ID); err != nil {
		return checked{}, err
	}
	if o.Status != storage.OfficerActive {
		return checked{}, errActivation()
	}
	return checked{Officer: o, Code: c}, nil
}

// Staged is the enrolment the first step kept under ticket, to show again
// (desk_auth_err_stale when there is none: the code used, voided or
// expired since, or the ticket unknown).
func (s *Service) Staged(ctx context.Context, ticket string) (Enrolment, error) {
	if s.auth == nil {
		return Enrolment{}, errNoSignIn
	}
	st, o, err := s.staged(ctx, ticket)
	if err != nil {
		return Enrolment{}, err
	}
	secret, err := s.auth.openTOTP(o.ID, st.TOTPSealed)
	if err != nil {
		return Enrolment{}, err
	}
	url, err := totpURL(o.Login, secret)
	return Enrolment{Ticket: ticket, Login: o.Login, Secret: secret, URL: url}, err
}

func (s *Service) staged(ctx context.Context, ticket string) (storage.OfficerStaged, storage.Officer, error) {
	if ticket == "" {
		return storage.OfficerStaged{}, storage.Officer{}, errStale()
	}
	st, err := s.store.OfficerStaged(ctx, ticketHash(ticket))
	if errors.Is(err, storage.ErrNotFound) {
		return st, storage.Officer{}, errStale()
	}
	if err != nil {
		return st, storage.Officer{}, err
	}
	o, err := s.store.OfficerByID(ctx, st.Code.OfficerID)
	if err == nil && o.Status != storage.OfficerActive {
		err = errStale()
	}
	return st, o, err
}

// ConfirmActivation takes the first code of the staged 安全驗證碼 (tries
// reserved per code and per address): the officer's password and
// 安全驗證碼 are set, the code used, the sign-in recorded, and the officer
// returned, to be signed in.
func (s *Service) ConfirmActivation(ctx context.Context, ticket, code string, m Meta) (storage.Officer, error) {
	a, err := s.signIn()
	if err != nil {
		return storage.Officer{}, err
	}
	st, o, err := s.staged(ctx, ticket)
	if err != nil {
		return o, err
	}
	if code = normalizeTOTP(code); !wellFormedCode(code) {
		return o, storage.Errorf(storage.EInvalid, "a code is 6 digits").WithField("code").WithKey("desk_auth_err_code_format")
	}
	res, wait, err := s.reserve(ctx, storage.Limit{Key: idKey("desk-act-totp:", st.Code.ID), Max: a.FailuresPerLogin}, storage.Limit{Key: "desk-act-ip:" + m.IP, Max: a.FailuresPerIP})
	if err != nil || wait > 0 {
		return o, errOr(err, throttled(wait))
	}
	secret, err := a.openTOTP(o.ID, st.TOTPSealed)
	if err != nil {
		res.GiveBack(ctx)
		return o, err
	}
	step, ok, err := matchTOTP(secret, code, a.now())
	if err != nil || !ok {
		return o, errOr(err, errCode())
	}
	actor := storage.OfficerActor(o)
	actor.IP = m.IP
	done, err := s.store.CompleteOfficerActivation(ctx, actor, st.Code.ID, step,
		storage.OfficerSignIn{IP: m.IP, UserAgent: m.UserAgent})
	if errors.Is(err, storage.ErrCodeNotLive) {
		return o, errStale()
	}
	if err != nil {
		return o, err
	}
	res.Succeeded(ctx)
	return done, nil
}

func randomTicket() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

func ticketHash(ticket string) []byte {
	h := sha256.Sum256([]byte("officer-activation\x00" + ticket))
	return h[:]
}

func errOr(err, otherwise error) error {
	if err != nil {
		return err
	}
	return otherwise
}
