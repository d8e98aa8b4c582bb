// Package deptapi is the department API: JSON under {issuer}/api/v1/ for a
// department's back end, authenticated by an access token of one of its
// machine clients (client_credentials, op.Storage.MachineToken) with the
// scopes department.read and department.write. Handlers parse the request,
// call a use case (login/manage/department.go) and hand every error to one
// JSON error writer (writeError); the rule book is the use cases' business,
// and an e-service of another department is not found. The OpenAPI 3.1
// document (openapi.json) describes every route and is served at
// /api/v1/openapi.json, with the issuer's own URLs in it.
//
// The API accepts only what its document says: a body is read by a strict
// JSON decoder (member names matched exactly, duplicate names, invalid
// UTF-8, unknown members and null where the schema has none refused, the
// member at fault named); a path is never cleaned or redirected (an encoded
// '/', a '.' or '..' segment or an empty one is a 400); an entity number is
// answered in its canonical form; every 405 names the allowed methods.
package deptapi

import (
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"net/url"
	"path"
	"reflect"
	"strconv"
	"strings"
	"time"

	strictjson "github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
	"github.com/gorilla/mux"

	"github.com/entity-account/idp/login/kit"
	"github.com/entity-account/idp/login/manage"
	idpop "github.com/entity-account/idp/op"
	"github.com/entity-account/idp/storage"
)

// The scopes of the department API.
const (
	ScopeRead  = storage.ScopeDepartmentRead
	ScopeWrite = storage.ScopeDepartmentWrite
)

// Prefix is where the API lives under the issuer's path.
const Prefix = "/api/v1"

// MaxBody is the largest request body read (64 KiB).
const MaxBody = 64 << 10

//go:embed openapi.json
var openAPI []byte

// OpenAPI is the API's OpenAPI 3.1 document as written, with an example
// issuer; the API serves it with its own (Config).
func OpenAPI() []byte { return openAPI }

// Config is what the API tells of the provider it belongs to.
type Config struct {
	// Issuer (IDP_ISSUER) makes the served document's server URL.
	Issuer string
	// TokenURL is the absolute URL of the token endpoint, the served
	// document's client-credentials tokenUrl: a relative one would be
	// resolved against the server URL ({issuer}/api/v1), not the issuer.
	TokenURL string
	// TrustProxyHeaders takes the client's address from a trusted proxy's
	// X-Forwarded-For, for the audit trail.
	TrustProxyHeaders bool
}

// Verifier verifies a machine client's bearer token (op.Storage).
type Verifier interface {
	MachineToken(ctx context.Context, bearer string) (idpop.MachineAccess, error)
}

// API is the department API's handler.
type API struct {
	verify Verifier
	dep    *manage.Departments
	kit    *kit.Kit // the client's address (a trusted proxy's X-Forwarded-For)
	router *mux.Router
	doc    []byte // the served OpenAPI document
}

