package op

import (
	"context"
	"time"

	"github.com/entity-account/idp/op/telemetry"
	"github.com/entity-account/idp/storage"
)

// observedDirectory and observedState pass every call through and mark the
// request when it fails (see unavailable.go), counting the failure by store
// (idp_store_failures_total). A method added to the store interfaces later
// falls through the embedded interface unobserved; add it here.
type observedDirectory struct{ storage.Directory }

func (o observedDirectory) Principal(ctx context.Context, entityNumber, username string) (storage.Principal, error) {
	p, err := o.Directory.Principal(ctx, entityNumber, username)
	return p, notePostgresError(ctx, err)
}

func (o observedDirectory) PrincipalBySubject(ctx context.Context, subject string) (storage.Principal, error) {
	p, err := o.Directory.PrincipalBySubject(ctx, subject)
	return p, notePostgresError(ctx, err)
}

func (o observedDirectory) UpdatePasswordHash(ctx context.Context, kind storage.PrincipalKind, id int64, old, new string) error {
	return notePostgresError(ctx, o.Directory.UpdatePasswordHash(ctx, kind, id, old, new))
}

func (o observedDirectory) ServiceAccess(ctx context.Context, staffLoginID, serviceID int64) (storage.ServiceAccess, error) {
	a, err := o.Directory.ServiceAccess(ctx, staffLoginID, serviceID)
	return a, notePostgresError(ctx, err)
}

func (o observedDirectory) PrincipalInService(ctx context.Context, subject string, loginID, serviceID int64) (storage.Principal, storage.ServiceAccess, error) {
	p, a, err := o.Directory.PrincipalInService(ctx, subject, loginID, serviceID)
	return p, a, notePostgresError(ctx, err)
}

func (o observedDirectory) Client(ctx context.Context, id string) (storage.Client, error) {
	c, err := o.Directory.Client(ctx, id)
	return c, notePostgresError(ctx, err)
}

func (o observedDirectory) SigningKeys(ctx context.Context) ([]storage.SigningKey, error) {
	k, err := o.Directory.SigningKeys(ctx)
	return k, notePostgresError(ctx, err)
}

func (o observedDirectory) CreateSigningKey(ctx context.Context, k storage.SigningKey, activate bool, retiredExpiry time.Time) error {
	return notePostgresError(ctx, o.Directory.CreateSigningKey(ctx, k, activate, retiredExpiry))
}

func (o observedDirectory) EnsureSigningKey(ctx context.Context, k storage.SigningKey) (bool, error) {
	ok, err := o.Directory.EnsureSigningKey(ctx, k)
	return ok, notePostgresError(ctx, err)
}

func (o observedDirectory) Ping(ctx context.Context) error {
	return notePostgresError(ctx, o.Directory.Ping(ctx))
}

type observedState struct{ storage.ShortLived }

func (o observedState) Once(ctx context.Context, purpose, key string, ttl time.Duration) (bool, error) {
	first, err := o.ShortLived.Once(ctx, purpose, key, ttl)
	return first, noteRedisError(ctx, err)
}

func (o observedState) SaveAuthRequest(ctx context.Context, r *storage.AuthRequest, ttl time.Duration) error {
	return noteRedisError(ctx, o.ShortLived.SaveAuthRequest(ctx, r, ttl))
}

func (o observedState) AuthRequest(ctx context.Context, id string) (*storage.AuthRequest, error) {
	r, err := o.ShortLived.AuthRequest(ctx, id)
	return r, noteRedisError(ctx, err)
}

func (o observedState) CompleteAuthRequest(ctx context.Context, id string, a storage.Authentication) error {
	return noteRedisError(ctx, o.ShortLived.CompleteAuthRequest(ctx, id, a))
}

func (o observedState) SaveAuthCode(ctx context.Context, authRequestID, code string, ttl time.Duration) error {
	return noteRedisError(ctx, o.ShortLived.SaveAuthCode(ctx, authRequestID, code, ttl))
}

func (o observedState) ConsumeAuthCode(ctx context.Context, code string) (string, error) {
	id, err := o.ShortLived.ConsumeAuthCode(ctx, code)
	return id, noteRedisError(ctx, err)
}

func (o observedState) DeleteAuthRequest(ctx context.Context, id string) error {
	return noteRedisError(ctx, o.ShortLived.DeleteAuthRequest(ctx, id))
}

