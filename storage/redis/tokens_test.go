package redis_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/entity-account/idp/storage"
	rstore "github.com/entity-account/idp/storage/redis"
)

func sampleAccessToken(id, sub, grant string) *storage.AccessToken {
	now := time.Now().Truncate(time.Second)
	a := sampleAuthentication(sub)
	return &storage.AccessToken{
		ID:             id,
		ClientID:       "client-1",
		Subject:        sub,
		Audience:       []string{"client-1"},
		Scopes:         []string{"openid"},
		GrantID:        grant,
		IssuedAt:       now,
		ExpiresAt:      now.Add(15 * time.Minute),
		Authentication: a,
	}
}

func sampleRefreshToken(sub, family string) *storage.RefreshToken {
	now := time.Now().Truncate(time.Second)
	return &storage.RefreshToken{
		FamilyID:       family,
		ClientID:       "client-1",
		Subject:        sub,
		Audience:       []string{"client-1"},
		Scopes:         []string{"openid", "offline_access"},
		IssuedAt:       now,
		ExpiresAt:      now.Add(24 * time.Hour),
		AccessTokenID:  uniq("at"),
		Authentication: noSession(sampleAuthentication(sub)),
	}
}

// noSession is a without its session: the store refuses to start a family
// under a session that is not there, so the tests that want one create it.
func noSession(a storage.Authentication) storage.Authentication {
	a.SessionID = ""
	return a
}

// startFamily starts the refresh family rt as a code exchange does: with
// CreateTokens and the access token rt.AccessTokenID of its grant
// (rt.FamilyID, a new one when empty).
func startFamily(ctx context.Context, s *rstore.Store, rt *storage.RefreshToken) (string, error) {
	if rt.FamilyID == "" {
		rt.FamilyID = uniq("grant")
	}
	if rt.AccessTokenID == "" {
		rt.AccessTokenID = uniq("at")
	}
	return s.CreateTokens(ctx, sampleAccessToken(rt.AccessTokenID, rt.Subject, rt.FamilyID), rt)
}

// rotateToken rotates the refresh token old as the refresh grant does:
// RefreshToken, then RotateTokens to next with a new access token of the
// family (next.AccessTokenID, a new one when empty).
func rotateToken(ctx context.Context, s *rstore.Store, old string, next *storage.RefreshToken) (string, error) {
	prev, err := s.RefreshToken(ctx, old)
	if err != nil {
		return "", err
	}
	if next.AccessTokenID == "" {
		next.AccessTokenID = uniq("at")
	}
	return s.RotateTokens(ctx, prev, next, sampleAccessToken(next.AccessTokenID, prev.Subject, prev.FamilyID))
}

func TestAccessToken(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	at := sampleAccessToken("at1", "CU000000001", "grant1")
	mustNoErr(t, s.SaveAccessToken(ctx, at))
	got, err := s.AccessToken(ctx, "at1")
	mustNoErr(t, err)
	sameJSON(t, "access token", got, at)
	if d := pttl(t, s, "at:{at1}"); d <= 14*time.Minute || d > 15*time.Minute {
		t.Fatalf("ttl %v, want until ExpiresAt", d)
	}

	_, err = s.AccessToken(ctx, "unknown")
	wantErr(t, "unknown token", err, storage.ErrNotFound)

	s.Now = func() time.Time { return at.ExpiresAt }
	_, err = s.AccessToken(ctx, "at1")
	wantErr(t, "token at ExpiresAt", err, storage.ErrNotFound)
	s.Now = nil

	mustNoErr(t, s.RevokeAccessToken(ctx, "at1"))
	_, err = s.AccessToken(ctx, "at1")
	wantErr(t, "revoked token", err, storage.ErrNotFound)
	mustNoErr(t, s.RevokeAccessToken(ctx, "at1"))

	// An already expired token is not stored.
	old := sampleAccessToken("old", "CU000000001", "grant1")
	old.ExpiresAt = time.Now().Add(-time.Second)
	mustNoErr(t, s.SaveAccessToken(ctx, old))
	_, err = s.AccessToken(ctx, "old")
	wantErr(t, "expired token", err, storage.ErrNotFound)
}

