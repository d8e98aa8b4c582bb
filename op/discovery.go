package op

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strconv"

	"github.com/zitadel/oidc/v3/pkg/oidc"

	"github.com/entity-account/idp/storage"
)

// supportedClaims are the claims this provider actually emits (ID token,
// userinfo, introspection), advertised in discovery.
var supportedClaims = []string{
	"iss", "sub", "aud", "exp", "iat", "auth_time", "nonce", "acr", "amr", "azp", "client_id", "at_hash", "c_hash",
	"sid", "euid", "entity_number", "entity_name", "service_groups",
	"preferred_username", "name", "locale", "email", "email_verified", "phone_number",
}

// HonestDiscovery corrects the library's discovery document, which
// advertises features whatever the provider does (zitadel/oidc hard-codes
// them): the implicit and JWT-bearer grants and the id_token response types
// (our clients may use the code flow only) and the device endpoint (no
// device grant); it lists the client authentication methods our own
// interceptor accepts (clientauth.go), and back-channel logout, which we
// implement outside the library. An RP reading discovery then sees exactly what works.
func HonestDiscovery(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != oidc.DiscoveryEndpoint {
			next.ServeHTTP(w, r)
			return
		}
		rec := &bufferedResponse{header: http.Header{}, status: http.StatusOK}
		next.ServeHTTP(rec, r)
		var doc map[string]any
		if rec.status != http.StatusOK || json.Unmarshal(rec.body.Bytes(), &doc) != nil {
			rec.copyTo(w) // not a document we understand: pass it on unchanged
			return
		}
		for _, k := range []string{"device_authorization_endpoint", "request_object_signing_alg_values_supported"} {
			delete(doc, k)
		}
		// Client authentication as clientauth.go reads it: a secret in the
		// Basic header or the body, or a private_key_jwt assertion, at each
		// of the three endpoints; a public client names itself at the token
		// and revocation endpoints (introspection needs a confidential one).
		secretOrKey := []string{string(oidc.AuthMethodBasic), string(oidc.AuthMethodPost), string(oidc.AuthMethodPrivateKeyJWT)}
		withPublic := append([]string{string(oidc.AuthMethodNone)}, secretOrKey...)
		algs := make([]string, len(AssertionAlgorithms))
		for i, a := range AssertionAlgorithms {
			algs[i] = string(a)
		}
		doc["token_endpoint_auth_methods_supported"] = withPublic
		doc["revocation_endpoint_auth_methods_supported"] = withPublic
		doc["introspection_endpoint_auth_methods_supported"] = secretOrKey
		for _, ep := range []string{"token", "revocation", "introspection"} {
			doc[ep+"_endpoint_auth_signing_alg_values_supported"] = algs
		}
		doc["response_types_supported"] = []string{string(oidc.ResponseTypeCode)}
		doc["response_modes_supported"] = []string{"query"}
		doc["authorization_response_iss_parameter_supported"] = true
		// client_credentials is for departments' machine clients only.
		doc["grant_types_supported"] = []string{string(oidc.GrantTypeCode), string(oidc.GrantTypeRefreshToken),
			string(oidc.GrantTypeClientCredentials)}
		doc["acr_values_supported"] = storage.ACRValues
		// Neither request objects nor request_uri: both are refused with
		// their own errors (request_not_supported, request_uri_not_supported).
		doc["request_parameter_supported"] = false
		doc["request_uri_parameter_supported"] = false
		// Of the claims parameter, acr is honoured (essential or not); the
		// other claims are sent as the scopes say.
		doc["claims_parameter_supported"] = true
		// Logout tokens carry sid and reach every client that registered a
		// back-channel logout URI (backchannel.go).
		doc["backchannel_logout_supported"] = true
		doc["backchannel_logout_session_supported"] = true
		body, err := json.Marshal(doc)
		if err != nil {
			rec.copyTo(w)
			return
		}
		for k, v := range rec.header {
			w.Header()[k] = v
		}
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write(body)
	})
}

// bufferedResponse records an answer so that it can be changed before it is sent.
type bufferedResponse struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (b *bufferedResponse) Header() http.Header         { return b.header }
func (b *bufferedResponse) WriteHeader(status int)      { b.status = status }
func (b *bufferedResponse) Write(p []byte) (int, error) { return b.body.Write(p) }

func (b *bufferedResponse) copyTo(w http.ResponseWriter) {
	for k, v := range b.header {
		w.Header()[k] = v
	}
	w.WriteHeader(b.status)
	_, _ = w.Write(b.body.Bytes())
}
