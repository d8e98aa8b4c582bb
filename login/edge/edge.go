// Package edge is what stands between the world and the protocol engine:
// bounds on what an anonymous caller can make us read, store or compute,
// refusal of bytes no store accepts, exact OAuth answers where the library
// is loose, iss on authorization responses, and our page instead of the
// library's bare text when a browser's protocol request is refused.
package edge

import (
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"strings"

	"github.com/entity-account/idp/login/kit"
	"github.com/entity-account/idp/op"
	"github.com/entity-account/idp/storage"
)

// The edge of the protocol endpoints: what every request to the protocol
// engine passes before the library sees it. It bounds what an anonymous
// caller can make us read, store or compute, refuses bytes no store accepts
// as a bad request (never as an outage), and makes the answers exact where
// the library is not: no caching of token answers (RFC 6749 §5.1),
// WWW-Authenticate on userinfo (RFC 6750 §3), iss in authorization
// responses (RFC 9207), a client that names itself at the endpoints that
// need one.

// Endpoints are the library's endpoint paths, relative to the issuer.
type Endpoints struct {
	Authorize, EndSession, Token, Introspect, Revoke, Userinfo string
}

// Limits are the bounds the edge enforces.
type Limits struct {
	// AuthRequests bound the authorization requests anyone can make us
	// store (admission.go); a zero Budget turns admission off.
	AuthRequests storage.AuthRequestLimits
}

const (
	// maxAuthorizeRequest bounds a whole authorization request (query and
	// body): it is stored for the life of the auth request.
	maxAuthorizeRequest = 8 << 10
	// maxProtocolBody bounds the body of every other protocol request.
	maxProtocolBody = 64 << 10
)

// codeVerifierPattern is RFC 7636 §4.1: 43 to 128 unreserved characters.
var codeVerifierPattern = regexp.MustCompile(`^[A-Za-z0-9._~-]{43,128}$`)

// Handler wraps the protocol engine.
type Handler struct {
	k      *kit.Kit
	issuer string // the issuer URL (iss of authorization responses, RFC 9207)
}

// New returns the edge of the protocol engine of issuer.
func New(k *kit.Kit, issuer string) *Handler { return &Handler{k: k, issuer: issuer} }

// Protocol wraps the protocol engine (mounted below the issuer's path,
// so paths are the library's relative ones).
func (h *Handler) Protocol(next http.Handler, ep Endpoints, limits Limits) http.Handler {
	return &protocolEdge{
		h: h, next: next, ep: ep, limits: limits,
		browser:    []string{ep.Authorize, ep.EndSession},
		clientAuth: map[string]bool{ep.Token: true, ep.Introspect: true, ep.Revoke: true},
		noStore:    map[string]bool{ep.Token: true, ep.Introspect: true, ep.Revoke: true, ep.Userinfo: true},
	}
}

// protocolEdge is the edge of one protocol engine.
type protocolEdge struct {
	h      *Handler
	next   http.Handler // the protocol engine
	ep     Endpoints
	limits Limits
	// browser are the endpoints a browser is sent to: their refusals are
	// our page, not a JSON error object.
	browser []string
	// clientAuth are the endpoints where a client authenticates.
	clientAuth map[string]bool
	// noStore are the endpoints whose answers hold tokens or claims
	// (RFC 6749 §5.1): never cached.
	noStore map[string]bool
}

// ServeHTTP takes a request through the edge in order: the answer is made
// uncacheable where it must be; the request is read within its bounds;
// its parameters and the client's credentials are checked; an
// authorization request is admitted (or waits); then the engine answers,
// through a writer that makes its answer exact.
func (e *protocolEdge) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if e.noStore[r.URL.Path] {
		w.Header().Set("Cache-Control", "no-store")
		w.Header().Set("Pragma", "no-cache")
	}
	if f := e.read(w, r); f != nil {
		e.refuse(w, r, f)
		return
	}
	if f := e.check(r); f != nil {
		e.refuse(w, r, f)
		return
	}
	if r.URL.Path == e.ep.Authorize && e.limits.AuthRequests.Budget > 0 {
		ticket, ok := e.h.admit(w, r, e.limits.AuthRequests)
		if !ok {
			return // admit answered
		}
		if ticket != nil {
			r = r.WithContext(ticket.ctx)
			defer ticket.releaseIfUnused(r.Context(), e.h.k.State)
		}
	}
	e.next.ServeHTTP(e.exact(w, r), r)
}

