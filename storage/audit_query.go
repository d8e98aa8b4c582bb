package storage

import "time"

// AuditQuery is a search of the audit trail, as the operator makes it:
// every event in [From, To) that matches each filter set, newest first,
// Limit of them after the cursor After. The store refuses a query without
// both bounds or over MaxAuditRange, so that no search reads the whole trail.
type AuditQuery struct {
	EntityID int64  // 0: every entity (and the events of none)
	ActorID  string // "": any actor; else actor_id, compared without case
	Target   string // "": any target; else exactly
	// Action is an action exactly, or a prefix when it ends in "."
	// ("staff." is every staff.* action); "": any.
	Action   string
	From, To time.Time
	After    AuditCursor // zero: from the newest
	Limit    int         // 1–MaxAuditPage
}

// AuditCursor is where a page of the audit trail ends: the next page has
// the events before (At, ID).
type AuditCursor struct {
	At time.Time
	ID int64
}

// The bounds of one audit search.
const (
	MaxAuditPage  = 10_000
	MaxAuditRange = 367 * 24 * time.Hour // 366 whole days, and a day's slack for a zone
)
