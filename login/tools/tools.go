// Package tools holds the use cases of electronic identity tools
// (電子身份識別工具): enrolling a TOTP (安全驗證碼),
// the operator's approval of an enrolment after the in-person check of a
// non-Macau identity document (with the app's code, or by the person's
// approval QR code at the desk: approval.go), its reset, and checking a
// code at sign-in;
// and passkeys (passkey.go): enrolling, using (as the second factor, or
// alone), removing and switching them off, and the operator switching
// them on again. Each asks the rule book (storage/rules_tools.go) and
// writes the change with its audit event and the notice to the holder
// (notice.go) in one transaction (storage/postgres/tools.go).
//
// A code is accepted once: the time step it belongs to is stored by one
// conditional UPDATE that succeeds only for a step later than the last
// accepted one. Tries are throttled per login, each reserved in Redis
// before the code is checked, so that codes sent at once cannot pass the
// limit. The secret is sealed (AES-256-GCM, Sealer) before it reaches the
// store, bound to its login.
package tools

import (
	"context"
	"crypto/subtle"
	"errors"
	"strconv"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"

	"github.com/entity-account/idp/login/notify"
	"github.com/entity-account/idp/storage"
)

// Issuer is the name authenticator apps show beside the account.
const Issuer = "澳門公共服務一戶通"

// TOTP parameters: what every authenticator app understands.
const (
	Period = 30 // seconds
	Digits = otp.DigitsSix
	Skew   = 1 // steps either side of now that are accepted
)

var opts = totp.ValidateOpts{Period: Period, Skew: Skew, Digits: Digits, Algorithm: otp.AlgorithmSHA1}

// Directory is the durable side (storage/postgres).
type Directory interface {
	EntityByNumber(ctx context.Context, number string) (storage.Entity, error)
	Entity(ctx context.Context, id int64) (storage.Entity, error)
	StaffLoginOf(ctx context.Context, entityID int64, euid string) (storage.StaffLogin, error)
	Tools(ctx context.Context, staffLoginID int64) ([]storage.IdentityTool, error)
	BeginTOTP(ctx context.Context, actor storage.Actor, sl storage.StaffLogin, name string, sealed []byte) (storage.IdentityTool, error)
	TOTP(ctx context.Context, staffLoginID int64) (storage.IdentityTool, []byte, error)
	ConfirmTOTP(ctx context.Context, actor storage.Actor, sl storage.StaffLogin, step int64, to storage.ToolState, notice *storage.OutboxMessage) (storage.IdentityTool, error)
	ApproveTOTP(ctx context.Context, actor storage.Actor, sl storage.StaffLogin, step int64, notice *storage.OutboxMessage) (storage.IdentityTool, error)
	UseTOTP(ctx context.Context, staffLoginID, step int64) (bool, error)
	ResetTools(ctx context.Context, actor storage.Actor, sl storage.StaffLogin, notice *storage.OutboxMessage) (int, error)
	ProvePendingTOTP(ctx context.Context, staffLoginID, step int64) (storage.IdentityTool, error)
	ApproveTOTPInPerson(ctx context.Context, actor storage.Actor, sl storage.StaffLogin, toolID int64, details map[string]any, notice *storage.OutboxMessage) (storage.IdentityTool, error)
	AuditStaffAction(ctx context.Context, actor storage.Actor, entityID int64, euid, action string, details map[string]any) (storage.StaffLogin, error)

	PasskeyAccount(ctx context.Context, staffLoginID int64) (storage.PasskeyAccount, error)
	PasskeyAccountByHandle(ctx context.Context, handle []byte) (storage.PasskeyAccount, error)
	AddPasskey(ctx context.Context, actor storage.Actor, sl storage.StaffLogin, p storage.Passkey, notice *storage.OutboxMessage) (storage.Passkey, error)
	UsePasskey(ctx context.Context, toolID int64, signCount uint32, backedUp bool) (bool, error)
	RemovePasskey(ctx context.Context, actor storage.Actor, sl storage.StaffLogin, toolID int64, notice *storage.OutboxMessage) error
	SwitchOffPasskeys(ctx context.Context, actor storage.Actor, sl storage.StaffLogin, notice *storage.OutboxMessage) (int, error)
	EnablePasskeys(ctx context.Context, actor storage.Actor, sl storage.StaffLogin, notice *storage.OutboxMessage) error
}

