package edge

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http"
	"strings"
)

// ErrorPages wraps the protocol engine's browser endpoints
// (authorize, its callback, end_session). When the library refuses a request
// it cannot send back to the e-service (an unregistered redirect_uri or
// post_logout_redirect_uri, an unknown client), it answers a bare text/plain
// 400 or an OAuth error object meant for programs; the person in front of
// the browser then gets our page instead, in their language, with the
// library's reason as a technical detail for the e-service's developers.
// Redirects and every other answer pass through untouched.
func (h *Handler) ErrorPages(next http.Handler, browserPaths []string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !UnderAnyPath(r.URL.Path, browserPaths) {
			next.ServeHTTP(w, r)
			return
		}
		cw := &plainErrorCatcher{ResponseWriter: w}
		next.ServeHTTP(cw, r)
		if !cw.caught {
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

// UnderAnyPath reports whether path is one of prefixes or below one.
func UnderAnyPath(path string, prefixes []string) bool {
	for _, p := range prefixes {
		if p != "" && (path == p || strings.HasPrefix(path, p+"/")) {
			return true
		}
	}
	return false
}

// plainErrorCatcher holds back a text/plain 4xx answer so that it can be
// replaced by a page; anything else is written through as it comes.
type plainErrorCatcher struct {
	http.ResponseWriter
	status  int
	caught  bool
	json    bool // the library's answer was an OAuth error object
	decided bool
	body    bytes.Buffer
}

func (c *plainErrorCatcher) Unwrap() http.ResponseWriter { return c.ResponseWriter }

func (c *plainErrorCatcher) WriteHeader(status int) {
	if c.decided {
		return
	}
	c.decided = true
	ct := c.Header().Get("Content-Type")
	c.json = strings.HasPrefix(ct, "application/json")
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
