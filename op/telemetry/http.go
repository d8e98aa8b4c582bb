package telemetry

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"time"

	"github.com/gorilla/mux"
)

// Route labels of idp_http_request_duration_seconds come from two places,
// both fixed by our code: the template of the mux route that served a page
// (RouteFromMux records it while the request passes the router), and a
// list of the provider's endpoint paths (HTTPMetrics' endpoints), because
// the provider is one catch-all route to mux. Any other path, such as a
// scanner's probes, is "other".

type routeKey struct{}

// routeSlot is where RouteFromMux leaves the route's name for HTTPMetrics,
// which reads it once the handler has returned.
type routeSlot struct{ name string }

// HTTPMetrics times every request of next. endpoints are exact paths
// labelled by themselves when no page route named the request (the
// provider's endpoints, with the issuer's path).
func HTTPMetrics(next http.Handler, endpoints []string) http.Handler {
	fixed := make(map[string]bool, len(endpoints))
	for _, e := range endpoints {
		fixed[e] = true
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		slot := &routeSlot{}
		sw := &statusWriter{ResponseWriter: w}
		next.ServeHTTP(sw, r.WithContext(context.WithValue(r.Context(), routeKey{}, slot)))
		route := slot.name
		if route == "" && fixed[r.URL.Path] {
			route = r.URL.Path
		}
		if route == "" {
			route = other
		}
		httpDuration.WithLabelValues(route, methodLabel(r.Method), strconv.Itoa(sw.code())).
			Observe(time.Since(start).Seconds())
	})
}

// RouteFromMux is a mux middleware that names the request's route by its
// path template for HTTPMetrics. catchAll is the template of the route that
// hands everything else on (to the provider): it names nothing, so that an
// unknown path below it stays "other".
func RouteFromMux(catchAll string) mux.MiddlewareFunc {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if slot, _ := r.Context().Value(routeKey{}).(*routeSlot); slot != nil {
				if route := mux.CurrentRoute(r); route != nil {
					if tmpl, err := route.GetPathTemplate(); err == nil && tmpl != catchAll {
						slot.name = tmpl
					}
				}
			}
			next.ServeHTTP(w, r)
		})
	}
}

func methodLabel(m string) string {
	switch m {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
		http.MethodDelete, http.MethodOptions:
		return m
	}
	return other
}

// statusWriter remembers the status an answer was given, for the metrics;
// it changes nothing of the answer.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (s *statusWriter) Unwrap() http.ResponseWriter { return s.ResponseWriter }

func (s *statusWriter) WriteHeader(status int) {
	if s.status == 0 {
		s.status = status
	}
	s.ResponseWriter.WriteHeader(status)
}

func (s *statusWriter) Write(b []byte) (int, error) {
	if s.status == 0 {
		s.status = http.StatusOK
	}
	return s.ResponseWriter.Write(b)
}

func (s *statusWriter) code() int {
	if s.status == 0 {
		return http.StatusOK
	}
	return s.status
}

// TokenGrants counts the token endpoint's answers (idp_token_grants_total)
// by grant_type and outcome: "success", or the OAuth error code of the
// answer. tokenPath is the endpoint's path as next sees it.
//
// It wraps the protocol edge (login.ProtocolEdge), which caps the body and
// parses the form on this same request before anything else reads it, so the
// edge's own refusals are counted too and the grant type is read from the
// form the edge parsed, once the answer is written; a form that could not be
// parsed counts as grant "none".
func TokenGrants(next http.Handler, tokenPath string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != tokenPath || r.Method == http.MethodOptions {
			// A CORS preflight asks for no token.
			next.ServeHTTP(w, r)
			return
		}
		tw := &tokenWriter{statusWriter: statusWriter{ResponseWriter: w}}
		next.ServeHTTP(tw, r)
		tokenGrants.WithLabelValues(grantLabel(r.PostForm.Get("grant_type")), tw.outcome()).Inc()
	})
}

func grantLabel(g string) string {
	switch g {
	case "":
		return "none"
	case "authorization_code", "refresh_token", "client_credentials",
		"urn:ietf:params:oauth:grant-type:jwt-bearer",
		"urn:ietf:params:oauth:grant-type:token-exchange",
		"urn:ietf:params:oauth:grant-type:device_code":
		return g
	}
	return other
}

// oauthErrors are the error codes a token answer may carry (RFC 6749 §5.2,
// the 503 of a store outage, and the extensions the library implements).
var oauthErrors = map[string]bool{
	"invalid_request": true, "invalid_client": true, "invalid_grant": true, "unauthorized_client": true,
	"unsupported_grant_type": true, "invalid_scope": true, "server_error": true, "temporarily_unavailable": true,
	"access_denied": true, "invalid_target": true, "authorization_pending": true, "slow_down": true,
	"expired_token": true, "request_not_supported": true,
}

// errorBodyPrefix is how much of an error answer is kept to find its
// "error" member: the library writes it first, and a description may echo
// the request at length.
const errorBodyPrefix = 1 << 10

// tokenWriter passes the answer through and keeps the status and the start
// of an error answer's body.
type tokenWriter struct {
	statusWriter
	body bytes.Buffer
}

func (t *tokenWriter) Write(b []byte) (int, error) {
	if t.code() >= 400 && t.body.Len() < errorBodyPrefix {
		t.body.Write(b[:min(len(b), errorBodyPrefix-t.body.Len())])
	}
	return t.statusWriter.Write(b)
}

func (t *tokenWriter) outcome() string {
	if t.code() < 400 {
		return "success"
	}
	if code := errorMember(t.body.Bytes()); oauthErrors[code] {
		return code
	}
	return other
}

// errorMember returns the "error" string of a JSON object, reading tokens
// only as far as needed, so a body cut short after it still gives it.
func errorMember(b []byte) string {
	dec := json.NewDecoder(bytes.NewReader(b))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return ""
	}
	for dec.More() {
		key, err := dec.Token()
		if err != nil {
			return ""
		}
		if key == "error" {
			v, _ := dec.Token()
			s, _ := v.(string)
			return s
		}
		var skip json.RawMessage
		if dec.Decode(&skip) != nil {
			return ""
		}
	}
	return ""
}
