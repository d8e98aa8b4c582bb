// Package activation issues, checks and consumes activation codes: the
// rules shared by the activation pages,
// the resend page and the operator commands.
//
// A code is 10 characters of an alphabet without look-alikes (no 0, 1, I,
// O): 50 random bits from crypto/rand. It is stored only as
// HMAC-SHA256(key, code) under a key derived from the master key, so a
// database dump alone does not allow testing guesses. A code is single-use,
// expires (Config.CodeTTL), is void after Config.MaxAttempts wrong tries,
// and a new code voids the previous one. The message carrying it is written
// to the outbox in the same transaction, sealed, and delivered later by
// login/notify's worker.
package activation

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/entity-account/idp/login/notify"
	"github.com/entity-account/idp/storage"
)

// Store is the durable side of activation (storage/postgres).
type Store interface {
	Activatee(ctx context.Context, ref storage.AccountRef) (storage.Activatee, error)
	EntityAccountActivatee(ctx context.Context, entityNumber string) (storage.Activatee, error)
	StaffActivatees(ctx context.Context, entityNumber, normalizedDoc string) ([]storage.Activatee, error)
	IssueActivationCode(ctx context.Context, actor storage.Actor, ref storage.AccountRef, issue *storage.CodeIssue) error
	CreateEntityWithCodes(ctx context.Context, actor storage.Actor, e *storage.Entity, acct *storage.EntityAccount,
		acctIssue *storage.CodeIssue, admins []*storage.StaffLogin, adminIssues []*storage.CodeIssue) error
	ActivationCodes(ctx context.Context, ref storage.AccountRef, limit int) ([]storage.ActivationCode, error)
	ReserveActivationAttempt(ctx context.Context, codeID int64) (bool, error)
	ReturnActivationAttempt(ctx context.Context, codeID int64) error
	FailActivationAttempt(ctx context.Context, actor storage.Actor, codeID int64) (storage.ActivationCode, error)
	CompleteActivation(ctx context.Context, actor storage.Actor, codeID int64, username, passwordHash string) error
	CreateStaffWithCode(ctx context.Context, actor storage.Actor, sl *storage.StaffLogin, issue *storage.CodeIssue) (existing string, err error)
}

// Config holds the keys and limits of activation.
type Config struct {
	Issuer      string         // public base URL; messages link to {Issuer}/activate/entity or /activate/staff
	CodeKey     []byte         // HMAC key of code hashes (op.DeriveKey(master, "activation-code"))
	Sealer      *notify.Sealer // seals outbox bodies
	Texts       *notify.Texts
	CodeTTL     time.Duration // life of a code
	MaxAttempts int           // wrong tries before a code is void
	// Wake, when set, is called after a code has been written, to make the
	// local outbox worker deliver it at once.
	Wake func()
}

// Service applies the activation rules over a Store.
type Service struct {
	store Store
	cfg   Config
	// Now is the clock of code expiry; tests may replace it.
	Now func() time.Time
}

// New checks cfg and returns the service.
func New(store Store, cfg Config) (*Service, error) {
	switch {
	case len(cfg.CodeKey) < 32:
		return nil, errors.New("activation: code key must be at least 32 bytes")
	case cfg.Sealer == nil || cfg.Texts == nil:
		return nil, errors.New("activation: sealer and texts are required")
	case cfg.CodeTTL <= 0 || cfg.MaxAttempts < 1:
		return nil, errors.New("activation: code TTL and max attempts must be positive")
	}
	cfg.Issuer = strings.TrimSuffix(cfg.Issuer, "/")
	return &Service{store: store, cfg: cfg, Now: time.Now}, nil
}

// Errors of Verify. Only ErrMalformedCode and ErrMismatch are given unless
// the facts match and the code typed is one of the account's codes; the
// others tell the holder of that code what to do next.
var (
	ErrMalformedCode    = errors.New("activation: the code is not 10 characters of the code alphabet")
	ErrMismatch         = errors.New("activation: the details do not match a live activation code")
	ErrExpired          = errors.New("activation: the code has expired")
	ErrUsed             = errors.New("activation: the code has been used")
	ErrLocked           = errors.New("activation: the code is void after too many wrong tries")
	ErrReplaced         = errors.New("activation: a newer code has replaced this one")
	ErrAlreadyActivated = errors.New("activation: the account is already activated")
)

// CodeLength is the number of characters of a code.
const CodeLength = 10

// codeAlphabet has 32 characters, so each random byte's low 5 bits pick one
// uniformly. 0, 1, I and O are left out: they are easily confused.
const codeAlphabet = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"

