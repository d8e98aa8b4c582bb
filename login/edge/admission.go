package edge

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/entity-account/idp/login/kit"
	"github.com/entity-account/idp/op/telemetry"
	"github.com/entity-account/idp/storage"
)

// Admission of authorization requests at /authorize (the bounds and their
// trade-offs: storage.AuthRequestLimits). The edge names the browser by an
// opaque cookie of ours, set on its first /authorize, and asks the store
// to admit the request before the protocol engine may store it; the
// engine then stores it under the admitted id. A request the engine
// refuses before storing it gives its place back.
//
// A person turned away is told so, in their language, with the real wait
// (and Retry-After): too many sign-ins from their network (429), or too
// many people signing in at all (503). It is never "the e-service's
// request is invalid": nothing is wrong with it.

// BrowserCookie names the browser for the per-browser limit. It is no
// secret and proves nothing: a random id of ours, so that a browser's open
// requests can be counted. A caller that drops it or makes up ids gains
// nothing over a browser without it: it is still under its address's rate
// and the budget.
const BrowserCookie = "idp_browser"

// browserCookieAge: long enough to outlive many sign-ins, short enough to
// track nobody for long; a browser whose cookie expired gets a new id.
const browserCookieAge = 30 * 24 * time.Hour

type admissionTicket struct {
	ctx    context.Context
	id     string
	ticket *storage.AdmissionTicket
}

// admit admits the authorization request r or answers the refusal. It
// returns ok false when it answered; a nil ticket when the request goes on
// unadmitted (Redis failed: the engine cannot store it either, and says so).
func (h *Handler) admit(w http.ResponseWriter, r *http.Request, l storage.AuthRequestLimits) (*admissionTicket, bool) {
	browser := h.browserID(w, r)
	res, err := h.k.State.AdmitAuthRequest(r.Context(), storage.Admission{
		Address: storage.AddressKey(h.k.ClientIP(r)), Browser: browser,
	}, l)
	if err != nil && res.ID == "" {
		// This guards Redis' memory, not a secret: with Redis unreachable
		// nothing can be stored anyway, and the engine tells the client to
		// try again (temporarily_unavailable).
		slog.WarnContext(r.Context(), "authorization request admission unchecked", "err", err)
		return nil, true
	}
	if err != nil {
		slog.WarnContext(r.Context(), "authorization request admitted; a dropped request was not deleted (it expires)", "err", err)
	}
	if res.DroppedByBrowser > 0 {
		telemetry.AuthRequestsDropped(telemetry.DroppedByBrowser, res.DroppedByBrowser)
	}
	if res.DroppedByBudget > 0 {
		telemetry.AuthRequestsDropped(telemetry.DroppedByBudget, res.DroppedByBudget)
		slog.InfoContext(r.Context(), "authorization request budget full: the oldest open requests made room", "dropped", res.DroppedByBudget)
	}
	if res.Refused != "" {
		h.refuseAdmission(w, r, res)
		return nil, false
	}
	ctx, t := storage.WithAdmission(r.Context(), res.ID)
	return &admissionTicket{ctx: ctx, id: res.ID, ticket: t}, true
}

// releaseIfUnused gives the admitted place back when the engine stored no
// request under it (it refused the request first).
func (t *admissionTicket) releaseIfUnused(ctx context.Context, state storage.Admissions) {
	if !t.ticket.Unused() {
		return
	}
	if err := state.ReleaseAuthRequest(context.WithoutCancel(ctx), t.id); err != nil {
		slog.WarnContext(ctx, "give back an admitted authorization request", "err", err)
	}
}

// browserID returns the browser's id from our cookie, "" when it sent none
// (or none of ours); then it sets a new one, for its next request.
func (h *Handler) browserID(w http.ResponseWriter, r *http.Request) string {
	if c, err := r.Cookie(BrowserCookie); err == nil && storage.ValidBrowserID(c.Value) {
		return c.Value
	}
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		return ""
	}
	http.SetCookie(w, &http.Cookie{
		Name: BrowserCookie, Value: base64.RawURLEncoding.EncodeToString(b), Path: h.k.CookiePath(),
		MaxAge: int(browserCookieAge / time.Second), HttpOnly: true, Secure: h.k.SecureCookies, SameSite: http.SameSiteLaxMode,
	})
	return ""
}

// refuseAdmission answers a refused admission: a page in the person's
// language with the wait in seconds, the same number as Retry-After.
func (h *Handler) refuseAdmission(w http.ResponseWriter, r *http.Request, res storage.Admitted) {
	secs := int((res.Wait + time.Second - 1) / time.Second)
	if secs < 1 {
		secs = 1
	}
	status, key := http.StatusTooManyRequests, "error_authorize_address"
	switch res.Refused {
	case storage.RefusedBrowser:
		key = "error_authorize_browser"
	case storage.RefusedBudget:
		status, key = http.StatusServiceUnavailable, "error_authorize_busy"
	}
	telemetry.AuthorizeRefused(res.Refused)
	slog.InfoContext(r.Context(), "authorization request refused at admission", "reason", res.Refused,
		"address", storage.AddressKey(h.k.ClientIP(r)), "retry_after_s", secs)
	w.Header().Set("Retry-After", strconv.Itoa(secs))
	lang := h.k.RequestLanguage(r, uiLocales(r))
	t := h.k.T(lang)
	h.k.Render(w, status, "message.html", kit.MessagePage{
		Common: h.k.Common(r, lang), Heading: t["error_authorize_heading"],
		Message: fmt.Sprintf(t[key], secs), IsError: true,
	})
}
