package op

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"runtime"
	"strings"
	"testing"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	zop "github.com/zitadel/oidc/v3/pkg/op"

	"github.com/entity-account/idp/storage"
)

// failingState is a ShortLived whose AuthRequest fails with err.
type failingState struct {
	storage.ShortLived
	err error
}

func (f failingState) AuthRequest(context.Context, string) (*storage.AuthRequest, error) {
	return nil, f.err
}

// errDown is a store failure as the backends return it: marked unavailable.
var errDown = fmt.Errorf("redis: get auth request: %w: %w", storage.ErrUnavailable, errors.New("dial tcp 127.0.0.1:6379: connect: connection refused"))

// TestStoreOutageGuard checks every way an answer can leave the guard.
func TestStoreOutageGuard(t *testing.T) {
	paths := GuardPaths{Browser: []string{"/authorize", "/end_session"}, Strict: []string{"/oauth/introspect", "/revoke"}}
	page := func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.WriteHeader(http.StatusServiceUnavailable)
		fmt.Fprint(w, "<p>try again shortly</p>")
	}
	for _, tc := range []struct {
		name, path string
		storeErr   error // what the store call inside the handler returns (nil: no call)
		answer     func(w http.ResponseWriter, r *http.Request)
		wantStatus int
		wantJSON   string // wanted "error" of a JSON body
		wantBody   string // wanted body otherwise
		wantLoc    url.Values
		wantRetry  bool
	}{
		{
			name: "token endpoint, store down: 500 server_error becomes 503 temporarily_unavailable", path: "/oauth/token",
			storeErr: errDown,
			answer: func(w http.ResponseWriter, r *http.Request) {
				zop.RequestError(w, r, oidc.ErrServerError().WithParent(errDown), nil)
			},
			wantStatus: 503, wantJSON: "temporarily_unavailable", wantRetry: true,
		},
		{
			name: "token endpoint, store down behind an invalid_grant: 503 too", path: "/oauth/token",
			storeErr: errDown,
			answer: func(w http.ResponseWriter, r *http.Request) {
				zop.RequestError(w, r, oidc.ErrInvalidGrant().WithDescription("invalid or expired authorization code"), nil)
			},
			wantStatus: 503, wantJSON: "temporarily_unavailable", wantRetry: true,
		},
		{
			name: "userinfo, store down behind 401 text: JSON 503", path: "/userinfo",
			storeErr: errDown,
			answer: func(w http.ResponseWriter, r *http.Request) {
				http.Error(w, "access token invalid", http.StatusUnauthorized)
			},
			wantStatus: 503, wantJSON: "temporarily_unavailable", wantRetry: true,
		},
		{
			name: "authorize callback, store down behind 400 text: the 503 page", path: "/authorize/callback",
			storeErr: errDown,
			answer: func(w http.ResponseWriter, r *http.Request) {
				zop.AuthRequestError(w, r, nil, errDown, nil)
			},
			wantStatus: 503, wantBody: "<p>try again shortly</p>", wantRetry: true,
		},
		{
			name: "authorize, store down: the redirect to the client says temporarily_unavailable", path: "/authorize",
			storeErr: errDown,
			answer: func(w http.ResponseWriter, r *http.Request) {
				http.Redirect(w, r, "https://rp.example/cb?error=server_error&error_description=boom&state=s1", http.StatusFound)
			},
			wantStatus: 302, wantLoc: url.Values{"error": {"temporarily_unavailable"}, "state": {"s1"}}, wantRetry: true,
		},
		{
			name: "fragment response mode too", path: "/authorize",
			storeErr: errDown,
			answer: func(w http.ResponseWriter, r *http.Request) {
				http.Redirect(w, r, "https://rp.example/cb#error=server_error&state=s2", http.StatusFound)
			},
			wantStatus: 302, wantLoc: url.Values{"error": {"temporarily_unavailable"}, "state": {"s2"}}, wantRetry: true,
		},
		{
			name: "store down but the answer is a success: untouched", path: "/oauth/token",
			storeErr: errDown,
			answer: func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				fmt.Fprint(w, `{"error":"none"}`)
			},
			wantStatus: 200, wantJSON: "none",
		},
		{
			name: "introspection, store down: not a false {active:false} but 503", path: "/oauth/introspect",
			storeErr: errDown,
			answer: func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				fmt.Fprint(w, `{"active":false}`)
			},
			wantStatus: 503, wantJSON: "temporarily_unavailable", wantRetry: true,
		},
		{
			name: "revocation, store down: not a false 200 but 503 (RFC 7009 §2.2.1)", path: "/revoke",
			storeErr: errDown,
			answer: func(w http.ResponseWriter, r *http.Request) {
				w.WriteHeader(http.StatusOK)
			},
			wantStatus: 503, wantJSON: "temporarily_unavailable", wantRetry: true,
		},
		{
			name: "introspection without a store failure: untouched", path: "/oauth/introspect",
			answer: func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				fmt.Fprint(w, `{"error":"none"}`)
			},
			wantStatus: 200, wantJSON: "none",
		},
		{
			name: "no store failure: a 500 stays a 500 (a bug must stay visible)", path: "/oauth/token",
			answer: func(w http.ResponseWriter, r *http.Request) {
				zop.RequestError(w, r, oidc.ErrServerError().WithDescription("bug"), nil)
			},
			wantStatus: 500, wantJSON: "server_error",
		},
		{
			name: "a domain answer (not found) is no store failure: 400 stays", path: "/oauth/token",
			storeErr: fmt.Errorf("redis: get: %w", storage.ErrNotFound),
			answer: func(w http.ResponseWriter, r *http.Request) {
				zop.RequestError(w, r, oidc.ErrInvalidGrant(), nil)
			},
			wantStatus: 400, wantJSON: "invalid_grant",
		},
		{
			name: "a redirect with another error is left alone", path: "/authorize",
			storeErr: errDown,
			answer: func(w http.ResponseWriter, r *http.Request) {
				http.Redirect(w, r, "https://rp.example/cb?error=login_required&state=s3", http.StatusFound)
			},
			wantStatus: 302, wantLoc: url.Values{"error": {"login_required"}, "state": {"s3"}},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, state := ObserveStoreFailures(nil, failingState{err: tc.storeErr})
			h := StoreOutageGuard(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if tc.storeErr != nil {
					_, _ = state.AuthRequest(r.Context(), "x")
				}
				tc.answer(w, r)
			}), paths, page)
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, tc.path, nil))
			res := rec.Result()
			if res.StatusCode != tc.wantStatus {
				t.Fatalf("status = %d, want %d; body %s", res.StatusCode, tc.wantStatus, rec.Body)
			}
			if got := res.Header.Get("Retry-After"); (got == "5") != tc.wantRetry {
				t.Errorf("Retry-After = %q, want it set: %v", got, tc.wantRetry)
			}
			switch {
			case tc.wantJSON != "":
				if ct := res.Header.Get("Content-Type"); ct != "application/json" {
					t.Errorf("Content-Type = %q", ct)
				}
				var body map[string]string
				if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
					t.Fatalf("body is not one JSON object: %q", rec.Body)
				}
				if body["error"] != tc.wantJSON {
					t.Errorf("error = %q, want %q", body["error"], tc.wantJSON)
				}
			case tc.wantBody != "":
				if rec.Body.String() != tc.wantBody {
					t.Errorf("body = %q, want %q", rec.Body, tc.wantBody)
				}
			}
			if tc.wantLoc != nil {
				u, err := url.Parse(res.Header.Get("Location"))
				if err != nil {
					t.Fatal(err)
				}
				q := u.Query()
				if u.Fragment != "" {
					q, _ = url.ParseQuery(u.Fragment)
				}
				for k := range tc.wantLoc {
					if q.Get(k) != tc.wantLoc.Get(k) {
						t.Errorf("Location %s = %q, want %q (%s)", k, q.Get(k), tc.wantLoc.Get(k), u)
					}
				}
			}
		})
	}
}

