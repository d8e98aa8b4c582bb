package password_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/entity-account/idp/login/password"
)

var fast = password.Params{MemoryKiB: 8 * 1024, Iterations: 1, Threads: 1}

func TestHashVerify(t *testing.T) {
	ctx := context.Background()
	h := password.NewHasher(fast, 2, time.Second)
	hash, err := h.Hash(ctx, "correct horse battery staple")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(hash, "$argon2id$v=19$m=8192,t=1,p=1$") {
		t.Fatalf("hash does not carry its parameters: %s", hash)
	}
	if again, _ := h.Hash(ctx, "correct horse battery staple"); again == hash {
		t.Fatal("two hashes of one password are equal: salt missing")
	}
	if ok, rehash, err := h.Verify(ctx, hash, "correct horse battery staple"); !ok || rehash || err != nil {
		t.Fatalf("right password: ok=%v rehash=%v err=%v", ok, rehash, err)
	}
	if ok, _, err := h.Verify(ctx, hash, "Correct horse battery staple"); ok || err != nil {
		t.Fatalf("wrong password accepted: ok=%v err=%v", ok, err)
	}
	if err := h.VerifyNothing(ctx, "anything"); err != nil {
		t.Fatal(err)
	}
}

// A hash made with weaker parameters still verifies, and asks to be replaced.
func TestRehashWhenParametersChange(t *testing.T) {
	ctx := context.Background()
	old, err := password.NewHasher(fast, 1, time.Second).Hash(ctx, "pw-123456")
	if err != nil {
		t.Fatal(err)
	}
	stronger := password.NewHasher(password.Params{MemoryKiB: 16 * 1024, Iterations: 2, Threads: 1}, 1, time.Second)
	ok, rehash, err := stronger.Verify(ctx, old, "pw-123456")
	if !ok || !rehash || err != nil {
		t.Fatalf("ok=%v rehash=%v err=%v, want true true nil", ok, rehash, err)
	}
	if _, rehash, _ := stronger.Verify(ctx, old, "wrong"); rehash {
		t.Fatal("a wrong password must not trigger a rehash")
	}
}

func TestMalformedHash(t *testing.T) {
	h := password.NewHasher(fast, 1, time.Second)
	for _, bad := range []string{"", "plain", "$argon2i$v=19$m=8192,t=1,p=1$c2FsdHNhbHQ$a2V5a2V5a2V5a2V5a2V5", "$argon2id$v=19$m=0,t=1,p=1$c2FsdHNhbHQ$a2V5a2V5a2V5a2V5a2V5a2V5"} {
		if _, _, err := h.Verify(context.Background(), bad, "x"); !errors.Is(err, password.ErrMalformed) {
			t.Errorf("Verify(%q) err = %v, want ErrMalformed", bad, err)
		}
	}
}

// With every slot taken, a caller gets ErrBusy after the queue wait instead
// of piling up memory-hard work.
func TestBoundedConcurrency(t *testing.T) {
	slow := password.Params{MemoryKiB: 64 * 1024, Iterations: 8, Threads: 1}
	h := password.NewHasher(slow, 1, 5*time.Millisecond)
	ctx := context.Background()
	var wg sync.WaitGroup
	var mu sync.Mutex
	busy := 0
	for i := 0; i < 4; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := h.Hash(ctx, "pw"); errors.Is(err, password.ErrBusy) {
				mu.Lock()
				busy++
				mu.Unlock()
			} else if err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if busy == 0 {
		t.Fatal("no caller was refused although one slot served four slow hashes")
	}
}

func BenchmarkVerifyDefault(b *testing.B) {
	h := password.NewHasher(password.Params{MemoryKiB: 19 * 1024, Iterations: 2, Threads: 1}, 1, time.Minute)
	hash, _ := h.Hash(context.Background(), "benchmark-password")
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		_, _, _ = h.Verify(context.Background(), hash, "benchmark-password")
	}
}