func TestRefreshTokenRotation(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()

	at1 := sampleAccessToken(uniq("at"), "CU000000001", uniq("grant"))
	rt := sampleRefreshToken("CU000000001", "")
	rt.AccessTokenID = at1.ID
	tok1, err := s.CreateTokens(ctx, at1, rt)
	mustNoErr(t, err)
	if rt.FamilyID != at1.GrantID {
		t.Fatalf("FamilyID %q, want the access token's grant %q", rt.FamilyID, at1.GrantID)
	}
	if len(tok1) != 43 {
		t.Fatalf("token %q: want 32 bytes base64url", tok1)
	}
	got, err := s.RefreshToken(ctx, tok1)
	mustNoErr(t, err)
	if got.Generation != 1 {
		t.Fatalf("generation %d, want 1", got.Generation)
	}
	got.Generation = 0
	sameJSON(t, "refresh record", got, rt)

	_, err = s.RefreshToken(ctx, "unknown")
	wantErr(t, "unknown token", err, storage.ErrNotFound)

	// Rotate: new fields, same family and absolute expiry.
	prev, err := s.RefreshToken(ctx, tok1)
	mustNoErr(t, err)
	at2 := sampleAccessToken(uniq("at"), "CU000000001", rt.FamilyID)
	next := sampleRefreshToken("CU000000001", "ignored-family")
	next.ExpiresAt = time.Now().Add(999 * time.Hour)
	next.AccessTokenID = at2.ID
	next.Scopes = []string{"openid"}
	tok2, err := s.RotateTokens(ctx, prev, next, at2)
	mustNoErr(t, err)
	if tok2 == tok1 {
		t.Fatal("rotation returned the same token")
	}
	if next.FamilyID != rt.FamilyID || !next.ExpiresAt.Equal(rt.ExpiresAt) {
		t.Fatalf("rotation changed family %q/%v, want %q/%v", next.FamilyID, next.ExpiresAt, rt.FamilyID, rt.ExpiresAt)
	}
	got, err = s.RefreshToken(ctx, tok2)
	mustNoErr(t, err)
	if got.FamilyID != rt.FamilyID || !got.ExpiresAt.Equal(rt.ExpiresAt) || got.AccessTokenID != at2.ID || len(got.Scopes) != 1 {
		t.Fatalf("rotated record %+v", got)
	}

	// Presenting the old token is reuse: the family dies, new token included.
	_, err = s.RefreshToken(ctx, tok1)
	wantErr(t, "old token", err, storage.ErrRefreshTokenReused)
	_, err = s.RefreshToken(ctx, tok2)
	wantErr(t, "new token after reuse", err, storage.ErrNotFound)
	_, err = rotateToken(ctx, s, tok2, sampleRefreshToken("CU000000001", ""))
	wantErr(t, "rotating the new token after reuse", err, storage.ErrNotFound)
	_, err = s.RefreshToken(ctx, tok1)
	wantErr(t, "old token again", err, storage.ErrRefreshTokenReused)
	_, err = rotateToken(ctx, s, tok1, sampleRefreshToken("CU000000001", ""))
	wantErr(t, "rotating the old token", err, storage.ErrRefreshTokenReused)
	// The record looked up before the family died no longer rotates either.
	_, err = s.RotateTokens(ctx, got, sampleRefreshToken("CU000000001", ""), sampleAccessToken(uniq("at"), "CU000000001", rt.FamilyID))
	wantErr(t, "rotating a record of the revoked family", err, storage.ErrNotFound)
	for _, id := range []string{at1.ID, at2.ID} {
		_, err = s.AccessToken(ctx, id)
		wantErr(t, "access token of the revoked family", err, storage.ErrNotFound)
	}
	// The family id cannot be reused.
	_, err = startFamily(ctx, s, sampleRefreshToken("CU000000001", rt.FamilyID))
	wantErr(t, "recreating a revoked family", err, storage.ErrConflict)
}

