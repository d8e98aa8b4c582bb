// Package password hashes and verifies passwords with argon2id. The
// parameters travel inside each stored hash (PHC string format), so they can
// be raised later and old hashes upgraded at the next sign-in.
//
// argon2id is memory-hard: each hash holds Params.MemoryKiB of RAM for tens
// of milliseconds. A Hasher therefore computes at most a fixed number of
// hashes at once and refuses (ErrBusy) when a caller would wait too long, so
// a flood of logins costs bounded memory and gets a quick answer.
package password

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"time"

	"golang.org/x/crypto/argon2"

	"github.com/entity-account/idp/op/telemetry"
)

// ErrBusy means every hashing slot stayed taken for longer than the Hasher's
// queue wait. The caller should answer "try again shortly" (HTTP 503).
var ErrBusy = errors.New("password hashing is saturated")

// ErrMalformed means a stored hash could not be parsed.
var ErrMalformed = errors.New("malformed password hash")

// Params are argon2id cost parameters.
type Params struct {
	MemoryKiB  uint32
	Iterations uint32
	Threads    uint8
}

const (
	saltLen = 16
	keyLen  = 32
)

// Hasher computes argon2id hashes with bounded concurrency.
type Hasher struct {
	params Params
	slots  chan struct{}
	wait   time.Duration
	// dummy is a hash of a random password with the current parameters;
	// verifying against it spends the same time as a real check, so an
	// unknown account cannot be told from a wrong password by timing.
	dummy string
	// waiting counts callers queued for a slot; hashNanos is a moving
	// average of how long a slot is held. Together they tell when a new
	// caller could not get a slot within wait, so it is refused at once.
	waiting   atomic.Int64
	hashNanos atomic.Int64

	// afterBurst (see AfterBurst) and its state: hashes since it last ran,
	// and a generation that every hash started moves on, so that an idle
	// timer armed before it knows the hasher has not stayed idle.
	afterBurst      func()
	burstHashes     int64
	idleAfter       time.Duration
	sinceAfterBurst atomic.Int64
	idleGen         atomic.Uint64
}

// NewHasher returns a Hasher that runs at most concurrency hashes at once and
// lets a caller wait at most wait for a free slot.
func NewHasher(p Params, concurrency int, wait time.Duration) *Hasher {
	if concurrency < 1 {
		concurrency = 1
	}
	h := &Hasher{params: p, slots: make(chan struct{}, concurrency), wait: wait}
	h.dummy = encode(p, randomBytes(saltLen), randomBytes(keyLen))
	return h
}

// AfterBurst makes the hasher call fn, in a goroutine of its own, once it
// has stayed idle (no hash running or queued) for idle after computing at
// least hashes hashes since fn last ran. argon2id's memory (Params.MemoryKiB
// per hash, allocated anew by x/crypto for every hash) is garbage by then;
// the server gives it back to the operating system there, rather than let
// the runtime keep it for minutes after a flood of sign-ins. Under a steady
// load the hasher is never idle that long, and fn does not run. Call it
// before the hasher is used.
func (h *Hasher) AfterBurst(hashes int, idle time.Duration, fn func()) {
	h.burstHashes, h.idleAfter, h.afterBurst = int64(max(hashes, 1)), idle, fn
}

// hashDone notes the end of a hash and, if the hasher is now idle after a
// burst, arms the AfterBurst timer.
func (h *Hasher) hashDone() {
	if h.afterBurst == nil {
		return
	}
	n := h.sinceAfterBurst.Add(1)
	if n < h.burstHashes || len(h.slots) > 0 || h.waiting.Load() > 0 {
		return
	}
	gen := h.idleGen.Load()
	time.AfterFunc(h.idleAfter, func() {
		if h.idleGen.Load() != gen || len(h.slots) > 0 || h.waiting.Load() > 0 {
			return // a hash has started since: not idle
		}
		if h.sinceAfterBurst.Swap(0) >= h.burstHashes {
			h.afterBurst()
		}
	})
}

// Params returns the parameters new hashes are made with.
func (h *Hasher) Params() Params { return h.params }

// Hash returns the PHC-format argon2id hash of password.
func (h *Hasher) Hash(ctx context.Context, password string) (string, error) {
	salt := randomBytes(saltLen)
	var key []byte
	if err := h.run(ctx, func() { key = derive(h.params, password, salt) }); err != nil {
		return "", err
	}
	return encode(h.params, salt, key), nil
}

// Verify reports whether password matches encoded, and whether encoded
// should be replaced by a fresh hash because its parameters are outdated.
func (h *Hasher) Verify(ctx context.Context, encoded, password string) (ok, rehash bool, err error) {
	p, salt, want, err := decode(encoded)
	if err != nil {
		return false, false, err
	}
	var got []byte
	if err := h.run(ctx, func() {
		got = argon2.IDKey([]byte(password), salt, p.Iterations, p.MemoryKiB, p.Threads, uint32(len(want)))
	}); err != nil {
		return false, false, err
	}
	ok = subtle.ConstantTimeCompare(got, want) == 1
	return ok, ok && p != h.params, nil
}