// New returns the API over the token verifier and the department use cases.
func New(cfg Config, verify Verifier, dep *manage.Departments) *API {
	doc, err := servedDocument(cfg)
	if err != nil {
		panic(err) // the embedded document is tested to be an OpenAPI document
	}
	a := &API{verify: verify, dep: dep, kit: &kit.Kit{Config: kit.Config{TrustProxyHeaders: cfg.TrustProxyHeaders}}, doc: doc}
	// Paths reach the router checked (ServeHTTP): cleaning them would only
	// answer a 301 to another route, which a client following redirects
	// repeats with the same method.
	r := mux.NewRouter().SkipClean(true)
	r.NotFoundHandler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeError(w, r, &storage.Error{Code: storage.ENotFound, Message: "No such resource in the department API.", Err: storage.ErrNotFound})
	})
	r.MethodNotAllowedHandler = http.HandlerFunc(a.methodNotAllowed)
	r.HandleFunc(Prefix+"/openapi.json", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		_, _ = w.Write(a.doc)
	}).Methods(http.MethodGet, http.MethodHead)
	for _, rt := range []struct {
		method, path, scope string
		h                   handler
	}{
		{http.MethodGet, "/services", ScopeRead, a.listServices},
		{http.MethodPatch, "/services/{code}", ScopeWrite, a.updateService},
		{http.MethodPost, "/services/{code}/groups", ScopeWrite, a.createGroup},
		{http.MethodPatch, "/services/{code}/groups/{group}", ScopeWrite, a.renameGroup},
		{http.MethodDelete, "/services/{code}/groups/{group}", ScopeWrite, a.deleteGroup},
		{http.MethodPut, "/services/{code}/entities/{entity_number}", ScopeWrite, a.enrollEntity},
		{http.MethodDelete, "/services/{code}/entities/{entity_number}", ScopeWrite, a.closeEntity},
		{http.MethodGet, "/services/{code}/entities/{entity_number}/assignments", ScopeRead, a.assignments},
		{http.MethodGet, "/changes", ScopeRead, a.changes},
	} {
		methods := []string{rt.method}
		if rt.method == http.MethodGet {
			// HEAD answers as GET does, without the body (net/http drops it).
			methods = append(methods, http.MethodHead)
		}
		r.Handle(Prefix+rt.path, a.authenticated(rt.scope, rt.h)).Methods(methods...)
	}
	a.router = r
	return a
}

// Router is the API's router (its routes' paths start with Prefix).
func (a *API) Router() *mux.Router { return a.router }

// Front returns the handler of a node's every request: those for the API
// under the issuer's path base (base+Prefix) go to the API with our
// security headers, the others to site. The API is kept apart from the
// site's router because that one cleans paths with a 301 to the cleaned
// path (gorilla/mux's default, which the pages keep): for the API that
// would turn DELETE …/groups/..%2F..%2Fentities/02-000021 into a redirect
// to another resource, which a client following redirects would delete.
// Instead a path that is not plainly a resource's (checkPath) is refused
// before routing; and a path that only cleaning would bring under the API
// is the API's too, so that it is refused rather than redirected into it.
func (a *API) Front(base string, site http.Handler) http.Handler {
	root := base + Prefix
	var routed http.Handler = a.router
	if base != "" {
		routed = http.StripPrefix(base, routed)
	}
	api := kit.SecurityHeaders(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := checkPath(r.URL); err != nil {
			writeError(w, r, err)
			return
		}
		routed.ServeHTTP(w, r) // a checked path under root starts with base
	}))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if under(r.URL.Path, root) || under(path.Clean(r.URL.Path), root) {
			api.ServeHTTP(w, r)
			return
		}
		site.ServeHTTP(w, r)
	})
}

func under(p, root string) bool { return p == root || strings.HasPrefix(p, root+"/") }

// checkPath refuses a path the router would have to interpret: an empty
// segment ("//", a trailing "/"), a "." or ".." segment (plain or
// percent-encoded), a segment holding an encoded '/', bad percent-encoding
// or bytes that are not clean text (storage.CleanText). Such a path names
// no resource of the API; it is a bad request, never cleaned into another.
func checkPath(u *url.URL) error {
	raw := u.EscapedPath()
	if !strings.HasPrefix(raw, "/") {
		return badPath("The path must start with /.")
	}
	for _, seg := range strings.Split(raw[1:], "/") {
		v, err := url.PathUnescape(seg)
		switch {
		case seg == "":
			return badPath("The path has an empty segment (// or a trailing /).")
		case err != nil:
			return badPath("The path is not validly percent-encoded.")
		case v == "." || v == "..":
			return badPath("The path has a . or .. segment; paths are never resolved or redirected.")
		case strings.Contains(v, "/"):
			return badPath("A path segment holds an encoded /.")
		case !storage.CleanText(v, maxPathSegment):
			return badPath(fmt.Sprintf("A path segment is not text of at most %d characters without control characters.", maxPathSegment))
		}
	}
	return nil
}

// maxPathSegment bounds a path segment (codes and entity numbers are short).
const maxPathSegment = 200

