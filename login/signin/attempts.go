package signin

import (
	"context"
	"net/http"
	"slices"

	"github.com/entity-account/idp/login/kit"
	"github.com/entity-account/idp/storage"
)

// Recorder takes the sign-in attempts for the sign-in history
// (login/history's Recorder: it queues them and never blocks).
type Recorder interface {
	Record(storage.SignInEvent)
}

// attempts records each sign-in attempt once, where its outcome is
// decided: the refusals of the three fields and of a passkey in Verify and
// VerifyPasskey, the rest where the sign-in ends (finish, the second step,
// the portal's sign-in). Shared by the parts of the sign-in.
type attempts struct {
	k  *kit.Kit
	to Recorder // nil: no history
}

// clientKey carries, in a sign-in's context, the client the sign-in is
// for, so that the shared checks (Verify, VerifyPasskey) record it.
type clientKey struct{}

// forClient is ctx of a sign-in for client clientID.
func forClient(ctx context.Context, clientID string) context.Context {
	return context.WithValue(ctx, clientKey{}, clientID)
}

// clientOf is the client a sign-in's context is for ("": the portal).
func clientOf(ctx context.Context) string {
	c, _ := ctx.Value(clientKey{}).(string)
	return c
}

// record records an attempt of r for client about p (the zero principal
// when the attempt named no account: then the typed entity number and
// username).
func (h *attempts) record(r *http.Request, client string, p storage.Principal, entityNumber, username string, o storage.SignInOutcome, m storage.SignInMethod) {
	if h == nil || h.to == nil {
		return
	}
	if p.Subject != "" {
		entityNumber, username = p.EntityNumber, p.Username
	}
	e := storage.NewSignInEvent(h.k.Now(), entityNumber, username, o, m, h.k.ClientIP(r), r.UserAgent(), client)
	e.Subject, e.EntityID = p.Subject, p.EntityID
	h.to.Record(e)
}

// methodOf is how a session's sign-in was made: a password, or a passkey alone.
func methodOf(amr []string) storage.SignInMethod {
	if slices.Contains(amr, storage.AMRPassword) {
		return storage.MethodPassword
	}
	return storage.MethodPasskey
}

// SetRecorder gives the sign-in its history. Call it before Mount.
func (h *Handler) SetRecorder(rec Recorder) { h.attempts.to = rec }

// RecordSignIn records the portal's sign-in of p (with methods amr), which
// ends there rather than at an e-service.
func (h *Handler) RecordSignIn(r *http.Request, p storage.Principal, amr []string) {
	h.attempts.record(r, "", p, "", "", storage.SignInSucceeded, methodOf(amr))
}
