package history

import (
	"context"
	"time"

	"github.com/entity-account/idp/storage"
)

// Service reads the sign-in history for the portal and the operator,
// asking the rule book (storage/rules_history.go) who may see whose.
type Service struct {
	store storage.SignInHistory
	now   func() time.Time
}

// NewService is the history's reading over store.
func NewService(store storage.SignInHistory) *Service {
	return &Service{store: store, now: time.Now}
}

// OwnDays is how far back an account sees its own history in the portal.
const OwnDays = 90

// Filter is what an admin (or the operator) asks of an entity's history:
// one login (its EUID or the entity account's subject; "": all), one
// outcome ("": all), the days From to To (To included; zero: the last
// OwnDays days), continuing after After.
type Filter struct {
	Subject  string
	Outcome  storage.SignInOutcome
	From, To time.Time
	After    storage.SignInCursor
	Limit    int
}

// Errors of the reading, with their catalogue keys.
var (
	errForbidden = storage.Errorf(storage.EForbidden, "You may not read this sign-in history.").WithKey("history_error_forbidden")
	errRange     = storage.Errorf(storage.EInvalid, "The start must come before the end, and the range may not be longer than a year.").WithKey("history_error_range")
	errOutcome   = storage.Errorf(storage.EInvalid, "There is no such outcome.").WithKey("history_error_outcome")
)

// Own is a page of the account a's own history over the last OwnDays days.
func (s *Service) Own(ctx context.Context, a storage.Actor, after storage.SignInCursor, limit int) ([]storage.SignInEvent, error) {
	if !storage.CanViewOwnSignIns(a) {
		return nil, errForbidden
	}
	now := s.now().UTC()
	return s.store.SignInEvents(ctx, storage.SignInQuery{
		Subject: a.ID, EntityID: a.EntityID, From: now.AddDate(0, 0, -OwnDays), To: now.Add(time.Minute),
		After: after, Limit: pageSize(limit),
	})
}

// Entity is a page of entity's history as f filters it, for an actor the
// rule book lets read it. A login of another entity named in f finds
// nothing: the query is always the entity's.
func (s *Service) Entity(ctx context.Context, a storage.Actor, entityID int64, f Filter) ([]storage.SignInEvent, error) {
	if !storage.CanViewEntitySignIns(a, entityID) {
		return nil, errForbidden
	}
	if f.Outcome != "" && !storage.ValidSignInOutcome(string(f.Outcome)) {
		return nil, errOutcome
	}
	from, to, err := s.Range(f.From, f.To)
	if err != nil {
		return nil, err
	}
	return s.store.SignInEvents(ctx, storage.SignInQuery{
		EntityID: entityID, Subject: f.Subject, Outcome: f.Outcome, From: from, To: to, After: f.After, Limit: pageSize(f.Limit),
	})
}

// Range is the time range of the days from to to (to included): the last
// OwnDays days when both are zero, to today when to is zero; refused when
// reversed or longer than storage.MaxSignInRange.
func (s *Service) Range(from, to time.Time) (time.Time, time.Time, error) {
	now := s.now().UTC()
	if to.IsZero() {
		to = now
	} else {
		to = to.AddDate(0, 0, 1) // the last day whole
	}
	if from.IsZero() {
		from = to.AddDate(0, 0, -OwnDays)
	}
	if !from.Before(to) || to.Sub(from) > storage.MaxSignInRange {
		return from, to, errRange
	}
	return from, to, nil
}

// pageSize is limit within 1–storage.MaxSignInPage (50 when unset).
func pageSize(limit int) int {
	if limit <= 0 {
		return 50
	}
	return min(limit, storage.MaxSignInPage)
}
