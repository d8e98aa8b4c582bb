package redis_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/entity-account/idp/storage"
)

func sampleAuthRequest(id string) *storage.AuthRequest {
	maxAge := uint(300)
	return &storage.AuthRequest{
		ID:                  id,
		ClientID:            "client-1",
		RedirectURI:         "https://rp.example/cb",
		Scopes:              []string{"openid", "profile"},
		State:               "st",
		Nonce:               "n-0S6",
		ResponseType:        "code",
		CodeChallenge:       "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
		CodeChallengeMethod: "S256",
		Prompt:              []string{"login"},
		MaxAge:              &maxAge,
		UILocales:           []string{"zh-Hant"},
		CreatedAt:           time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC),
	}
}

func sampleAuthentication(sub string) storage.Authentication {
	return storage.Authentication{
		Subject:      sub,
		LoginID:      9007199254740993, // > 2^53: must survive the Lua CAS untouched
		EntityNumber: "02-000021",
		AuthTime:     time.Date(2030, 1, 2, 3, 5, 0, 0, time.UTC),
		AMR:          []string{"pwd"},
		ACR:          "urn:idp:acr:password",
		SessionID:    "sid-1",
	}
}

func TestAuthRequestSaveLoad(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()

	r := sampleAuthRequest("ar1")
	mustNoErr(t, s.SaveAuthRequest(ctx, r, 10*time.Minute))
	got, err := s.AuthRequest(ctx, "ar1")
	mustNoErr(t, err)
	sameJSON(t, "loaded request", got, r)
	if d := pttl(t, s, "ar:{ar1}"); d <= 9*time.Minute || d > 10*time.Minute {
		t.Fatalf("ttl %v, want about 10m", d)
	}

	_, err = s.AuthRequest(ctx, "nope")
	wantErr(t, "unknown request", err, storage.ErrNotFound)

	// An empty id is filled in.
	r2 := sampleAuthRequest("")
	mustNoErr(t, s.SaveAuthRequest(ctx, r2, time.Minute))
	if len(r2.ID) < 20 {
		t.Fatalf("generated id %q too short", r2.ID)
	}
	_, err = s.AuthRequest(ctx, r2.ID)
	mustNoErr(t, err)

	mustNoErr(t, s.DeleteAuthRequest(ctx, "ar1"))
	_, err = s.AuthRequest(ctx, "ar1")
	wantErr(t, "deleted request", err, storage.ErrNotFound)
	mustNoErr(t, s.DeleteAuthRequest(ctx, "ar1")) // unknown: fine
}

func TestAuthRequestExpires(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	mustNoErr(t, s.SaveAuthRequest(ctx, sampleAuthRequest("short"), 150*time.Millisecond))
	_, err := s.AuthRequest(ctx, "short")
	mustNoErr(t, err)
	time.Sleep(300 * time.Millisecond)
	_, err = s.AuthRequest(ctx, "short")
	wantErr(t, "expired request", err, storage.ErrNotFound)
}

func TestCompleteAuthRequest(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	mustNoErr(t, s.SaveAuthRequest(ctx, sampleAuthRequest("ar1"), 10*time.Minute))
	// Age the TTL a bit so that KEEPTTL is observable.
	mustNoErr(t, s.Client().PExpire(ctx, s.Prefix()+"ar:{ar1}", 5*time.Minute).Err())

	a := sampleAuthentication("CU000000001")
	mustNoErr(t, s.CompleteAuthRequest(ctx, "ar1", a))
	got, err := s.AuthRequest(ctx, "ar1")
	mustNoErr(t, err)
	if !got.Done {
		t.Fatal("request not done")
	}
	sameJSON(t, "authentication", got.Authentication, a)
	if got.ClientID != "client-1" || got.Nonce != "n-0S6" {
		t.Fatalf("request fields lost: %+v", got)
	}
	if d := pttl(t, s, "ar:{ar1}"); d <= 4*time.Minute || d > 5*time.Minute {
		t.Fatalf("ttl after completion %v, want the 5m kept", d)
	}

	err = s.CompleteAuthRequest(ctx, "ar1", sampleAuthentication("CU000000002"))
	wantErr(t, "second completion", err, storage.ErrConflict)
	got, _ = s.AuthRequest(ctx, "ar1")
	if got.Subject != "CU000000001" {
		t.Fatalf("second completion overwrote subject: %s", got.Subject)
	}

	err = s.CompleteAuthRequest(ctx, "gone", a)
	wantErr(t, "unknown request", err, storage.ErrNotFound)
}

