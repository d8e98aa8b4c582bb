package tools

import (
	"errors"
	"fmt"
	"strconv"

	"github.com/entity-account/idp/login/seal"
)

// Sealer encrypts TOTP secrets at rest with AES-256-GCM (package seal)
// under a key derived from the master key (op.DeriveKey(master,
// "totp-secret")). The staff login's id is the additional data: a sealed
// secret copied to another login's row does not open.
type Sealer struct{ s *seal.Sealer }

// NewSealer returns a Sealer under a 32-byte key.
func NewSealer(key []byte) (*Sealer, error) {
	s, err := seal.New(key)
	if err != nil {
		return nil, fmt.Errorf("tools: %w", err)
	}
	return &Sealer{s: s}, nil
}

func ad(loginID int64) []byte { return []byte("totp-secret:" + strconv.FormatInt(loginID, 10)) }

// Seal returns nonce || ciphertext of secret for the login.
func (s *Sealer) Seal(loginID int64, secret string) ([]byte, error) {
	return s.s.Seal([]byte(secret), ad(loginID))
}

// Open returns the secret sealed for the login.
func (s *Sealer) Open(loginID int64, sealed []byte) (string, error) {
	plain, err := s.s.Open(sealed, ad(loginID))
	if errors.Is(err, seal.ErrTooShort) {
		return "", errors.New("tools: sealed secret too short")
	}
	if err != nil {
		return "", errors.New("tools: sealed secret does not open (wrong key or row)")
	}
	return string(plain), nil
}
