package storage

import (
	"errors"
	"fmt"
	"time"
)

// ErrorCode is what kind of failure an error is, for whoever must answer
// it: a page, the department API, a protocol endpoint, the idp command.
type ErrorCode string

const (
	EInvalid     ErrorCode = "invalid"     // the request is wrong: a field, a value
	ENotFound    ErrorCode = "not_found"   // no such thing (or not one the actor may see)
	EConflict    ErrorCode = "conflict"    // the state does not allow it now (taken, already done)
	EForbidden   ErrorCode = "forbidden"   // the actor may not do this
	EUnavailable ErrorCode = "unavailable" // a store cannot serve now: try again shortly
	EInternal    ErrorCode = "internal"    // a fault of ours
	// The refusals of a form that a person meets in the ordinary course:
	// a wrong password, too many tries, no hashing slot free this moment.
	EUnauthenticated ErrorCode = "unauthenticated" // the credentials given are not the account's
	ETooMany         ErrorCode = "too_many"        // over a limit that resets: try again after Wait
	EBusy            ErrorCode = "busy"            // no capacity this moment: try again after Wait
	// A one-time code that existed but is spent for good (expired, locked
	// after too many tries, replaced by a newer one): a new one must be sent.
	EGone ErrorCode = "gone"
)

// ErrForbidden: the rule book refuses the action to its actor.
var ErrForbidden = errors.New("forbidden")

// Error is a domain error with a code, a message fit for a person (English;
// the surfaces translate by Key when they can) and, for an invalid value,
// the field it concerns.
type Error struct {
	Code    ErrorCode
	Key     string // catalogue key of the message ("" when none fits)
	Field   string // the form field at fault, for EInvalid
	Message string
	Err     error // the cause, if any
	// Wait is, for ETooMany and EBusy, how long until a try may succeed
	// (a page's Retry-After).
	Wait time.Duration
}

func (e *Error) Error() string {
	if e.Err != nil {
		return e.Message + ": " + e.Err.Error()
	}
	return e.Message
}

func (e *Error) Unwrap() error { return e.Err }

// Errorf returns an *Error of code with a formatted message.
func Errorf(code ErrorCode, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// WithKey sets the catalogue key of the message.
func (e *Error) WithKey(key string) *Error { e.Key = key; return e }

// WithField names the form field at fault.
func (e *Error) WithField(field string) *Error { e.Field = field; return e }

// CodeOf tells what kind of failure err is: the code of an *Error in its
// chain, else that of a store sentinel, else EInternal.
func CodeOf(err error) ErrorCode {
	var e *Error
	switch {
	case err == nil:
		return ""
	case errors.As(err, &e):
		return e.Code
	case errors.Is(err, ErrUnavailable):
		return EUnavailable
	case errors.Is(err, ErrInvalid):
		return EInvalid
	case errors.Is(err, ErrForbidden):
		return EForbidden
	case errors.Is(err, ErrNotFound):
		return ENotFound
	case errors.Is(err, ErrAlreadyExists), errors.Is(err, ErrConflict):
		return EConflict
	}
	return EInternal
}

// MessageOf is the message of err fit for a person: an *Error's own, a
// plain sentence for the sentinels, and nothing of an internal fault.
func MessageOf(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Message
	}
	switch CodeOf(err) {
	case EUnavailable:
		return "The service cannot handle the request right now. Try again shortly."
	case EInvalid:
		return "A value was not accepted."
	case EForbidden:
		return "You may not do this."
	case ENotFound:
		return "Not found."
	case EConflict:
		return "This cannot be done in the current state."
	}
	return "Internal error."
}
