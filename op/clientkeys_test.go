package op

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"strings"
	"testing"

	jose "github.com/go-jose/go-jose/v4"
)

// ParseClientJWKS takes public RSA (≥ 2048 bits) and P-256 keys for
// signatures, and refuses everything else in a sentence.
func TestParseClientJWKS(t *testing.T) {
	rsaKey, _ := rsa.GenerateKey(rand.Reader, 2048)
	weak, _ := rsa.GenerateKey(rand.Reader, 1024)
	p256, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	p384, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	set := func(keys ...jose.JSONWebKey) []byte {
		b, _ := json.Marshal(jose.JSONWebKeySet{Keys: keys})
		return b
	}
	good := set(jose.JSONWebKey{Key: &rsaKey.PublicKey, KeyID: "a", Algorithm: "PS256", Use: "sig"},
		jose.JSONWebKey{Key: &p256.PublicKey, KeyID: "b"})
	if s, err := ParseClientJWKS(good); err != nil || len(s.Keys) != 2 {
		t.Errorf("good set: %v", err)
	}
	for name, tc := range map[string]struct {
		data []byte
		want string
	}{
		"not JSON":      {[]byte("{"), "not a JSON Web Key Set"},
		"empty":         {set(), "1 to 20 keys"},
		"private key":   {set(jose.JSONWebKey{Key: rsaKey, KeyID: "p"}), "private key"},
		"1024-bit RSA":  {set(jose.JSONWebKey{Key: &weak.PublicKey}), "at least 2048"},
		"P-384":         {set(jose.JSONWebKey{Key: &p384.PublicKey}), "P-256"},
		"alg mismatch":  {set(jose.JSONWebKey{Key: &p256.PublicKey, Algorithm: "RS256"}), "does not fit"},
		"for enc":       {set(jose.JSONWebKey{Key: &p256.PublicKey, Use: "enc"}), "want sig"},
		"duplicate kid": {set(jose.JSONWebKey{Key: &p256.PublicKey, KeyID: "x"}, jose.JSONWebKey{Key: &rsaKey.PublicKey, KeyID: "x"}), "twice"},
		"symmetric":     {[]byte(`{"keys":[{"kty":"oct","k":"c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0"}]}`), "key"},
	} {
		if _, err := ParseClientJWKS(tc.data); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want an error saying %q", name, err, tc.want)
		}
	}
}
