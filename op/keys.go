package op

import (
	"context"
	"crypto"
	"crypto/aes"
	"crypto/cipher"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"sync"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/zitadel/oidc/v3/pkg/op"
	"golang.org/x/crypto/hkdf"

	"github.com/entity-account/idp/storage"
)

// KeyStore is the part of the directory that holds signing keys.
type KeyStore interface {
	SigningKeys(ctx context.Context) ([]storage.SigningKey, error)
	CreateSigningKey(ctx context.Context, k storage.SigningKey, activate bool, retiredExpiry time.Time) error
	EnsureSigningKey(ctx context.Context, k storage.SigningKey) (bool, error)
}

// Keys serves token-signing keys from memory and reloads them from Postgres
// every refresh interval, so that every node signs with the same key and a
// rotation on one node reaches the others without a restart. Private keys are
// sealed with AES-256-GCM under a key derived from the master key.
type Keys struct {
	store   KeyStore
	seal    cipher.AEAD
	alg     jose.SignatureAlgorithm
	refresh time.Duration

	mu       sync.RWMutex
	signing  *signingKey
	public   []op.Key
	loadedAt time.Time
}

// NewKeys makes sure a signing key exists (creating one if the database has
// none, safely when several nodes start at once) and loads the key set.
func NewKeys(ctx context.Context, store KeyStore, masterKey []byte, alg string, refresh time.Duration) (*Keys, error) {
	aead, err := newAEAD(DeriveKey(masterKey, "signing-key-seal"))
	if err != nil {
		return nil, err
	}
	k := &Keys{store: store, seal: aead, alg: jose.SignatureAlgorithm(alg), refresh: refresh}
	if err := k.load(ctx); err != nil {
		return nil, err
	}
	if k.signing == nil {
		sk, err := k.generate()
		if err != nil {
			return nil, err
		}
		if _, err := store.EnsureSigningKey(ctx, sk); err != nil {
			return nil, fmt.Errorf("store first signing key: %w", err)
		}
		if err := k.load(ctx); err != nil {
			return nil, err
		}
		if k.signing == nil {
			return nil, errors.New("no active signing key after creating one")
		}
	}
	return k, nil
}

// Rotate creates a new key and makes it the signing key. The previous key
// stays published until retiredExpiry, so tokens it signed still verify.
func (k *Keys) Rotate(ctx context.Context, retiredExpiry time.Time) (string, error) {
	sk, err := k.generate()
	if err != nil {
		return "", err
	}
	if err := k.store.CreateSigningKey(ctx, sk, true, retiredExpiry); err != nil {
		return "", fmt.Errorf("store signing key: %w", err)
	}
	return sk.ID, k.load(ctx)
}

// Signing returns the active signing key, reloading the set when it is stale.
func (k *Keys) Signing(ctx context.Context) (op.SigningKey, error) {
	k.maybeReload(ctx)
	k.mu.RLock()
	defer k.mu.RUnlock()
	if k.signing == nil {
		return nil, errors.New("no signing key")
	}
	return k.signing, nil
}

// Public returns every published key (active, retired but unexpired).
func (k *Keys) Public(ctx context.Context) []op.Key {
	k.maybeReload(ctx)
	k.mu.RLock()
	defer k.mu.RUnlock()
	return k.public
}

// Algorithm is the configured signing algorithm: that of the keys made
// from now on (the first one, and each rotation).
func (k *Keys) Algorithm() jose.SignatureAlgorithm { return k.alg }

// Algorithms are the algorithms ID tokens are signed with: the active key's
// first, then those of the other published keys (whose tokens still
// verify), without repeats. IDP_SIGNING_ALG changes only the keys made
// after it, so until `idp keys rotate` the active key may still be of the
// algorithm before; discovery must say what tokens really carry.
func (k *Keys) Algorithms(ctx context.Context) []jose.SignatureAlgorithm {
	k.maybeReload(ctx)
	k.mu.RLock()
	defer k.mu.RUnlock()
	var algs []jose.SignatureAlgorithm
	if k.signing != nil {
		algs = append(algs, k.signing.alg)
	}
	for _, p := range k.public {
		if a := p.Algorithm(); !slices.Contains(algs, a) {
			algs = append(algs, a)
		}
	}
	if len(algs) == 0 {
		algs = append(algs, k.alg)
	}
	return algs
}

func (k *Keys) maybeReload(ctx context.Context) {
	k.mu.RLock()
	stale := time.Since(k.loadedAt) > k.refresh
	k.mu.RUnlock()
	if !stale {
		return
	}
	if err := k.load(ctx); err != nil {
		// Keep serving the keys we have: a database blink must not stop signing.
		slog.WarnContext(ctx, "reload signing keys", "err", err)
	}
}