// Counters throttle tries (storage/redis).
type Counters interface {
	Reserve(ctx context.Context, key string, max int, window time.Duration) (time.Duration, error)
	Release(ctx context.Context, key string) error
}

// Service runs the use cases over the stores.
type Service struct {
	dir      Directory
	counters Counters
	sealer   *Sealer
	notices  Notices
	passkeys *passkeys // nil until EnablePasskeys
	// approvals are the approval QR codes (approval.go); nil until
	// EnableApprovals.
	approvals *approvals
	// TriesPerLogin codes may be tried for one login per TryWindow; a right
	// code gives its try back.
	TriesPerLogin int
	TryWindow     time.Duration
	// Now is the clock of the time steps (time.Now; tests set it).
	Now func() time.Time
}

// New returns the use cases; key seals the TOTP secrets
// (op.DeriveKey(master, "totp-secret")), and notices tell the holders of
// every change to their tools. Passkey ceremonies wait for EnablePasskeys.
func New(dir Directory, counters Counters, key []byte, notices Notices) (*Service, error) {
	sealer, err := NewSealer(key)
	if err != nil {
		return nil, err
	}
	if err := notices.Check(); err != nil {
		return nil, err
	}
	return &Service{dir: dir, counters: counters, sealer: sealer, notices: notices,
		TriesPerLogin: 5, TryWindow: 15 * time.Minute, Now: time.Now}, nil
}

// Enrolment is what the login's authenticator app needs: the secret (base32,
// to type in) and the otpauth:// URL (for the QR code). Shown once.
type Enrolment struct {
	Tool   storage.IdentityTool
	Secret string
	URL    string
}

func forbidden(what string) error {
	return &storage.Error{Code: storage.EForbidden, Message: "You may not " + what + ".", Err: storage.ErrForbidden}
}

func notFound(err error, what string) error {
	if errors.Is(err, storage.ErrNotFound) {
		return &storage.Error{Code: storage.ENotFound, Message: what + " was not found.", Err: err}
	}
	return err
}

// errCode is the one answer to a code that is not accepted: wrong, of
// another window, or already used. It tells no more.
var errCode = &storage.Error{Code: storage.EInvalid, Key: "tool_error_code", Field: "code",
	Message: "The security verification code is not correct, or was already used."}

// BeginTOTP makes a new TOTP secret for the staff login euid of the actor's
// entity: the login itself only (never an admin for someone else). An
// unconfirmed earlier secret is replaced; a pending or active TOTP must be
// reset by the operator first.
func (s *Service) BeginTOTP(ctx context.Context, actor storage.Actor, euid string) (Enrolment, error) {
	sl, err := s.dir.StaffLoginOf(ctx, actor.EntityID, euid)
	if err != nil {
		return Enrolment{}, notFound(err, "Staff login "+euid)
	}
	if !storage.CanEnrolTool(actor, sl) {
		return Enrolment{}, forbidden("enrol an identity tool for this login (only the login itself may)")
	}
	e, err := s.dir.Entity(ctx, sl.EntityID)
	if err != nil {
		return Enrolment{}, err
	}
	key, err := totp.Generate(totp.GenerateOpts{Issuer: Issuer, AccountName: e.Number + " " + sl.Username,
		Period: Period, Digits: Digits, Algorithm: otp.AlgorithmSHA1, SecretSize: 20})
	if err != nil {
		return Enrolment{}, err
	}
	sealed, err := s.sealer.Seal(sl.ID, key.Secret())
	if err != nil {
		return Enrolment{}, err
	}
	t, err := s.dir.BeginTOTP(ctx, actor, sl, "安全驗證碼", sealed)
	if errors.Is(err, storage.ErrConflict) {
		return Enrolment{}, &storage.Error{Code: storage.EConflict, Key: "tool_error_enrolled", Err: err,
			Message: "This login already has a security verification code; the operator resets it (a lost phone)."}
	}
	if err != nil {
		return Enrolment{}, err
	}
	return Enrolment{Tool: t, Secret: key.Secret(), URL: key.URL()}, nil
}

