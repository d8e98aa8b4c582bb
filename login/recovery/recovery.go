// Package recovery holds the use cases of account recovery: a person who
// forgot the password (「忘記密碼」) or the username (「忘記用戶名稱」)
// gets back in through the registered mobile (or e-mail), and an admin or
// the operator has a reset code sent (「重設密碼」) without ever seeing,
// typing or choosing a password. It is the one writer of a password reset.
//
// A reset code is an activation code of purpose reset (login/activation's
// alphabet, HMAC-hashed under its own key, single use, short-lived,
// attempt-limited, voided by a newer one, delivered through the outbox):
// an activation code never resets a password and a reset code never
// activates. Whatever is typed, a code or a username goes only to the
// registered address, never to the screen.
//
// A reset keeps the EUID, username, rights, assignments and identity
// tools; a login with an active tool proves it too (a stolen phone alone
// cannot take the login over). It ends every session and token of the
// account at once (relying parties are told by back-channel logout),
// clears the sign-in lockout, is audited, and tells the holder, the last
// two in the transaction of the change.
package recovery

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"net/url"
	"strings"
	"time"

	"github.com/entity-account/idp/login/activation"
	"github.com/entity-account/idp/login/notify"
	"github.com/entity-account/idp/login/password"
	"github.com/entity-account/idp/login/tools"
	"github.com/entity-account/idp/storage"
)

// Store is the durable side (storage/postgres).
type Store interface {
	RecoveryAccount(ctx context.Context, entityNumber, username string) (storage.Activatee, error)
	Activatee(ctx context.Context, ref storage.AccountRef) (storage.Activatee, error)
	EntityAccountActivatee(ctx context.Context, entityNumber string) (storage.Activatee, error)
	StaffActivatees(ctx context.Context, entityNumber, normalizedDoc string) ([]storage.Activatee, error)
	EntityByNumber(ctx context.Context, number string) (storage.Entity, error)
	StaffLoginOf(ctx context.Context, entityID int64, euid string) (storage.StaffLogin, error)
	IssueResetCode(ctx context.Context, actor storage.Actor, ref storage.AccountRef, issue *storage.CodeIssue, notice *storage.OutboxMessage) error
	ResetCodes(ctx context.Context, ref storage.AccountRef, limit int) ([]storage.ActivationCode, error)
	ReserveActivationAttempt(ctx context.Context, codeID int64) (bool, error)
	ReturnActivationAttempt(ctx context.Context, codeID int64) error
	FailActivationAttempt(ctx context.Context, actor storage.Actor, codeID int64) (storage.ActivationCode, error)
	CompleteReset(ctx context.Context, actor storage.Actor, codeID int64, passwordHash string, notice *storage.OutboxMessage) (storage.Activatee, error)
	RemindUsername(ctx context.Context, actor storage.Actor, ref storage.AccountRef, m, notice *storage.OutboxMessage) error
}

// Sessions ends an account's sessions and tokens, telling the relying
// parties (the op-wrapped store's EndAllForSubject).
type Sessions interface {
	EndAllForSubject(ctx context.Context, subject string) error
}

// Counters clears the sign-in lockout of a reset account.
type Counters interface {
	ResetAttempts(ctx context.Context, key string) error
}

// Tools checks the identity tool of a login that has one, as the
// sign-in's second step does (login/tools).
type Tools interface {
	Status(ctx context.Context, loginID int64) (tools.ToolStatus, error)
	VerifyTOTP(ctx context.Context, loginID int64, code string) error
	PasskeysEnabled() bool
	BeginPasskeyCheck(ctx context.Context, loginID int64) (options json.RawMessage, state string, err error)
	FinishPasskeyCheck(ctx context.Context, loginID int64, state string, response []byte) (amr []string, err error)
}

// ToolStatus is what a login holds that a reset must also prove.
type ToolStatus struct {
	TOTP     bool // an active 安全驗證碼
	Passkeys bool // usable passkeys (and passkeys on at this provider)
}

// Any reports whether the login has an active tool to prove.
func (t ToolStatus) Any() bool { return t.TOTP || t.Passkeys }

// toolStatus is what staff login loginID must prove at a reset.
func (s *Service) toolStatus(ctx context.Context, loginID int64) (ToolStatus, error) {
	if s.tools == nil {
		return ToolStatus{}, nil
	}
	st, err := s.tools.Status(ctx, loginID)
	if err != nil {
		return ToolStatus{}, err
	}
	return ToolStatus{TOTP: st.TOTPActive(), Passkeys: st.Passkeys > 0 && s.tools.PasskeysEnabled()}, nil
}

// PasskeyOptions begins the passkey check of v's login for the reset
// page: the options for the browser and the sealed state (nothing stored).
func (s *Service) PasskeyOptions(ctx context.Context, v Verified) (options json.RawMessage, state string, err error) {
	if s.tools == nil || !v.Tools.Passkeys {
		return nil, "", nil
	}
	return s.tools.BeginPasskeyCheck(ctx, v.Account.ID)
}

