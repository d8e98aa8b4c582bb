package officers

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"strings"
	"time"

	"github.com/entity-account/idp/login/password"
	"github.com/entity-account/idp/storage"
)

// The desk's sign-in: a password, then a code of the officer's 安全驗證碼.
// The password's step gives no session, only a ticket for the code's step:
// an officer never signs in with a password alone.

// ticketLife is how long the code's step may follow the password's.
const ticketLife = 5 * time.Minute

// SignInPassword checks the officer's password, tries reserved per login
// name and per address before it is hashed. A right password of an
// active, activated officer gives a ticket for SignInCode; every other
// answer is desk_auth_err_signin (never saying whether the login name
// exists, is disabled or activated), desk_auth_err_throttled or error_busy.
func (s *Service) SignInPassword(ctx context.Context, login, pw string, m Meta) (string, error) {
	a, err := s.signIn()
	if err != nil {
		return "", err
	}
	norm, ok := storage.NormalizeOfficerLogin(login)
	if !ok {
		norm = "?"
	}
	var o storage.Officer
	if ok {
		if o, err = s.store.OfficerByLogin(ctx, norm); err != nil && !errors.Is(err, storage.ErrNotFound) {
			return "", err
		}
	}
	res, wait, err := s.reserve(ctx, storage.Limit{Key: "desk-pw:" + norm, Max: a.FailuresPerLogin}, storage.Limit{Key: "desk-pw-ip:" + m.IP, Max: a.FailuresPerIP})
	if err != nil {
		return "", err
	}
	if wait > 0 {
		s.record(ctx, o.ID, m, storage.DeskLocked)
		return "", throttled(wait)
	}
	var sec storage.OfficerSecrets
	if o.ID != 0 {
		if sec, err = s.store.OfficerSecrets(ctx, o.ID); err != nil {
			res.GiveBack(ctx)
			return "", err
		}
	}
	right, err := s.verify(ctx, sec.PasswordHash, pw)
	if err != nil {
		res.GiveBack(ctx)
		return "", err
	}
	switch {
	case !right || sec.TOTPSealed == nil:
		s.record(ctx, o.ID, m, storage.DeskWrongPassword)
		return "", errSignIn()
	case o.Status != storage.OfficerActive:
		s.record(ctx, o.ID, m, storage.DeskDisabled)
		return "", errSignIn()
	}
	res.Succeeded(ctx)
	return a.ticket(o, sec, a.now().Add(ticketLife)), nil
}

// verify checks pw against hash; with no hash it hashes all the same, so
// that an unknown login name takes as long as a known one.
func (s *Service) verify(ctx context.Context, hash, pw string) (bool, error) {
	var ok bool
	var err error
	if hash == "" {
		err = s.auth.Hasher.VerifyNothing(ctx, pw)
	} else {
		ok, _, err = s.auth.Hasher.Verify(ctx, hash, pw)
	}
	if errors.Is(err, password.ErrBusy) {
		return false, busy()
	}
	return ok, err
}

// ticket is officer id and expiry, signed together with the officer's
// password hash and the time before which its sessions are over: a reset
// or a disable meanwhile voids it.
func (a *auth) ticket(o storage.Officer, sec storage.OfficerSecrets, expires time.Time) string {
	payload := make([]byte, 16)
	binary.BigEndian.PutUint64(payload, uint64(o.ID))
	binary.BigEndian.PutUint64(payload[8:], uint64(expires.Unix()))
	return base64.RawURLEncoding.EncodeToString(payload) + "." + base64.RawURLEncoding.EncodeToString(a.ticketMAC(payload, o, sec))
}

func (a *auth) ticketMAC(payload []byte, o storage.Officer, sec storage.OfficerSecrets) []byte {
	m := hmac.New(sha256.New, a.TicketKey)
	m.Write([]byte("officer-signin\x00"))
	m.Write(payload)
	pw := sha256.Sum256([]byte(sec.PasswordHash))
	m.Write(pw[:])
	var epoch [8]byte
	binary.BigEndian.PutUint64(epoch[:], uint64(o.SessionsValidAfter.UnixMicro()))
	m.Write(epoch[:])
	return m.Sum(nil)
}