// NewCode returns a new random code, grouped for reading: "ABCDE-FGHJK".
func NewCode() (string, error) {
	b := make([]byte, CodeLength)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("activation: random: %w", err)
	}
	for i := range b {
		b[i] = codeAlphabet[b[i]&31]
	}
	return string(b[:5]) + "-" + string(b[5:]), nil
}

// NormalizeCode turns what a holder typed into the canonical code: upper
// case, spaces and hyphens dropped. ok is false when the result is not
// CodeLength characters of the alphabet.
func NormalizeCode(typed string) (code string, ok bool) {
	var sb strings.Builder
	for _, r := range strings.ToUpper(typed) {
		switch {
		case r == ' ' || r == '-' || r == '\t':
		case r < 128 && strings.ContainsRune(codeAlphabet, r):
			sb.WriteRune(r)
		default:
			return "", false
		}
	}
	return sb.String(), sb.Len() == CodeLength
}

// NormalizeFact reduces a registration fact (application number, ID
// document number) to its upper-case ASCII letters and digits
// (storage.NormalizeIDDocNumber), so that "1234567(8)", "12345678" and
// "1234567 (8)" compare equal.
func NormalizeFact(s string) string { return storage.NormalizeIDDocNumber(s) }

// hash is the stored form of a normalised code.
func (s *Service) hash(code string) []byte {
	m := hmac.New(sha256.New, s.cfg.CodeKey)
	m.Write([]byte(code))
	return m.Sum(nil)
}

func (s *Service) now() time.Time { return s.Now() }

// URL returns the activation page of an account kind.
func (s *Service) URL(kind storage.PrincipalKind) string {
	if kind == storage.KindEntityAccount {
		return s.cfg.Issuer + "/activate/entity"
	}
	return s.cfg.Issuer + "/activate/staff"
}

// prepare makes a new code for a and the sealed message that carries it over ch.
func (s *Service) prepare(a storage.Activatee, ch storage.Channel, reason string) (*storage.CodeIssue, error) {
	to := a.Recipient(ch)
	if to == "" {
		return nil, fmt.Errorf("%s %s by %s: %w", a.Account.Kind, a.Subject, ch, storage.ErrNoRecipient)
	}
	code, err := NewCode()
	if err != nil {
		return nil, err
	}
	normalized, _ := NormalizeCode(code)
	expires := s.now().Add(s.cfg.CodeTTL)
	content := s.cfg.Texts.Activation(a.Language, a.Account.Kind, ch, notify.ActivationVars{
		Code: code, EntityNumber: a.EntityNumber, URL: s.URL(a.Account.Kind), Expires: expires,
	})
	body, err := s.cfg.Sealer.Seal(ch, to, content)
	if err != nil {
		return nil, err
	}
	return &storage.CodeIssue{
		Code:    storage.ActivationCode{Hash: s.hash(normalized), Channel: ch, ExpiresAt: expires, MaxAttempts: s.cfg.MaxAttempts},
		Message: storage.OutboxMessage{Channel: ch, Recipient: to, Language: a.Language, Body: body},
		Reason:  reason,
	}, nil
}

func (s *Service) wake() {
	if s.cfg.Wake != nil {
		s.cfg.Wake()
	}
}

// Issue sends a new activation code to the account ref over ch (voiding its
// previous one). It returns storage.ErrConflict when the account may not
// receive a code (activated, deleted, entity closed) and
// storage.ErrNoRecipient when it has no registered address for ch.
func (s *Service) Issue(ctx context.Context, actor storage.Actor, ref storage.AccountRef, ch storage.Channel, reason string) (storage.CodeIssue, error) {
	a, err := s.store.Activatee(ctx, ref)
	if err != nil {
		return storage.CodeIssue{}, err
	}
	if !a.MayReceiveCode() {
		return storage.CodeIssue{}, fmt.Errorf("activation: issue code to %s: %w", a.Subject, storage.ErrConflict)
	}
	issue, err := s.prepare(a, ch, reason)
	if err != nil {
		return storage.CodeIssue{}, err
	}
	if err := s.store.IssueActivationCode(ctx, actor, ref, issue); err != nil {
		return storage.CodeIssue{}, err
	}
	s.wake()
	return *issue, nil
}

