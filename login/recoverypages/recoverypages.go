// Package recoverypages serves the ways back into an account by its
// registered phone, beside 「重發啟動碼」 under 「需要幫忙」:
//
//	{base}/activate/forgot-password  「忘記密碼」: entity number, username and the registration facts → a reset code to the registered mobile
//	{base}/activate/forgot-username  「忘記用戶名稱」: entity number and the registration facts → the username to the registered mobile
//	{base}/activate/reset            「已收到重設碼」: entity number, username, reset code
//	{base}/activate/reset/complete   the new password twice (and the login's identity tool, if it has one)
//
// A request is answered the same, after the same time, whether or not
// anything matched, and is counted (per facts and per address) before
// anything is looked up. The reset takes two steps as activation does: a
// mistake in the new password costs no try of the code. The use cases are
// login/recovery's.
package recoverypages

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/gorilla/mux"

	"github.com/entity-account/idp/login/kit"
	"github.com/entity-account/idp/login/recovery"
)

// Paths of the recovery pages, under the issuer's path.
const (
	helpPath           = "/activate"
	ForgotPasswordPath = "/activate/forgot-password"
	ForgotUsernamePath = "/activate/forgot-username"
	ResetPath          = "/activate/reset"
	resetCompletePath  = "/activate/reset/complete"
)

// TicketStore keeps the short-lived ticket between the two steps of a reset (storage/redis).
type TicketStore = kit.TicketStore

// Config holds the settings of the recovery pages.
type Config struct {
	Service   *recovery.Service
	Tickets   TicketStore
	TicketTTL time.Duration // time to type the new password after the code (default 15m)
	// Requests (忘記密碼, 忘記用戶名稱) are counted per (entity, facts) and
	// per client IP in RequestWindow, matched or not (the resend limits).
	RequestsPerFacts int
	RequestsPerIP    int
	RequestWindow    time.Duration
	// Failed code checks are counted per client IP and per entity number
	// in FailureWindow (the activation's limits).
	FailuresPerIP     int
	FailuresPerEntity int
	FailureWindow     time.Duration
	// MinDuration pads every request's and code check's answer to at least
	// this long, so that a match cannot be told by timing. Default 300ms.
	MinDuration time.Duration
}

// Handler serves the recovery pages.
type Handler struct {
	k      *kit.Kit
	cfg    Config
	ticket kit.FormTicket // the code's check → the new password
}

// New returns the recovery pages over k.
func New(k *kit.Kit, c Config) (*Handler, error) {
	if c.Service == nil || c.Tickets == nil {
		return nil, errors.New("login: recovery needs its service and ticket store")
	}
	if c.RequestsPerFacts < 1 || c.RequestsPerIP < 1 || c.FailuresPerIP < 1 || c.FailuresPerEntity < 1 ||
		c.RequestWindow <= 0 || c.FailureWindow <= 0 {
		return nil, errors.New("login: recovery needs its limits")
	}
	if c.TicketTTL <= 0 {
		c.TicketTTL = 15 * time.Minute
	}
	if c.MinDuration <= 0 {
		c.MinDuration = 300 * time.Millisecond
	}
	ticket := kit.FormTicket{Store: c.Tickets, Purpose: "reset", TTL: c.TicketTTL, Gone: errTicketGone}
	return &Handler{k: k, cfg: c, ticket: ticket}, nil
}

// errorPages is the look of the recovery pages' failures: the activation
// pages' (whose 「需要幫忙」 they belong to).
var errorPages = kit.ErrorPages{Heading: "activate_error_heading", Failed: "error_internal", LinksTo: helpPath}

// Mount registers the recovery pages.
func (h *Handler) Mount(r *mux.Router) {
	get := []string{http.MethodGet, http.MethodHead}
	post := func(p kit.Page) http.Handler { return kit.SameOrigin(h.k.Serve(errorPages, p)) }
	r.HandleFunc(ForgotPasswordPath, h.showRequest(forgotPassword)).Methods(get...)
	r.Handle(ForgotPasswordPath, post(h.submitRequest(forgotPassword))).Methods(http.MethodPost)
	r.HandleFunc(ForgotUsernamePath, h.showRequest(forgotUsername)).Methods(get...)
	r.Handle(ForgotUsernamePath, post(h.submitRequest(forgotUsername))).Methods(http.MethodPost)
	r.HandleFunc(ResetPath, h.showCode).Methods(get...)
	r.Handle(ResetPath, post(h.submitCode)).Methods(http.MethodPost)
	r.Handle(resetCompletePath, post(h.submitNew)).Methods(http.MethodPost)
}

// common is kit.Common with language links to the GET of page.
func (h *Handler) common(r *http.Request, page string) kit.Common {
	return h.k.CommonAt(r, h.k.Language(r), h.k.BasePath+page)
}

// done shows a page that says what happened, with a link onwards.
func (h *Handler) done(w http.ResponseWriter, r *http.Request, page, heading, message, linkPath, linkText string) {
	h.k.Render(w, http.StatusOK, "message.html", kit.MessagePage{
		Common:  h.common(r, page),
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
