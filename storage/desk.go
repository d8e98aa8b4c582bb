package storage

import (
	"context"
	"time"
)

// DeskIdle is how long an officer's desk session lives without a request:
// a counter's computer left alone is signed out within a quarter of an hour.
const DeskIdle = 15 * time.Minute

// DeskMaxAge is how long a desk session lives at most, however busy: a
// working day, after which the officer proves both factors again.
const DeskMaxAge = 10 * time.Hour

// DeskSession is an officer's signed-in session at the operator's desk. It
// is a kind of its own, kept apart from the browsers' SSO sessions: no
// staff login's or entity account's session opens the desk, and no desk
// session signs anyone in to an e-service.
type DeskSession struct {
	// ID names the session in the audit trail (never the cookie's secret).
	ID        string `json:"id"`
	OfficerID int64  `json:"officer_id"`
	// Factor is the second factor the officer proved with the password:
	// "totp" or "passkey".
	Factor     string    `json:"factor"`
	IP         string    `json:"ip,omitempty"`
	CreatedAt  time.Time `json:"created_at"`
	LastSeenAt time.Time `json:"last_seen_at"`
	ExpiresAt  time.Time `json:"expires_at"`
}

// DeskSessions keep the officers' desk sessions (Redis).
type DeskSessions interface {
	// CreateDeskSession stores s, idle-expiring after DeskIdle and never
	// living past s.ExpiresAt, and returns the secret its cookie carries;
	// it sets s.ID.
	CreateDeskSession(ctx context.Context, s *DeskSession) (secret string, err error)
	// DeskSession is the live session of secret, its idle expiry extended;
	// ErrNotFound when unknown, idled out or past its age.
	DeskSession(ctx context.Context, secret string) (*DeskSession, error)
	// EndDeskSession ends the session of secret (no error when there is none).
	EndDeskSession(ctx context.Context, secret string) error
}
