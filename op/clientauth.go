package op

// Client authentication at the token, introspection and revocation
// endpoints.
//
// Relying-party libraries differ in how they authenticate by default:
// Go's x/oauth2 and most server frameworks send the secret in the HTTP
// Basic header (client_secret_basic), openid-client and others in the form
// body (client_secret_post), and departments that keep no shared secret
// sign an assertion with a key of their own (private_key_jwt, RFC 7523).
// The library handles these unevenly: it takes a body secret at the token
// endpoint but not at introspection, accepts an assertion only with the
// issuer as audience and never checks its jti, and takes no assertion at
// the client_credentials grant at all.
//
// So the authentication is read once, here, before the library sees the
// request (an interceptor of the provider):
//
//   - which method the client presented: the Basic header, client_secret
//     in the body, a client_assertion, or only a client_id (a public
//     client). Two at once are refused (RFC 6749 §2.3);
//   - an assertion is verified completely here (verifyAssertion), and the
//     client is authenticated here, before the library redeems a code or
//     a refresh token, so that a client that fails spends nothing;
//   - the request then goes on to the library in the one form it takes at
//     every endpoint, the Basic header: a body secret is moved there, and a
//     verified assertion becomes the client's id with an empty secret;
//   - the method presented (and, for an assertion, the client it proved)
//     rides in the request context to the library's calls into our storage
//     (AuthorizeClientIDSecret, ClientCredentials), which hold the client
//     to its registered method (storage.Client.AcceptsAuth) and check the
//     secret or the proof (authenticateClient). An empty secret is never a
//     secret: without the context's proof it fails like any wrong one.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"time"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"

	"github.com/entity-account/idp/storage"
)

const (
	// maxAssertionLifetime: an assertion's exp may be at most this far
	// ahead, which also bounds how long its jti is remembered.
	maxAssertionLifetime = 5 * time.Minute
	// assertionClockSkew is how far a client's clock may run ahead of ours
	// (iat) and how close to its exp an assertion may arrive.
	assertionClockSkew = 5 * time.Second
	// maxAssertionAge bounds iat, as the library's own verifier does.
	maxAssertionAge = time.Hour
	// maxJTI bounds the jti we store the mark of (by hash).
	maxJTI = 256
)

// presentedAuth is how the client of a request authenticated, as read by
// the interceptor.
type presentedAuth struct {
	method storage.TokenAuthMethod
	// asserted is the client a verified assertion proved (private_key_jwt).
	asserted string
}

type presentedAuthKey struct{}

func withPresentedAuth(ctx context.Context, p presentedAuth) context.Context {
	return context.WithValue(ctx, presentedAuthKey{}, p)
}

// clientAuthentication is the interceptor described above, for the
// library's token, introspection and revocation endpoints.
func (s *Storage) clientAuthentication(next http.Handler) http.Handler {
	paths := []string{op.DefaultEndpoints.Token.Relative(), op.DefaultEndpoints.Introspection.Relative(),
		op.DefaultEndpoints.Revocation.Relative()}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || !slices.Contains(paths, r.URL.Path) {
			next.ServeHTTP(w, r)
			return
		}
		if err := r.ParseForm(); err != nil {
			next.ServeHTTP(w, r) // the library answers it
			return
		}
		c, refused := s.readPresented(r)
		ctx := withPresentedAuth(r.Context(), c.auth)
		if refused == nil {
			refused = s.checkPresented(ctx, c)
		}
		if refused != nil {
			refused.write(w, r)
			return
		}
		next.ServeHTTP(w, c.forLibrary(ctx, r))
	})
}

// presented is what a request presented to authenticate its client.
type presented struct {
	auth       presentedAuth
	id, secret string
	// basic: it came in the Basic header, as the library reads it.
	basic bool
}

// authRefusal is the interceptor's answer when a client's authentication
// fails: an OAuth error (RFC 6749 §5.2) with its status.
type authRefusal struct {
	status            int
	code, description string
}

// errServerError is a failure of ours; the guard around the provider
// answers 503 for a store that is down.
var errServerError = &authRefusal{http.StatusInternalServerError, string(oidc.ServerError), "server error"}

func refuseClient(description string) *authRefusal {
	return &authRefusal{http.StatusUnauthorized, string(oidc.InvalidClient), description}
}

