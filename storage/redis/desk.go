package redis

import (
	"context"
	"encoding/json"
	"errors"

	"github.com/entity-account/idp/storage"
)

// The officers' desk sessions: one record per session, under the hash of
// its secret, expiring when the officer has been idle for storage.DeskIdle
// and never later than its ExpiresAt.

func (s *Store) kDeskSession(h string) string { return s.prefix + "desk:{" + h + "}" }

// CreateDeskSession implements storage.DeskSessions.
func (s *Store) CreateDeskSession(ctx context.Context, ds *storage.DeskSession) (string, error) {
	if ds.OfficerID == 0 || ds.ExpiresAt.IsZero() {
		return "", errors.New("redis: create desk session: officer and ExpiresAt are required")
	}
	ttl, ok := s.sessionTTL(storage.DeskIdle, ds.ExpiresAt)
	if !ok {
		return "", errors.New("redis: create desk session: ExpiresAt is in the past")
	}
	secret, err := newSecret()
	if err != nil {
		return "", err
	}
	if ds.ID, err = newID(); err != nil {
		return "", err
	}
	now := s.now()
	ds.CreatedAt, ds.LastSeenAt = now, now
	raw, err := json.Marshal(ds)
	if err != nil {
		return "", wrap("create desk session", err)
	}
	if err := s.rdb.Set(ctx, s.kDeskSession(hashSecret(secret)), raw, ttl).Err(); err != nil {
		return "", wrap("create desk session", err)
	}
	return secret, nil
}

// DeskSession implements storage.DeskSessions. Every request extends the
// idle expiry: a desk session is one officer's, read a few times a minute,
// so the write per request costs nothing worth saving.
func (s *Store) DeskSession(ctx context.Context, secret string) (*storage.DeskSession, error) {
	if secret == "" {
		return nil, storage.ErrNotFound
	}
	key := s.kDeskSession(hashSecret(secret))
	raw, err := s.rdb.Get(ctx, key).Bytes()
	if isNil(err) {
		return nil, storage.ErrNotFound
	}
	if err != nil {
		return nil, wrap("load desk session", err)
	}
	var ds storage.DeskSession
	if err := json.Unmarshal(raw, &ds); err != nil {
		return nil, wrap("decode desk session", err)
	}
	ttl, ok := s.sessionTTL(storage.DeskIdle, ds.ExpiresAt)
	if !ok {
		return nil, storage.ErrNotFound
	}
	// PEXPIRE XX-style: only a record that still exists is extended; one
	// ended meanwhile stays ended.
	if err := s.rdb.PExpire(ctx, key, ttl).Err(); err != nil {
		return nil, wrap("touch desk session", err)
	}
	ds.LastSeenAt = s.now()
	return &ds, nil
}

// EndDeskSession implements storage.DeskSessions.
func (s *Store) EndDeskSession(ctx context.Context, secret string) error {
	if secret == "" {
		return nil
	}
	return wrap("end desk session", s.rdb.Del(ctx, s.kDeskSession(hashSecret(secret))).Err())
}

var _ storage.DeskSessions = (*Store)(nil)
