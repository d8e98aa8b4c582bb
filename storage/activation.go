package storage

import (
	"errors"
	"regexp"
	"time"
)

// Activation: the operator or an admin registers
// an account; its holder receives an activation code by SMS or e-mail and
// chooses a username and a password with it. The types below are what the
// activation pages, the operator commands and the outbox worker share.

// Errors of activation, besides ErrNotFound, ErrConflict (the account is
// already activated, or deleted) and ErrAlreadyExists (the username is taken
// in the entity).
var (
	// ErrEntityAccountNotActivated: an admin staff login may be activated
	// only after its entity's entity account.
	ErrEntityAccountNotActivated = errors.New("the entity account is not activated yet")
	// ErrCodeNotLive: the activation code has been used, voided or has
	// expired since it was checked.
	ErrCodeNotLive = errors.New("activation code no longer valid")
	// ErrNoRecipient: the account has no registered mobile (or e-mail) for the channel asked.
	ErrNoRecipient = errors.New("no registered recipient for the channel")
)

// usernamePattern is the username rule, the same as the CHECK on
// entity_accounts.username and staff_logins.username.
var usernamePattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{2,31}$`)

// ValidUsername is the username rule: 3 to 32 characters of A-Z, a-z, 0-9,
// '.', '_' and '-', starting with a letter or digit. Usernames are unique
// within an entity, compared case-insensitively, and never change once set.
func ValidUsername(u string) bool { return usernamePattern.MatchString(u) }

// Channel is how a notification reaches a person.
type Channel string

const (
	ChannelSMS   Channel = "sms"   // to the registered Macau mobile
	ChannelEmail Channel = "email" // to the registered e-mail address
)

// AccountRef names an account by kind and row id (staff_logins.id or entity_accounts.id).
type AccountRef struct {
	Kind PrincipalKind
	ID   int64
}

// Activatee is what activation and resending need to know about an account.
type Activatee struct {
	Account           AccountRef
	Subject           string // EUID, or the entity account's subject
	EntityID          int64
	EntityNumber      string
	EntityActive      bool
	ApplicationNumber string    // entity account only: 申請編號
	IDDocNumber       string    // staff only: 身份證明文件編號
	BirthDate         time.Time // staff only
	NameZH            string    // staff: 中文姓名; entity account: the entity's name
	NameForeign       string
	Admin             bool // admin staff login
	Deleted           bool // staff login with association status deleted
	Activated         bool
	// EntityAccountActivated tells whether the entity's entity account is
	// activated (for an entity account: whether it is itself).
	EntityAccountActivated bool
	Mobile                 string
	Email                  string
	Language               string
	Username               string // "" before activation
}

// MayResetPassword reports whether the account may be sent a reset code
// now: activated, not deleted, its entity open (an account that may sign
// in, but for its password).
func (a Activatee) MayResetPassword() bool {
	return a.Activated && !a.Deleted && a.EntityActive
}

// ContactChannel is how a message to the account goes when nobody chose:
// by SMS to the registered mobile, else by e-mail; ok is false when it
// registered neither.
func (a Activatee) ContactChannel() (ch Channel, ok bool) {
	switch {
	case a.Mobile != "":
		return ChannelSMS, true
	case a.Email != "":
		return ChannelEmail, true
	}
	return "", false
}

// ActivationBlocked is the rule of who may be activated now: nil when the
// account may be activated; ErrConflict when it already is, or is deleted,
// or its entity is closed; ErrEntityAccountNotActivated for an admin staff
// login whose entity account is not activated yet.
func (a Activatee) ActivationBlocked() error {
	switch {
	case a.Activated || a.Deleted || !a.EntityActive:
		return ErrConflict
	case a.Account.Kind == KindStaff && a.Admin && !a.EntityAccountActivated:
		return ErrEntityAccountNotActivated
	}
	return nil
}

// MayReceiveCode reports whether a code may be issued to the account: it is
// not activated, not deleted, and its entity is open. (An admin whose entity
// account is not activated may receive one; it works once the entity
// account is activated.)
func (a Activatee) MayReceiveCode() bool {
	return !a.Activated && !a.Deleted && a.EntityActive
}

// Recipient returns the registered address for a channel, or "".
func (a Activatee) Recipient(ch Channel) string {
	switch ch {
	case ChannelSMS:
		return a.Mobile
	case ChannelEmail:
		return a.Email
	}
	return ""
}

// Void reasons of an activation code.
const (
	VoidSuperseded     = "superseded"      // a newer code was issued
	VoidAttempts       = "attempts"        // too many wrong tries
	VoidAccountDeleted = "account_deleted" // the staff login was deleted
	VoidEntityClosed   = "entity_closed"   // the entity was closed
	VoidContactChanged = "contact_changed" // the mobile or e-mail it went to was changed
)

// ActivationCode is an activation code as stored: only its keyed hash.
type ActivationCode struct {
	ID          int64
	Account     AccountRef
	EntityID    int64
	Hash        []byte // HMAC-SHA256 of the normalised code under a key derived from the master key
	Channel     Channel
	CreatedAt   time.Time
	ExpiresAt   time.Time
	MaxAttempts int
	Attempts    int        // wrong tries so far
	SentAt      *time.Time // when the outbox worker delivered it; nil until then
	UsedAt      *time.Time
	VoidedAt    *time.Time
	VoidReason  string // one of the Void* reasons when voided
	// Purpose: an activation code activates its account, a reset code
	// sets a new password of an activated one; neither does the other's
	// job. Empty is an activation code.
	Purpose CodePurpose
}

// CodePurpose is what a code is for.
type CodePurpose string

const (
	PurposeActivation CodePurpose = "activation"
	PurposeReset      CodePurpose = "reset"
)

// OrActivation is p, or PurposeActivation when p is empty.
func (p CodePurpose) OrActivation() CodePurpose {
	if p == "" {
		return PurposeActivation
	}
	return p
}

// Live reports whether the code can still activate its account at now.
func (c ActivationCode) Live(now time.Time) bool {
	return c.UsedAt == nil && c.VoidedAt == nil && now.Before(c.ExpiresAt) && c.Attempts < c.MaxAttempts
}

// OutboxMessage is a notification waiting for (or past) delivery.
type OutboxMessage struct {
	ID        int64
	Channel   Channel
	Recipient string // mobile number or e-mail address, as registered
	Language  string
	// Body is the sealed message (AES-GCM; see login/notify). The store
	// never sees it in clear and clears it once the message is settled.
	Body          []byte
	EntityID      *int64
	CodeID        *int64 // the activation code the message carries
	CreatedAt     time.Time
	Attempts      int       // delivery attempts so far, the current one included
	NextAttemptAt time.Time // not before: the end of a claim's lease, or of a backoff
	Lease         string    // token of the claim that returned it
	LastError     string
	DeliveredAt   *time.Time
	FailedAt      *time.Time
	CancelledAt   *time.Time
	// Logout is set on ChannelBackchannel messages, which carry no body: the
	// logout token is signed when it is sent, so that its exp is fresh.
	Logout *LogoutDelivery
}

// CodeIssue is one activation code to issue together with the message that
// carries it; the store fills in the account, entity and ids.
type CodeIssue struct {
	Code    ActivationCode
	Message OutboxMessage
	Reason  string // why it is issued: create, resend, operator, admin
}
