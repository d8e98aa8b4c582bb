package redis

import (
	"context"
	"fmt"
	"time"

	"github.com/entity-account/idp/storage"
)

// Tickets are small short-lived values handed to a browser as an opaque
// secret between two steps of a form, e.g. "this browser proved an
// activation code; let it choose a username". Like every secret here, the
// key holds only the hash of the secret:
//
//	P tk:<purpose>:{hash(secret)}   string  the value, TTL of the ticket

func (s *Store) kTicket(purpose, h string) string { return s.prefix + "tk:" + purpose + ":{" + h + "}" }

// CreateTicket stores value for ttl under a new random 256-bit secret of the
// given purpose and returns the secret.
func (s *Store) CreateTicket(ctx context.Context, purpose string, value []byte, ttl time.Duration) (string, error) {
	if ttl < time.Millisecond {
		return "", fmt.Errorf("redis: create ticket: ttl %v too short", ttl)
	}
	secret, err := newSecret()
	if err != nil {
		return "", err
	}
	if err := s.rdb.Set(ctx, s.kTicket(purpose, hashSecret(secret)), value, ttl).Err(); err != nil {
		return "", wrap("create ticket", err)
	}
	return secret, nil
}

// Ticket returns the value of a ticket, storage.ErrNotFound when the secret
// is unknown, of another purpose, or expired.
func (s *Store) Ticket(ctx context.Context, purpose, secret string) ([]byte, error) {
	if secret == "" {
		return nil, fmt.Errorf("redis: ticket: %w", storage.ErrNotFound)
	}
	v, err := s.rdb.Get(ctx, s.kTicket(purpose, hashSecret(secret))).Bytes()
	if isNil(err) {
		return nil, fmt.Errorf("redis: ticket: %w", storage.ErrNotFound)
	}
	return v, wrap("ticket", err)
}

// DeleteTicket ends a ticket; an unknown one is not an error.
func (s *Store) DeleteTicket(ctx context.Context, purpose, secret string) error {
	return wrap("delete ticket", s.rdb.Del(ctx, s.kTicket(purpose, hashSecret(secret))).Err())
}