func TestRotateTwiceIsReuse(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	tok1, err := startFamily(ctx, s, sampleRefreshToken("CU000000001", ""))
	mustNoErr(t, err)
	tok2, err := rotateToken(ctx, s, tok1, sampleRefreshToken("CU000000001", ""))
	mustNoErr(t, err)
	tok3, err := rotateToken(ctx, s, tok2, sampleRefreshToken("CU000000001", ""))
	mustNoErr(t, err)
	_, err = s.RefreshToken(ctx, tok3)
	mustNoErr(t, err)
	_, err = rotateToken(ctx, s, tok1, sampleRefreshToken("CU000000001", ""))
	wantErr(t, "second rotation of tok1", err, storage.ErrRefreshTokenReused)
	_, err = s.RefreshToken(ctx, tok3)
	wantErr(t, "latest token after reuse", err, storage.ErrNotFound)
}

func TestConcurrentRotation(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	old, err := startFamily(ctx, s, sampleRefreshToken("CU000000001", ""))
	mustNoErr(t, err)

	const n = 10
	toks := make([]string, n)
	errs := make([]error, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			<-start
			toks[i], errs[i] = rotateToken(ctx, s, old, sampleRefreshToken("CU000000001", ""))
		})
	}
	close(start)
	wg.Wait()
	winner := ""
	for i := range n {
		switch {
		case errs[i] == nil:
			if winner != "" {
				t.Fatal("two rotations of one token succeeded")
			}
			winner = toks[i]
		case errors.Is(errs[i], storage.ErrRefreshTokenReused):
		default:
			t.Fatalf("rotation %d: %v", i, errs[i])
		}
	}
	if winner == "" {
		t.Fatal("no rotation succeeded")
	}
	// The others were reuse: the family is revoked, the winner's token included.
	_, err = s.RefreshToken(ctx, winner)
	wantErr(t, "winner's token after reuse", err, storage.ErrNotFound)
}

func TestRevokeGrant(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	const grant = "auth-request-1"

	// The code exchange: an access token and the first refresh family, both of the grant.
	at1 := sampleAccessToken(uniq("at"), "CU000000001", grant)
	rt := sampleRefreshToken("CU000000001", grant)
	rt.AccessTokenID = at1.ID
	tok1, err := s.CreateTokens(ctx, at1, rt)
	mustNoErr(t, err)
	// A refresh: the new access token names the family as its grant.
	at2 := sampleAccessToken(uniq("at"), "CU000000001", grant)
	prev, err := s.RefreshToken(ctx, tok1)
	mustNoErr(t, err)
	next := sampleRefreshToken("CU000000001", "")
	next.AccessTokenID = at2.ID
	tok2, err := s.RotateTokens(ctx, prev, next, at2)
	mustNoErr(t, err)

	// Another grant of the same subject.
	atOther := sampleAccessToken(uniq("at"), "CU000000001", "auth-request-2")
	mustNoErr(t, s.SaveAccessToken(ctx, atOther))
	rtOther, err := startFamily(ctx, s, sampleRefreshToken("CU000000001", "auth-request-2"))
	mustNoErr(t, err)

	mustNoErr(t, s.RevokeGrant(ctx, grant))
	for _, id := range []string{at1.ID, at2.ID} {
		_, err = s.AccessToken(ctx, id)
		wantErr(t, "access token of revoked grant", err, storage.ErrNotFound)
	}
	_, err = s.RefreshToken(ctx, tok2)
	wantErr(t, "refresh token of revoked grant", err, storage.ErrNotFound)
	_, err = s.AccessToken(ctx, atOther.ID)
	mustNoErr(t, err)
	_, err = s.RefreshToken(ctx, rtOther)
	mustNoErr(t, err)

	// Tokens written for the revoked grant afterwards (a racing code exchange) are refused.
	late := sampleAccessToken(uniq("at"), "CU000000001", grant)
	wantErr(t, "access token for revoked grant", s.SaveAccessToken(ctx, late), storage.ErrConflict)
	_, err = s.AccessToken(ctx, late.ID)
	wantErr(t, "refused access token", err, storage.ErrNotFound)
}

