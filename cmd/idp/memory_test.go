package main

import (
	"testing"

	"github.com/entity-account/idp/config"
)

// The memory limit follows the hashes that may run at once.
func TestMemoryLimit(t *testing.T) {
	cfg := &config.Config{HashConcurrency: 2, Argon2MemoryKiB: 19 * 1024}
	if got, want := memoryLimit(cfg), int64(64+2*2*19)<<20; got != want {
		t.Fatalf("memoryLimit = %d MiB, want %d MiB", got>>20, want>>20)
	}
	cfg.HashConcurrency = 8
	if got, want := memoryLimit(cfg), int64(64+2*8*19)<<20; got != want {
		t.Fatalf("memoryLimit = %d MiB, want %d MiB", got>>20, want>>20)
	}
}