// openTicket is the officer (active, activated) and its secrets of a
// ticket still valid; errStale otherwise.
func (s *Service) openTicket(ctx context.Context, ticket string) (storage.Officer, storage.OfficerSecrets, error) {
	a := s.auth
	p, m, ok := strings.Cut(ticket, ".")
	payload, err1 := base64.RawURLEncoding.DecodeString(p)
	mac, err2 := base64.RawURLEncoding.DecodeString(m)
	if !ok || err1 != nil || err2 != nil || len(payload) != 16 {
		return storage.Officer{}, storage.OfficerSecrets{}, errStale()
	}
	id := int64(binary.BigEndian.Uint64(payload))
	if !a.now().Before(time.Unix(int64(binary.BigEndian.Uint64(payload[8:])), 0)) {
		return storage.Officer{}, storage.OfficerSecrets{}, errStale()
	}
	o, err := s.store.OfficerByID(ctx, id)
	if errors.Is(err, storage.ErrNotFound) {
		return o, storage.OfficerSecrets{}, errStale()
	}
	if err != nil {
		return o, storage.OfficerSecrets{}, err
	}
	sec, err := s.store.OfficerSecrets(ctx, id)
	if err != nil {
		return o, sec, err
	}
	if !hmac.Equal(mac, a.ticketMAC(payload, o, sec)) || sec.TOTPSealed == nil || o.Status != storage.OfficerActive {
		return o, sec, errStale()
	}
	return o, sec, nil
}

// SignInCode takes the code of the officer's 安全驗證碼 after the
// password's ticket (tries reserved per officer and per address; a code
// is accepted once: a replay in its window is refused) and returns the
// officer, to be signed in. Answers: desk_auth_err_code,
// desk_auth_err_code_format, desk_auth_err_stale (the ticket expired or
// void: sign in again), desk_auth_err_throttled.
func (s *Service) SignInCode(ctx context.Context, ticket, code string, m Meta) (storage.Officer, error) {
	a, err := s.signIn()
	if err != nil {
		return storage.Officer{}, err
	}
	o, sec, err := s.openTicket(ctx, ticket)
	if err != nil {
		return storage.Officer{}, err
	}
	if code = normalizeTOTP(code); !wellFormedCode(code) {
		return storage.Officer{}, storage.Errorf(storage.EInvalid, "a code is 6 digits").WithField("code").WithKey("desk_auth_err_code_format")
	}
	res, wait, err := s.reserve(ctx, storage.Limit{Key: idKey("desk-totp:", o.ID), Max: a.FailuresPerLogin}, storage.Limit{Key: "desk-totp-ip:" + m.IP, Max: a.FailuresPerIP})
	if err != nil {
		return storage.Officer{}, err
	}
	if wait > 0 {
		s.record(ctx, o.ID, m, storage.DeskLocked)
		return storage.Officer{}, throttled(wait)
	}
	secret, err := a.openTOTP(o.ID, sec.TOTPSealed)
	if err != nil {
		res.GiveBack(ctx)
		return storage.Officer{}, err
	}
	step, ok, err := matchTOTP(secret, code, a.now())
	if err == nil && ok {
		ok, err = s.store.UseOfficerTOTP(ctx, o.ID, step) // false: replayed
	}
	if err != nil {
		res.GiveBack(ctx)
		return storage.Officer{}, err
	}
	if !ok {
		s.record(ctx, o.ID, m, storage.DeskWrongCode)
		return storage.Officer{}, errCode()
	}
	res.Succeeded(ctx)
	s.record(ctx, o.ID, m, storage.DeskSignedIn)
	return o, nil
}
