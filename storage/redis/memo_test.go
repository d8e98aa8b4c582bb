package redis_test

import (
	"context"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/entity-account/idp/storage"
	rstore "github.com/entity-account/idp/storage/redis"
)

// One request's steps read the auth request the step before wrote without
// asking Redis again, and read what Redis holds whenever their own write did
// not land.
func TestAuthRequestMemo(t *testing.T) {
	s := newStore(t)
	key := func(id string) string { return s.Prefix() + "ar:{" + id + "}" }
	req := rstore.WithAuthRequestMemo(context.Background())

	// Written by this request: read back without Redis (which we empty
	// behind its back to see it).
	mustNoErr(t, s.SaveAuthRequest(req, sampleAuthRequest("m1"), 10*time.Minute))
	raw, err := s.Client().Get(req, key("m1")).Result()
	mustNoErr(t, err)
	mustNoErr(t, s.Client().Del(req, key("m1")).Err())
	got, err := s.AuthRequest(req, "m1")
	mustNoErr(t, err)
	sameJSON(t, "memo's request", got, sampleAuthRequest("m1"))
	mustNoErr(t, s.Client().Set(req, key("m1"), raw, 10*time.Minute).Err())

	// Completed by this request: read as done, with who signed in.
	a := sampleAuthentication("CU000000001")
	mustNoErr(t, s.CompleteAuthRequest(req, "m1", a))
	got, err = s.AuthRequest(req, "m1")
	mustNoErr(t, err)
	if !got.Done {
		t.Fatal("the memo does not say done after our completion")
	}
	sameJSON(t, "memo's authentication", got.Authentication, a)

	// Another request (its own memo) loses the completion: it reads the
	// winner's authentication from Redis, not its own.
	other := rstore.WithAuthRequestMemo(context.Background())
	_, err = s.AuthRequest(other, "m1")
	mustNoErr(t, err)
	err = s.CompleteAuthRequest(other, "m1", sampleAuthentication("CU000000002"))
	wantErr(t, "losing completion", err, storage.ErrConflict)
	got, err = s.AuthRequest(other, "m1")
	mustNoErr(t, err)
	if got.Subject != "CU000000001" {
		t.Fatalf("after losing, the request reads subject %s; want the winner's", got.Subject)
	}

	// Deleted by this request: gone for it too.
	mustNoErr(t, s.DeleteAuthRequest(req, "m1"))
	_, err = s.AuthRequest(req, "m1")
	wantErr(t, "deleted request", err, storage.ErrNotFound)

	// A completion that fails (Redis unreachable) leaves nothing in the
	// memo: the request is read from Redis again, not done.
	failing := rstore.New(goredis.NewClient(&goredis.Options{Addr: "127.0.0.1:1", MaxRetries: -1}), s.Prefix())
	mustNoErr(t, s.SaveAuthRequest(req, sampleAuthRequest("m3"), time.Minute))
	if err := failing.CompleteAuthRequest(req, "m3", a); err == nil {
		t.Fatal("a completion on an unreachable Redis succeeded")
	}
	mustNoErr(t, s.Client().Del(req, key("m3")).Err())
	_, err = s.AuthRequest(req, "m3")
	wantErr(t, "after a failed completion, deleted in Redis", err, storage.ErrNotFound)

	// A request without a memo always reads Redis.
	mustNoErr(t, s.SaveAuthRequest(context.Background(), sampleAuthRequest("m2"), time.Minute))
	mustNoErr(t, s.Client().Del(context.Background(), key("m2")).Err())
	_, err = s.AuthRequest(context.Background(), "m2")
	wantErr(t, "no memo, deleted in Redis", err, storage.ErrNotFound)
}
