package postgres_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/entity-account/idp/storage/postgres"
	"github.com/entity-account/idp/storage/storagetest"
)

// Two nodes starting at once on a fresh database must both come up.
func TestMigrateConcurrently(t *testing.T) {
	t.Parallel()
	u := storagetest.EmptyPostgresURL(t)
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()

	var wg sync.WaitGroup
	errs := make([]error, 2)
	for i := range errs {
		store, err := postgres.Open(ctx, u)
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
		defer store.Close()
		wg.Go(func() { errs[i] = postgres.Migrate(ctx, store.Pool()) })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("Migrate #%d: %v", i, err)
		}
	}

	store, err := postgres.Open(ctx, u)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	defer store.Close()
	var applied int
	err = store.Pool().QueryRow(ctx,
		`SELECT count(*) FROM goose_db_version WHERE version_id = 1 AND is_applied`).Scan(&applied)
	if err != nil {
		t.Fatalf("read goose_db_version: %v", err)
	}
	if applied != 1 {
		t.Errorf("migration 1 recorded %d times, want 1", applied)
	}
	// Starting again later finds nothing to do.
	if err := postgres.Migrate(ctx, store.Pool()); err != nil {
		t.Errorf("Migrate on a migrated database: %v", err)
	}
	if _, err := store.SigningKeys(ctx); err != nil {
		t.Errorf("schema unusable after migration: %v", err)
	}
}
