// Package kit is what every web surface of the provider shares: the pages
// (templates checked at start, message catalogues, language choice, the
// marks of a form's fields in error), CSRF tokens, the client address, the
// throttle, the session cookie and the check of the browser's session, the
// security headers, and the one error writer that turns a page's failure
// into an answer.
//
// The surfaces (login/signin, login/portal, login/activationpages,
// login/edge) are handler types over one *Kit; none reaches another's state.
package kit

import (
	"io/fs"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/entity-account/idp/storage"
	"github.com/entity-account/idp/templates"
)

// Config holds the settings every surface shares.
type Config struct {
	BasePath          string // the issuer's path ("" or "/oidc"); pages live under it
	SecureCookies     bool
	CSRFKey           []byte
	SessionIdle       time.Duration // idle expiry of the browser's SSO session
	TrustProxyHeaders bool          // take the client address from X-Forwarded-For
	// CSRFCookie names the browser's CSRF cookie; "" is idp_csrf. A
	// surface on a listener of its own (the operator's desk) names its own:
	// cookies do not keep to a port, and two surfaces sharing one would
	// void each other's forms.
	CSRFCookie string
}

// ShortLived is the part of storage.ShortLived that the web surfaces use:
// the edge admits authorization requests, the sign-in answers them, the
// sign-in and the portal keep the browsers' sessions, and the forms count
// attempts (ReserveAttempt).
type ShortLived interface {
	storage.Admissions
	storage.AuthRequests
	storage.Sessions
	storage.Counters
}

// Kit is the shared part of the web surfaces.
type Kit struct {
	Config
	Dir   storage.Directory
	State ShortLived
	Now   func() time.Time
	pages *pages
	csrf  *csrf
}

// New checks the templates and catalogues and returns the kit.
func New(cfg Config, dir storage.Directory, state ShortLived) (*Kit, error) {
	p, err := loadPages()
	if err != nil {
		return nil, err
	}
	cookie := cfg.CSRFCookie
	if cookie == "" {
		cookie = "idp_csrf"
	}
	return &Kit{
		Config: cfg, Dir: dir, State: state, Now: time.Now, pages: p,
		csrf: &csrf{key: cfg.CSRFKey, cookieName: cookie, path: cookiePath(cfg.BasePath), secure: cfg.SecureCookies},
	}, nil
}

// CookiePath is the path of our cookies: the issuer's path and below.
func (k *Kit) CookiePath() string { return cookiePath(k.BasePath) }

func cookiePath(base string) string {
	if base == "" {
		return "/"
	}
	return base + "/"
}

// ClientIP is the peer address, or with a trusted proxy the address it
// appended last to X-Forwarded-For (earlier entries are client-supplied).
func (k *Kit) ClientIP(r *http.Request) string {
	if k.TrustProxyHeaders {
		if xff := r.Header.Get("X-Forwarded-For"); xff != "" {
			parts := strings.Split(xff, ",")
			return strings.TrimSpace(parts[len(parts)-1])
		}
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// PublicActor is the audit actor of an unauthenticated visitor.
func (k *Kit) PublicActor(r *http.Request) storage.Actor {
	return storage.PublicActor(k.ClientIP(r))
}

// ParseForm reads a page's form, at most 16 KiB: no form of ours is larger,
// and an anonymous caller must not make us read more.
func ParseForm(w http.ResponseWriter, r *http.Request) error {
	r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
	return r.ParseForm()
}

// SameOrigin refuses cross-site requests to h (a form's POST): a page on
// another site cannot submit our forms with the user's cookies.
func SameOrigin(h http.Handler) http.Handler {
	return http.NewCrossOriginProtection().Handler(h)
}

// RetryAfter tells the client to come back after d (at least a second).
func RetryAfter(w http.ResponseWriter, d time.Duration) {
	secs := int(d.Round(time.Second) / time.Second)
	if secs < 1 {
		secs = 1
	}
	w.Header().Set("Retry-After", strconv.Itoa(secs))
}

// Printable is a typed value as it may go into a log line: at most 64
// bytes, invalid UTF-8 and control characters quoted.
func Printable(s string) string {
	if len(s) > 64 {
		s = s[:64]
	}
	if storage.CleanText(s, 64) {
		return s
	}
	q := strconv.QuoteToASCII(s)
	return q[1 : len(q)-1]
}

// The Content-Security-Policy of our responses: no script at all, only our
// style sheet and images; and, for the few pages that ask for it
// (AllowOwnScripts), our own script files too, never an inline one.
const (
	cspStrict     = "default-src 'none'; style-src 'self'; img-src 'self'; frame-ancestors 'none'; base-uri 'none'"
	cspOwnScripts = cspStrict + "; script-src 'self'"
)

// SecurityHeaders sets the headers every response of ours carries: no
// framing, no referrer leaks, no MIME sniffing, and a strict CSP for pages.
func SecurityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", cspStrict)
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("X-Content-Type-Options", "nosniff")
		next.ServeHTTP(w, r)
	})
}

// AllowOwnScripts lets the page w is about to answer run script files of our
// own origin (script-src 'self'; still no inline script): for a page whose
// forms need one, as the passkey forms need the browser's WebAuthn API.
// Every other page keeps the strict policy of SecurityHeaders. Call it
// before Render.
func AllowOwnScripts(w http.ResponseWriter) {
	w.Header().Set("Content-Security-Policy", cspOwnScripts)
}

// StaticFiles serves the static assets (style sheet, our script files),
// files only: a directory gets no listing.
func StaticFiles() http.Handler {
	files := http.FileServerFS(templates.Static())
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "" || strings.HasSuffix(r.URL.Path, "/") {
			http.NotFound(w, r)
			return
		}
		if f, err := fs.Stat(templates.Static(), strings.TrimPrefix(r.URL.Path, "/")); err != nil || f.IsDir() {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Cache-Control", "public, max-age=3600")
		files.ServeHTTP(w, r)
	})
}
