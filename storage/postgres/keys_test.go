package postgres_test

import (
	"encoding/json"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/entity-account/idp/storage"
	"github.com/entity-account/idp/storage/postgres"
)

func signingKey(kid string) storage.SigningKey {
	return storage.SigningKey{
		ID:               kid,
		Algorithm:        "RS256",
		PrivateKeySealed: []byte("sealed-" + kid),
		PublicJWK:        []byte(`{"kty":"RSA","kid":"` + kid + `","n":"AQAB","e":"AQAB"}`),
	}
}

func TestEnsureSigningKeyConcurrently(t *testing.T) {
	t.Parallel()
	s, ctx := newStore(t)

	const nodes = 10
	warmPool(t, s, nodes)
	inserted := make([]bool, nodes)
	errs := make([]error, nodes)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range nodes {
		wg.Go(func() {
			<-start
			inserted[i], errs[i] = s.EnsureSigningKey(ctx, signingKey(fmt.Sprintf("k%d", i)))
		})
	}
	close(start)
	wg.Wait()

	winners := 0
	for i := range nodes {
		if errs[i] != nil {
			t.Errorf("node %d: %v", i, errs[i])
		}
		if inserted[i] {
			winners++
		}
	}
	if winners != 1 {
		t.Fatalf("%d nodes stored a key, want exactly 1", winners)
	}
	keys, err := s.SigningKeys(ctx)
	if err != nil || len(keys) != 1 || keys[0].ActivatedAt == nil || keys[0].RetiredAt != nil {
		t.Fatalf("SigningKeys = %+v, %v; want one active key", keys, err)
	}
	// Later starts leave the active key alone.
	if ok, err := s.EnsureSigningKey(ctx, signingKey("late")); ok || err != nil {
		t.Errorf("EnsureSigningKey with an active key = %v, %v; want false", ok, err)
	}
}

func TestSigningKeyRotation(t *testing.T) {
	t.Parallel()
	s, ctx := newStore(t)
	clock := time.Now().Truncate(time.Microsecond)
	s.Now = func() time.Time { return clock }

	if ok, err := s.EnsureSigningKey(ctx, signingKey("old")); !ok || err != nil {
		t.Fatalf("EnsureSigningKey = %v, %v", ok, err)
	}
	clock = clock.Add(time.Minute)
	if err := s.CreateSigningKey(ctx, signingKey("next"), false, time.Time{}); err != nil {
		t.Fatalf("CreateSigningKey(published): %v", err)
	}
	clock = clock.Add(time.Minute)
	expiry := clock.Add(time.Hour)
	if err := s.CreateSigningKey(ctx, signingKey("new"), true, expiry); err != nil {
		t.Fatalf("CreateSigningKey(activate): %v", err)
	}

	keys, err := s.SigningKeys(ctx)
	if err != nil {
		t.Fatal(err)
	}
	byKid := map[string]storage.SigningKey{}
	var order []string
	for _, k := range keys {
		byKid[k.ID] = k
		order = append(order, k.ID)
	}
	if fmt.Sprint(order) != "[new next old]" {
		t.Errorf("order = %v, want newest first [new next old]", order)
	}
	newKey, next, old := byKid["new"], byKid["next"], byKid["old"]
	if newKey.ActivatedAt == nil || !newKey.ActivatedAt.Equal(clock) || newKey.RetiredAt != nil {
		t.Errorf("new key = %+v, want active since %v", newKey, clock)
	}
	if next.ActivatedAt != nil || next.RetiredAt != nil {
		t.Errorf("published key = %+v, want neither active nor retired", next)
	}
	if old.RetiredAt == nil || !old.RetiredAt.Equal(clock) || old.ExpiresAt == nil || !old.ExpiresAt.Equal(expiry) {
		t.Errorf("old key = %+v, want retired now and expiring at %v", old, expiry)
	}
	var jwk map[string]string
	if err := json.Unmarshal(newKey.PublicJWK, &jwk); err != nil || jwk["kid"] != "new" {
		t.Errorf("PublicJWK = %s, %v", newKey.PublicJWK, err)
	}
	if string(newKey.PrivateKeySealed) != "sealed-new" || newKey.Algorithm != "RS256" {
		t.Errorf("key material = %q %q", newKey.PrivateKeySealed, newKey.Algorithm)
	}

	// Once past its expiry, the retired key leaves the set.
	clock = expiry
	keys, _ = s.SigningKeys(ctx)
	if len(keys) != 2 || keys[0].ID != "new" || keys[1].ID != "next" {
		t.Errorf("after expiry: %d keys %+v, want new and next", len(keys), keys)
	}

	err = s.CreateSigningKey(ctx, signingKey("new"), false, time.Time{})
	wantErr(t, "duplicate kid", err, storage.ErrAlreadyExists)
}

// Concurrent rotations are serialised: each retires its predecessor and one
// key is left active.
func TestCreateSigningKeyConcurrently(t *testing.T) {
	t.Parallel()
	s, ctx := newStore(t)
	const n = 5
	warmPool(t, s, n)
	errs := make([]error, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			<-start
			errs[i] = s.CreateSigningKey(ctx, signingKey(fmt.Sprintf("r%d", i)), true, time.Now().Add(time.Hour))
		})
	}
	close(start)
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("rotation %d: %v", i, err)
		}
	}
	keys, _ := s.SigningKeys(ctx)
	active := 0
	for _, k := range keys {
		if k.ActivatedAt != nil && k.RetiredAt == nil {
			active++
		}
	}
	if len(keys) != n || active != 1 {
		t.Errorf("%d keys, %d active; want %d keys, 1 active", len(keys), active, n)
	}
}

// warmPool opens n connections up front, so that goroutines racing on the
// store overlap in the database instead of queueing behind connection setup.
func warmPool(t *testing.T, s *postgres.Store, n int) {
	t.Helper()
	conns := make([]*pgxpool.Conn, n)
	for i := range conns {
		c, err := s.Pool().Acquire(t.Context())
		if err != nil {
			t.Fatalf("acquire: %v", err)
		}
		conns[i] = c
	}
	for _, c := range conns {
		c.Release()
	}
}
