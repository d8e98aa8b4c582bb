package register

import (
	"context"
	"crypto/sha256"
	"fmt"
	"time"

	"github.com/entity-account/idp/storage"
)

// ClientKeeper holds the use cases on a registered client: rotating its
// secret with a grace period, disabling and enabling it. Each asks the
// rule book, writes with its audit event in one transaction, then tells
// every node to drop the client from its cache.
type ClientKeeper struct {
	dir     KeeperDirectory
	changes ClientChanges
	now     func() time.Time
}

// KeeperDirectory is what the keeper needs of the durable store.
type KeeperDirectory interface {
	ClientForOperator(ctx context.Context, id string) (storage.Client, error)
	RotateClientSecret(ctx context.Context, actor storage.Actor, id string, newHash []byte, previousUntil time.Time) error
	DisableClient(ctx context.Context, actor storage.Actor, id string) error
	EnableClient(ctx context.Context, actor storage.Actor, id string) error
}

// ClientChanges tells every node that clients changed (storage/redis).
type ClientChanges interface {
	PublishClientsChanged(ctx context.Context, clientIDs ...string) error
}

// NewClientKeeper returns the keeper over dir, publishing to changes.
func NewClientKeeper(dir KeeperDirectory, changes ClientChanges) *ClientKeeper {
	return &ClientKeeper{dir: dir, changes: changes, now: time.Now}
}

// Rotated is a rotation's outcome: the new secret (shown once) and until
// when the previous one still works.
type Rotated struct {
	ClientID      string
	Secret        string
	PreviousUntil time.Time
}

// RotateSecret gives the client id a new random secret; its current one
// keeps working for grace (0: it stops at once). A client without a secret
// is refused (storage.MayRotateSecret); an unknown id is storage.ErrNotFound.
func (k *ClientKeeper) RotateSecret(ctx context.Context, actor storage.Actor, id string, grace time.Duration) (Rotated, error) {
	c, err := k.dir.ClientForOperator(ctx, id)
	if err != nil {
		return Rotated{}, fmt.Errorf("client %s: %w", id, err)
	}
	if err := storage.MayRotateSecret(actor, c, grace); err != nil {
		return Rotated{}, err
	}
	secret := randomSecret(32)
	sum := sha256.Sum256([]byte(secret)) // as op/client.go checks it
	// To the second, as the operator is shown it (0: the old one ends now).
	out := Rotated{ClientID: id, Secret: secret, PreviousUntil: k.now().Add(grace).UTC().Truncate(time.Second)}
	if err := k.dir.RotateClientSecret(ctx, actor, id, sum[:], out.PreviousUntil); err != nil {
		return Rotated{}, fmt.Errorf("client %s: %w", id, err)
	}
	return out, k.publish(ctx, id)
}

// SetDisabled disables (or, with disabled false, enables) the client id.
// A disabled client is unknown to the provider: /authorize and the token
// endpoint refuse it, and its tokens stop working at once.
func (k *ClientKeeper) SetDisabled(ctx context.Context, actor storage.Actor, id string, disabled bool) error {
	if err := storage.MaySetClientDisabled(actor); err != nil {
		return err
	}
	set := k.dir.EnableClient
	if disabled {
		set = k.dir.DisableClient
	}
	if err := set(ctx, actor, id); err != nil {
		return fmt.Errorf("client %s: %w", id, err)
	}
	return k.publish(ctx, id)
}

// publish tells every node; the change is made already, so a failure to
// publish is reported (the nodes catch up within their cache's lifetime).
func (k *ClientKeeper) publish(ctx context.Context, id string) error {
	if k.changes == nil {
		return nil
	}
	if err := k.changes.PublishClientsChanged(context.WithoutCancel(ctx), id); err != nil {
		return fmt.Errorf("client %s changed, but the nodes were not told (they follow within 30 s): %w", id, err)
	}
	return nil
}