// write answers the refusal; a refusal of the client (not a failure of
// ours) is logged, and a 401 names the Basic scheme (RFC 6749 §5.2).
func (a *authRefusal) write(w http.ResponseWriter, r *http.Request) {
	if a.status != http.StatusInternalServerError {
		slog.InfoContext(r.Context(), "client authentication refused", "path", r.URL.Path, "error", a.code, "reason", a.description)
	}
	if a.status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Basic realm="token"`)
	}
	writeJSONError(w, a.status, a.code, a.description)
}

// readPresented reads which method the client presented, and its id and
// secret; an assertion is verified here, completely.
func (s *Storage) readPresented(r *http.Request) (presented, *authRefusal) {
	id, secret, basic := r.BasicAuth()
	hasSecret := r.PostForm.Get("client_secret") != ""
	hasAssertion := r.PostForm.Has("client_assertion") || r.PostForm.Has("client_assertion_type")
	if n := countTrue(basic, hasSecret, hasAssertion); n > 1 {
		return presented{}, &authRefusal{http.StatusBadRequest, string(oidc.InvalidRequest), "use one client authentication method per request (RFC 6749 §2.3)"}
	}
	switch {
	case basic:
		return s.presentedBasic(r.Context(), id, secret), nil
	case hasSecret:
		return presented{auth: presentedAuth{method: storage.TokenAuthPost},
			id: r.PostForm.Get("client_id"), secret: r.PostForm.Get("client_secret")}, nil
	case hasAssertion:
		return s.presentedAssertion(r)
	default:
		return presented{auth: presentedAuth{method: storage.TokenAuthNone}, id: r.PostForm.Get("client_id")}, nil
	}
}

// presentedBasic reads the Basic header's id and secret.
func (s *Storage) presentedBasic(ctx context.Context, id, secret string) presented {
	c := presented{auth: presentedAuth{method: storage.TokenAuthBasic}, basic: true}
	// As the library decodes it (RFC 6749 §2.3.1).
	c.id, _ = url.QueryUnescape(id)
	c.secret, _ = url.QueryUnescape(secret)
	if c.secret == "" {
		// Some libraries name a public client in the Basic header
		// with an empty secret: that is naming it, nothing more.
		if cl, err := s.Client(ctx, c.id); err == nil && cl.Public {
			c.auth.method = storage.TokenAuthNone
		}
	}
	return c
}

// presentedAssertion verifies a client_assertion (private_key_jwt): the
// client it proves is the client of the request.
func (s *Storage) presentedAssertion(r *http.Request) (presented, *authRefusal) {
	clientID, err := s.verifyAssertion(r, r.PostForm.Get("client_assertion_type"), r.PostForm.Get("client_assertion"))
	if err != nil {
		if errors.Is(err, errAssertionStore) {
			return presented{}, errServerError
		}
		return presented{}, refuseClient(err.Error())
	}
	if formID := r.PostForm.Get("client_id"); formID != "" && formID != clientID {
		return presented{}, refuseClient("client_id is not the client the assertion names")
	}
	return presented{auth: presentedAuth{method: storage.TokenAuthPrivateKeyJWT, asserted: clientID}, id: clientID}, nil
}

// checkPresented authenticates the client here, before the library
// redeems a code or a refresh token: a client that fails (a wrong secret,
// a method it is not registered for, a confidential client naming itself
// only) spends nothing. The library's own calls check again. ctx carries
// the method presented.
func (s *Storage) checkPresented(ctx context.Context, c presented) *authRefusal {
	var err error
	if c.auth.method == storage.TokenAuthNone {
		err = s.publicClient(ctx, c.id)
	} else {
		_, err = s.authenticateClient(ctx, c.id, c.secret)
	}
	var wrong errWrongMethod
	switch {
	case errors.As(err, &wrong):
		return refuseClient(wrong.Error())
	case errors.Is(err, errClientAuth):
		return refuseClient("client authentication failed")
	case err != nil:
		slog.ErrorContext(ctx, "client authentication", "err", err)
		return errServerError
	}
	return nil
}

// forLibrary is r as the library takes it at every endpoint, with ctx:
// the client's id and secret in the Basic header, none in the body.
func (c presented) forLibrary(ctx context.Context, r *http.Request) *http.Request {
	if c.auth.method == storage.TokenAuthNone || c.basic {
		// The library reads these as they came.
		return r.WithContext(ctx)
	}
	r = r.Clone(ctx)
	for _, k := range []string{"client_secret", "client_assertion", "client_assertion_type"} {
		r.PostForm.Del(k)
		r.Form.Del(k)
	}
	r.SetBasicAuth(url.QueryEscape(c.id), url.QueryEscape(c.secret))
	return r
}

func countTrue(bs ...bool) int {
	n := 0
	for _, b := range bs {
		if b {
			n++
		}
	}
	return n
}

// errAssertionStore: the client or the jti could not be looked up (a store
// failed); not the client's fault.
var errAssertionStore = errors.New("the client assertion could not be checked")

// verifyAssertion checks a client assertion (RFC 7523 §3) and returns the
// client it proves. The library's verifier (op.VerifyJWTAssertion) checks
// the signature (RS256, ES256 or PS256 only, with a key of the client's
// registered set: clientKeySet), that iss and sub are equal, that exp is
// not past, and that iat is present, not ahead of us and at most an hour
// old. What it lacks is added here: the audience may be the issuer or the
// token endpoint (it takes only the issuer), exp at most five minutes
// ahead, the client registered for private_key_jwt, and the jti used once
// within the assertion's life.
func (s *Storage) verifyAssertion(r *http.Request, assertionType, assertion string) (string, error) {
	ctx := r.Context()
	if assertionType != oidc.ClientAssertionTypeJWTAssertion {
		return "", fmt.Errorf("client_assertion_type must be %s", oidc.ClientAssertionTypeJWTAssertion)
	}
	if assertion == "" || len(assertion) > 16<<10 {
		return "", errors.New("client_assertion is missing or larger than 16 KiB")
	}
	var claims oidc.JWTTokenRequest
	if _, err := oidc.ParseToken(assertion, &claims); err != nil {
		return "", errors.New("client_assertion is not a signed JWT")
	}
	if claims.Issuer == "" || !storage.CleanText(claims.Issuer, 256) {
		return "", errors.New("client assertion: iss must be the client id")
	}
	c, err := s.Client(ctx, claims.Issuer)
	if errors.Is(err, storage.ErrNotFound) {
		return "", errors.New("client assertion: unknown client")
	}
	if err != nil {
		return "", errAssertionStore
	}
	if !c.AcceptsAuth(storage.TokenAuthPrivateKeyJWT) {
		return "", fmt.Errorf("client assertion: this client authenticates with %s", c.AuthMethodName())
	}
	issuer := op.IssuerFromContext(ctx)
	audience := ""
	for _, want := range []string{issuer, op.DefaultEndpoints.Token.Absolute(issuer)} {
		if slices.Contains(claims.Audience, want) {
			audience = want
			break
		}
	}
	if audience == "" {
		return "", errors.New("client assertion: aud must be the issuer or the token endpoint")
	}
	verifier := op.NewJWTProfileVerifierKeySet(clientKeySet{keys: s.clientKeys, client: c.Client}, audience, maxAssertionAge, assertionClockSkew)
	verified, err := op.VerifyJWTAssertion(ctx, assertion, verifier)
	if err != nil {
		return "", fmt.Errorf("client assertion: %w", err)
	}
	now := s.now()
	exp := verified.ExpiresAt.AsTime()
	if exp.After(now.Add(maxAssertionLifetime + assertionClockSkew)) {
		return "", fmt.Errorf("client assertion: exp may be at most %s ahead", maxAssertionLifetime)
	}
	if verified.JWTID == "" || len(verified.JWTID) > maxJTI {
		return "", fmt.Errorf("client assertion: jti is required (at most %d characters)", maxJTI)
	}
	// Marked only now that the signature holds, so nobody can spend a
	// client's jti in advance; kept until the assertion expires.
	first, err := s.state.Once(ctx, "client-assertion", c.ID+"\x00"+verified.JWTID, max(exp.Sub(now), time.Second))
	if err != nil {
		slog.ErrorContext(ctx, "client assertion: jti not checked", "err", err)
		return "", errAssertionStore
	}
	if !first {
		return "", errors.New("client assertion: this jti was already used")
	}
	return c.ID, nil
}

// publicClient checks that a request naming its client only (no secret,
// no assertion) comes from a public client. A request naming no client is
// left to the library (which refuses it).
func (s *Storage) publicClient(ctx context.Context, id string) error {
	if id == "" {
		return nil
	}
	c, err := s.Client(ctx, id)
	if errors.Is(err, storage.ErrNotFound) {
		return errClientAuth
	}
	if err != nil {
		return err
	}
	if !c.AcceptsAuth(storage.TokenAuthNone) {
		return errWrongMethod{registered: c.AuthMethodName()}
	}
	return nil
}

// errWrongMethod is a client authenticating with a method it is not
// registered for (invalid_client).
type errWrongMethod struct{ registered string }

func (e errWrongMethod) Error() string {
	return "client authentication failed: this client authenticates with " + e.registered
}

// authenticateClient checks the client authentication of a request that
// passed clientAuthentication: the method presented must be one the
// client is registered for, and then the secret must match, or the
// verified assertion must name this client. It returns the client, or
// errClientAuth / errWrongMethod (the client's fault), or a store error.
func (s *Storage) authenticateClient(ctx context.Context, id, secret string) (*client, error) {
	c, err := s.Client(ctx, id)
	if errors.Is(err, storage.ErrNotFound) {
		return nil, errClientAuth
	}
	if err != nil {
		return nil, oidc.ErrServerError().WithParent(err)
	}
	p, ok := ctx.Value(presentedAuthKey{}).(presentedAuth)
	if !ok {
		return nil, errClientAuth // not read by the interceptor: nothing is proven
	}
	if !c.AcceptsAuth(p.method) {
		return nil, errWrongMethod{registered: c.AuthMethodName()}
	}
	switch p.method {
	case storage.TokenAuthBasic, storage.TokenAuthPost:
		if c.checkSecret(secret, s.now()) {
			return c, nil
		}
	case storage.TokenAuthPrivateKeyJWT:
		if p.asserted != "" && p.asserted == c.ID {
			return c, nil
		}
	}
	return nil, errClientAuth
}

// writeJSONError writes an OAuth error object (RFC 6749 §5.2).
func writeJSONError(w http.ResponseWriter, status int, code, description string) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"error": code, "error_description": description})
}
