package op

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/zitadel/oidc/v3/pkg/op"

	"github.com/entity-account/idp/storage"
)

// Store outages on the protocol endpoints.
//
// When Redis or Postgres does not answer, zitadel/oidc turns the error our
// storage returns into "500 server_error" (token, userinfo, introspection,
// the library's /ready), into "400 <error text>" (authorize and its callback
// when the request cannot be loaded), or into a redirect to the client with
// error=server_error. Some of our own storage methods also answer a store
// failure as invalid_grant or "invalid token" (they cannot tell the library
// otherwise), which would make a client throw away a good code or token.
// None of that is what a client should see during a blink: the right answer
// is "try again shortly" (RFC 6749 §4.1.2.1 temporarily_unavailable, HTTP 503
// with Retry-After).
//
// The design has two halves that meet in the request context:
//
//  1. ObserveStoreFailures wraps the stores the protocol storage uses. Every
//     store call that fails with storage.ErrUnavailable (the backends' mark
//     for a store that cannot serve now) marks the request as "a store
//     failed".
//  2. StoreOutageGuard wraps the provider's handler. It puts the mark into
//     each request's context and looks at the status the library writes. If
//     a store failed during the request and the answer is an error, the
//     answer becomes 503 + Retry-After: a JSON {"error":
//     "temporarily_unavailable"} on API endpoints, the "try again shortly"
//     page on the browser endpoints (authorize, its callback, end_session);
//     a redirect to the client carrying error=server_error keeps going to
//     the client but carries error=temporarily_unavailable instead. On
//     introspection and revocation even a 200 is replaced: after a failed
//     store call the library answers {"active":false} for a live token and
//     "revoked" for a token it could not revoke (RFC 7009 §2.2.1 allows the
//     503: the client keeps the token and retries).
//
// Errors with no store failure behind them (bugs) are left as the library
// wrote them. The hosted login pages do not need this: they answer every
// store error with their 503 page themselves.

// outageRetryAfter is what outage answers put in Retry-After.
const outageRetryAfter = 5 * time.Second

// temporarilyUnavailable is the OAuth error code of RFC 6749 §4.1.2.1.
const temporarilyUnavailable = "temporarily_unavailable"

const outageDescription = "a storage service is temporarily unavailable; try again shortly"

type failureMarkKey struct{}

// withFailureMark returns a context in which failing store calls leave a
// mark, and a function telling whether one did.
func withFailureMark(ctx context.Context) (context.Context, func() bool) {
	var m atomic.Bool
	return context.WithValue(ctx, failureMarkKey{}, &m), m.Load
}

// noteStoreError marks ctx when err is a store failure, and returns err.
func noteStoreError(ctx context.Context, err error) error {
	if err != nil && isStoreFailure(err) {
		if m, _ := ctx.Value(failureMarkKey{}).(*atomic.Bool); m != nil {
			m.Store(true)
		}
	}
	return err
}

// isStoreFailure: the store said it could not serve (storage.ErrUnavailable,
// which backends set positively for connection trouble and the like). Any
// other error, a domain answer or a fault of ours, is not an outage and is
// never answered as one.
func isStoreFailure(err error) bool {
	return errors.Is(err, storage.ErrUnavailable)
}

// ObserveStoreFailures wraps the stores so that their failures mark the
// request (see StoreOutageGuard). Results pass through unchanged.
func ObserveStoreFailures(dir storage.Directory, state storage.ShortLived) (storage.Directory, storage.ShortLived) {
	return observedDirectory{dir}, observedState{state}
}

// GuardPaths are the library's relative endpoint paths the guard treats
// specially (a path also covers what lies below it, e.g. /authorize/callback).
type GuardPaths struct {
	Browser []string // answered with the 503 page instead of JSON
	Strict  []string // a success after a failed store call is replaced too
}

// GuardPathsOf returns the paths of a provider: authorize and end_session
// are browser endpoints, introspection and revocation strict.
func GuardPathsOf(p *op.Provider) GuardPaths {
	return GuardPaths{
		Browser: []string{p.AuthorizationEndpoint().Relative(), p.EndSessionEndpoint().Relative()},
		Strict:  []string{p.IntrospectionEndpoint().Relative(), p.RevocationEndpoint().Relative()},
	}
}