func badPath(msg string) error {
	return &requestError{http.StatusBadRequest, apiError{Error: "invalid_request", Message: msg, Field: "path"}}
}

// methodNotAllowed answers 405 with Allow listing the methods the path's
// route does take (RFC 9110 §15.5.6).
func (a *API) methodNotAllowed(w http.ResponseWriter, r *http.Request) {
	var allowed []string
	for _, m := range []string{http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete} {
		probe := r.Clone(r.Context())
		probe.Method = m
		var match mux.RouteMatch
		if a.router.Match(probe, &match) && match.MatchErr == nil {
			allowed = append(allowed, m)
		}
	}
	w.Header().Set("Allow", strings.Join(allowed, ", "))
	writeError(w, r, &requestError{http.StatusMethodNotAllowed, apiError{Error: "method_not_allowed",
		Message: "This method is not allowed on this resource; Allow lists those that are."}})
}

// servedDocument is the OpenAPI document with the issuer's URLs: the server
// URL and the absolute token URL.
func servedDocument(cfg Config) ([]byte, error) {
	if cfg.Issuer == "" && cfg.TokenURL == "" {
		return openAPI, nil
	}
	var doc map[string]any
	if err := json.Unmarshal(openAPI, &doc); err != nil {
		return nil, fmt.Errorf("openapi.json: %w", err)
	}
	if cfg.Issuer != "" {
		doc["servers"] = []any{map[string]any{"url": strings.TrimSuffix(cfg.Issuer, "/") + Prefix}}
	}
	if cfg.TokenURL != "" {
		flow, ok := dig(doc, "components", "securitySchemes", "bearer", "flows", "clientCredentials")
		if !ok {
			return nil, errors.New("openapi.json: no client-credentials flow")
		}
		flow["tokenUrl"] = cfg.TokenURL
	}
	return json.MarshalIndent(doc, "", "  ")
}

// dig returns the object at keys in a decoded JSON document.
func dig(v map[string]any, keys ...string) (map[string]any, bool) {
	for _, k := range keys {
		next, ok := v[k].(map[string]any)
		if !ok {
			return nil, false
		}
		v = next
	}
	return v, true
}

// handler is one endpoint: it acts as actor and returns the error to answer.
type handler func(w http.ResponseWriter, r *http.Request, actor storage.Actor) error

// authenticated checks the bearer token (a live machine token with scope),
// makes the department's actor, and runs h; every error goes to writeError.
func (a *API) authenticated(scope string, h handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		bearer, sent := bearerToken(r)
		if bearer == "" {
			msg := "An access token of a department's machine client is required (Authorization: Bearer …)."
			if sent {
				w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token", error_description="malformed Authorization header"`)
				msg = "The Authorization header is not a bearer token."
			} else {
				w.Header().Set("WWW-Authenticate", "Bearer")
			}
			writeError(w, r, &requestError{http.StatusUnauthorized, apiError{Error: "invalid_token", Message: msg}})
			return
		}
		access, err := a.verify.MachineToken(r.Context(), bearer)
		if errors.Is(err, idpop.ErrInvalidToken) || errors.Is(err, idpop.ErrNotMachineToken) {
			msg := "The access token is invalid, expired or revoked."
			if errors.Is(err, idpop.ErrNotMachineToken) {
				msg = "The access token is not a department's machine client's."
			}
			w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
			writeError(w, r, &requestError{http.StatusUnauthorized, apiError{Error: "invalid_token", Message: msg}})
			return
		}
		if err != nil {
			writeError(w, r, err)
			return
		}
		if !access.HasScope(scope) {
			w.Header().Set("WWW-Authenticate", fmt.Sprintf(`Bearer error="insufficient_scope", scope=%q`, scope))
			writeError(w, r, &requestError{http.StatusForbidden, apiError{Error: "insufficient_scope",
				Message: "The access token lacks the scope " + scope + "."}})
			return
		}
		actor, err := a.dep.DepartmentActor(r.Context(), access.ClientID, access.Department, a.kit.ClientIP(r))
		if err == nil {
			err = h(w, r, actor)
		}
		if err != nil {
			writeError(w, r, err)
		}
	})
}

