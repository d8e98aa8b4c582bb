package kit

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/entity-account/idp/storage"
	"github.com/entity-account/idp/templates"
)

// The one error writer of the pages. A page returns what it does not answer
// itself (a store's failure, a use case's refusal, a request it refuses
// with a page of its own), and Error chooses the answer from the error's
// code alone (storage.CodeOf), so that a new page cannot answer an outage
// as a bad request or log a visitor's mistake as ours.

// Page is a page handler that returns the failures it does not answer
// itself.
type Page func(w http.ResponseWriter, r *http.Request) error

// Serve adapts p to http.Handler; what p returns goes to Error with the
// look of p's surface.
func (k *Kit) Serve(look ErrorPages, p Page) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := p(w, r); err != nil {
			k.Error(w, r, look, err)
		}
	})
}

// ErrorPages is how a surface's error pages look, in catalogue keys.
type ErrorPages struct {
	Heading string // heading of its error pages
	// InvalidHeading and Invalid are the heading and the message for a
	// value a store refused (EInvalid) when the error brings no message of
	// its own; "" means Heading and Failed.
	InvalidHeading, Invalid string
	Failed                  string // message of any other failure that brings none
	// LinksTo is the path (under the issuer) the page's language links
	// lead to; "" reloads the request's own address.
	LinksTo string
	// Frame, when set, may draw a refusal itself, inside the surface's own
	// page (the portal keeps its navigation around one); it reports
	// whether it did. Failures of ours (5xx) never reach it: the stores a
	// frame would read may be the ones failing.
	Frame func(w http.ResponseWriter, r *http.Request, ref Refused) bool
}

// Refused is a refused request as its error page says it: the status, and
// catalogue keys of the heading, the message and the way on (Link, a path
// under the issuer, "" for none, and its text).
type Refused struct {
	Status                           int
	Heading, Message, Link, LinkText string
}

// SignInErrors is the look of the sign-in's error pages, which the portal
// and the protocol's outage page share.
var SignInErrors = ErrorPages{
	Heading: "error_heading", InvalidHeading: "error_request_heading", Invalid: "error_request_invalid", Failed: "error_internal",
}

// statusOf is the HTTP status of each error code: the one table of every
// surface that answers over HTTP (the pages' Error, the department API's
// JSON errors, the sign-in's step-up). It lives here, not beside the codes
// in storage, because HTTP is the surfaces' business: the domain package
// does not import net/http, and the idp command answers the same codes
// without a status.
var statusOf = map[storage.ErrorCode]int{
	storage.EInvalid:     http.StatusBadRequest,
	storage.ENotFound:    http.StatusNotFound,
	storage.EConflict:    http.StatusConflict,
	storage.EForbidden:   http.StatusForbidden,
	storage.EUnavailable: http.StatusServiceUnavailable,
	storage.EInternal:    http.StatusInternalServerError,
	// A form's ordinary refusals (see storage.EUnauthenticated).
	storage.EUnauthenticated: http.StatusUnauthorized,
	storage.ETooMany:         http.StatusTooManyRequests,
	storage.EBusy:            http.StatusServiceUnavailable,
	storage.EGone:            http.StatusGone,
}

// StatusOf is the HTTP status of an error code (500 for one it does not know).
func StatusOf(code storage.ErrorCode) int {
	if s, ok := statusOf[code]; ok {
		return s
	}
	return http.StatusInternalServerError
}

// unavailableWait is the Retry-After of a store that cannot serve: long
// enough for a failover, short enough that a person retries.
const unavailableWait = 5 * time.Second

// Error answers err, a failure a page did not answer itself. The status is
// that of its code (storage.CodeOf): EInvalid 400, ENotFound 404, EConflict
// 409, EForbidden 403, EUnavailable 503 with Retry-After, a form's
// ordinary refusals EUnauthenticated 401, ETooMany 429 and EBusy 503 (with
// Retry-After of the error's Wait), anything else 500. Only EUnavailable and EInternal are logged at ERROR: they need an
// operator; the rest is a visitor's doing, logged at INFO.
//
// The message is the error's own (the catalogue key of a *storage.Error or
// a Failure) when it has one and the failure is not ours; then, if the page
// attached its form (InForm), the form is shown again with it. Otherwise
// the message page says what look says for the code; the details of a
// failure of ours are logged, never shown.
func (k *Kit) Error(w http.ResponseWriter, r *http.Request, look ErrorPages, err error) {
	code := storage.CodeOf(err)
	status, ok := statusOf[code]
	if !ok {
		code, status = storage.EInternal, http.StatusInternalServerError
	}
	ours := code == storage.EUnavailable || code == storage.EInternal
	if ours {
		slog.ErrorContext(r.Context(), "page failed", "path", r.URL.Path, "code", code, "err", err)
	} else {
		slog.InfoContext(r.Context(), "page refused", "path", r.URL.Path, "code", code, "err", err)
	}
	if code == storage.EUnavailable {
		RetryAfter(w, unavailableWait)
	}
	if e := (*storage.Error)(nil); errors.As(err, &e) && e.Wait > 0 && !ours {
		RetryAfter(w, e.Wait) // a limit's or a busy hasher's: when to try again
	}

	own := ""
	if e := (*storage.Error)(nil); !ours && errors.As(err, &e) && k.T(templates.Languages[0])[e.Key] != "" {
		own = e.Key
	}
	if f := (*inForm)(nil); own != "" && errors.As(err, &f) {
		f.render(status, own)
		return
	}
	heading, message := look.Heading, own
	switch {
	case own != "":
	case code == storage.EInvalid && look.Invalid != "":
		message = look.Invalid
		if look.InvalidHeading != "" {
			heading = look.InvalidHeading
		}
	default:
		message = look.Failed
	}
	f := &Failure{}
	if errors.As(err, &f) && f.heading != "" {
		heading = f.heading
	}
	if look.Frame != nil && !ours && look.Frame(w, r, Refused{Status: status, Heading: heading, Message: message, Link: f.link, LinkText: f.linkText}) {
		return
	}
	k.messagePage(w, r, look, status, heading, message, f.link, f.linkText)
}

