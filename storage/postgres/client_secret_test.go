package postgres_test

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"testing"
	"time"

	"github.com/entity-account/idp/storage"
)

// TestRotateClientSecret: the current secret becomes the previous one with
// its expiry, a second rotation replaces it, a client without a secret is
// not changed (ErrNotFound, as an unknown one), and each rotation is audited.
// Disabling and enabling are audited, the operator still reads a disabled
// client, and its tokens' cut-off is the second after the disabling.
func TestRotateClientSecret(t *testing.T) {
	t.Parallel()
	s, ctx := newStore(t)
	sv := createService(t, s, "rotate", storage.PolicyAssigned)
	first, second, third := sha256.Sum256([]byte("1")), sha256.Sum256([]byte("2")), sha256.Sum256([]byte("3"))
	web := storage.Client{ID: "rot-web", ServiceID: sv.ID, Name: "w", SecretHash: first[:], RedirectURIs: []string{"https://w.gov.mo/cb"}}
	app := storage.Client{ID: "rot-app", ServiceID: sv.ID, Name: "a", Public: true, RedirectURIs: []string{"http://127.0.0.1/cb"}}
	for _, c := range []*storage.Client{&web, &app} {
		if err := s.CreateClient(ctx, operator, c); err != nil {
			t.Fatal(err)
		}
	}
	until := time.Now().Add(time.Hour).Truncate(time.Second).UTC()
	if err := s.RotateClientSecret(ctx, operator, web.ID, second[:], until); err != nil {
		t.Fatal(err)
	}
	wantAudit(t, s, operator, "client.rotate_secret", web.ID, nil)
	got, err := s.Client(ctx, web.ID)
	if err != nil || !bytes.Equal(got.SecretHash, second[:]) || !bytes.Equal(got.PreviousSecretHash, first[:]) || !got.PreviousSecretExpiresAt.Equal(until) {
		t.Errorf("after a rotation: %+v, %v", got, err)
	}
	if err := s.RotateClientSecret(ctx, operator, web.ID, third[:], until); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.Client(ctx, web.ID); !bytes.Equal(got.SecretHash, third[:]) || !bytes.Equal(got.PreviousSecretHash, second[:]) {
		t.Errorf("after a second rotation: %+v", got)
	}
	for _, id := range []string{app.ID, "nobody"} {
		if err := s.RotateClientSecret(ctx, operator, id, third[:], until); !errors.Is(err, storage.ErrNotFound) {
			t.Errorf("rotating %s: %v, want ErrNotFound", id, err)
		}
	}
	if got, _ := s.Client(ctx, app.ID); got.SecretHash != nil || got.PreviousSecretHash != nil {
		t.Errorf("a public client got a secret: %+v", got)
	}

	before := time.Now()
	if err := s.DisableClient(ctx, operator, web.ID); err != nil {
		t.Fatal(err)
	}
	wantAudit(t, s, operator, "client.disable", web.ID, nil)
	if _, err := s.Client(ctx, web.ID); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("Client of a disabled client: %v", err)
	}
	got, err = s.ClientForOperator(ctx, web.ID)
	if err != nil || !got.Disabled || !got.TokensValidAfter.After(before) || got.TokensValidAfter.After(before.Add(time.Second)) {
		t.Errorf("ClientForOperator of a disabled client: %+v, %v", got, err)
	}
	if err := s.EnableClient(ctx, operator, web.ID); err != nil {
		t.Fatal(err)
	}
	wantAudit(t, s, operator, "client.enable", web.ID, nil)
	if got, err := s.Client(ctx, web.ID); err != nil || got.Disabled || got.TokensValidAfter.IsZero() {
		t.Errorf("Client after enabling: %+v, %v (the tokens' cut-off stays)", got, err)
	}
	if err := s.EnableClient(ctx, operator, "nobody"); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("enabling an unknown client: %v", err)
	}
}
