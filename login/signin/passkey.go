package signin

import (
	"context"
	"log/slog"
	"net/http"

	"github.com/entity-account/idp/login/kit"
	"github.com/entity-account/idp/op/telemetry"
	"github.com/entity-account/idp/storage"
)

// passkeyCheck is the sign-in with a passkey alone, as the e-service
// sign-in form and the portal's use it: the options of the ceremony, the
// check of its answer, and the session it starts.
type passkeyCheck struct {
	k        *kit.Kit
	cfg      Config
	sessions *credentialCheck // starts the session, as after a password
	factors  Factors          // nil: no passkeys
	history  *attempts        // records the refusals it decides
}

// PasskeySignInOptions are the options and sealed state of a sign-in with
// a passkey alone, for a page's passkey form; ok is false when this
// provider has no passkeys. Nothing is stored for them.
func (h *passkeyCheck) PasskeySignInOptions(ctx context.Context) (options, state string, ok bool) {
	if h.factors == nil || !h.factors.PasskeysEnabled() {
		return "", "", false
	}
	opts, st, err := h.factors.BeginPasskeySignIn(ctx)
	if err != nil {
		slog.WarnContext(ctx, "passkey sign-in unavailable", "err", err)
		return "", "", false
	}
	return string(opts), st, true
}

// VerifyPasskey checks the passkey answer of a parsed sign-in form (fields
// state and credential): the passkey names a staff login that may sign in.
// It returns that login and the methods proven (amr, mfa included), or a
// refusal to show (throttled, or not verified). Failures count on the
// address's sign-in counter, reserved before the check; a passkey cannot
// be guessed, but its checks cost us work.
func (h *passkeyCheck) VerifyPasskey(ctx context.Context, r *http.Request) (storage.Principal, []string, *kit.Refusal, error) {
	if h.factors == nil {
		return storage.Principal{}, nil, nil, errExpired
	}
	att, wait, err := h.k.ReserveAttempt(ctx, h.cfg.FailureWindow, kit.Limit{Key: "login-fail:ip:" + h.k.ClientIP(r), Max: h.cfg.FailuresPerIP})
	if err != nil {
		return storage.Principal{}, nil, nil, err
	}
	if att == nil {
		telemetry.SignIn(telemetry.SignInThrottled)
		h.history.record(r, clientOf(ctx), storage.Principal{}, "", "", storage.SignInLocked, storage.MethodPasskey)
		f := kit.Throttled("error_throttled", wait)
		return storage.Principal{}, nil, &f, nil
	}
	loginID, subject, amr, err := h.factors.FinishPasskeySignIn(ctx, r.PostForm.Get("state"), []byte(r.PostForm.Get("credential")))
	var p storage.Principal
	if err == nil {
		p, err = h.k.Dir.PrincipalBySubject(ctx, subject)
		if err == nil && (p.ID != loginID || p.Kind != storage.KindStaff || !p.CanSignIn()) {
			err = storage.ErrNotFound
		}
	}
	if err != nil {
		if c := storage.CodeOf(err); c == storage.EUnavailable || c == storage.EInternal {
			att.GiveBack(ctx)
			return p, nil, nil, err
		}
		telemetry.SignIn(telemetry.SignInBadCredentials)
		h.history.record(r, clientOf(ctx), p, "", "", storage.SignInPasskeyFailed, storage.MethodPasskey)
		slog.InfoContext(ctx, "passkey sign-in failed", "ip", h.k.ClientIP(r), "err", err)
		return p, nil, &kit.Refusal{Status: http.StatusUnauthorized, Key: "error_passkey_sign_in"}, nil
	}
	att.Succeeded(ctx)
	return p, withMethods(nil, amr...), nil, nil
}

// StartPasskeySession starts the SSO session of p, signed in with a
// passkey alone (methods amr), in this browser, and sets the cookie.
func (h *passkeyCheck) StartPasskeySession(w http.ResponseWriter, r *http.Request, p storage.Principal, amr []string) (*storage.Session, error) {
	cur, err := h.sessions.startSession(w, r, p, amr, true, 0)
	if err != nil {
		return nil, err
	}
	return cur.Session, nil
}