// Unavailable shows look's "try again shortly" page (503 + Retry-After),
// for a failure already logged.
func (k *Kit) Unavailable(w http.ResponseWriter, r *http.Request, look ErrorPages) {
	RetryAfter(w, unavailableWait)
	k.messagePage(w, r, look, http.StatusServiceUnavailable, look.Heading, look.Failed, "", "")
}

// messagePage shows an error page of look: catalogue keys of heading,
// message and link text; link is a path under the issuer.
func (k *Kit) messagePage(w http.ResponseWriter, r *http.Request, look ErrorPages, status int, heading, message, link, linkText string) {
	lang := k.Language(r)
	t := k.T(lang)
	page := MessagePage{Heading: t[heading], Message: t[message], IsError: true}
	if look.LinksTo != "" {
		page.Common = k.CommonAt(r, lang, k.BasePath+look.LinksTo)
	} else {
		page.Common = k.Common(r, lang)
	}
	if link != "" {
		page.LinkURL, page.LinkText = k.BasePath+link, t[linkText]
	}
	k.Render(w, status, "message.html", page)
}

// Failure is a request a page refuses with a message of its own: a code
// (which sets the status) and the catalogue key of the message, optionally
// its own heading and a link onwards.
type Failure struct {
	err            *storage.Error
	heading        string
	link, linkText string
}

// Fail returns the failure of code whose message is the catalogue text of key.
func Fail(code storage.ErrorCode, key string) *Failure {
	return &Failure{err: &storage.Error{Code: code, Key: key, Message: "refused: " + key}}
}

// FailWait is Fail for a refusal that ends by itself (storage.ETooMany,
// storage.EBusy): the error writer sends Retry-After wait with it.
func FailWait(code storage.ErrorCode, key string, wait time.Duration) *Failure {
	f := Fail(code, key)
	f.err.Wait = wait
	return f
}

// FailBusy is the refusal for password.ErrBusy (no hashing slot in time),
// as Busy says it: 503, Retry-After, error_busy.
func FailBusy() *Failure { return FailWait(storage.EBusy, Busy.Key, Busy.Wait) }

// Say is the text in t of key, the message the error writer chose for err
// (see InForm): a limit's (storage.ETooMany) takes the minutes to wait, as
// Refusal.Message words it.
func Say(t map[string]string, key string, err error) string {
	var e *storage.Error
	if errors.As(err, &e) && e.Code == storage.ETooMany {
		return fmt.Sprintf(t[key], int(e.Wait.Minutes())+1)
	}
	return t[key]
}

// WithHeading returns f with the heading of catalogue key instead of the surface's.
func (f *Failure) WithHeading(key string) *Failure {
	c := *f
	c.heading = key
	return &c
}

// WithLink returns f with a link to path (under the issuer) whose text is
// the catalogue text of textKey.
func (f *Failure) WithLink(path, textKey string) *Failure {
	c := *f
	c.link, c.linkText = path, textKey
	return &c
}

// Key is the catalogue key of f's message.
func (f *Failure) Key() string { return f.err.Key }

func (f *Failure) Error() string { return f.err.Error() }
func (f *Failure) Unwrap() error { return f.err }

// InForm attaches the submitted form to err: when err brings a message of
// its own, Error shows the form again with it, by render(status, key),
// where key is the message's catalogue key (render picks the language: the
// portal's is the account's own).
func InForm(err error, render func(status int, key string)) error {
	return &inForm{err: err, render: render}
}

type inForm struct {
	err    error
	render func(status int, key string)
}

func (e *inForm) Error() string { return e.err.Error() }
func (e *inForm) Unwrap() error { return e.err }