// read bounds the request (an authorization request is stored for the life
// of the auth request, so it gets less room) and parses its form, once: the
// library's own ParseForm then finds it done.
func (e *protocolEdge) read(w http.ResponseWriter, r *http.Request) *refusal {
	authorize := r.URL.Path == e.ep.Authorize
	limit := int64(maxProtocolBody)
	if authorize {
		limit = maxAuthorizeRequest
		if len(r.URL.RawQuery) > maxAuthorizeRequest {
			return invalidRequest("the authorization request is larger than 8 KiB")
		}
	}
	if r.Body != nil {
		r.Body = http.MaxBytesReader(w, r.Body, limit)
	}
	if err := r.ParseForm(); err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return &refusal{status: http.StatusRequestEntityTooLarge, code: "invalid_request", description: "the request body is too large"}
		}
		return invalidRequest("the request cannot be parsed")
	}
	if authorize && len(r.URL.RawQuery)+formSize(r.PostForm) > maxAuthorizeRequest {
		return invalidRequest("the authorization request is larger than 8 KiB")
	}
	return nil
}

// check refuses a parsed request the library should not see: bytes no
// store accepts, an authorization request without client_id (the library
// would call that a server error), parameters the protocol forbids
// (checkParameters), and a client that does not name itself where it must
// authenticate (checkClientAuth).
func (e *protocolEdge) check(r *http.Request) *refusal {
	path := r.URL.Path
	if name, ok := cleanForm(r.Form); !ok {
		if e.clientAuth[path] && name == "client_id" {
			return &refusal{status: http.StatusUnauthorized, code: "invalid_client", description: "client_id holds characters no client id has"}
		}
		return invalidRequest("parameter " + kit.Printable(name) + " holds control characters or invalid UTF-8")
	}
	if path == e.ep.Authorize && r.Form.Get("client_id") == "" {
		return invalidRequest("client_id is required")
	}
	if f := checkParameters(r, path, e.ep); f != nil {
		return f
	}
	if !e.clientAuth[path] {
		return nil
	}
	code, description := checkClientAuth(r, path == e.ep.Token, path != e.ep.Introspect)
	switch code {
	case "":
		return nil
	case "invalid_client":
		return &refusal{status: http.StatusUnauthorized, code: code, description: description, challenge: `Basic realm="token"`}
	default:
		return &refusal{status: http.StatusBadRequest, code: code, description: description}
	}
}

// refuse answers a request the edge refused, and logs why: with our page
// at the endpoints a browser visits, else with an OAuth error object.
func (e *protocolEdge) refuse(w http.ResponseWriter, r *http.Request, f *refusal) {
	slog.InfoContext(r.Context(), "protocol request refused at the edge", "path", r.URL.Path, "status", f.status, "error", f.code, "reason", f.description)
	if f.challenge != "" {
		w.Header().Set("WWW-Authenticate", f.challenge)
	}
	if op.UnderAnyPath(r.URL.Path, e.browser) {
		e.h.requestErrorPage(w, r, f.status, f.code+": "+f.description)
		return
	}
	writeOAuthError(w, f.status, f.code, f.description)
}

// exact wraps w so that the engine's answer at r's endpoint is what the
// RFCs say where the library's is not: an OAuth error object for a failed
// introspection client, a Basic challenge on 401 at the token and
// revocation endpoints, a Bearer challenge at userinfo, iss on
// authorization responses.
func (e *protocolEdge) exact(w http.ResponseWriter, r *http.Request) http.ResponseWriter {
	path := r.URL.Path
	switch {
	case path == e.ep.Introspect:
		return &introspectionRefusal{ResponseWriter: w}
	case e.clientAuth[path]:
		return &onHeader{ResponseWriter: w, hook: basicChallenge}
	case path == e.ep.Userinfo:
		return &onHeader{ResponseWriter: w, hook: bearerChallenge(bearerSent(r))}
	case op.UnderAnyPath(path, e.browser) || strings.HasPrefix(path, e.ep.Authorize+"/"):
		return IssuerOnRedirect(w, e.h.issuer)
	}
	return w
}

// cleanForm reports the first parameter whose name or value is not clean
// text (storage.CleanText): such bytes are a bad request, and must never
// reach a store, where they would fail as if the store were down.
func cleanForm(form url.Values) (string, bool) {
	for k, vs := range form {
		if !storage.CleanText(k, maxProtocolBody) {
			return k, false
		}
		for _, v := range vs {
			if !storage.CleanText(v, maxProtocolBody) {
				return k, false
			}
		}
	}
	return "", true
}