// Config holds the keys and limits of recovery.
type Config struct {
	Issuer      string // public base URL; messages link to its pages
	CodeKey     []byte // HMAC key of reset codes (op.DeriveKey(master, "reset-code"))
	Notices     notify.Notices
	CodeTTL     time.Duration // life of a reset code (IDP_RESET_CODE_TTL)
	MaxAttempts int           // wrong tries before a code is void
	// CodePath and SignInPath are the pages the messages link to (under Issuer).
	CodePath, SignInPath string
}

// Service runs the use cases.
type Service struct {
	store    Store
	sessions Sessions
	counters Counters
	hasher   *password.Hasher
	tools    Tools // nil: no identity tools to prove
	cfg      Config
	// Now is the clock of code expiry; tests may replace it.
	Now func() time.Time
}

// New checks cfg and returns the use cases.
func New(store Store, sessions Sessions, counters Counters, hasher *password.Hasher, cfg Config) (*Service, error) {
	switch {
	case len(cfg.CodeKey) < 32:
		return nil, errors.New("recovery: code key must be at least 32 bytes")
	case cfg.CodeTTL <= 0 || cfg.MaxAttempts < 1:
		return nil, errors.New("recovery: code TTL and max attempts must be positive")
	case store == nil || sessions == nil || counters == nil || hasher == nil:
		return nil, errors.New("recovery: store, sessions, counters and hasher are required")
	}
	if err := cfg.Notices.Check(); err != nil {
		return nil, err
	}
	if err := cfg.Notices.Texts.CheckRecovery(); err != nil {
		return nil, err
	}
	cfg.Issuer = strings.TrimSuffix(cfg.Issuer, "/")
	return &Service{store: store, sessions: sessions, counters: counters, hasher: hasher, cfg: cfg, Now: time.Now}, nil
}

// UseTools makes a reset prove the login's active identity tool.
func (s *Service) UseTools(t Tools) { s.tools = t }

// CodeTTL is the life of a reset code.
func (s *Service) CodeTTL() time.Duration { return s.cfg.CodeTTL }

func (s *Service) hash(code string) []byte {
	m := hmac.New(sha256.New, s.cfg.CodeKey)
	m.Write([]byte(code))
	return m.Sum(nil)
}

func (s *Service) wake() {
	if s.cfg.Notices.Wake != nil {
		s.cfg.Notices.Wake()
	}
}

// reasonForgotten is the reason of a code the holder asked for (忘記密碼).
const reasonForgotten = "forgotten"

// prepare makes a new reset code for a and the sealed message that carries
// it to a's registered address (mobile, else e-mail).
func (s *Service) prepare(a storage.Activatee, reason string) (*storage.CodeIssue, error) {
	ch, ok := a.ContactChannel()
	if !ok {
		return nil, storage.ErrNoRecipient
	}
	code, err := activation.NewCode()
	if err != nil {
		return nil, err
	}
	normalized, _ := activation.NormalizeCode(code)
	expires := s.Now().Add(s.cfg.CodeTTL)
	message := notify.ResetCodeMessage
	if reason != reasonForgotten {
		message = notify.ResetCodeByAdminMessage // the holder did not ask: say who did
	}
	content := s.cfg.Notices.Texts.Recovery(a.Language, message, ch, notify.RecoveryVars{
		Code: code, EntityNumber: a.EntityNumber, Username: a.Username, Expires: expires,
		URL: s.cfg.Issuer + s.cfg.CodePath + "?" + url.Values{"entity_number": {a.EntityNumber}, "username": {a.Username}}.Encode(),
	})
	to := a.Recipient(ch)
	body, err := s.cfg.Notices.Sealer.Seal(ch, to, content)
	if err != nil {
		return nil, err
	}
	return &storage.CodeIssue{
		Code: storage.ActivationCode{Hash: s.hash(normalized), Channel: ch, ExpiresAt: expires,
			MaxAttempts: s.cfg.MaxAttempts, Purpose: storage.PurposeReset},
		Message: storage.OutboxMessage{Channel: ch, Recipient: to, Language: a.Language, Body: body},
		Reason:  reason,
	}, nil
}

// otherChannelNotice is the notice of key to a's other registered address
// (the e-mail when the message went by SMS, and the reverse); nil when it
// has none. The message itself already tells the address it goes to, so
// the notice goes only where that message does not: a person whose phone
// is in other hands still learns of the request.
func (s *Service) otherChannelNotice(a storage.Activatee, key string) (*storage.OutboxMessage, error) {
	ch, ok := a.ContactChannel()
	if !ok {
		return nil, nil
	}
	other := storage.ChannelEmail
	if ch == storage.ChannelEmail {
		other = storage.ChannelSMS
	}
	return s.cfg.Notices.To(other, a.Recipient(other), a.Language, key, notify.NoticeVars{
		EntityNumber: a.EntityNumber, Username: a.Username, At: s.Now(),
	})
}

// issue sends a reset code to account a (voiding its previous code), with
// the notice of the request when notify is set.
func (s *Service) issue(ctx context.Context, actor storage.Actor, a storage.Activatee, reason string, notice bool) error {
	is, err := s.prepare(a, reason)
	if err != nil {
		return err
	}
	var n *storage.OutboxMessage
	if notice {
		if n, err = s.otherChannelNotice(a, "reset_requested"); err != nil {
			return err
		}
	}
	if err := s.store.IssueResetCode(ctx, actor, a.Account, is, n); err != nil {
		return err
	}
	s.wake()
	return nil
}