// bearerToken returns the token of an "Authorization: Bearer" header, and
// whether an Authorization header was sent at all.
func bearerToken(r *http.Request) (string, bool) {
	h := r.Header.Get("Authorization")
	if h == "" {
		return "", false
	}
	scheme, token, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", true
	}
	return strings.TrimSpace(token), true
}

// ---- the one error writer ----

type apiError struct {
	Error   string `json:"error"`
	Message string `json:"message"`
	Field   string `json:"field,omitempty"`
}

// requestError is a request the API refuses before any use case sees it
// (a path or body it cannot read, no or the wrong access token, a method
// the resource does not take): its status and answer.
type requestError struct {
	status int
	apiError
}

func (e *requestError) Error() string { return e.Message }

func badRequest(field, format string, args ...any) error {
	return &requestError{http.StatusBadRequest, apiError{Error: "invalid_request", Message: fmt.Sprintf(format, args...), Field: field}}
}

// writeError answers err: a request the API refused as such, else by its
// storage code, whose status is the pages' too (kit.StatusOf); an internal
// fault is answered without its details, and logged.
func writeError(w http.ResponseWriter, r *http.Request, err error) {
	var re *requestError
	if errors.As(err, &re) {
		kit.WriteJSON(w, re.status, re.apiError)
		return
	}
	code := storage.CodeOf(err)
	status := kit.StatusOf(code)
	body := apiError{Error: string(code), Message: storage.MessageOf(err)}
	var se *storage.Error
	if errors.As(err, &se) {
		body.Field = se.Field
	}
	switch {
	case code == storage.EInvalid:
		body.Error = "invalid_request" // the OAuth name of a bad request
	case code == storage.EUnavailable:
		kit.RetryAfter(w, 5*time.Second)
		slog.WarnContext(r.Context(), "department API: store unavailable", "path", r.URL.Path, "err", err)
	case status == http.StatusInternalServerError:
		body = apiError{Error: string(storage.EInternal), Message: "Internal error."}
		slog.ErrorContext(r.Context(), "department API", "method", r.Method, "path", r.URL.Path, "err", err)
	}
	kit.WriteJSON(w, status, body)
}

// Requests are read with github.com/go-json-experiment/json, the upstream
// of encoding/json/v2 (which Go 1.26 builds only with GOEXPERIMENT=jsonv2,
// not something a build of ours may depend on); encoding/json (v1) folds
// member names' case, keeps the last of duplicate names and turns invalid
// UTF-8 into U+FFFD, which is why it only writes the answers here.
//
// strictOptions read a request body as its schema says, and no other way:
// member names match exactly (no case folding), unknown members are refused,
// and null is refused for every string (nullable members, like min_acr,
// are read as raw values and decide for themselves). Duplicate member names
// and invalid UTF-8 are syntax errors to the decoder (jsontext's defaults).
var strictOptions = strictjson.JoinOptions(
	strictjson.RejectUnknownMembers(true),
	strictjson.MatchCaseInsensitiveNames(false),
	strictjson.WithUnmarshalers(strictjson.JoinUnmarshalers(
		strictjson.UnmarshalFromFunc(func(dec *jsontext.Decoder, _ *string) error { return refuseNull(dec) }),
		strictjson.UnmarshalFromFunc(func(dec *jsontext.Decoder, _ **string) error { return refuseNull(dec) }),
	)),
)

var errNull = errors.New("null is not a string")

// refuseNull fails on a JSON null and lets the decoder read anything else.
func refuseNull(dec *jsontext.Decoder) error {
	if dec.PeekKind() == 'n' {
		return errNull
	}
	return strictjson.SkipFunc
}