// StoreOutageGuard wraps the protocol handler (mounted below the issuer's
// path, so paths are the library's relative ones). page renders the
// browser-facing 503 page; it is called with Retry-After already set.
func StoreOutageGuard(next http.Handler, paths GuardPaths, page func(http.ResponseWriter, *http.Request)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		gw := &guardWriter{ResponseWriter: w, r: r, page: page,
			browser: UnderAnyPath(r.URL.Path, paths.Browser), strict: UnderAnyPath(r.URL.Path, paths.Strict)}
		next.ServeHTTP(gw, r.WithContext(context.WithValue(r.Context(), failureMarkKey{}, &gw.failed)))
	})
}

// UnderAnyPath reports whether path is one of prefixes or below one (the
// protocol's guard and the edge's page rules ask it alike).
func UnderAnyPath(path string, prefixes []string) bool {
	for _, p := range prefixes {
		if p != "" && (path == p || strings.HasPrefix(path, p+"/")) {
			return true
		}
	}
	return false
}

// guardWriter decides at WriteHeader time: by then the library has called
// the storage, so the mark is final for this answer.
//
// Why a wrapper: the library turns a store's failure into 500, 400 or a
// redirect with server_error, and some of our storage methods must answer
// it as invalid_grant; only the answer, seen beside the request's mark,
// can become 503. op.NewStatusError would not do: it sets a status only
// on the op.Server router (op.RegisterServer), which we do not use (see
// op.NewProvider in provider.go), and even there not for a redirect.
type guardWriter struct {
	http.ResponseWriter
	r        *http.Request
	failed   atomic.Bool // the request's mark (see noteStoreError)
	browser  bool
	strict   bool
	page     func(http.ResponseWriter, *http.Request)
	wrote    bool
	replaced bool
}

func (g *guardWriter) Unwrap() http.ResponseWriter { return g.ResponseWriter }

func (g *guardWriter) WriteHeader(status int) {
	if g.wrote {
		return
	}
	g.wrote = true
	if !g.failed.Load() {
		g.ResponseWriter.WriteHeader(status)
		return
	}
	h := g.Header()
	switch {
	case status == http.StatusFound || status == http.StatusSeeOther:
		if loc, ok := temporarilyUnavailableRedirect(h.Get("Location")); ok {
			h.Set("Location", loc)
			h.Set("Retry-After", retryAfterSeconds())
			slog.WarnContext(g.r.Context(), "store unavailable: redirecting to the client with temporarily_unavailable", "path", g.r.URL.Path)
		}
		g.ResponseWriter.WriteHeader(status)
		return
	case status < http.StatusBadRequest && !g.strict:
		g.ResponseWriter.WriteHeader(status)
		return
	}
	// An error answer while a store failed: replace it.
	g.replaced = true
	slog.WarnContext(g.r.Context(), "store unavailable: answering 503", "path", g.r.URL.Path, "library_status", status)
	// Set-Cookie too: nothing happened, so a retry must find the same
	// cookies (end_session clears the SSO cookie before the library runs).
	for _, k := range []string{"Content-Type", "Content-Length", "Location", "Set-Cookie"} {
		h.Del(k)
	}
	h.Set("Retry-After", retryAfterSeconds())
	h.Set("Cache-Control", "no-store")
	if g.browser && g.page != nil {
		g.page(g.ResponseWriter, g.r)
		return
	}
	h.Set("Content-Type", "application/json")
	g.ResponseWriter.WriteHeader(http.StatusServiceUnavailable)
	_ = json.NewEncoder(g.ResponseWriter).Encode(map[string]string{
		"error": temporarilyUnavailable, "error_description": outageDescription,
	})
}

func (g *guardWriter) Write(b []byte) (int, error) {
	if !g.wrote {
		g.WriteHeader(http.StatusOK)
	}
	if g.replaced {
		return len(b), nil // the library's body for the answer we replaced
	}
	return g.ResponseWriter.Write(b)
}

func retryAfterSeconds() string { return strconv.Itoa(int(outageRetryAfter / time.Second)) }

// temporarilyUnavailableRedirect rewrites error=server_error in a redirect
// to the client (query or fragment response mode).
func temporarilyUnavailableRedirect(loc string) (string, bool) {
	u, err := url.Parse(loc)
	if err != nil {
		return loc, false
	}
	q := u.Query()
	if q.Get("error") == "server_error" {
		q.Set("error", temporarilyUnavailable)
		q.Set("error_description", outageDescription)
		u.RawQuery = q.Encode()
		return u.String(), true
	}
	if f, err := url.ParseQuery(u.Fragment); err == nil && f.Get("error") == "server_error" {
		f.Set("error", temporarilyUnavailable)
		f.Set("error_description", outageDescription)
		u.Fragment, u.RawFragment = "", ""
		return u.String() + "#" + f.Encode(), true
	}
	return loc, false
}
