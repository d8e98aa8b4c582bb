package tools

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"errors"
	"strconv"
)

// Sealer encrypts TOTP secrets at rest with AES-256-GCM under a key derived
// from the master key (op.DeriveKey(master, "totp-secret")). The staff
// login's id is the additional data: a sealed secret copied to another
// login's row does not open.
type Sealer struct{ aead cipher.AEAD }

// NewSealer returns a Sealer under a 32-byte key.
func NewSealer(key []byte) (*Sealer, error) {
	if len(key) != 32 {
		return nil, errors.New("tools: the sealing key must be 32 bytes")
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

func ad(loginID int64) []byte { return []byte("totp-secret:" + strconv.FormatInt(loginID, 10)) }

// Seal returns nonce || ciphertext of secret for the login.
func (s *Sealer) Seal(loginID int64, secret string) ([]byte, error) {
	nonce := make([]byte, s.aead.NonceSize(), s.aead.NonceSize()+len(secret)+s.aead.Overhead())
	if _, err := rand.Read(nonce); err != nil {
		return nil, err
	}
	return s.aead.Seal(nonce, nonce, []byte(secret), ad(loginID)), nil
}

// Open returns the secret sealed for the login.
func (s *Sealer) Open(loginID int64, sealed []byte) (string, error) {
	n := s.aead.NonceSize()
	if len(sealed) < n+s.aead.Overhead() {
		return "", errors.New("tools: sealed secret too short")
	}
	plain, err := s.aead.Open(nil, sealed[:n], sealed[n:], ad(loginID))
	if err != nil {
		return "", errors.New("tools: sealed secret does not open (wrong key or row)")
	}
	return string(plain), nil
}
