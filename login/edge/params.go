package edge

import (
	"net/http"
	"strings"

	"github.com/entity-account/idp/storage"
)

// refusal is a protocol request the edge answers itself, before the library
// reads it.
type refusal struct {
	status            int
	code, description string
	// challenge is the WWW-Authenticate of the answer, when it needs one.
	challenge string
}

// invalidRequest is the refusal of a bad request.
func invalidRequest(description string) *refusal {
	return &refusal{status: http.StatusBadRequest, code: "invalid_request", description: description}
}

// checkParameters refuses the parameters the OAuth and OpenID rules forbid
// and the library would let through (or answer as its own fault):
//
//   - a parameter sent more than once, counting the query and a POST's body
//     together (RFC 6749 §3.1, §3.2: "MUST NOT be included more than
//     once"); the library would silently take one of them. At /authorize
//     only client_id and redirect_uri are refused here, with our page: the
//     others go back to the client's redirect URI once the library has
//     validated it (op: authorizeParameters);
//   - at /authorize, a missing redirect_uri, or one with a fragment or
//     userinfo (RFC 6749 §3.1.2): never redirected to, whatever the client
//     registered (a native client's loopback match ignores the host and
//     port, so "http://evil@127.0.0.1:1234/cb" would pass the library);
//     likewise end_session's post_logout_redirect_uri;
//   - the library's callback without the id of its auth request;
//   - at userinfo, an access token in the URL's query (RFC 6750 §2.3: it
//     leaks into logs, proxies and browser history), or a token sent in more
//     than one way (RFC 6750 §2); the header and the form body stay.
//
// The library answers a missing redirect_uri or callback id as a server
// error and logs it at ERROR; refused here, they are the client's mistake.
func checkParameters(r *http.Request, path string, ep Endpoints) *refusal {
	// At userinfo the refusal is a bearer challenge (RFC 6750 §3).
	bearer := func(description string) *refusal {
		f := invalidRequest(description)
		f.challenge = `Bearer realm="userinfo", error="invalid_request", error_description="` + quoted(description) + `"`
		return f
	}
	switch path {
	case ep.Userinfo:
		// r.Form holds the query and the body; a value beyond the body's
		// came in the query.
		if len(r.Form["access_token"]) > len(r.PostForm["access_token"]) {
			return bearer("send the access token in the Authorization header (Bearer) or the POST body, never in the URL")
		}
		if r.Header.Get("Authorization") != "" && r.PostForm.Has("access_token") {
			return bearer("send the access token one way only: the Authorization header or the POST body")
		}
		if name := storage.RepeatedParameter(r.Form); name != "" {
			return bearer(name + " is repeated")
		}
	case ep.Token, ep.Introspect, ep.Revoke, ep.EndSession:
		if name := storage.RepeatedParameter(r.Form); name != "" {
			return invalidRequest(name + " is repeated")
		}
		// The same rule for where a logout sends the browser (the library
		// matches a native client's loopback address whatever its host).
		if uri := r.Form.Get("post_logout_redirect_uri"); path == ep.EndSession && uri != "" {
			if why := forbiddenURI(uri); why != "" {
				return invalidRequest("post_logout_redirect_uri " + why)
			}
		}
	case ep.Authorize:
		for _, name := range []string{"client_id", "redirect_uri"} {
			if len(r.Form[name]) > 1 {
				return invalidRequest("parameter " + name + " is repeated")
			}
		}
		uri := r.Form.Get("redirect_uri")
		if uri == "" {
			return invalidRequest("redirect_uri is required")
		}
		if why := forbiddenURI(uri); why != "" {
			return invalidRequest("redirect_uri " + why)
		}
	case ep.Authorize + "/callback":
		if r.Form.Get("id") == "" {
			return invalidRequest("the authorization request id is missing")
		}
	}
	return nil
}

// forbiddenURI says what is wrong with an address the browser would be
// sent to (storage.ForbiddenURIPart), or "".
func forbiddenURI(uri string) string {
	switch part := storage.ForbiddenURIPart(uri); part {
	case "":
		return ""
	case "unparsable":
		return "is not a URI"
	default:
		return "must not hold " + part
	}
}

// quoted makes s safe inside a quoted-string of a WWW-Authenticate header.
func quoted(s string) string {
	return strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s)
}
