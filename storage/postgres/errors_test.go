package postgres_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/entity-account/idp/storage"
)

// TestErrorClasses: only a server that cannot serve is storage.ErrUnavailable;
// a value Postgres refuses is storage.ErrInvalid, never an outage.
func TestErrorClasses(t *testing.T) {
	t.Parallel()
	s, ctx := newStore(t)
	for name, v := range map[string]string{"NUL": "ab\x00cd", "invalid UTF-8": "ab\xffcd"} {
		_, err := s.Principal(ctx, v, "someone")
		if !errors.Is(err, storage.ErrInvalid) || errors.Is(err, storage.ErrUnavailable) {
			t.Errorf("%s in a lookup: %v, want ErrInvalid and not ErrUnavailable", name, err)
		}
	}
	if _, err := s.Principal(ctx, "02-999999", "nobody"); !errors.Is(err, storage.ErrNotFound) || errors.Is(err, storage.ErrUnavailable) {
		t.Errorf("unknown account: %v", err)
	}

	// A query that runs out of time: the server did not answer in time.
	late, cancel := context.WithDeadline(ctx, time.Now().Add(-time.Second))
	defer cancel()
	if _, err := s.Principal(late, "02-000001", "someone"); !errors.Is(err, storage.ErrUnavailable) {
		t.Errorf("timed-out query: %v, want ErrUnavailable", err)
	}
	// A cancelled request is the caller gone, not an outage.
	gone, stop := context.WithCancel(ctx)
	stop()
	if _, err := s.Principal(gone, "02-000001", "someone"); errors.Is(err, storage.ErrUnavailable) {
		t.Errorf("cancelled query: %v, want no outage", err)
	}
}