// OpenEntity creates an entity, its entity account and its admin staff
// logins, and issues each account an activation code over ch, in one
// transaction. Every account must have an address for ch
// (storage.ErrNoRecipient otherwise, before anything is written). Only the
// operator opens an entity (storage.CanOpenEntity).
func (s *Service) OpenEntity(ctx context.Context, actor storage.Actor, e *storage.Entity, acct *storage.EntityAccount, admins []*storage.StaffLogin, ch storage.Channel) error {
	if !storage.CanOpenEntity(actor) {
		return &storage.Error{Code: storage.EForbidden, Message: "You may not open an entity.", Err: storage.ErrForbidden}
	}
	acctIssue, err := s.prepare(storage.Activatee{
		Account: storage.AccountRef{Kind: storage.KindEntityAccount}, Subject: "entity account of " + e.Number,
		EntityNumber: e.Number, Mobile: acct.Mobile, Email: acct.Email, Language: acct.Language,
	}, ch, "create")
	if err != nil {
		return err
	}
	adminIssues := make([]*storage.CodeIssue, len(admins))
	for i, sl := range admins {
		adminIssues[i], err = s.prepare(storage.Activatee{
			Account: storage.AccountRef{Kind: storage.KindStaff}, Subject: "admin " + sl.IDDocNumber,
			EntityNumber: e.Number, Mobile: sl.Mobile, Email: sl.Email, Language: sl.Language,
		}, ch, "create")
		if err != nil {
			return err
		}
	}
	if err := s.store.CreateEntityWithCodes(ctx, actor, e, acct, acctIssue, admins, adminIssues); err != nil {
		return err
	}
	s.wake()
	return nil
}

// Claim is what a holder types on step 1 of an activation page.
type Claim struct {
	Kind         storage.PrincipalKind
	EntityNumber string
	// Fact is the application number (entity account) or the ID document
	// number (staff login) from the registration.
	Fact string
	Code string
}

// Verified is a checked claim: the account and the live code that proved it.
type Verified struct {
	Account      storage.AccountRef
	CodeID       int64
	Subject      string
	EntityNumber string
	NameZH       string
	NameForeign  string
	Admin        bool
}

// codesToCompare is how many of an account's latest codes a typed code is
// compared with, to tell "replaced", "used" and "expired" from "wrong".
const codesToCompare = 20

// Verify checks step 1 of activation without consuming the code. A typed
// code for an account whose facts match takes one try of its live code
// before it is compared (so tries sent at once cannot exceed the limit); the
// try is given back when the typed code is one of the account's codes, and
// a wrong one that takes the last try voids the code. Errors:
// ErrMalformedCode, ErrMismatch (facts or code wrong), and for a code of the
// account: ErrExpired, ErrUsed, ErrLocked (void after too many tries, even
// typed right), ErrReplaced, ErrAlreadyActivated,
// storage.ErrEntityAccountNotActivated; or a store error.
func (s *Service) Verify(ctx context.Context, actor storage.Actor, c Claim) (Verified, error) {
	code, ok := NormalizeCode(c.Code)
	if !ok {
		return Verified{}, ErrMalformedCode
	}
	candidates, err := s.candidates(ctx, c.Kind, c.EntityNumber, c.Fact)
	if err != nil || len(candidates) == 0 {
		return Verified{}, errOr(err, ErrMismatch)
	}
	h := s.hash(code)
	for _, a := range candidates {
		v, matched, err := s.tryAccount(ctx, actor, a, h)
		if matched || err != nil {
			return v, err
		}
	}
	// The code matches none of the codes of the accounts the facts name. The
	// answer is the same as for wrong facts, so that it tells nobody without
	// a code whether the facts matched.
	return Verified{}, ErrMismatch
}