// TestObservedStoresMarkOnlyFailures: the observers mark a request for
// store failures (storage.ErrUnavailable), never for domain answers or
// unclassified errors, and never outside a guarded request.
func TestObservedStoresMarkOnlyFailures(t *testing.T) {
	for _, tc := range []struct {
		err  error
		mark bool
	}{
		{nil, false},
		{storage.ErrNotFound, false},
		{fmt.Errorf("wrapped: %w", storage.ErrConflict), false},
		{storage.ErrCodeReused, false},
		{storage.ErrRefreshTokenReused, false},
		{storage.ErrAlreadyExists, false},
		{errDown, true},
		{fmt.Errorf("postgres: get principal: %w: %w", storage.ErrUnavailable, context.DeadlineExceeded), true},
		// Not outages: a value the store refused, and errors nobody
		// classified (a bug must not hide behind "try again shortly").
		{fmt.Errorf("postgres: get principal: %w", storage.ErrInvalid), false},
		{errors.New("redis: decode auth request: invalid character"), false},
		{context.DeadlineExceeded, false},
	} {
		_, state := ObserveStoreFailures(nil, failingState{err: tc.err})
		ctx, failed := withFailureMark(context.Background())
		if _, err := state.AuthRequest(ctx, "x"); !errors.Is(err, tc.err) {
			t.Errorf("the observer changed the error: %v", err)
		}
		if failed() != tc.mark {
			t.Errorf("%v: marked = %v, want %v", tc.err, failed(), tc.mark)
		}
		// Outside a guarded request there is nothing to mark, and no panic.
		_, _ = state.AuthRequest(context.Background(), "x")
	}
}

// TestObserversCoverTheStores: every store method has an observer of its
// own, or is listed here as one the protocol storage never calls. A method
// added to the store interfaces that the protocol storage uses must be
// observed (op/observe.go), else its outage answers 500 again.
func TestObserversCoverTheStores(t *testing.T) {
	notUsedByProtocol := map[string]bool{
		// The portal's pages use these, not op.Storage.
		"ChangePassword": true, "StaffLogin": true, "Entity": true, "EntityAccount": true, "Tools": true,
		// The portal's 已登入的裝置 and staff pages read these (sessions, lockouts).
		"SessionsOf": true, "Held": true, "HeldAll": true,
		// The protocol edge admits authorization requests before the engine
		// sees them (a failed admission lets the request on, to fail at
		// SaveAuthRequest, which is observed).
		"AdmitAuthRequest": true, "ReleaseAuthRequest": true,
	}
	for _, tc := range []struct {
		iface, impl reflect.Type
	}{
		{reflect.TypeFor[storage.Directory](), reflect.TypeFor[observedDirectory]()},
		{reflect.TypeFor[storage.ShortLived](), reflect.TypeFor[observedState]()},
	} {
		for i := range tc.iface.NumMethod() {
			name := tc.iface.Method(i).Name
			m, ok := tc.impl.MethodByName(name)
			if !ok {
				t.Fatalf("%s has no %s", tc.impl, name)
			}
			file, _ := runtime.FuncForPC(m.Func.Pointer()).FileLine(m.Func.Pointer())
			own := strings.HasSuffix(file, "observe.go")
			if !own && !notUsedByProtocol[name] {
				t.Errorf("%s.%s is not observed: add it to op/observe.go (or to notUsedByProtocol if op.Storage never calls it)", tc.iface, name)
			}
		}
	}
}
