// Package deptapi is the department API: JSON under {issuer}/api/v1/ for a
// department's back end, authenticated by an access token of one of its
// machine clients (client_credentials, op.Storage.MachineToken) with the
// scopes department.read and department.write. Handlers parse the request,
// call a use case (login/manage/department.go) and hand every error to one
// JSON error writer (writeError); the rule book is the use cases' business,
// and an e-service of another department is not found. The OpenAPI 3.1
// document (openapi.json) describes every route and is served at
// /api/v1/openapi.json.
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
	"strconv"
	"strings"
	"time"

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

// OpenAPI is the API's OpenAPI 3.1 document.
func OpenAPI() []byte { return openAPI }

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
}

// New returns the API over the token verifier and the department use cases.
func New(verify Verifier, dep *manage.Departments, trustProxyHeaders bool) *API {
	a := &API{verify: verify, dep: dep, kit: &kit.Kit{Config: kit.Config{TrustProxyHeaders: trustProxyHeaders}}}
	r := mux.NewRouter()
	r.NotFoundHandler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeError(w, r, &storage.Error{Code: storage.ENotFound, Message: "No such resource in the department API.", Err: storage.ErrNotFound})
	})
	r.MethodNotAllowedHandler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeJSONError(w, http.StatusMethodNotAllowed, apiError{Error: "method_not_allowed", Message: "This method is not allowed on this resource."})
	})
	r.HandleFunc(Prefix+"/openapi.json", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		_, _ = w.Write(openAPI)
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
		{http.MethodPut, "/services/{code}/entities/{entity_number}", ScopeWrite, a.openEntity},
		{http.MethodDelete, "/services/{code}/entities/{entity_number}", ScopeWrite, a.closeEntity},
		{http.MethodGet, "/services/{code}/entities/{entity_number}/assignments", ScopeRead, a.assignments},
		{http.MethodGet, "/changes", ScopeRead, a.changes},
	} {
		r.Handle(Prefix+rt.path, a.authenticated(rt.scope, rt.h)).Methods(rt.method)
	}
	a.router = r
	return a
}

// Router is the API's router (its routes' paths start with Prefix).
func (a *API) Router() *mux.Router { return a.router }