func (k *Keys) load(ctx context.Context) error {
	rows, err := k.store.SigningKeys(ctx)
	if err != nil {
		return fmt.Errorf("load signing keys: %w", err)
	}
	var signing *signingKey
	public := make([]op.Key, 0, len(rows))
	for _, row := range rows {
		var jwk jose.JSONWebKey
		if err := jwk.UnmarshalJSON(row.PublicJWK); err != nil {
			return fmt.Errorf("signing key %s: public key: %w", row.ID, err)
		}
		public = append(public, publicKey{id: row.ID, alg: jose.SignatureAlgorithm(row.Algorithm), key: jwk.Key})
		if signing == nil && row.ActivatedAt != nil && row.RetiredAt == nil {
			priv, err := k.unsealPrivate(row)
			if err != nil {
				return err
			}
			signing = &signingKey{id: row.ID, alg: jose.SignatureAlgorithm(row.Algorithm), key: priv}
		}
	}
	k.mu.Lock()
	k.signing, k.public, k.loadedAt = signing, public, time.Now()
	k.mu.Unlock()
	return nil
}

func (k *Keys) generate() (storage.SigningKey, error) {
	var priv crypto.Signer
	var err error
	switch k.alg {
	case jose.RS256:
		priv, err = rsa.GenerateKey(rand.Reader, 2048)
	case jose.ES256:
		priv, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	default:
		return storage.SigningKey{}, fmt.Errorf("unsupported signing algorithm %s", k.alg)
	}
	if err != nil {
		return storage.SigningKey{}, err
	}
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return storage.SigningKey{}, err
	}
	pubJWK := jose.JSONWebKey{Key: priv.Public(), Algorithm: string(k.alg), Use: "sig"}
	thumb, err := pubJWK.Thumbprint(crypto.SHA256)
	if err != nil {
		return storage.SigningKey{}, err
	}
	// The kid is the RFC 7638 thumbprint: stable, unique, and derived from the key itself.
	pubJWK.KeyID = base64.RawURLEncoding.EncodeToString(thumb)
	pubJSON, err := pubJWK.MarshalJSON()
	if err != nil {
		return storage.SigningKey{}, err
	}
	sealed, err := k.sealPrivate(pubJWK.KeyID, der)
	if err != nil {
		return storage.SigningKey{}, err
	}
	return storage.SigningKey{ID: pubJWK.KeyID, Algorithm: string(k.alg), PrivateKeySealed: sealed, PublicJWK: pubJSON}, nil
}

// sealPrivate encrypts a PKCS#8 key; the kid is bound as additional data so a
// sealed key cannot be swapped under another kid.
func (k *Keys) sealPrivate(kid string, der []byte) ([]byte, error) {
	nonce := make([]byte, k.seal.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return nil, err
	}
	return k.seal.Seal(nonce, nonce, der, []byte(kid)), nil
}

func (k *Keys) unsealPrivate(row storage.SigningKey) (crypto.Signer, error) {
	n := k.seal.NonceSize()
	if len(row.PrivateKeySealed) < n {
		return nil, fmt.Errorf("signing key %s: sealed key too short", row.ID)
	}
	der, err := k.seal.Open(nil, row.PrivateKeySealed[:n], row.PrivateKeySealed[n:], []byte(row.ID))
	if err != nil {
		return nil, fmt.Errorf("signing key %s: cannot unseal (is IDP_MASTER_KEY the one the key was made with?): %w", row.ID, err)
	}
	priv, err := x509.ParsePKCS8PrivateKey(der)
	if err != nil {
		return nil, fmt.Errorf("signing key %s: %w", row.ID, err)
	}
	signer, ok := priv.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("signing key %s: not a signer", row.ID)
	}
	return signer, nil
}

type signingKey struct {
	id  string
	alg jose.SignatureAlgorithm
	key crypto.Signer
}

func (s *signingKey) SignatureAlgorithm() jose.SignatureAlgorithm { return s.alg }
func (s *signingKey) Key() any                                    { return s.key }
func (s *signingKey) ID() string                                  { return s.id }

type publicKey struct {
	id  string
	alg jose.SignatureAlgorithm
	key any
}

func (p publicKey) ID() string                         { return p.id }
func (p publicKey) Algorithm() jose.SignatureAlgorithm { return p.alg }
func (p publicKey) Use() string                        { return "sig" }
func (p publicKey) Key() any                           { return p.key }

// DeriveKey derives a 32-byte purpose-bound key from the master key
// (HKDF-SHA256), so one configured secret yields independent keys.
func DeriveKey(master []byte, purpose string) []byte {
	out := make([]byte, 32)
	if _, err := io.ReadFull(hkdf.New(sha256.New, master, nil, []byte("entity-idp "+purpose)), out); err != nil {
		panic(err) // cannot happen for 32 bytes of SHA-256 HKDF
	}
	return out
}

func newAEAD(key []byte) (cipher.AEAD, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}