// tryAccount compares the code hash h with the latest codes of a, under one
// reserved try of its live code. matched is false when h is none of them.
func (s *Service) tryAccount(ctx context.Context, actor storage.Actor, a storage.Activatee, h []byte) (v Verified, matched bool, err error) {
	codes, err := s.store.ActivationCodes(ctx, a.Account, codesToCompare) // newest first
	if err != nil {
		return Verified{}, false, err
	}
	now := s.now()
	reserved := false
	if len(codes) > 0 && codes[0].Live(now) {
		if reserved, err = s.store.ReserveActivationAttempt(ctx, codes[0].ID); err != nil {
			return Verified{}, false, err
		}
	}
	for i, k := range codes {
		if !hmac.Equal(k.Hash, h) {
			continue
		}
		if reserved {
			// Not a guess: the holder typed one of the account's own codes.
			if err := s.store.ReturnActivationAttempt(ctx, codes[0].ID); err != nil {
				return Verified{}, true, err
			}
		}
		switch {
		case k.UsedAt != nil:
			return Verified{}, true, ErrUsed
		case i > 0:
			return Verified{}, true, ErrReplaced
		case k.VoidReason == storage.VoidAttempts || k.Attempts >= k.MaxAttempts || !reserved && k.Live(now):
			// All tries taken (by earlier or concurrent attempts): void, even typed right.
			return Verified{}, true, ErrLocked
		case !now.Before(k.ExpiresAt):
			return Verified{}, true, ErrExpired
		case k.VoidedAt != nil:
			return Verified{}, true, ErrReplaced
		case a.Activated:
			return Verified{}, true, ErrAlreadyActivated
		}
		if err := a.ActivationBlocked(); err != nil {
			return Verified{}, true, err
		}
		return Verified{
			Account: a.Account, CodeID: k.ID, Subject: a.Subject, EntityNumber: a.EntityNumber,
			NameZH: a.NameZH, NameForeign: a.NameForeign, Admin: a.Admin,
		}, true, nil
	}
	if reserved {
		if _, err := s.store.FailActivationAttempt(ctx, actor, codes[0].ID); err != nil && !errors.Is(err, storage.ErrCodeNotLive) {
			return Verified{}, false, err
		}
	}
	return Verified{}, false, nil
}

// candidates are the accounts of kind in the entity whose registration fact
// matches, leaving out deleted ones and those of closed entities.
func (s *Service) candidates(ctx context.Context, kind storage.PrincipalKind, entityNumber, fact string) ([]storage.Activatee, error) {
	fact = NormalizeFact(fact)
	entityNumber, ok := storage.NormalizeEntityNumber(entityNumber)
	if !ok || fact == "" {
		return nil, nil
	}
	var list []storage.Activatee
	switch kind {
	case storage.KindEntityAccount:
		a, err := s.store.EntityAccountActivatee(ctx, entityNumber)
		if errors.Is(err, storage.ErrNotFound) {
			return nil, nil
		}
		if err != nil {
			return nil, err
		}
		if hmac.Equal([]byte(NormalizeFact(a.ApplicationNumber)), []byte(fact)) {
			list = append(list, a)
		}
	case storage.KindStaff:
		all, err := s.store.StaffActivatees(ctx, entityNumber, fact)
		if err != nil {
			return nil, err
		}
		list = all
	default:
		return nil, fmt.Errorf("activation: unknown account kind %q", kind)
	}
	live := list[:0]
	for _, a := range list {
		if !a.Deleted && a.EntityActive {
			live = append(live, a)
		}
	}
	return live, nil
}

func errOr(err, otherwise error) error {
	if err != nil {
		return err
	}
	return otherwise
}

// Complete activates the account of v with username and passwordHash and
// consumes its code (see postgres.Store.CompleteActivation for the errors).
func (s *Service) Complete(ctx context.Context, actor storage.Actor, v Verified, username, passwordHash string) error {
	return s.store.CompleteActivation(ctx, actor, v.CodeID, username, passwordHash)
}

// ResendRequest is what a holder types on the resend page.
type ResendRequest struct {
	Kind              storage.PrincipalKind
	EntityNumber      string
	ApplicationNumber string    // entity account
	IDDocNumber       string    // staff login
	BirthDate         time.Time // staff login: the calendar date matters
}

// Resend issues a new code to every not-yet-activated account that the
// request's facts match, to its registered mobile (or, lacking one, its
// registered e-mail), never to an address from the request. It returns how
// many codes it issued; callers must not tell the requester.
func (s *Service) Resend(ctx context.Context, actor storage.Actor, r ResendRequest) (int, error) {
	fact := r.ApplicationNumber
	if r.Kind == storage.KindStaff {
		fact = r.IDDocNumber
	}
	candidates, err := s.candidates(ctx, r.Kind, r.EntityNumber, fact)
	if err != nil {
		return 0, err
	}
	issued := 0
	for _, a := range candidates {
		if !a.MayReceiveCode() {
			continue
		}
		if r.Kind == storage.KindStaff && !sameDate(a.BirthDate, r.BirthDate) {
			continue
		}
		ch := storage.ChannelSMS
		if a.Mobile == "" {
			ch = storage.ChannelEmail
		}
		if a.Recipient(ch) == "" {
			continue
		}
		if _, err := s.Issue(ctx, actor, a.Account, ch, "resend"); err != nil {
			return issued, err
		}
		issued++
	}
	return issued, nil
}

func sameDate(a, b time.Time) bool {
	ay, am, ad := a.Date()
	by, bm, bd := b.Date()
	return ay == by && am == bm && ad == bd
}
