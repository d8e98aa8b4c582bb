package storage

import (
	"context"
	"time"
)

// Directory is the durable store (Postgres): accounts, e-services, clients,
// keys and audit. Every method that changes accounts, rights or assignments
// writes its audit event in the same transaction.
type Directory interface {
	// Principal finds the account named by (entity number, username): the
	// entity account or a staff login, which share one username namespace per
	// entity. Returns ErrNotFound when there is none.
	Principal(ctx context.Context, entityNumber, username string) (Principal, error)
	// PrincipalBySubject finds an account by its subject (EUID or entity account subject).
	PrincipalBySubject(ctx context.Context, subject string) (Principal, error)
	// UpdatePasswordHash replaces the hash of a principal only if it still equals
	// old (used to upgrade the argon2 parameters on login).
	UpdatePasswordHash(ctx context.Context, kind PrincipalKind, id int64, old, new string) error
	// ChangePassword sets the password hash of an account that proved its old
	// password, only if the hash is still old and the account may sign in, and
	// writes the audit event in the same transaction (the account is its own
	// actor; ip is where from). ErrConflict when the swap lost or the account
	// may not sign in, ErrNotFound when unknown.
	ChangePassword(ctx context.Context, kind PrincipalKind, id int64, old, new, ip string, notice *OutboxMessage) error
	// StaffLogin, Entity and EntityAccount (by entity id) read one record for
	// the portal's profile page; ErrNotFound when unknown.
	StaffLogin(ctx context.Context, id int64) (StaffLogin, error)
	Entity(ctx context.Context, id int64) (Entity, error)
	EntityAccount(ctx context.Context, entityID int64) (EntityAccount, error)
	// Tools lists the identity tools of one staff login, oldest first,
	// without their secrets (none: an empty list), for the portal's pages
	// of the signed-in login's own tools.
	Tools(ctx context.Context, staffLoginID int64) ([]IdentityTool, error)

	// ServiceAccess tells whether the staff login may use the e-service and its groups there.
	ServiceAccess(ctx context.Context, staffLoginID, serviceID int64) (ServiceAccess, error)
	// PrincipalInService is PrincipalBySubject and ServiceAccess of staff
	// login loginID in one round trip; the access is the account's only if
	// the account is that staff login (the caller checks Kind and ID). An
	// unknown login or e-service gives the zero access (allows nothing).
	PrincipalInService(ctx context.Context, subject string, loginID, serviceID int64) (Principal, ServiceAccess, error)

	// Client returns a registered client, ErrNotFound when unknown.
	Client(ctx context.Context, id string) (Client, error)

	// SigningKeys returns every key not past ExpiresAt, newest first.
	SigningKeys(ctx context.Context) ([]SigningKey, error)
	// CreateSigningKey stores a new key. With activate, it becomes the signing
	// key and the previous active key is retired with the given expiry.
	CreateSigningKey(ctx context.Context, k SigningKey, activate bool, retiredExpiry time.Time) error
	// EnsureSigningKey stores k as the active key only if no active key exists,
	// safely when several nodes start at once. It reports whether k was stored.
	EnsureSigningKey(ctx context.Context, k SigningKey) (bool, error)

	Ping(ctx context.Context) error
}

// ShortLived is the store of short-lived state (Redis), the union of its
// roles below: what the server constructs and hands out. Each consumer
// depends on the roles it uses. Secrets (codes, session cookies, refresh
// tokens) are keyed by their hash, never stored raw.
type ShortLived interface {
	Admissions
	AuthRequests
	AuthCodes
	Sessions
	Tokens
	Counters
	SingleUse
	ChangeNotices
	Ping(ctx context.Context) error
}

// Admissions bound the authorization requests an anonymous caller can make
// us keep (the edge's admission).
type Admissions interface {
	// AdmitAuthRequest admits one authorization request under the limits
	// (see AuthRequestLimits), atomically on every node: it returns the id
	// to store it under, having dropped what must make room; or why not and
	// until when.
	AdmitAuthRequest(ctx context.Context, a Admission, l AuthRequestLimits) (Admitted, error)
	// ReleaseAuthRequest gives an admitted id's place back when no request
	// was stored under it.
	ReleaseAuthRequest(ctx context.Context, id string) error
}

// AuthRequests are the authorization requests between /authorize and the
// sign-in that answers them.
type AuthRequests interface {
	SaveAuthRequest(ctx context.Context, r *AuthRequest, ttl time.Duration) error
	// AuthRequest returns ErrNotFound when unknown or expired.
	AuthRequest(ctx context.Context, id string) (*AuthRequest, error)
	// CompleteAuthRequest marks the request done with a, once: ErrConflict if it
	// already is, ErrNotFound if it has gone.
	CompleteAuthRequest(ctx context.Context, id string, a Authentication) error
	DeleteAuthRequest(ctx context.Context, id string) error
}

// AuthCodes are the single-use authorization codes of answered requests.
type AuthCodes interface {
	// SaveAuthCode binds a code to a completed request. One code per request:
	// a second call for the same request returns ErrConflict.
	SaveAuthCode(ctx context.Context, authRequestID, code string, ttl time.Duration) error
	// ConsumeAuthCode atomically redeems a code and returns its request id.
	// The first call wins; later calls return the id with ErrCodeReused (so the
	// caller can revoke what the first one got); an unknown code gives ErrNotFound.
	ConsumeAuthCode(ctx context.Context, code string) (authRequestID string, err error)
}