func TestRevokeGrantBeforeTokens(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	// Code replay detected before the first redemption has written its tokens.
	mustNoErr(t, s.RevokeGrant(ctx, "ar-race"))
	wantErr(t, "late access token", s.SaveAccessToken(ctx, sampleAccessToken(uniq("at"), "CU000000001", "ar-race")), storage.ErrConflict)
	_, err := startFamily(ctx, s, sampleRefreshToken("CU000000001", "ar-race"))
	wantErr(t, "late refresh family", err, storage.ErrConflict)
	mustNoErr(t, s.RevokeGrant(ctx, "ar-race")) // twice: fine
	mustNoErr(t, s.RevokeGrant(ctx, ""))

	// Code replay after the exchange, through ConsumeAuthCode.
	completedRequest(t, ctx, s, "ar1")
	mustNoErr(t, s.SaveAuthCode(ctx, "ar1", "code", time.Minute))
	id, err := s.ConsumeAuthCode(ctx, "code")
	mustNoErr(t, err)
	at := sampleAccessToken(uniq("at"), "CU000000001", id)
	rt := sampleRefreshToken("CU000000001", id)
	rt.AccessTokenID = at.ID
	tok, err := s.CreateTokens(ctx, at, rt)
	mustNoErr(t, err)
	id, err = s.ConsumeAuthCode(ctx, "code")
	wantErr(t, "replay", err, storage.ErrCodeReused)
	mustNoErr(t, s.RevokeGrant(ctx, id))
	_, err = s.AccessToken(ctx, at.ID)
	wantErr(t, "access token after replay", err, storage.ErrNotFound)
	_, err = s.RefreshToken(ctx, tok)
	wantErr(t, "refresh token after replay", err, storage.ErrNotFound)
}

func TestCreateTokensValidation(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	rt := sampleRefreshToken("CU000000001", "")
	rt.ExpiresAt = time.Time{}
	if _, err := startFamily(ctx, s, rt); err == nil {
		t.Fatal("refresh token without ExpiresAt accepted")
	}
	rt.ExpiresAt = time.Now().Add(-time.Second)
	if _, err := startFamily(ctx, s, rt); err == nil {
		t.Fatal("expired refresh token accepted")
	}
	_, err := startFamily(ctx, s, sampleRefreshToken("CU000000001", "fam"))
	mustNoErr(t, err)
	_, err = startFamily(ctx, s, sampleRefreshToken("CU000000001", "fam"))
	wantErr(t, "duplicate family", err, storage.ErrConflict)

	// A rotation issues an access token with the refresh token: without
	// one, or with an expired one, it is refused before anything is written,
	// and the token presented still rotates.
	tok, err := startFamily(ctx, s, sampleRefreshToken("CU000000001", ""))
	mustNoErr(t, err)
	prev, err := s.RefreshToken(ctx, tok)
	mustNoErr(t, err)
	if _, err := s.RotateTokens(ctx, prev, sampleRefreshToken("CU000000001", ""), nil); err == nil {
		t.Fatal("rotation without an access token accepted")
	}
	expired := sampleAccessToken(uniq("at"), "CU000000001", prev.FamilyID)
	expired.ExpiresAt = time.Now().Add(-time.Second)
	if _, err := s.RotateTokens(ctx, prev, sampleRefreshToken("CU000000001", ""), expired); err == nil {
		t.Fatal("rotation with an expired access token accepted")
	}
	_, err = rotateToken(ctx, s, tok, sampleRefreshToken("CU000000001", ""))
	mustNoErr(t, err)
}
