package edge

import (
	"bytes"
	"context"
	"net/http"
	"net/url"
	"strings"
)

// Hops are the redirects the provider makes to itself on the way back to
// the e-service, which a browser would otherwise follow one round trip at a
// time: from the sign-in to the library's callback (which issues the code)
// and, for a browser with an SSO session, from /authorize to the sign-in
// page. Follow answers them within the one request, so a sign-in ends in one
// redirect to the e-service and single sign-on in one hop from /authorize.
// Every hop still passes through the whole handler, each middleware, check
// and guard included, exactly as the browser's own request would.
type Hops struct {
	// Origin is the issuer's scheme and host: an absolute Location elsewhere
	// is never a hop.
	Origin string
	// Callback is the path of the library's callback; a redirect there is
	// always answered in place.
	Callback string
	// Login is the path of the sign-in page; a redirect there is answered in
	// place only for a browser that carries SessionCookie, and only if the
	// page then sends the browser on to the callback (its session answered
	// the request); anything else (a form, a second step, a refusal) is
	// answered at the sign-in page's own address, after the redirect.
	Login         string
	SessionCookie string
	// Scope, if set, prepares the context one request and its hops share
	// (a memo of what the steps read and wrote).
	Scope func(context.Context) context.Context
}

// maxHops bounds the redirects answered in one request (authorize → sign-in
// → callback is the longest chain).
const maxHops = 3

// Follow wraps the whole handler (inside request ids and metrics, outside
// everything else).
func (h Hops) Follow(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodPost {
			next.ServeHTTP(w, r)
			return
		}
		if h.Scope != nil {
			r = r.WithContext(h.Scope(r.Context()))
		}
		first := &hopCatcher{ResponseWriter: w, hops: h, login: h.mayLogin(r)}
		next.ServeHTTP(first, r)
		if first.hop == nil {
			return
		}
		// The redirect as it would have gone out, for the sign-in page that
		// must be seen at its own address after all.
		redirect := first.saved
		cookies := redirect.Values("Set-Cookie")
		hop := first.hop
		for range maxHops {
			rec := newHopRecorder()
			next.ServeHTTP(rec, hopRequest(r, hop, cookies))
			isLogin := hop.Path == h.Login
			if further := h.hopOf(rec.status, rec.header, false); further != nil {
				cookies = append(cookies, rec.header.Values("Set-Cookie")...)
				hop = further
				continue
			}
			if isLogin {
				// The session did not answer the request (a form, a second
				// step, a refusal to explain): the browser goes to the
				// sign-in page as it would have, which answers again there.
				writeRecorded(w, redirect.Clone(), http.StatusFound, nil, nil)
				return
			}
			writeRecorded(w, rec.header, rec.status, cookies, rec.body.Bytes())
			return
		}
		// Not reached with our own hops; should a loop appear, the browser
		// takes over where it stands.
		writeRecorded(w, redirect.Clone(), http.StatusFound, nil, nil)
	})
}

// mayLogin reports whether a redirect of r to the sign-in page may be
// answered in place: a browser with an SSO session cookie.
func (h Hops) mayLogin(r *http.Request) bool {
	if h.Login == "" || h.SessionCookie == "" {
		return false
	}
	c, err := r.Cookie(h.SessionCookie)
	return err == nil && c.Value != ""
}

// hopOf returns the address of an answer that is a redirect to one of our
// hops, or nil.
func (h Hops) hopOf(status int, header http.Header, login bool) *url.URL {
	if !isRedirect(status) {
		return nil
	}
	loc := header.Get("Location")
	if loc == "" {
		return nil
	}
	u, err := url.Parse(loc)
	if err != nil || u.Fragment != "" || u.User != nil {
		return nil
	}
	if u.IsAbs() || u.Host != "" {
		if !strings.EqualFold(u.Scheme+"://"+u.Host, h.Origin) {
			return nil
		}
	} else if !strings.HasPrefix(u.Path, "/") {
		return nil
	}
	switch {
	case u.Path == h.Callback && h.Callback != "":
		return u
	case login && u.Path == h.Login:
		return u
	}
	return nil
}

