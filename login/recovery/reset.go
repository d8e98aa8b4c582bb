package recovery

import (
	"context"
	"crypto/hmac"
	"errors"
	"log/slog"
	"strings"

	"github.com/entity-account/idp/login/activation"
	"github.com/entity-account/idp/login/notify"
	"github.com/entity-account/idp/login/password"
	"github.com/entity-account/idp/storage"
)

// Claim is what a holder of a reset code types: 實體編號, 用戶名稱, 重設碼.
type Claim struct {
	EntityNumber, Username, Code string
}

// Verified is a checked claim: the account and the live code that proved it.
type Verified struct {
	Account      storage.AccountRef
	CodeID       int64
	Subject      string
	EntityNumber string
	Username     string
	Language     string
	// Tools: what the login must also prove (checked again at Complete).
	Tools ToolStatus
}

// Refusals of a claim, as error codes with catalogue keys: the same
// answer for a wrong username, entity or code, so that it tells nobody
// without the code whether the account exists.
var (
	errMismatch = &storage.Error{Code: storage.EUnauthenticated, Key: "reset_error_mismatch",
		Message: "The entity number, username and reset code do not match a live reset code."}
	errFormat = &storage.Error{Code: storage.EInvalid, Key: "reset_error_code_format", Field: "code",
		Message: "A reset code is 10 letters and digits."}
	errGone = &storage.Error{Code: storage.EGone, Key: "reset_error_code_gone", Field: "code",
		Message: "This reset code has been used, replaced by a newer one, has expired or was tried too often; ask for a new one."}
)

// codesToCompare: how many of an account's latest reset codes a typed
// code is compared with, to tell a spent or replaced code from a wrong one.
const codesToCompare = 10

// Verify checks a claim without spending the code: a typed code for an
// account that exists takes one try of its live code before it is
// compared (tries sent at once cannot exceed the limit), given back when
// the code is one of the account's. Errors: EInvalid (format),
// EUnauthenticated (no such account or code), EGone (the code is used,
// replaced, expired or void after too many tries).
func (s *Service) Verify(ctx context.Context, actor storage.Actor, c Claim) (Verified, error) {
	code, ok := activation.NormalizeCode(c.Code)
	if !ok {
		return Verified{}, errFormat
	}
	entity, ok := storage.NormalizeEntityNumber(c.EntityNumber)
	if !ok || strings.TrimSpace(c.Username) == "" {
		return Verified{}, errMismatch
	}
	a, err := s.store.RecoveryAccount(ctx, entity, c.Username)
	if errors.Is(err, storage.ErrNotFound) {
		return Verified{}, errMismatch
	}
	if err != nil {
		return Verified{}, err
	}
	codes, err := s.store.ResetCodes(ctx, a.Account, codesToCompare) // newest first
	if err != nil || len(codes) == 0 {
		return Verified{}, errOr(err, errMismatch)
	}
	return s.compare(ctx, actor, a, codes, s.hash(code))
}

// compare matches h with a's codes under one reserved try of its live code.
func (s *Service) compare(ctx context.Context, actor storage.Actor, a storage.Activatee, codes []storage.ActivationCode, h []byte) (Verified, error) {
	now := s.Now()
	reserved := false
	if codes[0].Live(now) {
		var err error
		if reserved, err = s.store.ReserveActivationAttempt(ctx, codes[0].ID); err != nil {
			return Verified{}, err
		}
	}
	for i, k := range codes {
		if !hmac.Equal(k.Hash, h) {
			continue
		}
		if reserved {
			if err := s.store.ReturnActivationAttempt(ctx, codes[0].ID); err != nil {
				return Verified{}, err
			}
		}
		if i > 0 || !reserved || !a.MayResetPassword() {
			return Verified{}, errGone // spent, replaced, expired, void, or the account can no longer be reset
		}
		return s.verified(ctx, a, k.ID)
	}
	if reserved {
		if _, err := s.store.FailActivationAttempt(ctx, actor, codes[0].ID); err != nil && !errors.Is(err, storage.ErrCodeNotLive) {
			return Verified{}, err
		}
	}
	return Verified{}, errMismatch
}

func (s *Service) verified(ctx context.Context, a storage.Activatee, codeID int64) (Verified, error) {
	v := Verified{Account: a.Account, CodeID: codeID, Subject: a.Subject, EntityNumber: a.EntityNumber,
		Username: a.Username, Language: a.Language}
	if a.Account.Kind == storage.KindStaff {
		st, err := s.toolStatus(ctx, a.Account.ID)
		if err != nil {
			return Verified{}, err
		}
		v.Tools = st
	}
	return v, nil
}

func errOr(err, otherwise error) error {
	if err != nil {
		return err
	}
	return otherwise
}

// NewPassword is what the holder types with a checked code: the new
// password twice, and the proof of the login's identity tool when it has
// one (a 安全驗證碼, or a passkey assertion with its ceremony's state).
type NewPassword struct {
	New, Again   string
	TOTP         string
	PasskeyState string
	Passkey      []byte
	IP           string
}

