package officers

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/entity-account/idp/login/activation"
	"github.com/entity-account/idp/login/notify"
	"github.com/entity-account/idp/login/seal"
	"github.com/entity-account/idp/storage"
	"github.com/entity-account/idp/templates"
)

// Hasher hashes and checks passwords (login/password's argon2id hasher).
type Hasher interface {
	Hash(ctx context.Context, password string) (string, error)
	Verify(ctx context.Context, encoded, password string) (ok, rehash bool, err error)
	VerifyNothing(ctx context.Context, password string) error
}

// SignIn configures the officers' way in to the desk.
type SignIn struct {
	// CodeKey keys the hashes of activation codes (op.DeriveKey(master,
	// "officer-code")); TOTPKey seals the 安全驗證碼 secrets
	// (op.DeriveKey(master, "officer-totp")); TicketKey signs the sign-in's
	// tickets between the password and the code (op.DeriveKey(master,
	// "officer-signin")). Each at least 32 bytes.
	CodeKey, TOTPKey, TicketKey []byte
	Sealer                      *notify.Sealer // seals outbox bodies
	CodeTTL                     time.Duration  // life of an activation code
	MaxAttempts                 int            // wrong tries before a code is void
	Hasher                      Hasher
	Counters                    storage.Counters
	// FailuresPerLogin and FailuresPerIP bound the tries (passwords,
	// activation codes, 安全驗證碼) per login name and per client address in
	// FailureWindow.
	FailuresPerLogin, FailuresPerIP int
	FailureWindow                   time.Duration
	// Wake, when set, makes the local outbox worker deliver a code at once.
	Wake func()
	// Now is the clock (tests may set it); time.Now when nil.
	Now func() time.Time
}

type auth struct {
	SignIn
	totp *seal.Sealer
	cat  map[string]string // the default language's catalogue: the code's message
}

func (a *auth) now() time.Time {
	if a.Now != nil {
		return a.Now()
	}
	return time.Now()
}

// signIn is the configuration of the sign-in, errNoSignIn without one.
func (s *Service) signIn() (*auth, error) {
	if s.auth == nil || s.auth.Hasher == nil {
		return nil, errNoSignIn
	}
	return s.auth, nil
}

func (a *auth) wake() {
	if a.Wake != nil {
		a.Wake()
	}
}

// EnableSignIn gives s what activation codes and the desk's sign-in need.
// Without a Hasher and Counters (the idp command, over Postgres alone) it
// sends codes but signs nobody in.
func (s *Service) EnableSignIn(cfg SignIn) error {
	switch {
	case len(cfg.CodeKey) < 32 || len(cfg.TicketKey) < 32:
		return errors.New("officers: code and ticket keys must be at least 32 bytes")
	case cfg.Sealer == nil:
		return errors.New("officers: the outbox sealer is required")
	case cfg.CodeTTL <= 0 || cfg.MaxAttempts < 1:
		return errors.New("officers: code TTL and attempts must be positive")
	case (cfg.Hasher != nil || cfg.Counters != nil) && (cfg.Hasher == nil || cfg.Counters == nil ||
		cfg.FailuresPerLogin < 1 || cfg.FailuresPerIP < 1 || cfg.FailureWindow <= 0):
		return errors.New("officers: signing in needs a hasher, counters and positive limits")
	}
	totp, err := seal.New(cfg.TOTPKey)
	if err != nil {
		return fmt.Errorf("officers: TOTP key: %w", err)
	}
	cat, err := templates.Catalogue(templates.Languages[0])
	if err != nil {
		return err
	}
	for _, k := range []string{"desk_auth_notify_code", "desk_auth_notify_subject"} {
		if cat[k] == "" {
			return fmt.Errorf("officers: catalogue lacks %q", k)
		}
	}
	s.auth = &auth{SignIn: cfg, totp: totp, cat: cat}
	return nil
}

// Meta is where an attempt comes from: the client address and a summary
// of its user agent.
type Meta struct{ IP, UserAgent string }

// The answers of the way in. They never say whether a login name exists.
var (
	errActivation = func() error {
		return storage.Errorf(storage.EUnauthenticated, "the login name or the activation code is wrong, or the code is no longer valid").
			WithKey("desk_auth_err_activation")
	}
	errSignIn = func() error {
		return storage.Errorf(storage.EUnauthenticated, "wrong login name or password").WithKey("desk_auth_err_signin")
	}
	errCode = func() error {
		return storage.Errorf(storage.EUnauthenticated, "the security verification code is wrong or used").WithKey("desk_auth_err_code")
	}
	errStale = func() error {
		return storage.Errorf(storage.EUnauthenticated, "this step has expired: start again").WithKey("desk_auth_err_stale")
	}
	errNoSignIn = errors.New("officers: sign-in is not enabled")
)