// VerifyNothing spends the time of one verification and always fails. Call it
// when there is no account to check, so that the answer takes as long as a
// wrong password does.
func (h *Hasher) VerifyNothing(ctx context.Context, password string) error {
	_, _, err := h.Verify(ctx, h.dummy, password)
	return err
}

// run executes fn in a hashing slot, waiting at most h.wait for one. A
// caller that finds more callers queued than the slots can serve within
// h.wait (at the recent pace) is refused at once rather than after the wait:
// under a flood the excess gets its answer in milliseconds.
//
// The metrics (idp_password_hash_*) cost a few atomic additions per hash,
// against tens of milliseconds of argon2id.
func (h *Hasher) run(ctx context.Context, fn func()) error {
	select {
	case h.slots <- struct{}{}:
		telemetry.HashWait.Observe(0)
	default:
		if h.hopeless() {
			return ErrBusy
		}
		h.waiting.Add(1)
		telemetry.HashWaiting.Inc()
		queued := time.Now()
		t := time.NewTimer(h.wait)
		select {
		case h.slots <- struct{}{}:
		case <-t.C:
			h.leaveQueue(queued)
			return ErrBusy
		case <-ctx.Done():
			t.Stop()
			h.leaveQueue(queued)
			return ctx.Err()
		}
		t.Stop()
		h.leaveQueue(queued)
	}
	telemetry.HashInFlight.Inc()
	h.idleGen.Add(1)
	defer func() {
		telemetry.HashInFlight.Dec()
		<-h.slots
		h.hashDone()
	}()
	start := time.Now()
	fn()
	h.observe(time.Since(start))
	return nil
}

// leaveQueue takes a caller off the queue, with or without a slot, and
// records how long it waited.
func (h *Hasher) leaveQueue(queued time.Time) {
	h.waiting.Add(-1)
	telemetry.HashWaiting.Dec()
	telemetry.HashWait.Observe(time.Since(queued).Seconds())
}

// Saturated reports whether a hash asked for now would be refused at once:
// every slot is taken and the callers already queued fill the wait. The
// sign-in pages check it before any other work, so that under a flood the
// excess is turned away without touching Redis or Postgres.
func (h *Hasher) Saturated() bool {
	return len(h.slots) == cap(h.slots) && h.hopeless()
}

// hopeless reports whether the callers already queued would keep every slot
// busy for longer than the wait. Before the first hash there is no pace yet
// and nobody is refused early.
func (h *Hasher) hopeless() bool {
	avg := h.hashNanos.Load()
	if avg <= 0 {
		return false
	}
	servable := int64(cap(h.slots)) * int64(h.wait) / avg
	return h.waiting.Load() >= servable
}

// observe folds one hash's duration into the moving average (weight 1/8).
// Concurrent updates may lose one sample, which an average can afford.
func (h *Hasher) observe(d time.Duration) {
	old := h.hashNanos.Load()
	if old <= 0 {
		h.hashNanos.Store(int64(d))
		return
	}
	h.hashNanos.Store(old + (int64(d)-old)/8)
}

func derive(p Params, password string, salt []byte) []byte {
	return argon2.IDKey([]byte(password), salt, p.Iterations, p.MemoryKiB, p.Threads, keyLen)
}

var b64 = base64.RawStdEncoding

func encode(p Params, salt, key []byte) string {
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s",
		argon2.Version, p.MemoryKiB, p.Iterations, p.Threads, b64.EncodeToString(salt), b64.EncodeToString(key))
}

func decode(s string) (Params, []byte, []byte, error) {
	var p Params
	parts := strings.Split(s, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return p, nil, nil, ErrMalformed
	}
	var version int
	if _, err := fmt.Sscanf(parts[2], "v=%d", &version); err != nil || version != argon2.Version {
		return p, nil, nil, ErrMalformed
	}
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &p.MemoryKiB, &p.Iterations, &p.Threads); err != nil {
		return p, nil, nil, ErrMalformed
	}
	if p.MemoryKiB == 0 || p.Iterations == 0 || p.Threads == 0 {
		return p, nil, nil, ErrMalformed
	}
	salt, err1 := b64.DecodeString(parts[4])
	key, err2 := b64.DecodeString(parts[5])
	if err1 != nil || err2 != nil || len(salt) < 8 || len(key) < 16 {
		return p, nil, nil, ErrMalformed
	}
	return p, salt, key, nil
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand never fails on supported platforms
	}
	return b
}