// ConfirmTOTP takes the login's first code: the TOTP becomes active for a
// login registered with a Macau resident ID, and pending the operator's
// in-person check for any other document. The holder is told.
func (s *Service) ConfirmTOTP(ctx context.Context, actor storage.Actor, euid, code string) (storage.IdentityTool, error) {
	sl, err := s.dir.StaffLoginOf(ctx, actor.EntityID, euid)
	if err != nil {
		return storage.IdentityTool{}, notFound(err, "Staff login "+euid)
	}
	if !storage.CanEnrolTool(actor, sl) {
		return storage.IdentityTool{}, forbidden("enrol an identity tool for this login (only the login itself may)")
	}
	to, ev := storage.ToolPending, notify.ToolTOTPPending
	if storage.SelfConfirmsTools(sl) {
		to, ev = storage.ToolActive, notify.ToolTOTPAdded
	}
	return s.check(ctx, sl.ID, code, storage.ToolUnconfirmed, func(step int64) (storage.IdentityTool, error) {
		return s.told(ctx, sl, ev, func(notice *storage.OutboxMessage) (storage.IdentityTool, error) {
			return s.dir.ConfirmTOTP(ctx, actor, sl, step, to, notice)
		})
	})
}

// ApproveTOTP is the operator's approval of a pending TOTP after checking
// the identity document in person; the code proves that the person at the
// counter holds the device. The holder is told.
func (s *Service) ApproveTOTP(ctx context.Context, actor storage.Actor, entityNumber, euid, code string) (storage.IdentityTool, error) {
	if !storage.CanApproveTool(actor) {
		return storage.IdentityTool{}, forbidden("approve identity tools (only 行政公職局 may)")
	}
	sl, err := s.staffOf(ctx, entityNumber, euid)
	if err != nil {
		return storage.IdentityTool{}, err
	}
	return s.check(ctx, sl.ID, code, storage.ToolPending, func(step int64) (storage.IdentityTool, error) {
		return s.told(ctx, sl, notify.ToolTOTPApproved, func(notice *storage.OutboxMessage) (storage.IdentityTool, error) {
			return s.dir.ApproveTOTP(ctx, actor, sl, step, notice)
		})
	})
}

// VerifyTOTP checks a code of an active TOTP at sign-in: accepted once
// (a replay in its window is refused), throttled per login.
func (s *Service) VerifyTOTP(ctx context.Context, loginID int64, code string) error {
	_, err := s.check(ctx, loginID, code, storage.ToolActive, func(step int64) (storage.IdentityTool, error) {
		ok, err := s.dir.UseTOTP(ctx, loginID, step)
		if err == nil && !ok {
			err = storage.ErrConflict
		}
		return storage.IdentityTool{}, err
	})
	return err
}

// ResetTools removes every identity tool of a staff login, passkeys
// included (a lost phone): the operator only, audited, the holder told. It
// does not switch passkeys off.
func (s *Service) ResetTools(ctx context.Context, actor storage.Actor, entityNumber, euid string) (int, error) {
	if !storage.CanResetTools(actor) {
		return 0, forbidden("reset identity tools (only 行政公職局 may)")
	}
	sl, err := s.staffOf(ctx, entityNumber, euid)
	if err != nil {
		return 0, err
	}
	notice, err := s.notice(ctx, sl, notify.ToolsReset, "")
	if err != nil {
		return 0, err
	}
	n, err := s.dir.ResetTools(ctx, actor, sl, notice)
	if errors.Is(err, storage.ErrNotFound) {
		return 0, &storage.Error{Code: storage.ENotFound, Key: "tool_error_none", Err: err, Message: "The staff login has no identity tool."}
	}
	if err == nil {
		s.wake(notice)
	}
	return n, err
}

