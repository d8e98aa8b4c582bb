package storage

import (
	"strings"
	"time"
)

// The operator's desk for entities (login/entitydesk): an officer finds an
// entity or a staff login, opens an entity's page and acts on it. What an
// officer may do is OfficerMay's; these are the desk's shapes and the
// checks of what it is given.

// SearchLimit is the most results of each kind one search gives.
const SearchLimit = 50

// StaffMatch is a staff login found by the desk's search, with its entity.
// Its IDDocNumber is masked (MaskDocNumber) when the use case hands it out:
// the full number is on the login's record, whose opening is audited.
type StaffMatch struct {
	StaffLogin   // without its password hash
	EntityNumber string
	EntityNameZH string
	EntityNamePT string
}

// DeskStaffRow is one staff login on an entity's page at the desk.
type DeskStaffRow struct {
	StaffListRow // without its password hash
	// ActiveTools and PendingTools count its identity tools that may be
	// used, and those waiting for the operator's approval in person.
	ActiveTools, PendingTools int
	// LockedUntil is when the lockout of too many failed sign-ins ends
	// (the zero time: not locked).
	LockedUntil time.Time
}

// Entity statuses.
const (
	EntityActive = "active"
	EntityClosed = "closed"
)

// MaxNoteLength is the longest reason or document number an officer
// records with an act, in characters.
const MaxNoteLength = 500

// CheckOfficerNote trims what an officer types as the reason of an act or
// the number of the document it rests on, and refuses it empty, too long
// or holding control characters: key is the catalogue key of the refusal
// and field the form field it concerns.
func CheckOfficerNote(s, field, key string) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" || !CleanText(s, MaxNoteLength) {
		return "", Errorf(EInvalid, "%s: required, at most %d characters", field, MaxNoteLength).WithField(field).WithKey(key)
	}
	return s, nil
}

// ValidEUID reports whether s is an EUID as the store writes it: CU and
// nine digits.
func ValidEUID(s string) bool {
	if len(s) != 11 || !strings.HasPrefix(s, "CU") {
		return false
	}
	for _, c := range s[2:] {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}
