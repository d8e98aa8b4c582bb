package main

import (
	"log/slog"
	"math"
	"runtime/debug"
	"time"

	"github.com/entity-account/idp/config"
	"github.com/entity-account/idp/login/password"
)

// The memory of a node is mostly argon2id's: every sign-in hashes a password
// with IDP_ARGON2_MEMORY_KIB of memory (19 MiB by default), which
// golang.org/x/crypto/argon2 allocates anew for every hash (a pool of
// buffers cannot help: the package takes none). The hasher bounds how many
// run at once (IDP_HASH_CONCURRENCY), so what is live is bounded; what the
// runtime does with the garbage is set here.

// baseMemory is what a node needs besides the hashes: its caches, pools,
// buffers and the goroutines of a thousand open connections.
const baseMemory = 64 << 20

// memoryLimit is the soft memory limit of a node (runtime/debug): the
// memory of the hashes that may run at once, twice (a hash's block and the
// garbage of the one before it), on top of baseMemory. The garbage
// collector runs harder as the heap nears it, so a flood of sign-ins peaks
// near it instead of at twice the live heap.
func memoryLimit(cfg *config.Config) int64 {
	return baseMemory + 2*int64(cfg.HashConcurrency)*int64(cfg.Argon2MemoryKiB)<<10
}

// limitMemory sets memoryLimit unless the operator has set one (GOMEMLIMIT).
func limitMemory(cfg *config.Config) {
	if debug.SetMemoryLimit(-1) != math.MaxInt64 {
		return // GOMEMLIMIT is set: the operator's choice
	}
	limit := memoryLimit(cfg)
	debug.SetMemoryLimit(limit)
	slog.Info("memory limit", "bytes", limit, "hash_concurrency", cfg.HashConcurrency, "argon2_memory_kib", cfg.Argon2MemoryKiB)
}

// releaseAfterBursts makes the hasher give the hashes' memory back to the
// operating system once it has been idle for a second after at least
// releaseBurst hashes: the runtime's background scavenger would take minutes
// to return it. FreeOSMemory costs one garbage collection, only after a burst.
func releaseAfterBursts(h *password.Hasher) {
	h.AfterBurst(releaseBurst, time.Second, func() {
		debug.FreeOSMemory()
		slog.Debug("memory given back to the system after a burst of password hashes")
	})
}

// releaseBurst is how many hashes make a burst worth a release (their
// memory: releaseBurst × IDP_ARGON2_MEMORY_KIB of garbage).
const releaseBurst = 8
