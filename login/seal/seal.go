// Package seal encrypts small values at rest with AES-256-GCM, bound to
// additional data that says where the value belongs (a row, a recipient):
// a sealed value copied elsewhere does not open.
//
// The sealed form is nonce || ciphertext || tag (GCM's standard 12-byte
// nonce and 16-byte tag). Values sealed by earlier releases are in this
// form, so it must not change: a change would make every outbox body and
// every enrolled authenticator secret unreadable.
package seal

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"errors"
	"fmt"
)

// KeySize is the length of a sealing key (AES-256).
const KeySize = 32

// ErrTooShort: the sealed value is missing or too short to hold a nonce
// and a tag.
var ErrTooShort = errors.New("sealed value missing or too short")

// Sealer seals and opens values under one key. Derive the key from the
// master key for one purpose only, so that a value sealed for one purpose
// never opens for another.
type Sealer struct{ aead cipher.AEAD }

// New returns a Sealer under a KeySize-byte key.
func New(key []byte) (*Sealer, error) {
	if len(key) != KeySize {
		return nil, fmt.Errorf("sealing key must be %d bytes, got %d", KeySize, len(key))
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	return &Sealer{aead: aead}, nil
}

// Seal returns nonce || ciphertext of plain, bound to additional.
func (s *Sealer) Seal(plain, additional []byte) ([]byte, error) {
	nonce := make([]byte, s.aead.NonceSize(), s.aead.NonceSize()+len(plain)+s.aead.Overhead())
	if _, err := rand.Read(nonce); err != nil {
		return nil, err
	}
	return s.aead.Seal(nonce, nonce, plain, additional), nil
}

// Open returns the plain value of sealed, which must have been sealed under
// the same key and additional data. It returns ErrTooShort for a value too
// short to be sealed, and the cipher's authentication error for one that
// does not open (another key, other additional data, altered bytes).
func (s *Sealer) Open(sealed, additional []byte) ([]byte, error) {
	n := s.aead.NonceSize()
	if len(sealed) < n+s.aead.Overhead() {
		return nil, ErrTooShort
	}
	return s.aead.Open(nil, sealed[:n], sealed[n:], additional)
}