// decode reads the JSON body into v: application/json, at most MaxBody
// bytes, one object read strictly (strictOptions). A refusal names the
// member at fault in field.
func decode(w http.ResponseWriter, r *http.Request, v any) error {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "application/json" {
		return &requestError{http.StatusUnsupportedMediaType, apiError{Error: "unsupported_media_type",
			Message: "The body must be JSON (Content-Type: application/json)."}}
	}
	dec := jsontext.NewDecoder(http.MaxBytesReader(w, r.Body, MaxBody))
	switch dec.PeekKind() {
	case '{':
		err = strictjson.UnmarshalDecode(dec, v, strictOptions)
		if err == nil {
			switch _, next := dec.ReadToken(); {
			case next == nil:
				err = errMoreThanOne // a second value after the object
			case next != io.EOF:
				err = next // bytes that are no JSON, or too many
			}
		}
	case 0:
		_, err = dec.ReadToken() // the reason: empty, too large, or not JSON
		if err == nil {
			err = errors.New("no JSON value")
		}
	default:
		return badRequest("", "The body must be a JSON object.")
	}
	return decodeError(err)
}

var errMoreThanOne = errors.New("more than one JSON value")

// decodeError turns an error of decode into the answer, naming the member.
func decodeError(err error) error {
	var tooLarge *http.MaxBytesError
	var semantic *strictjson.SemanticError
	var syntactic *jsontext.SyntacticError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &tooLarge):
		return &requestError{http.StatusRequestEntityTooLarge, apiError{Error: "request_too_large",
			Message: fmt.Sprintf("The body is larger than %d bytes.", MaxBody)}}
	case err == io.EOF:
		return badRequest("", "The body is empty: a JSON object is expected.")
	case errors.Is(err, errMoreThanOne):
		return badRequest("", "The body holds more than one JSON value.")
	}
	field := ""
	switch {
	case errors.As(err, &semantic):
		field = memberName(semantic.JSONPointer)
		switch {
		case errors.Is(semantic.Err, strictjson.ErrUnknownName):
			return badRequest(field, "Unknown member %q (names are matched exactly, case included).", field)
		case errors.Is(err, errNull):
			return badRequest(field, "%s: null is not accepted here; give a string, or leave the member out.", field)
		case semantic.GoType != nil:
			return badRequest(field, "%s: expected a JSON %s.", field, jsonKindOf(semantic.GoType.Kind()))
		}
		return badRequest(field, "%s: not an accepted value.", field)
	case errors.As(err, &syntactic):
		field = memberName(syntactic.JSONPointer)
		if errors.Is(syntactic.Err, jsontext.ErrDuplicateName) {
			return badRequest(field, "Member %q is given more than once.", field)
		}
		// Invalid UTF-8 is one of these: the decoder's words name it.
		return badRequest(field, "The body is not valid JSON at %s (byte %d): %v.", orBody(field), syntactic.ByteOffset, syntactic.Err)
	}
	return badRequest("", "The body is not valid JSON.")
}

// memberName is the request member a JSON pointer names ("/name_zh" →
// "name_zh"; nested members keep their path).
func memberName(p jsontext.Pointer) string {
	return strings.TrimPrefix(string(p), "/")
}

func orBody(field string) string {
	if field == "" {
		return "the body"
	}
	return field
}

// jsonKindOf names the JSON type a Go kind is read from.
func jsonKindOf(k reflect.Kind) string {
	switch k {
	case reflect.String:
		return "string"
	case reflect.Bool:
		return "boolean"
	case reflect.Slice, reflect.Array:
		return "array"
	case reflect.Struct, reflect.Map:
		return "object"
	}
	return "number"
}

// ---- endpoints ----

type namesJSON struct {
	ZH string `json:"zh"`
	PT string `json:"pt"`
	EN string `json:"en"`
}

type groupJSON struct {
	Code  string    `json:"code"`
	Names namesJSON `json:"names"`
}

func groupOut(g storage.Group) groupJSON {
	return groupJSON{Code: g.Code, Names: namesJSON{ZH: g.NameZH, PT: g.NamePT, EN: g.NameEN}}
}