func formSize(form url.Values) int {
	n := 0
	for k, vs := range form {
		for _, v := range vs {
			n += len(k) + len(v) + 2
		}
	}
	return n
}

// checkClientAuth checks, at the token, introspection and revocation
// endpoints, that a client names itself before the library looks further:
// the HTTP Basic header, client_id in the body (with client_secret, or
// alone for a public client at the token and revocation endpoints), or a
// client_assertion (which names the client itself). Which method the
// client may use, and whether it holds, is the protocol engine's to check
// (op's client authentication). At the token endpoint it also checks the
// PKCE verifier's form (RFC 7636 §4.1), before the library spends the
// code. It returns an OAuth error code and description, or "" when the
// request may go on.
func checkClientAuth(r *http.Request, tokenEndpoint, publicClientsToo bool) (string, string) {
	id, _, basic := r.BasicAuth()
	if basic {
		if unescaped, err := url.QueryUnescape(id); err == nil {
			id = unescaped
		}
		if !storage.CleanText(id, 256) {
			return "invalid_client", "the client id holds characters no client id has"
		}
	}
	secretInBody := r.PostForm.Get("client_secret") != ""
	assertion := r.PostForm.Get("client_assertion") != ""
	namedInBody := r.PostForm.Get("client_id") != "" && (secretInBody || publicClientsToo)
	if !basic && !assertion && !namedInBody {
		return "invalid_client", "client authentication is required"
	}
	if tokenEndpoint {
		if v := r.PostForm.Get("code_verifier"); r.PostForm.Has("code_verifier") && !codeVerifierPattern.MatchString(v) {
			return "invalid_request", "code_verifier must be 43 to 128 characters of A-Z, a-z, 0-9, '-', '.', '_' and '~'"
		}
	}
	return "", ""
}

// writeOAuthError writes an OAuth error object (RFC 6749 §5.2).
func writeOAuthError(w http.ResponseWriter, status int, code, description string) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Pragma", "no-cache")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"error": code, "error_description": description})
}

// requestErrorPage is the page for a protocol request refused before it
// could be sent back to the e-service, with the reason as a technical detail
// for the e-service's developers.
func (h *Handler) requestErrorPage(w http.ResponseWriter, r *http.Request, status int, detail string) {
	lang := h.k.RequestLanguage(r, uiLocales(r))
	t := h.k.T(lang)
	h.k.Render(w, status, "message.html", kit.MessagePage{
		Common: h.k.Common(r, lang), Heading: t["error_request_heading"],
		Message: t["error_request_invalid"], Detail: detail, IsError: true,
	})
}

// uiLocales are the languages a protocol request asks its pages in (its
// ui_locales parameter, space-separated), as far as it could be read.
func uiLocales(r *http.Request) []string {
	form := r.Form
	if form == nil {
		form = r.URL.Query()
	}
	return strings.Fields(form.Get("ui_locales"))
}

// bearerSent reports whether the request carried a bearer token.
func bearerSent(r *http.Request) bool {
	auth := r.Header.Get("Authorization")
	return len(auth) > 7 && strings.EqualFold(auth[:7], "bearer ") || r.Form.Get("access_token") != ""
}

// onHeader is the one wrapper of the library's answers that only changes
// their status line and headers: hook runs once, just before the status is
// written (a Write without WriteHeader counts as 200), may change the
// headers, and returns the status to write. A second WriteHeader is
// dropped.
//
// Why a wrapper: the library writes these answers itself, and no error we
// return adds a header (WWW-Authenticate, iss on a redirect's Location);
// op.NewStatusError chooses a status only on the op.Server router
// (op.RegisterServer), which we do not use (see op.NewProvider).
type onHeader struct {
	http.ResponseWriter
	hook  func(h http.Header, status int) int
	wrote bool
}

func (o *onHeader) Unwrap() http.ResponseWriter { return o.ResponseWriter }

func (o *onHeader) WriteHeader(status int) {
	if o.wrote {
		return
	}
	o.wrote = true
	o.ResponseWriter.WriteHeader(o.hook(o.Header(), status))
}

func (o *onHeader) Write(p []byte) (int, error) {
	if !o.wrote {
		o.WriteHeader(http.StatusOK)
	}
	return o.ResponseWriter.Write(p)
}