// Mount puts the API at base+Prefix on r (a router of the issuer's path
// base), before the provider's catch-all.
func (a *API) Mount(r *mux.Router, base string) {
	h := http.Handler(a.router)
	if base != "" {
		h = http.StripPrefix(base, h)
	}
	r.PathPrefix(Prefix + "/").Handler(h)
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
			writeJSONError(w, http.StatusUnauthorized, apiError{Error: "invalid_token", Message: msg})
			return
		}
		access, err := a.verify.MachineToken(r.Context(), bearer)
		if errors.Is(err, idpop.ErrInvalidToken) || errors.Is(err, idpop.ErrNotMachineToken) {
			msg := "The access token is invalid, expired or revoked."
			if errors.Is(err, idpop.ErrNotMachineToken) {
				msg = "The access token is not a department's machine client's."
			}
			w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
			writeJSONError(w, http.StatusUnauthorized, apiError{Error: "invalid_token", Message: msg})
			return
		}
		if err != nil {
			writeError(w, r, err)
			return
		}
		if !access.HasScope(scope) {
			w.Header().Set("WWW-Authenticate", fmt.Sprintf(`Bearer error="insufficient_scope", scope=%q`, scope))
			writeJSONError(w, http.StatusForbidden, apiError{Error: "insufficient_scope",
				Message: "The access token lacks the scope " + scope + "."})
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

// requestError is a request the API cannot read: its status and answer.
type requestError struct {
	status int
	apiError
}

func (e *requestError) Error() string { return e.Message }

func badRequest(field, format string, args ...any) error {
	return &requestError{http.StatusBadRequest, apiError{Error: "invalid_request", Message: fmt.Sprintf(format, args...), Field: field}}
}

// writeError answers err: a request the API could not read as such, else by
// its storage code (an internal fault without its details, logged).
func writeError(w http.ResponseWriter, r *http.Request, err error) {
	var re *requestError
	if errors.As(err, &re) {
		writeJSONError(w, re.status, re.apiError)
		return
	}
	code := storage.CodeOf(err)
	body := apiError{Error: string(code), Message: storage.MessageOf(err)}
	var se *storage.Error
	if errors.As(err, &se) {
		body.Field = se.Field
	}
	status := http.StatusInternalServerError
	switch code {
	case storage.EInvalid:
		status, body.Error = http.StatusBadRequest, "invalid_request"
	case storage.ENotFound:
		status = http.StatusNotFound
	case storage.EConflict:
		status = http.StatusConflict
	case storage.EForbidden:
		status = http.StatusForbidden
	case storage.EUnavailable:
		status = http.StatusServiceUnavailable
		kit.RetryAfter(w, 5*time.Second)
		slog.WarnContext(r.Context(), "department API: store unavailable", "path", r.URL.Path, "err", err)
	default:
		body = apiError{Error: string(storage.EInternal), Message: "Internal error."}
		slog.ErrorContext(r.Context(), "department API", "method", r.Method, "path", r.URL.Path, "err", err)
	}
	writeJSONError(w, status, body)
}

func writeJSONError(w http.ResponseWriter, status int, e apiError) {
	writeJSON(w, status, e)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// decode reads the JSON body into v: application/json, at most MaxBody
// bytes, one object with no unknown fields.
func decode(w http.ResponseWriter, r *http.Request, v any) error {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "application/json" {
		return &requestError{http.StatusUnsupportedMediaType, apiError{Error: "unsupported_media_type",
			Message: "The body must be JSON (Content-Type: application/json)."}}
	}
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, MaxBody))
	dec.DisallowUnknownFields()
	err = dec.Decode(v)
	if err == nil {
		if dec.Decode(&struct{}{}) != io.EOF {
			err = errors.New("more than one JSON value")
		}
	}
	var tooLarge *http.MaxBytesError
	var typeErr *json.UnmarshalTypeError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &tooLarge):
		return &requestError{http.StatusRequestEntityTooLarge, apiError{Error: "request_too_large",
			Message: fmt.Sprintf("The body is larger than %d bytes.", MaxBody)}}
	case errors.As(err, &typeErr):
		return badRequest(typeErr.Field, "%s: expected a JSON %s.", typeErr.Field, typeErr.Type.Kind())
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		field := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		return badRequest(field, "Unknown field %q.", field)
	case errors.Is(err, io.EOF):
		return badRequest("", "The body is empty: a JSON object is expected.")
	}
	return badRequest("", "The body is not valid JSON: %v.", err)
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
	writeJSON(w, http.StatusOK, map[string]any{"services": out})
	return nil
}

// updateService sets what a department may set of its e-service: its
// minimum assurance level, {"min_acr": "<acr>"} or {"min_acr": null}.
func (a *API) updateService(w http.ResponseWriter, r *http.Request, actor storage.Actor) error {
	var in struct {
		MinACR json.RawMessage `json:"min_acr"` // absent, null, or a string
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
	writeJSON(w, http.StatusOK, serviceOut(sv))
	return nil
}

// minLevelIn reads the min_acr member of a request: null is no minimum, a
// string one of the provider's acr values.
func minLevelIn(raw json.RawMessage) (storage.Level, error) {
	switch {
	case len(raw) == 0:
		return storage.LevelNone, badRequest("min_acr", "min_acr is required: an acr value, or null for no minimum.")
	case string(raw) == "null":
		return storage.LevelNone, nil
	}
	var acr string
	if err := json.Unmarshal(raw, &acr); err != nil {
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
	writeJSON(w, http.StatusCreated, groupOut(g))
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
	writeJSON(w, http.StatusOK, groupOut(g))
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

func (a *API) openEntity(w http.ResponseWriter, r *http.Request, actor storage.Actor) error {
	v := mux.Vars(r)
	changed, err := a.dep.OpenService(r.Context(), actor, v["code"], v["entity_number"])
	if err != nil {
		return err
	}
	status := http.StatusOK
	if changed {
		status = http.StatusCreated
	}
	writeJSON(w, status, enrollmentJSON{Service: v["code"], EntityNumber: v["entity_number"], Open: true, Changed: changed})
	return nil
}

func (a *API) closeEntity(w http.ResponseWriter, r *http.Request, actor storage.Actor) error {
	v := mux.Vars(r)
	changed, err := a.dep.CloseService(r.Context(), actor, v["code"], v["entity_number"])
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, enrollmentJSON{Service: v["code"], EntityNumber: v["entity_number"], Open: false, Changed: changed})
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
	writeJSON(w, http.StatusOK, map[string]any{"assignments": out})
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
	writeJSON(w, http.StatusOK, resp)
	return nil
}