type serviceJSON struct {
	Code         string    `json:"code"`
	Names        namesJSON `json:"names"`
	AccessPolicy string    `json:"access_policy"`
	// MinACR is the acr value of the e-service's minimum assurance level,
	// null when it has none.
	MinACR *string     `json:"min_acr"`
	Groups []groupJSON `json:"groups"`
}

func serviceOut(sv storage.DepartmentService) serviceJSON {
	s := serviceJSON{Code: sv.Code, Names: namesJSON{ZH: sv.NameZH, PT: sv.NamePT, EN: sv.NameEN},
		AccessPolicy: string(sv.AccessPolicy), Groups: make([]groupJSON, 0, len(sv.Groups))}
	if acr := sv.MinLevel.ACR(); acr != "" {
		s.MinACR = &acr
	}
	for _, g := range sv.Groups {
		s.Groups = append(s.Groups, groupOut(g))
	}
	return s
}

func (a *API) listServices(w http.ResponseWriter, r *http.Request, actor storage.Actor) error {
	all, err := a.dep.Services(r.Context(), actor)
	if err != nil {
		return err
	}
	out := make([]serviceJSON, 0, len(all))
	for _, sv := range all {
		out = append(out, serviceOut(sv))
	}
	kit.WriteJSON(w, http.StatusOK, map[string]any{"services": out})
	return nil
}

// updateService sets what a department may set of its e-service: its
// minimum assurance level, {"min_acr": "<acr>"} or {"min_acr": null}.
func (a *API) updateService(w http.ResponseWriter, r *http.Request, actor storage.Actor) error {
	var in struct {
		MinACR jsontext.Value `json:"min_acr"` // absent, null, or a string
	}
	if err := decode(w, r, &in); err != nil {
		return err
	}
	level, err := minLevelIn(in.MinACR)
	if err != nil {
		return err
	}
	sv, _, err := a.dep.SetServiceMinLevel(r.Context(), actor, mux.Vars(r)["code"], level)
	if err != nil {
		return err
	}
	kit.WriteJSON(w, http.StatusOK, serviceOut(sv))
	return nil
}

// minLevelIn reads the min_acr member of a request: null is no minimum, a
// string one of the provider's acr values.
func minLevelIn(raw jsontext.Value) (storage.Level, error) {
	switch {
	case len(raw) == 0:
		return storage.LevelNone, badRequest("min_acr", "min_acr is required: an acr value, or null for no minimum.")
	case raw.Kind() == 'n':
		return storage.LevelNone, nil
	}
	var acr string
	if raw.Kind() != '"' || strictjson.Unmarshal(raw, &acr) != nil {
		return storage.LevelNone, badRequest("min_acr", "min_acr: expected a JSON string or null.")
	}
	return manage.MinLevelOfACR(acr)
}

func (a *API) createGroup(w http.ResponseWriter, r *http.Request, actor storage.Actor) error {
	var in struct {
		Code   string `json:"code"`
		NameZH string `json:"name_zh"`
		NamePT string `json:"name_pt"`
		NameEN string `json:"name_en"`
	}
	if err := decode(w, r, &in); err != nil {
		return err
	}
	code := mux.Vars(r)["code"]
	g, err := a.dep.CreateGroup(r.Context(), actor, code, manage.GroupInput{Code: in.Code, NameZH: in.NameZH, NamePT: in.NamePT, NameEN: in.NameEN})
	if err != nil {
		return err
	}
	w.Header().Set("Location", strings.TrimSuffix(r.URL.Path, "/")+"/"+g.Code)
	kit.WriteJSON(w, http.StatusCreated, groupOut(g))
	return nil
}

func (a *API) renameGroup(w http.ResponseWriter, r *http.Request, actor storage.Actor) error {
	var in struct {
		NameZH *string `json:"name_zh"`
		NamePT *string `json:"name_pt"`
		NameEN *string `json:"name_en"`
	}
	if err := decode(w, r, &in); err != nil {
		return err
	}
	v := mux.Vars(r)
	g, err := a.dep.RenameGroup(r.Context(), actor, v["code"], v["group"], storage.GroupNames{ZH: in.NameZH, PT: in.NamePT, EN: in.NameEN})
	if err != nil {
		return err
	}
	kit.WriteJSON(w, http.StatusOK, groupOut(g))
	return nil
}

