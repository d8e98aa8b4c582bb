package signin

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"time"

	"github.com/zitadel/oidc/v3/pkg/oidc"

	"github.com/entity-account/idp/login/edge"
	"github.com/entity-account/idp/login/kit"
	idpop "github.com/entity-account/idp/op"
	"github.com/entity-account/idp/op/telemetry"
	"github.com/entity-account/idp/storage"
)

// requestFlow is what every way of signing in for an e-service shares: the
// authorization request that waits for the sign-in, and its end — the
// rule book's answer for the e-service, the callback, or the refusal the
// client must learn.
type requestFlow struct {
	k    *kit.Kit
	cfg  Config
	flow *idpop.Interaction
	// factors are the electronic identity tools of the second step and of
	// the passkey sign-in; nil: neither.
	factors Factors
	history *attempts // records how a sign-in ended
}

// postedRequest reads a sign-in form: parsed, its CSRF token this
// browser's for its auth request, the request still waiting for a sign-in.
// A request answered already goes on to the callback; then, as on every
// refusal, it returns nil (with the error to answer, if any).
func (h *requestFlow) postedRequest(w http.ResponseWriter, r *http.Request) (*storage.AuthRequest, error) {
	if err := kit.ParseForm(w, r); err != nil {
		return nil, errUnreadableForm
	}
	id := r.PostForm.Get("authRequestID")
	if !h.k.CSRFValid(r, id, r.PostForm.Get("csrf_token")) {
		return nil, errForged
	}
	ar, err := h.loadRequest(r, id)
	if err != nil {
		return nil, err
	}
	if ar.Done {
		http.Redirect(w, r, h.flow.CallbackURL(ar.ID), http.StatusFound)
		return nil, nil
	}
	return ar, nil
}

// loadRequest fetches the auth request; errExpired when there is none.
func (h *requestFlow) loadRequest(r *http.Request, id string) (*storage.AuthRequest, error) {
	if id == "" {
		return nil, errExpired
	}
	ar, err := h.k.State.AuthRequest(r.Context(), id)
	if errors.Is(err, storage.ErrNotFound) {
		return nil, errExpired
	}
	return ar, err
}

// finish completes the auth request for the staff login of the browser's
// session, after asking the rule book (storage.ServiceUseRefusal) whether
// it may use the client's e-service at the level the session reaches:
// refused, the person and the client are told; below the level the request
// needs, the second step; else it hands the browser to the library's
// callback, which issues the code. cur is the session and its account, as
// read in this request (checked then: it may sign in, and is a staff
// login), with, when they were read together just now, the account's access
// to the e-service (then the token exchange reuses them, see
// Interaction.RememberClaims); now says the password was given just now
// (the sign-in is counted).
func (h *requestFlow) finish(w http.ResponseWriter, r *http.Request, ar *storage.AuthRequest, cur *kit.Signed, now bool) error {
	ctx := r.Context()
	sess := cur.Session
	auth := sess.Authentication
	c, err := h.flow.Client(ctx, ar.ClientID)
	if err != nil {
		return err
	}
	access := cur.Access
	if access == nil {
		a, err := h.k.Dir.ServiceAccess(ctx, auth.LoginID, c.ServiceID)
		if err != nil {
			return err
		}
		access = &a
	}
	// The acr is the level the session really reached (for this request's
	// max_age), never only the level asked for.
	level, amr := sessionLevel(sess, ar, h.k.Now())
	switch storage.ServiceUseRefusal(cur.Principal, *access, level, ar.RequiredLevel) {
	case storage.ServiceAllowed:
	case storage.RefusedLevelTooLow:
		if now {
			h.history.record(r, ar.ClientID, cur.Principal, "", "", storage.SignInStepRequired, methodOf(sess.AMR))
		}
		h.needsMore(w, r, ar)
		return nil
	default:
		// Not enrolled, not assigned (and, were the account no longer
		// one that may use e-services, that too): the e-service does not
		// admit the login.
		if now {
			telemetry.SignIn(telemetry.SignInRefused)
			h.history.record(r, ar.ClientID, cur.Principal, "", "", storage.SignInRefusedByService, methodOf(sess.AMR))
		}
		if slices.Contains(ar.Prompt, oidc.PromptNone) {
			h.flow.Fail(edge.IssuerOnRedirect(w, h.cfg.Issuer), r, ar, oidc.ErrAccessDenied().WithDescription("the staff login is not assigned to this e-service"))
			return nil
		}
		h.noAccess(w, r, ar)
		return nil
	}
	auth.ACR, auth.AMR = level.ACR(), amr
	if err := h.k.State.CompleteAuthRequest(ctx, ar.ID, auth); err != nil && !errors.Is(err, storage.ErrConflict) {
		if errors.Is(err, storage.ErrNotFound) {
			return errExpired
		}
		return err
	}
	if cur.Access != nil && cur.Principal.Subject == auth.Subject {
		// Read moments ago: the token exchange's claims need not read them again.
		h.flow.RememberClaims(cur.Principal, c.ServiceID, *cur.Access)
	}
	if now {
		telemetry.SignIn(telemetry.SignInSuccess)
		h.history.record(r, ar.ClientID, cur.Principal, "", "", storage.SignInSucceeded, methodOf(sess.AMR))
	}
	http.Redirect(w, r, h.flow.CallbackURL(ar.ID), http.StatusFound)
	return nil
}

