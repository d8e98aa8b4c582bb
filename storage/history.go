package storage

import (
	"context"
	"strings"
	"time"
	"unicode/utf8"
)

// The sign-in history (登入記錄): every sign-in attempt, whatever its
// outcome, without the password. The sign-in records an attempt where its
// outcome is decided (login/signin, the portal's sign-in); a background
// writer (login/history) stores them in batches.

// SignInOutcome is how a sign-in attempt ended.
type SignInOutcome string

const (
	// SignInSucceeded: signed in (a session started).
	SignInSucceeded SignInOutcome = "signed_in"
	// SignInWrongCredentials: unknown entity, unknown username or wrong password.
	SignInWrongCredentials SignInOutcome = "bad_credentials"
	// SignInLocked: refused unchecked, too many failures (the account's or the address's).
	SignInLocked SignInOutcome = "throttled"
	// SignInRefusedByService: the right password (or passkey), but the
	// e-service does not admit the account (its access policy, its minimum
	// level without a tool to reach it, the entity account, another user
	// than the e-service asked for).
	SignInRefusedByService SignInOutcome = "refused"
	// SignInStepRequired: the right password, and the e-service needs
	// more: the second step follows (its own attempt, recorded by itself).
	SignInStepRequired SignInOutcome = "step_required"
	// SignInStepPassed and SignInStepFailed: the second step (安全驗證碼 or a passkey).
	SignInStepPassed SignInOutcome = "step_passed"
	SignInStepFailed SignInOutcome = "step_failed"
	// SignInPasskeyFailed: a sign-in with a passkey alone that was not verified.
	SignInPasskeyFailed SignInOutcome = "passkey_failed"
)

// SignInOutcomes are the outcomes, in the order the pages list them.
var SignInOutcomes = []SignInOutcome{SignInSucceeded, SignInWrongCredentials, SignInLocked, SignInRefusedByService,
	SignInStepRequired, SignInStepPassed, SignInStepFailed, SignInPasskeyFailed}

// ValidSignInOutcome reports whether s is one of the outcomes.
func ValidSignInOutcome(s string) bool {
	for _, o := range SignInOutcomes {
		if string(o) == s {
			return true
		}
	}
	return false
}

// SignInMethod is what the attempt was made with.
type SignInMethod string

const (
	MethodPassword SignInMethod = "password"
	MethodPasskey  SignInMethod = "passkey"
	MethodCode     SignInMethod = "code" // the code of 安全驗證碼 (second step)
)

// Bounds of what an attempt stores of what its caller sent.
const (
	maxHistoryUsername  = 64
	maxHistoryEntity    = 32
	maxHistoryUserAgent = 256
	maxHistoryAddress   = 64
	maxHistoryClient    = 128
)

// SignInEvent is one sign-in attempt.
type SignInEvent struct {
	ID int64
	At time.Time
	// EntityID is the entity the attempt was about (0: unknown; the store
	// finds it from EntityNumber when it can).
	EntityID int64
	// Subject is the account's EUID or entity account subject, "" when
	// the attempt named no account.
	Subject string
	// EntityNumber and Username are as typed (normalised when they can be,
	// bounded always): for an attempt that named no account they are all
	// there is.
	EntityNumber, Username string
	Outcome                SignInOutcome
	Method                 SignInMethod
	Address                string // the client's address
	UserAgent              string
	ClientID               string // the e-service's client; "" for the portal
}

// NewSignInEvent is an attempt at at with what its caller sent made fit
// to store: the entity number and username normalised when they are valid,
// else cut to a bound of printable characters; the user agent and the
// address bounded likewise.
func NewSignInEvent(at time.Time, entityNumber, username string, outcome SignInOutcome, method SignInMethod, address, userAgent, clientID string) SignInEvent {
	if n, ok := NormalizeEntityNumber(entityNumber); ok {
		entityNumber = n
	}
	if u, ok := NormalizeUsername(username); ok {
		username = u
	}
	return SignInEvent{
		At:           at.UTC(),
		EntityNumber: bounded(entityNumber, maxHistoryEntity),
		Username:     bounded(strings.ToLower(username), maxHistoryUsername),
		Outcome:      outcome, Method: method,
		Address:   bounded(address, maxHistoryAddress),
		UserAgent: bounded(userAgent, maxHistoryUserAgent),
		ClientID:  bounded(clientID, maxHistoryClient),
	}
}

// bounded is s with control characters and invalid bytes dropped, cut to at
// most n bytes on a character boundary.
func bounded(s string, n int) string {
	var b strings.Builder
	for _, r := range s {
		if r == utf8.RuneError || r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) {
			continue
		}
		if b.Len()+utf8.RuneLen(r) > n {
			break
		}
		b.WriteRune(r)
	}
	return b.String()
}

// SignInCursor is where a page of the history continues: events older than
// (At, ID), newest first.
type SignInCursor struct {
	At time.Time
	ID int64
}

// IsZero reports whether c is the start (the newest event).
func (c SignInCursor) IsZero() bool { return c.ID == 0 }

// MaxSignInPage is the most events one page (or one CSV chunk) holds.
const MaxSignInPage = 500

// MaxSignInRange is the longest date range one query covers.
const MaxSignInRange = 366 * 24 * time.Hour

// SignInQuery selects a page of the history: of one entity (EntityID) or
// one account (Subject), or both (an admin's filter by login), between
// From and To, optionally of one outcome, continuing after After.
type SignInQuery struct {
	EntityID int64
	Subject  string
	Outcome  SignInOutcome // "": any
	From, To time.Time     // From ≤ at < To
	After    SignInCursor
	Limit    int // 1–MaxSignInPage
}

// RetentionPolicy is what the retention job removes: sign-in events older
// than EventsBefore, and the personal data of staff logins deleted before
// DeletedBefore, Batch rows a statement.
type RetentionPolicy struct {
	EventsBefore  time.Time
	DeletedBefore time.Time
	Batch         int
}

// RetentionResult is what one run of the retention job did.
type RetentionResult struct {
	Ran           bool  // false: another node held the lock
	EventsDeleted int64 // sign-in events deleted
	LoginsErased  int64 // deleted staff logins whose personal data was erased
}

// SignInHistory is the store of the sign-in history.
type SignInHistory interface {
	// RecordSignIns stores a batch of attempts in one round trip, and moves
	// the 最後登入時間 of the accounts that signed in.
	RecordSignIns(ctx context.Context, events []SignInEvent) error
	// SignInEvents is a page of the history, newest first.
	SignInEvents(ctx context.Context, q SignInQuery) ([]SignInEvent, error)
	// ApplyRetention runs the retention policy, on one node at a time.
	ApplyRetention(ctx context.Context, p RetentionPolicy) (RetentionResult, error)
}