func (a *API) deleteGroup(w http.ResponseWriter, r *http.Request, actor storage.Actor) error {
	v := mux.Vars(r)
	if err := a.dep.DeleteGroup(r.Context(), actor, v["code"], v["group"]); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

type enrollmentJSON struct {
	Service      string `json:"service"`
	EntityNumber string `json:"entity_number"`
	Open         bool   `json:"open"`
	Changed      bool   `json:"changed"`
}

func (a *API) enrollEntity(w http.ResponseWriter, r *http.Request, actor storage.Actor) error {
	v := mux.Vars(r)
	number, err := manage.CanonicalEntityNumber(v["entity_number"])
	if err != nil {
		return err
	}
	changed, err := a.dep.EnrollEntity(r.Context(), actor, v["code"], number)
	if err != nil {
		return err
	}
	status := http.StatusOK
	if changed {
		status = http.StatusCreated
	}
	kit.WriteJSON(w, status, enrollmentJSON{Service: v["code"], EntityNumber: number, Open: true, Changed: changed})
	return nil
}

func (a *API) closeEntity(w http.ResponseWriter, r *http.Request, actor storage.Actor) error {
	v := mux.Vars(r)
	number, err := manage.CanonicalEntityNumber(v["entity_number"])
	if err != nil {
		return err
	}
	changed, err := a.dep.CloseService(r.Context(), actor, v["code"], number)
	if err != nil {
		return err
	}
	kit.WriteJSON(w, http.StatusOK, enrollmentJSON{Service: v["code"], EntityNumber: number, Open: false, Changed: changed})
	return nil
}

type assignmentJSON struct {
	EUID   string   `json:"euid"`
	Groups []string `json:"groups"`
}

func (a *API) assignments(w http.ResponseWriter, r *http.Request, actor storage.Actor) error {
	v := mux.Vars(r)
	all, err := a.dep.Assignments(r.Context(), actor, v["code"], v["entity_number"])
	if err != nil {
		return err
	}
	out := make([]assignmentJSON, 0, len(all))
	for _, as := range all {
		out = append(out, assignmentJSON{EUID: as.EUID, Groups: as.Groups})
	}
	kit.WriteJSON(w, http.StatusOK, map[string]any{"assignments": out})
	return nil
}

type changeJSON struct {
	ID     int64     `json:"id"`
	Actor  actorJSON `json:"actor"`
	Action string    `json:"action"`
	Target string    `json:"target"`
	At     time.Time `json:"at"`
}

type actorJSON struct {
	Kind string `json:"kind"`
	ID   string `json:"id"`
}

func queryInt(r *http.Request, name string) (int64, error) {
	s := r.URL.Query().Get(name)
	if s == "" {
		return 0, nil
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 1 {
		return 0, badRequest(name, "%s: a whole number, at least 1.", name)
	}
	return n, nil
}

func (a *API) changes(w http.ResponseWriter, r *http.Request, actor storage.Actor) error {
	before, err := queryInt(r, "before")
	if err != nil {
		return err
	}
	limit, err := queryInt(r, "limit")
	if err != nil {
		return err
	}
	if limit > 200 {
		return badRequest("limit", "limit: at most 200.")
	}
	events, err := a.dep.Changes(r.Context(), actor, before, int(limit))
	if err != nil {
		return err
	}
	out := make([]changeJSON, 0, len(events))
	for _, e := range events {
		out = append(out, changeJSON{ID: e.ID, Actor: actorJSON{Kind: e.ActorKind, ID: e.ActorID}, Action: e.Action, Target: e.Target, At: e.At.UTC()})
	}
	resp := map[string]any{"changes": out}
	if n := len(out); n > 0 && (limit == 0 && n == 50 || int64(n) == limit) {
		resp["next_before"] = out[n-1].ID
	}
	kit.WriteJSON(w, http.StatusOK, resp)
	return nil
}
