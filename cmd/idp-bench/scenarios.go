package main

import (
	"context"
	"net/http"
	"time"
)

// boundKind names the hardware bound a scenario is compared with.
type boundKind string

const (
	boundNone   boundKind = ""
	boundArgon2 boundKind = "argon2id"
	boundSign   boundKind = "sign"
)

// worker is the state of one virtual user. A worker is used by one goroutine
// at a time.
type worker struct {
	t        *target
	tr       http.RoundTripper
	timeout  time.Duration
	b        *browser // the worker's browser (with a cookie jar) for set-up and SSO
	api      *browser // without cookies, for API calls (token, userinfo, introspection)
	tok      tokens
	rec      *recorder
	requests int // HTTP requests sent by the worker's browsers
}

func newWorker(t *target, tr http.RoundTripper, timeout time.Duration) *worker {
	w := &worker{t: t, tr: tr, timeout: timeout, rec: newRecorder()}
	w.b, w.api = w.newBrowser(true), w.newBrowser(false)
	return w
}

func (w *worker) newBrowser(withJar bool) *browser {
	return newBrowser(w.tr, w.timeout, withJar, &w.requests)
}

// scenario is one kind of load. setup runs once per worker before the
// measured window; run is one iteration.
type scenario struct {
	name     string
	about    string
	defaultC int
	bound    boundKind
	setup    func(ctx context.Context, w *worker) error
	run      func(ctx context.Context, w *worker) error
}

var scenarios = []scenario{
	{
		name: "login", defaultC: 8, bound: boundArgon2,
		about: "browser journey with a fresh cookie jar: authorize, login page, POST, callback, code, token (PKCE), userinfo",
		run: func(ctx context.Context, w *worker) error {
			b := w.newBrowser(true)
			tok, err := w.t.signIn(ctx, b, w.api, w.t.world.Public, scopeLogin, w.t.nextLogin())
			if err != nil {
				return err
			}
			return w.t.callUserinfo(ctx, w.api, tok.AccessToken)
		},
	},
	{
		name: "sso", defaultC: 16, bound: boundSign,
		about: "authorize with a live SSO session (no password), callback, code, token: one ID token signed",
		setup: func(ctx context.Context, w *worker) error {
			_, err := w.t.signIn(ctx, w.b, w.api, w.t.world.Public, scopeSSO, w.t.nextLogin())
			return err
		},
		run: func(ctx context.Context, w *worker) error {
			a, code, err := w.t.ssoCode(ctx, w.b, w.t.world.Public, scopeSSO)
			if err != nil {
				return err
			}
			_, err = w.t.exchange(ctx, w.api, a, code)
			return err
		},
	},
	{
		name: "refresh", defaultC: 16, bound: boundSign,
		about: "refresh_token grant with rotation, each worker on its own chain: one ID token signed",
		setup: signInPublic(scopeLogin),
		run: func(ctx context.Context, w *worker) error {
			tok, err := w.t.refresh(ctx, w.api, w.t.world.Public, w.tok.RefreshToken)
			if err != nil {
				// The chain is broken: start a new one, so later iterations measure refreshes again.
				if tok, serr := w.t.signIn(ctx, w.newBrowser(true), w.api, w.t.world.Public, scopeLogin, w.t.nextLogin()); serr == nil {
					w.tok = tok
				}
				return err
			}
			w.tok = tok
			return nil
		},
	},
	{
		name: "userinfo", defaultC: 32,
		about: "GET userinfo with a bearer access token",
		setup: signInPublic(scopeSSO),
		run: func(ctx context.Context, w *worker) error {
			return w.t.callUserinfo(ctx, w.api, w.tok.AccessToken)
		},
	},
	{
		name: "introspect", defaultC: 32,
		about: "POST introspection of an access token, client_secret_basic of the confidential client",
		setup: func(ctx context.Context, w *worker) error {
			tok, err := w.t.signIn(ctx, w.b, w.api, w.t.world.Confidential, scopeSSO, w.t.nextLogin())
			w.tok = tok
			return err
		},
		run: func(ctx context.Context, w *worker) error {
			return w.t.callIntrospect(ctx, w.api, w.tok.AccessToken)
		},
	},
	{
		name: "client_credentials", defaultC: 32,
		about: "client_credentials grant of the department's machine client, client_secret_basic: one opaque access token (no signature)",
		run: func(ctx context.Context, w *worker) error {
			return w.t.clientCredentials(ctx, w.api)
		},
	},
}

func signInPublic(scope string) func(ctx context.Context, w *worker) error {
	return func(ctx context.Context, w *worker) error {
		tok, err := w.t.signIn(ctx, w.b, w.api, w.t.world.Public, scope, w.t.nextLogin())
		w.tok = tok
		return err
	}
}

func scenarioByName(name string) (scenario, bool) {
	for _, s := range scenarios {
		if s.name == name {
			return s, true
		}
	}
	return scenario{}, false
}