// bearerChallenge makes userinfo's refusals what RFC 6750 §3 says: 401 with
// WWW-Authenticate: Bearer, and error="invalid_token" when a token was sent.
// The library answers a token it cannot use with 403 and no challenge.
func bearerChallenge(tokenSent bool) func(http.Header, int) int {
	return func(h http.Header, status int) int {
		if status != http.StatusUnauthorized && status != http.StatusForbidden {
			return status
		}
		challenge := `Bearer realm="userinfo"`
		if tokenSent {
			challenge += `, error="invalid_token", error_description="the access token is invalid, expired or revoked"`
		}
		h.Set("WWW-Authenticate", challenge)
		return http.StatusUnauthorized
	}
}

// basicChallenge adds the challenge RFC 6749 §5.2 requires to a 401
// invalid_client of the token and revocation endpoints, which the library
// leaves out. (Our own interceptor's refusals, op/clientauth.go, set it
// already; this covers the library's.)
func basicChallenge(h http.Header, status int) int {
	if status == http.StatusUnauthorized && h.Get("WWW-Authenticate") == "" {
		h.Set("WWW-Authenticate", `Basic realm="token"`)
	}
	return status
}

// introspectionRefusal turns the library's plain-text 401 for a client that
// failed to authenticate at introspection into the OAuth error object
// (RFC 7662 §2.3 refers to RFC 6749 §5.2) that clients parse.
//
// Why a wrapper: the library answers it with http.Error before calling
// anything of ours that could return an error of our choosing. Not an
// onHeader: it replaces the body too.
type introspectionRefusal struct {
	http.ResponseWriter
	wrote, replaced bool
}

func (i *introspectionRefusal) Unwrap() http.ResponseWriter { return i.ResponseWriter }

func (i *introspectionRefusal) WriteHeader(status int) {
	if i.wrote {
		return
	}
	i.wrote = true
	if status == http.StatusUnauthorized && !strings.HasPrefix(i.Header().Get("Content-Type"), "application/json") {
		i.replaced = true
		i.Header().Del("Content-Length")
		i.Header().Set("WWW-Authenticate", `Basic realm="introspection"`)
		writeOAuthError(i.ResponseWriter, status, "invalid_client", "client authentication failed")
		return
	}
	i.ResponseWriter.WriteHeader(status)
}

func (i *introspectionRefusal) Write(p []byte) (int, error) {
	if !i.wrote {
		i.WriteHeader(http.StatusOK)
	}
	if i.replaced {
		return len(p), nil
	}
	return i.ResponseWriter.Write(p)
}

// issuerOnRedirect adds iss (RFC 9207) to every authorization response the
// library sends back to a client by redirect: a code or an error. The
// library builds these redirects itself (its callback, op.AuthRequestError)
// and has no option to add iss in this version.
func issuerOnRedirect(issuer string) func(http.Header, int) int {
	return func(h http.Header, status int) int {
		if status == http.StatusFound || status == http.StatusSeeOther {
			if loc := h.Get("Location"); loc != "" {
				h.Set("Location", withIssuer(loc, issuer))
			}
		}
		return status
	}
}

// IssuerOnRedirect wraps w so that an authorization response it redirects
// to the client carries iss.
func IssuerOnRedirect(w http.ResponseWriter, issuer string) http.ResponseWriter {
	return &onHeader{ResponseWriter: w, hook: issuerOnRedirect(issuer)}
}

// withIssuer adds iss to an authorization response URL: one that carries a
// code or an error in its query, or in its fragment when the client asked
// for that response mode (we refuse it, with an error in the fragment).
// Other addresses are returned unchanged.
func withIssuer(location, issuer string) string {
	u, err := url.Parse(location)
	if err != nil {
		return location
	}
	add := func(raw string) (string, bool) {
		q, err := url.ParseQuery(raw)
		if err != nil || (!q.Has("code") && !q.Has("error")) || q.Has("iss") {
			return raw, false
		}
		if raw != "" {
			raw += "&"
		}
		return raw + "iss=" + url.QueryEscape(issuer), true
	}
	if q, ok := add(u.RawQuery); ok {
		u.RawQuery = q
	} else if f, ok := add(u.EscapedFragment()); ok {
		u.RawFragment, u.Fragment = f, ""
		if unescaped, err := url.PathUnescape(f); err == nil {
			u.Fragment = unescaped
		}
	}
	return u.String()
}