// told runs change with the notice of ev for sl, and wakes the outbox
// worker when it wrote one.
func (s *Service) told(ctx context.Context, sl storage.StaffLogin, ev notify.ToolEvent, change func(*storage.OutboxMessage) (storage.IdentityTool, error)) (storage.IdentityTool, error) {
	notice, err := s.notice(ctx, sl, ev, "")
	if err != nil {
		return storage.IdentityTool{}, err
	}
	t, err := change(notice)
	if err == nil {
		s.wake(notice)
	}
	return t, err
}

func (s *Service) staffOf(ctx context.Context, entityNumber, euid string) (storage.StaffLogin, error) {
	n, ok := storage.NormalizeEntityNumber(entityNumber)
	if !ok {
		return storage.StaffLogin{}, storage.Errorf(storage.EInvalid, "%q is not an entity number (two digits, a hyphen, six digits).", entityNumber).WithField("entity_number")
	}
	e, err := s.dir.EntityByNumber(ctx, n)
	if err != nil {
		return storage.StaffLogin{}, notFound(err, "Entity "+n)
	}
	sl, err := s.dir.StaffLoginOf(ctx, e.ID, euid)
	return sl, notFound(err, "Staff login "+euid)
}

// check reserves a try for the login, then matches code against its TOTP
// (which must be in state want) at now and one step either side, and
// hands the matched step to accept, which stores it atomically (refusing
// a step not later than the last accepted). A right code gives its try back.
func (s *Service) check(ctx context.Context, loginID int64, code string, want storage.ToolState, accept func(step int64) (storage.IdentityTool, error)) (storage.IdentityTool, error) {
	code = storage.NormalizeCode(code)
	if !wellFormed(code) {
		return storage.IdentityTool{}, &storage.Error{Code: storage.EInvalid, Key: "tool_error_code_format", Field: "code",
			Message: "A security verification code is 6 digits."}
	}
	key := "totp:" + strconv.FormatInt(loginID, 10)
	wait, err := s.counters.Reserve(ctx, key, s.TriesPerLogin, s.TryWindow)
	if err != nil {
		return storage.IdentityTool{}, err
	}
	if wait > 0 {
		return storage.IdentityTool{}, &storage.Error{Code: storage.EConflict, Key: "tool_error_throttled",
			Message: "Too many wrong codes; try again in " + wait.Round(time.Minute).String() + "."}
	}
	t, sealed, err := s.dir.TOTP(ctx, loginID)
	if errors.Is(err, storage.ErrNotFound) || err == nil && t.State != want {
		return storage.IdentityTool{}, &storage.Error{Code: storage.EConflict, Key: "tool_error_state", Err: storage.ErrConflict,
			Message: stateMessage(want)}
	}
	if err != nil {
		return t, err
	}
	secret, err := s.sealer.Open(loginID, sealed)
	if err != nil {
		return t, err
	}
	step, ok, err := match(secret, code, s.Now())
	if err != nil {
		return t, err
	}
	if !ok {
		return t, errCode
	}
	t, err = accept(step)
	if errors.Is(err, storage.ErrConflict) {
		return t, errCode // replayed, or raced by another code of the same step
	}
	if err != nil {
		return t, err
	}
	if err := s.counters.Release(ctx, key); err != nil {
		return t, err
	}
	return t, nil
}

func stateMessage(want storage.ToolState) string {
	switch want {
	case storage.ToolUnconfirmed:
		return "There is no security verification code waiting for its first code; start the enrolment again."
	case storage.ToolPending:
		return "The staff login has no security verification code waiting for approval."
	}
	return "The staff login has no active security verification code."
}

func wellFormed(code string) bool {
	if len(code) != Digits.Length() {
		return false
	}
	for _, c := range code {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// match finds the time step of now, or one either side, whose code is code.
func match(secret, code string, now time.Time) (int64, bool, error) {
	step := now.Unix() / Period
	for _, d := range []int64{0, -1, 1} {
		want, err := totp.GenerateCodeCustom(secret, time.Unix((step+d)*Period, 0), opts)
		if err != nil {
			return 0, false, err
		}
		if subtle.ConstantTimeCompare([]byte(want), []byte(code)) == 1 {
			return step + d, true, nil
		}
	}
	return 0, false, nil
}