func isRedirect(status int) bool {
	return status == http.StatusFound || status == http.StatusSeeOther
}

// hopRequest is the GET the browser would send to u after the redirect:
// the same connection's address and headers, no body, and its cookies as the
// answers so far have set them.
func hopRequest(orig *http.Request, u *url.URL, setCookies []string) *http.Request {
	r := orig.Clone(orig.Context())
	r.Method = http.MethodGet
	r.URL = &url.URL{Path: u.Path, RawPath: u.RawPath, RawQuery: u.RawQuery}
	r.RequestURI = r.URL.RequestURI()
	r.Body, r.GetBody, r.ContentLength = http.NoBody, nil, 0
	r.Form, r.PostForm, r.MultipartForm = nil, nil, nil
	for _, k := range []string{"Content-Type", "Content-Length", "Origin"} {
		r.Header.Del(k)
	}
	if len(setCookies) > 0 {
		applySetCookies(r, setCookies)
	}
	return r
}

// applySetCookies updates r's Cookie header as a browser would after
// answers with these Set-Cookie lines (all ours, at the issuer's path).
func applySetCookies(r *http.Request, setCookies []string) {
	jar := r.Cookies()
	for _, line := range setCookies {
		c, err := http.ParseSetCookie(line)
		if err != nil {
			continue
		}
		kept := jar[:0]
		for _, old := range jar {
			if old.Name != c.Name {
				kept = append(kept, old)
			}
		}
		jar = kept
		if c.MaxAge >= 0 && c.Value != "" {
			jar = append(jar, &http.Cookie{Name: c.Name, Value: c.Value})
		}
	}
	r.Header.Del("Cookie")
	for _, c := range jar {
		r.AddCookie(c)
	}
}

// writeRecorded sends an answer recorded in header/status/body, with the
// cookies of the hops before it first.
func writeRecorded(w http.ResponseWriter, header http.Header, status int, cookies []string, body []byte) {
	dst := w.Header()
	for k, v := range header {
		if k == "Set-Cookie" {
			continue
		}
		dst[k] = v
	}
	dst.Del("Set-Cookie")
	for _, c := range cookies {
		dst.Add("Set-Cookie", c)
	}
	for _, c := range header.Values("Set-Cookie") {
		dst.Add("Set-Cookie", c)
	}
	w.WriteHeader(status)
	if len(body) > 0 {
		_, _ = w.Write(body)
	}
}

// hopCatcher passes an answer through unless it is a redirect to one of
// the hops; then it keeps the answer's headers aside and writes nothing.
//
// Why a wrapper: the redirects to ourselves are the library's own answers
// (authorize to the sign-in, the callback) and ours; only by catching the
// redirect can the next hop run within the same request. It changes no
// status: it only answers a redirect in place.
type hopCatcher struct {
	http.ResponseWriter
	hops    Hops
	login   bool
	decided bool
	hop     *url.URL
	saved   http.Header
}

func (c *hopCatcher) Unwrap() http.ResponseWriter { return c.ResponseWriter }

func (c *hopCatcher) WriteHeader(status int) {
	if c.decided {
		return
	}
	c.decided = true
	h := c.ResponseWriter.Header()
	if c.hop = c.hops.hopOf(status, h, c.login); c.hop != nil {
		c.saved = h.Clone()
		clear(h)
		return
	}
	c.ResponseWriter.WriteHeader(status)
}

func (c *hopCatcher) Write(b []byte) (int, error) {
	if !c.decided {
		c.WriteHeader(http.StatusOK)
	}
	if c.hop != nil {
		return len(b), nil // the redirect's body, which nobody will read
	}
	return c.ResponseWriter.Write(b)
}

// hopRecorder keeps a hop's whole answer until it is known whether it is
// the last.
type hopRecorder struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func newHopRecorder() *hopRecorder { return &hopRecorder{header: http.Header{}} }

func (r *hopRecorder) Header() http.Header { return r.header }

func (r *hopRecorder) WriteHeader(status int) {
	if r.status == 0 {
		r.status = status
	}
}

func (r *hopRecorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	return r.body.Write(b)
}
