package edge

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http"
	"strings"

	"github.com/entity-account/idp/login/kit"
	"github.com/entity-account/idp/op"
	"github.com/entity-account/idp/storage"
)

// ErrorPages wraps the protocol engine. On its browser endpoints
// (authorize, its callback, end_session), when the library refuses a request
// it cannot send back to the e-service (an unregistered redirect_uri or
// post_logout_redirect_uri, an unknown client), it answers a bare text/plain
// 400 or an OAuth error object meant for programs; the person in front of
// the browser then gets our page instead, in their language, with the
// library's reason as a technical detail for the e-service's developers.
// Redirects and every other answer pass through untouched.
//
// Elsewhere only a browser's request for an address nobody serves is
// answered with a page (404, in the browser's language, with a way on);
// programs still get the library's answer.
func (h *Handler) ErrorPages(next http.Handler, browserPaths []string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		browser := op.UnderAnyPath(r.URL.Path, browserPaths)
		if !browser && !wantsPage(r) {
			next.ServeHTTP(w, r)
			return
		}
		cw := &plainErrorCatcher{ResponseWriter: w, notFoundOnly: !browser}
		next.ServeHTTP(cw, r)
		if !cw.caught {
			return
		}
		if !browser {
			h.k.Error(w, r, kit.SignInErrors, errNoPage)
			return
		}
		detail := strings.TrimSpace(cw.body.String())
		var oauthErr struct {
			Error       string `json:"error"`
			Description string `json:"error_description"`
		}
		if cw.json && json.Unmarshal(cw.body.Bytes(), &oauthErr) == nil {
			detail = strings.TrimSpace(oauthErr.Error + ": " + oauthErr.Description)
		}
		slog.InfoContext(r.Context(), "protocol request refused", "path", r.URL.Path, "status", cw.status, "reason", detail)
		h.requestErrorPage(w, r, cw.status, detail)
	})
}

// errNoPage answers a browser's request for an address we do not serve.
var errNoPage = kit.Fail(storage.ENotFound, "not_found").WithHeading("not_found_heading").WithLink("/account", "not_found_link")

// wantsPage reports whether r is a browser's request for a page: a GET or
// HEAD that accepts HTML.
func wantsPage(r *http.Request) bool {
	return (r.Method == http.MethodGet || r.Method == http.MethodHead) && strings.Contains(r.Header.Get("Accept"), "text/html")
}

// plainErrorCatcher holds back a text/plain 4xx answer so that it can be
// replaced by a page; anything else is written through as it comes.
//
// Why a wrapper: the library writes these refusals itself (http.Error or
// its JSON error) with no hook to render a page; op.NewStatusError only
// chooses a status, and only on the op.Server router, which we do not use.
type plainErrorCatcher struct {
	http.ResponseWriter
	status int
	caught bool
	// notFoundOnly: only a 404 is held back (an address nobody serves).
	notFoundOnly bool
	json         bool // the library's answer was an OAuth error object
	decided      bool
	body         bytes.Buffer
}

func (c *plainErrorCatcher) Unwrap() http.ResponseWriter { return c.ResponseWriter }

func (c *plainErrorCatcher) WriteHeader(status int) {
	if c.decided {
		return
	}
	c.decided = true
	ct := c.Header().Get("Content-Type")
	c.json = strings.HasPrefix(ct, "application/json")
	if c.notFoundOnly && status != http.StatusNotFound {
		c.ResponseWriter.WriteHeader(status)
		return
	}
	if status >= 400 && status < 500 && (ct == "" || strings.HasPrefix(ct, "text/plain") || c.json) {
		c.status, c.caught = status, true
		c.Header().Del("Content-Type")
		c.Header().Del("Content-Length")
		return
	}
	c.ResponseWriter.WriteHeader(status)
}

func (c *plainErrorCatcher) Write(b []byte) (int, error) {
	if !c.decided {
		c.WriteHeader(http.StatusOK)
	}
	if c.caught {
		if c.body.Len() < 4<<10 { // a reason, not a document
			c.body.Write(b)
		}
		return len(b), nil
	}
	return c.ResponseWriter.Write(b)
}
