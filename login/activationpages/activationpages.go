// Package activationpages serves the pages where an account is activated
// with the code it was sent, and where a new code is asked for:
//
//	{base}/activate           「需要幫忙」: links to the three pages below
//	{base}/activate/entity    entity account: application number + code + entity number
//	{base}/activate/staff     staff login (admin or not): entity number + code + ID document number
//	{base}/activate/complete  step 2 of both: choose username and password (twice)
//	{base}/activate/resend    「重發啟動碼」: registration facts → new code to the registered mobile
//
// Activation takes two steps so that a mistake in the username or password
// does not cost a try of the code: step 1 checks the code and hands the
// browser a short-lived ticket (random, stored in Redis only as its hash,
// bound to the browser by the CSRF token); step 2 spends the ticket and the
// code in one transaction. The codes themselves are the use cases of
// login/activation.
package activationpages

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/gorilla/mux"

	"github.com/entity-account/idp/login/activation"
	"github.com/entity-account/idp/login/kit"
	"github.com/entity-account/idp/login/password"
	"github.com/entity-account/idp/storage"
)

// Paths of the activation pages, under the issuer's path.
const (
	activatePath         = "/activate"
	activateEntityPath   = "/activate/entity"
	activateStaffPath    = "/activate/staff"
	activateCompletePath = "/activate/complete"
	resendPath           = "/activate/resend"
)

// TicketStore keeps short-lived tickets (storage/redis).
type TicketStore = kit.TicketStore

// Config holds the settings of the activation pages.
type Config struct {
	Service   *activation.Service
	Tickets   TicketStore
	TicketTTL time.Duration // time to choose username and password after step 1 (default 20m)
	// Failed step-1 attempts are counted per client IP and per entity number
	// in FailureWindow; over either limit the page refuses (429).
	FailuresPerIP     int
	FailuresPerEntity int
	FailureWindow     time.Duration
	// Resend requests are counted per (entity, facts) and per client IP in
	// ResendWindow, matched or not.
	ResendPerFacts int
	ResendPerIP    int
	ResendWindow   time.Duration
	// ResendMinDuration pads every resend answer to at least this long, so
	// that a match (which writes a code) cannot be told by timing. Default 300ms.
	ResendMinDuration time.Duration
	// VerifyMinDuration pads every checked step-1 answer to at least this
	// long, so that matching registration facts (which read and count
	// against the account's codes) cannot be told by timing. Default 300ms.
	VerifyMinDuration time.Duration
}

// Handler serves the activation and resend pages.
type Handler struct {
	k      *kit.Kit
	cfg    Config
	hasher *password.Hasher
	ticket kit.FormTicket // step 1 → step 2
}

// New returns the activation pages over k.
func New(k *kit.Kit, c Config, hasher *password.Hasher) (*Handler, error) {
	if c.Service == nil || c.Tickets == nil {
		return nil, errors.New("login: activation needs its service and ticket store")
	}
	if c.TicketTTL <= 0 {
		c.TicketTTL = 20 * time.Minute
	}
	if c.ResendMinDuration <= 0 {
		c.ResendMinDuration = 300 * time.Millisecond
	}
	if c.VerifyMinDuration <= 0 {
		c.VerifyMinDuration = 300 * time.Millisecond
	}
	ticket := kit.FormTicket{Store: c.Tickets, Purpose: "activate", TTL: c.TicketTTL, Gone: errTicketGone}
	return &Handler{k: k, cfg: c, hasher: hasher, ticket: ticket}, nil
}

// errorPages is the look of the activation pages' failures: whatever went
// wrong, the person is told to try again, with language links that lead
// back to the start of activation.
var errorPages = kit.ErrorPages{Heading: "activate_error_heading", Failed: "error_internal", LinksTo: activatePath}

// Mount registers the activation and resend-code pages.
func (h *Handler) Mount(r *mux.Router) {
	get := []string{http.MethodGet, http.MethodHead}
	post := func(p kit.Page) http.Handler { return kit.SameOrigin(h.k.Serve(errorPages, p)) }
	r.HandleFunc(activatePath, h.showIndex).Methods(get...)
	r.HandleFunc(activateEntityPath, h.showActivate(storage.KindEntityAccount)).Methods(get...)
	r.Handle(activateEntityPath, post(h.submitActivate(storage.KindEntityAccount))).Methods(http.MethodPost)
	r.HandleFunc(activateStaffPath, h.showActivate(storage.KindStaff)).Methods(get...)
	r.Handle(activateStaffPath, post(h.submitActivate(storage.KindStaff))).Methods(http.MethodPost)
	r.Handle(activateCompletePath, post(h.submitComplete)).Methods(http.MethodPost)
	r.HandleFunc(resendPath, h.showResend).Methods(get...)
	r.Handle(resendPath, post(h.submitResend)).Methods(http.MethodPost)
}

// common is kit.Common with language links to the GET of page (also after
// a POST, whose own URL may not take a GET).
func (h *Handler) common(r *http.Request, lang, page string) kit.Common {
	return h.k.CommonAt(r, lang, h.k.BasePath+page)
}

// done shows a page that says it worked, with a link onwards (a path under
// the issuer).
func (h *Handler) done(w http.ResponseWriter, r *http.Request, heading, message, linkPath, linkText string) {
	h.k.Render(w, http.StatusOK, "message.html", kit.MessagePage{
		Common:  h.common(r, h.k.Language(r), activatePath),
		Heading: heading, Message: message, LinkURL: h.k.BasePath + linkPath, LinkText: linkText,
	})
}

// padAnswer waits until at least d has passed since start (or the request ends).
func padAnswer(ctx context.Context, start time.Time, d time.Duration) {
	if wait := d - time.Since(start); wait > 0 {
		select {
		case <-time.After(wait):
		case <-ctx.Done():
		}
	}
}