// sessionSatisfies is the SSO rule of OIDC Core §3.1.2.1: a staff session
// answers a request unless the RP forces a new sign-in (prompt=login), the
// sign-in is older than max_age, or id_token_hint names someone else.
func sessionSatisfies(sess *storage.Session, ar *storage.AuthRequest, now time.Time) bool {
	if sess.Kind != storage.KindStaff {
		return false
	}
	if slices.Contains(ar.Prompt, oidc.PromptLogin) {
		return false
	}
	if ar.MaxAge != nil && now.Sub(sess.AuthTime) > time.Duration(*ar.MaxAge)*time.Second {
		return false
	}
	if ar.HintSubject != "" && ar.HintSubject != sess.Subject {
		return false
	}
	return true
}

// needsMore answers a session below the level ar needs (the rule book's
// storage.RefusedLevelTooLow): the second step, or interaction_required
// when the client wants no page shown, or the refusal when this provider
// has no second step.
func (h *requestFlow) needsMore(w http.ResponseWriter, r *http.Request, ar *storage.AuthRequest) {
	switch {
	case slices.Contains(ar.Prompt, oidc.PromptNone):
		h.flow.Fail(edge.IssuerOnRedirect(w, h.cfg.Issuer), r, ar,
			oidc.ErrInteractionRequired().WithDescription("the sign-in session is below the assurance level this e-service needs"))
	case h.factors == nil:
		h.flow.Fail(edge.IssuerOnRedirect(w, h.cfg.Issuer), r, ar, idpop.LevelRefusal(ar, "this provider offers no second factor"))
	default:
		q := url.Values{"authRequestID": {ar.ID}}
		if l := h.k.Chosen(r); l != "" {
			// A language chosen on the sign-in page outranks ui_locales
			// on the second step too.
			q.Set("lang", l)
		}
		http.Redirect(w, r, h.k.BasePath+verifyPath+"?"+q.Encode(), http.StatusFound)
	}
}

// noAccess tells a person whose login the e-service does not admit (an
// assigned-only e-service, a login not assigned) why, in their language,
// and offers the way back: the e-service's redirect URI with access_denied
// (and its state and iss), as the e-service must learn the answer too.
func (h *requestFlow) noAccess(w http.ResponseWriter, r *http.Request, ar *storage.AuthRequest) {
	back := &redirectCatcher{header: http.Header{}}
	h.flow.Fail(edge.IssuerOnRedirect(back, h.cfg.Issuer), r, ar,
		oidc.ErrAccessDenied().WithDescription("the staff login is not assigned to this e-service"))
	lang := h.k.RequestLanguage(r, ar.UILocales)
	t := h.k.T(lang)
	page := kit.MessagePage{Common: h.k.Common(r, lang), Heading: t["no_access_heading"], Message: t["error_no_access"], IsError: true}
	if loc := back.header.Get("Location"); loc != "" {
		page.LinkURL, page.LinkText = loc, t["no_access_back"]
	}
	h.k.Render(w, http.StatusForbidden, "message.html", page)
}

// refusalURL is where the client learns that the sign-in did not reach
// the level ar needs: its redirect URI with the refusal (LevelRefusal),
// state and iss; "" when the library would not redirect.
func (h *requestFlow) refusalURL(r *http.Request, ar *storage.AuthRequest, why string) string {
	back := &redirectCatcher{header: http.Header{}}
	h.flow.Fail(edge.IssuerOnRedirect(back, h.cfg.Issuer), r, ar, idpop.LevelRefusal(ar, why))
	return back.header.Get("Location")
}

// serviceName is the e-service's name in lang (storage.Names.In picks the
// fallback when there is no translation; the client's own name if it has none).
func (h *requestFlow) serviceName(ctx context.Context, ar *storage.AuthRequest, lang string) string {
	c, err := h.flow.Client(ctx, ar.ClientID)
	if err != nil {
		return ""
	}
	if name := c.ServiceName.In(lang); name != "" {
		return name
	}
	return c.Name
}

// redirectCatcher keeps the headers of an answer that is not sent: where
// the library would redirect.
type redirectCatcher struct{ header http.Header }

func (c *redirectCatcher) Header() http.Header         { return c.header }
func (c *redirectCatcher) Write(p []byte) (int, error) { return len(p), nil }
func (c *redirectCatcher) WriteHeader(int)             {}