func throttled(wait time.Duration) error {
	e := storage.Errorf(storage.ETooMany, "too many tries: wait %s", wait.Round(time.Second)).WithKey("desk_auth_err_throttled")
	e.Wait = wait
	return e
}

func busy() error {
	e := storage.Errorf(storage.EBusy, "password hashing is saturated").WithKey("error_busy")
	e.Wait = 2 * time.Second
	return e
}

// codeHash is the stored form of a normalised activation code.
func (a *auth) codeHash(code string) []byte {
	m := hmac.New(sha256.New, a.CodeKey)
	m.Write([]byte("officer-code\x00" + code))
	return m.Sum(nil)
}

// macau is Macau time, in which a code's expiry is written.
var macau = time.FixedZone("UTC+8", 8*3600)

// prepareCode makes a new activation code for o and the sealed message
// carrying it to o's mobile, else its e-mail.
func (s *Service) prepareCode(o storage.Officer) (*storage.OfficerCodeIssue, error) {
	a := s.auth
	ch, to := storage.ChannelSMS, o.Mobile
	if to == "" {
		ch, to = storage.ChannelEmail, o.Email
	}
	if to == "" {
		return nil, storage.Errorf(storage.EConflict, "officer %s has no mobile or e-mail to send a code to", o.Login).WithKey("desk_auth_err_no_contact")
	}
	code, err := activation.NewCode()
	if err != nil {
		return nil, err
	}
	norm, _ := activation.NormalizeCode(code)
	expires := a.now().Add(a.CodeTTL)
	fill := strings.NewReplacer("{login}", o.Login, "{code}", code, "{expires}", expires.In(macau).Format("2006-01-02 15:04"))
	content := notify.Content{Text: fill.Replace(a.cat["desk_auth_notify_code"])}
	if ch == storage.ChannelEmail {
		content.Subject = fill.Replace(a.cat["desk_auth_notify_subject"])
	}
	body, err := a.Sealer.Seal(ch, to, content)
	if err != nil {
		return nil, err
	}
	return &storage.OfficerCodeIssue{
		Code:    storage.OfficerCode{Hash: a.codeHash(norm), Channel: ch, ExpiresAt: expires, MaxAttempts: a.MaxAttempts},
		Message: storage.OutboxMessage{Channel: ch, Recipient: to, Language: templates.Languages[0], Body: body},
	}, nil
}

// reserve takes a try under every limit (storage.ReserveAttempt), before
// the secret it guards is checked.
func (s *Service) reserve(ctx context.Context, limits ...storage.Limit) (*storage.Attempt, time.Duration, error) {
	return storage.ReserveAttempt(ctx, s.auth.Counters, s.auth.FailureWindow, limits...)
}

// record keeps a sign-in attempt in the officer's history; a failure to
// record is logged (the answer to the attempt stands).
func (s *Service) record(ctx context.Context, officerID int64, m Meta, outcome storage.DeskOutcome) {
	si := storage.OfficerSignIn{OfficerID: officerID, IP: m.IP, UserAgent: m.UserAgent, Outcome: outcome}
	if err := s.store.RecordOfficerSignIn(context.WithoutCancel(ctx), &si); err != nil {
		slog.ErrorContext(ctx, "record an officer's sign-in", "err", err, "outcome", outcome)
	}
}

func idKey(prefix string, id int64) string { return prefix + strconv.FormatInt(id, 10) }

// History is the officer o's own sign-in attempts of the last
// storage.OfficerHistoryDays days, newest first.
func (s *Service) History(ctx context.Context, o storage.Officer) ([]storage.OfficerSignIn, error) {
	if err := storage.OfficerMay(o, storage.ActUseDesk); err != nil {
		return nil, err
	}
	since := time.Now().AddDate(0, 0, -storage.OfficerHistoryDays)
	if s.auth != nil {
		since = s.auth.now().AddDate(0, 0, -storage.OfficerHistoryDays)
	}
	return s.store.OfficerSignIns(ctx, o.ID, since, 500)
}