// Sessions are the browsers' sign-in (SSO) sessions, and the end of all of
// an account's sessions and tokens.
type Sessions interface {
	// CreateSession stores a session under a new random secret, which it returns
	// for the cookie. The session's SessionID (public sid) is set by the store.
	CreateSession(ctx context.Context, s *Session, idle time.Duration) (secret string, err error)
	// Session looks a session up by its cookie secret and extends its idle
	// expiry (never past ExpiresAt). ErrNotFound when gone.
	Session(ctx context.Context, secret string, idle time.Duration) (*Session, error)
	// ProveInSession records in a live session what its holder has just
	// proven again: a second factor (the level rises, amr gains its
	// methods, ToolAt moves) or the password (AuthTime moves). sub and sid
	// stay as they are; fn gets the stored session and changes it. ErrNotFound
	// when the session has gone; a session deleted meanwhile stays deleted.
	ProveInSession(ctx context.Context, secret string, fn func(*Session)) (*Session, error)
	// DeleteSession ends a session by its cookie secret; unknown is not an error.
	DeleteSession(ctx context.Context, secret string) error
	// EndSessionByID ends a session by its public sid and revokes the tokens issued under it.
	EndSessionByID(ctx context.Context, sid string) error
	// EndAllForSubject ends every session and revokes every token of an account
	// (password change, deletion).
	EndAllForSubject(ctx context.Context, subject string) error
	// SessionsOf lists the live sessions of subject, newest first, each
	// with the clients that received tokens in it; entries of its index
	// whose session has gone are dropped on the way.
	SessionsOf(ctx context.Context, subject string) ([]LiveSession, error)
}

// Tokens are the access tokens and the refresh-token families of the
// grants: issued, looked up, rotated and revoked.
type Tokens interface {
	SaveAccessToken(ctx context.Context, t *AccessToken) error
	// AccessToken returns ErrNotFound for an unknown, expired or revoked token.
	AccessToken(ctx context.Context, id string) (*AccessToken, error)
	RevokeAccessToken(ctx context.Context, id string) error

	// RefreshToken returns the live record behind a token: ErrNotFound if unknown
	// or expired, ErrRefreshTokenReused if it was already rotated (the family is then revoked).
	RefreshToken(ctx context.Context, token string) (*RefreshToken, error)

	// CreateTokens stores the tokens of a code exchange at once: the access
	// token and, when rt is not nil, the refresh family rt starts (its id
	// is the access token's grant), whose opaque token it returns.
	// ErrConflict if the grant was revoked meanwhile (its code replayed):
	// none of the tokens is then usable.
	CreateTokens(ctx context.Context, at *AccessToken, rt *RefreshToken) (token string, err error)
	// RotateTokens stores the tokens of a refresh at once: prev, the record
	// of the token presented as RefreshToken returned it, is rotated to
	// next (keeping its family and absolute expiry), and at is the access
	// token issued with it. A concurrent or repeated rotation of the same
	// token gets ErrRefreshTokenReused and revokes the family; ErrNotFound
	// if the family has expired or been revoked. None of the tokens is then
	// usable.
	RotateTokens(ctx context.Context, prev, next *RefreshToken, at *AccessToken) (token string, err error)

	// RevokeGrant revokes every access and refresh token issued from one auth
	// request or refresh family (used on authorization code replay).
	RevokeGrant(ctx context.Context, grantID string) error
}

// Counters are the attempt counters that guard secrets and costly checks.
type Counters interface {
	// Reserve takes one attempt under key, atomically, if fewer than max are
	// taken in the current fixed window (started by the first attempt, lasting
	// window). It returns 0 when reserved, or the time until the window ends
	// when the limit is reached. Reserve before the check an attempt guards
	// (a password hash, a code comparison), so that concurrent attempts
	// cannot pass the limit.
	Reserve(ctx context.Context, key string, max int, window time.Duration) (wait time.Duration, err error)
	// Release gives back one attempt reserved under key.
	Release(ctx context.Context, key string) error
	// ResetAttempts forgets every attempt under key.
	ResetAttempts(ctx context.Context, key string) error
	// Held tells until when the counter under key is full (max attempts
	// taken in its window): the end of its window, or the zero time when
	// it is not full. A full sign-in counter is an account's lockout.
	Held(ctx context.Context, key string, max int) (until time.Time, err error)
	// HeldAll is Held for many keys in one round trip (a page of the staff
	// list): one time per key, in order.
	HeldAll(ctx context.Context, keys []string, max int) ([]time.Time, error)
}

// SingleUse is the gate of values that may be used once.
type SingleUse interface {
	// Once marks key of purpose as used for ttl (one SET NX) and reports
	// whether this was its first use: of any number of calls at once with
	// one key, exactly one gets true. The single-use gate of client
	// assertions (their jti) and passkey ceremonies.
	Once(ctx context.Context, purpose, key string, ttl time.Duration) (bool, error)
}

// ChangeNotices tell every node that what it may have cached changed.
type ChangeNotices interface {
	// PublishClaimsChanged tells every node that the claims (names, groups)
	// of subjects changed, so that cached claim contents are dropped at once.
	PublishClaimsChanged(ctx context.Context, subjects ...string) error
	// PublishServicesChanged tells every node that the settings of the
	// e-services serviceIDs changed (their minimum assurance level), so
	// that cached clients of theirs are dropped at once.
	PublishServicesChanged(ctx context.Context, serviceIDs ...int64) error
}