func TestCompleteAuthRequestConcurrent(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	mustNoErr(t, s.SaveAuthRequest(ctx, sampleAuthRequest("race"), time.Minute))
	const n = 10
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			errs[i] = s.CompleteAuthRequest(ctx, "race", sampleAuthentication("CU00000000"+string(rune('0'+i))))
		})
	}
	wg.Wait()
	wins := 0
	for _, err := range errs {
		switch {
		case err == nil:
			wins++
		case errors.Is(err, storage.ErrConflict):
		default:
			t.Fatalf("unexpected error %v", err)
		}
	}
	if wins != 1 {
		t.Fatalf("%d completions won, want exactly 1", wins)
	}
}

func completedRequest(t *testing.T, ctx context.Context, s interface {
	SaveAuthRequest(context.Context, *storage.AuthRequest, time.Duration) error
	CompleteAuthRequest(context.Context, string, storage.Authentication) error
}, id string) {
	t.Helper()
	mustNoErr(t, s.SaveAuthRequest(ctx, sampleAuthRequest(id), 10*time.Minute))
	mustNoErr(t, s.CompleteAuthRequest(ctx, id, sampleAuthentication("CU000000001")))
}

func TestSaveAuthCode(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()

	// Not completed yet.
	mustNoErr(t, s.SaveAuthRequest(ctx, sampleAuthRequest("open"), time.Minute))
	wantErr(t, "code for an open request", s.SaveAuthCode(ctx, "open", "code-open", time.Minute), storage.ErrConflict)

	wantErr(t, "code for unknown request", s.SaveAuthCode(ctx, "gone", "code-gone", time.Minute), storage.ErrNotFound)

	completedRequest(t, ctx, s, "ar1")
	mustNoErr(t, s.SaveAuthCode(ctx, "ar1", "code-1", time.Minute))
	wantErr(t, "second code", s.SaveAuthCode(ctx, "ar1", "code-2", time.Minute), storage.ErrConflict)
	wantErr(t, "same code again", s.SaveAuthCode(ctx, "ar1", "code-1", time.Minute), storage.ErrConflict)

	if d := pttl(t, s, "ar:{ar1}:code"); d < 9*time.Minute {
		t.Fatalf("code marker ttl %v, want it to outlive the request", d)
	}
	_, err := s.ConsumeAuthCode(ctx, "code-2")
	wantErr(t, "refused second code", err, storage.ErrNotFound)
	id, err := s.ConsumeAuthCode(ctx, "code-1")
	mustNoErr(t, err)
	if id != "ar1" {
		t.Fatalf("code redeemed for %q, want ar1", id)
	}
}

func TestConsumeAuthCodeOnce(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	completedRequest(t, ctx, s, "ar1")
	mustNoErr(t, s.SaveAuthCode(ctx, "ar1", "the-code", time.Minute))

	const n = 20
	ids := make([]string, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			<-start
			ids[i], errs[i] = s.ConsumeAuthCode(ctx, "the-code")
		})
	}
	close(start)
	wg.Wait()
	wins := 0
	for i := range n {
		if ids[i] != "ar1" {
			t.Fatalf("redemption %d returned id %q, want ar1", i, ids[i])
		}
		switch {
		case errs[i] == nil:
			wins++
		case errors.Is(errs[i], storage.ErrCodeReused):
		default:
			t.Fatalf("redemption %d: %v", i, errs[i])
		}
	}
	if wins != 1 {
		t.Fatalf("%d redemptions won, want exactly 1", wins)
	}

	// A replay after the request is gone is still recognised.
	mustNoErr(t, s.DeleteAuthRequest(ctx, "ar1"))
	id, err := s.ConsumeAuthCode(ctx, "the-code")
	wantErr(t, "replay", err, storage.ErrCodeReused)
	if id != "ar1" {
		t.Fatalf("replay returned %q", id)
	}

	_, err = s.ConsumeAuthCode(ctx, "unknown-code")
	wantErr(t, "unknown code", err, storage.ErrNotFound)
}

func TestAuthCodeExpires(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	completedRequest(t, ctx, s, "ar1")
	mustNoErr(t, s.SaveAuthCode(ctx, "ar1", "short-code", 150*time.Millisecond))
	time.Sleep(300 * time.Millisecond)
	_, err := s.ConsumeAuthCode(ctx, "short-code")
	wantErr(t, "expired code", err, storage.ErrNotFound)
}