func (o observedState) CreateSession(ctx context.Context, s *storage.Session, idle time.Duration) (string, error) {
	secret, err := o.ShortLived.CreateSession(ctx, s, idle)
	return secret, noteRedisError(ctx, err)
}

func (o observedState) Session(ctx context.Context, secret string, idle time.Duration) (*storage.Session, error) {
	s, err := o.ShortLived.Session(ctx, secret, idle)
	return s, noteRedisError(ctx, err)
}

func (o observedState) ProveInSession(ctx context.Context, secret string, fn func(*storage.Session)) (*storage.Session, error) {
	s, err := o.ShortLived.ProveInSession(ctx, secret, fn)
	return s, noteRedisError(ctx, err)
}

func (o observedState) DeleteSession(ctx context.Context, secret string) error {
	return noteRedisError(ctx, o.ShortLived.DeleteSession(ctx, secret))
}

func (o observedState) EndSessionByID(ctx context.Context, sid string) error {
	return noteRedisError(ctx, o.ShortLived.EndSessionByID(ctx, sid))
}

func (o observedState) SaveAccessToken(ctx context.Context, t *storage.AccessToken) error {
	return noteRedisError(ctx, o.ShortLived.SaveAccessToken(ctx, t))
}

func (o observedState) AccessToken(ctx context.Context, id string) (*storage.AccessToken, error) {
	t, err := o.ShortLived.AccessToken(ctx, id)
	return t, noteRedisError(ctx, err)
}

func (o observedState) RevokeAccessToken(ctx context.Context, id string) error {
	return noteRedisError(ctx, o.ShortLived.RevokeAccessToken(ctx, id))
}

func (o observedState) RefreshToken(ctx context.Context, token string) (*storage.RefreshToken, error) {
	t, err := o.ShortLived.RefreshToken(ctx, token)
	return t, noteRedisError(ctx, err)
}

func (o observedState) CreateTokens(ctx context.Context, at *storage.AccessToken, rt *storage.RefreshToken) (string, error) {
	tok, err := o.ShortLived.CreateTokens(ctx, at, rt)
	return tok, noteRedisError(ctx, err)
}

func (o observedState) RotateTokens(ctx context.Context, prev, next *storage.RefreshToken, at *storage.AccessToken) (string, error) {
	tok, err := o.ShortLived.RotateTokens(ctx, prev, next, at)
	return tok, noteRedisError(ctx, err)
}

func (o observedState) RevokeGrant(ctx context.Context, grantID string) error {
	return noteRedisError(ctx, o.ShortLived.RevokeGrant(ctx, grantID))
}

func (o observedState) EndAllForSubject(ctx context.Context, subject string) error {
	return noteRedisError(ctx, o.ShortLived.EndAllForSubject(ctx, subject))
}

func (o observedState) Reserve(ctx context.Context, key string, max int, window time.Duration) (time.Duration, error) {
	wait, err := o.ShortLived.Reserve(ctx, key, max, window)
	return wait, noteRedisError(ctx, err)
}

func (o observedState) Release(ctx context.Context, key string) error {
	return noteRedisError(ctx, o.ShortLived.Release(ctx, key))
}

func (o observedState) ResetAttempts(ctx context.Context, key string) error {
	return noteRedisError(ctx, o.ShortLived.ResetAttempts(ctx, key))
}

func (o observedState) PublishClaimsChanged(ctx context.Context, subjects ...string) error {
	return noteStoreError(ctx, o.ShortLived.PublishClaimsChanged(ctx, subjects...))
}

func (o observedState) PublishServicesChanged(ctx context.Context, serviceIDs ...int64) error {
	return noteStoreError(ctx, o.ShortLived.PublishServicesChanged(ctx, serviceIDs...))
}

func (o observedState) Ping(ctx context.Context) error {
	return noteRedisError(ctx, o.ShortLived.Ping(ctx))
}

// notePostgresError and noteRedisError are noteStoreError for the directory
// (Postgres) and the short-lived state (Redis): they also count the failure.
// A failure after the request's own context ended (the client went away)
// is not the store's and is not counted.
func notePostgresError(ctx context.Context, err error) error {
	return countStoreFailure(ctx, telemetry.StorePostgres, err)
}

func noteRedisError(ctx context.Context, err error) error {
	return countStoreFailure(ctx, telemetry.StoreRedis, err)
}

func countStoreFailure(ctx context.Context, store string, err error) error {
	if err != nil && ctx.Err() == nil && isStoreFailure(err) {
		telemetry.StoreFailure(store)
	}
	return noteStoreError(ctx, err)
}