// Complete sets the new password of v's account: the policy of 變更密碼
// (password.CheckPolicy), the identity tool when the login has an active
// one, then in one transaction the hash, the code spent, the audit event
// and the notice to the holder; then every session and token of the
// account ends (relying parties told) and its sign-in lockout is cleared.
// Refusals are *storage.Error with catalogue keys and fields;
// password.ErrBusy when no hashing slot is free.
func (s *Service) Complete(ctx context.Context, v Verified, p NewPassword) error {
	if err := checkNew(v, p); err != nil {
		return err
	}
	if err := s.proveTool(ctx, v, p); err != nil {
		return err
	}
	hash, err := s.hasher.Hash(ctx, p.New)
	if err != nil {
		return err
	}
	notice, err := s.cfg.Notices.To(s.noticeTo(ctx, v))
	if err != nil {
		return err
	}
	actor := storage.Actor{Kind: storage.ActorKind(v.Account.Kind), ID: v.Subject, IP: p.IP}
	a, err := s.store.CompleteReset(ctx, actor, v.CodeID, hash, notice)
	switch {
	case errors.Is(err, storage.ErrConflict), errors.Is(err, storage.ErrCodeNotLive), errors.Is(err, storage.ErrNotFound):
		return errGone
	case err != nil:
		return err
	}
	s.cfg.Notices.Woke(notice)
	// Every session and token of the account ends: whoever held the
	// password before no longer holds the login.
	if err := s.sessions.EndAllForSubject(ctx, a.Subject); err != nil {
		return err
	}
	if err := s.counters.ResetAttempts(ctx, storage.SignInFailKey(a.EntityNumber, a.Username)); err != nil {
		return err
	}
	slog.InfoContext(ctx, "password reset", "subject", a.Subject, "kind", a.Account.Kind, "entity", a.EntityNumber, "ip", p.IP)
	return nil
}

// noticeTo are the arguments of the "password reset" notice to v's holder.
func (s *Service) noticeTo(ctx context.Context, v Verified) (storage.Channel, string, string, string, notify.NoticeVars) {
	a, err := s.store.Activatee(ctx, v.Account)
	if err != nil {
		return storage.ChannelSMS, "", "", "", notify.NoticeVars{} // nobody to tell; the store refuses the reset anyway
	}
	ch, _ := a.ContactChannel()
	return ch, a.Recipient(ch), a.Language, "password_reset", notify.NoticeVars{EntityNumber: a.EntityNumber, Username: a.Username, At: s.Now()}
}

// checkNew checks the new password before anything is spent: both given,
// alike, under the policy of 變更密碼.
func checkNew(v Verified, p NewPassword) error {
	switch {
	case p.New == "" || p.Again == "":
		var errs []error
		for _, f := range []struct{ name, v string }{{"new_password", p.New}, {"new_password2", p.Again}} {
			if f.v == "" {
				errs = append(errs, &storage.Error{Code: storage.EInvalid, Key: "account_error_missing", Field: f.name, Message: "refused: missing"})
			}
		}
		return errors.Join(errs...)
	case p.New != p.Again:
		return &storage.Error{Code: storage.EInvalid, Key: "account_error_mismatch", Field: "new_password2", Message: "refused: mismatch"}
	}
	err := password.CheckPolicy(p.New, v.Username, v.EntityNumber, strings.ReplaceAll(v.EntityNumber, "-", ""))
	var pe *password.PolicyError
	if errors.As(err, &pe) {
		return &storage.Error{Code: storage.EInvalid, Key: pe.Key, Field: "new_password", Message: "refused: " + pe.Key, Err: pe}
	}
	return err
}

// proveTool checks the login's identity tool, when it has an active one:
// its 安全驗證碼 (throttled per login, each code once), else a passkey
// assertion. The status is read again: a tool enrolled since step 1 counts.
func (s *Service) proveTool(ctx context.Context, v Verified, p NewPassword) error {
	if v.Account.Kind != storage.KindStaff {
		return nil
	}
	st, err := s.toolStatus(ctx, v.Account.ID)
	if err != nil || !st.Any() {
		return err
	}
	if st.TOTP && p.TOTP != "" {
		return s.tools.VerifyTOTP(ctx, v.Account.ID, p.TOTP)
	}
	if st.Passkeys && len(p.Passkey) > 0 {
		if _, err := s.tools.FinishPasskeyCheck(ctx, v.Account.ID, p.PasskeyState, p.Passkey); err != nil {
			return &storage.Error{Code: storage.EUnauthenticated, Key: "reset_error_passkey", Message: "The passkey was not accepted.", Err: err}
		}
		return nil
	}
	field := "code"
	if !st.TOTP {
		field = ""
	}
	return &storage.Error{Code: storage.EInvalid, Key: "reset_error_tool_missing", Field: field,
		Message: "This login has an identity tool: prove it too."}
}
