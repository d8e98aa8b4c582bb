package redis_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/entity-account/idp/storage"
)

// TestEarlierFormats: a request completed and a code saved by the version
// before completions and codes had their present form still work, so that
// sign-ins under way during an upgrade finish.
func TestEarlierFormats(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	// A request stored complete, its authentication inside.
	ar := sampleAuthRequest("old1")
	ar.Done = true
	ar.Authentication = sampleAuthentication("CU000000001")
	raw, err := json.Marshal(ar)
	mustNoErr(t, err)
	mustNoErr(t, s.Client().Set(ctx, s.Prefix()+"ar:{old1}", raw, time.Minute).Err())
	got, err := s.AuthRequest(ctx, "old1")
	mustNoErr(t, err)
	if !got.Done || got.Subject != "CU000000001" {
		t.Fatalf("old complete request read as %+v", got)
	}
	mustNoErr(t, s.SaveAuthCode(ctx, "old1", "code-new", time.Minute))

	// A code stored as a hash {id, used}.
	key := s.Prefix() + "code:{" + hashHex("code-old") + "}"
	mustNoErr(t, s.Client().HSet(ctx, key, "id", "old1", "used", 0).Err())
	mustNoErr(t, s.Client().PExpire(ctx, key, time.Minute).Err())
	id, err := s.ConsumeAuthCode(ctx, "code-old")
	mustNoErr(t, err)
	if id != "old1" {
		t.Fatalf("old code redeemed for %q", id)
	}
	id, err = s.ConsumeAuthCode(ctx, "code-old")
	wantErr(t, "old code again", err, storage.ErrCodeReused)
	if id != "old1" {
		t.Fatalf("replayed old code names %q", id)
	}
}
