// Package webauthntest is a software passkey for the tests of the
// packages that hold passkeys (login/tools for staff logins, login/officers
// for officers): a P-256 key that answers navigator.credentials.create and
// .get as a browser hands them to the page.
package webauthntest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"slices"
	"testing"
)

// Authenticator is a software passkey for the tests: a P-256 key that
// answers navigator.credentials.create and .get as a browser would hand
// them to the page (PublicKeyCredential.toJSON()), with attestation
// "none". Its flags and counter can be set wrong on purpose.
type Authenticator struct {
	t       *testing.T
	Origin  string
	Key     *ecdsa.PrivateKey
	ID      []byte
	Handle  []byte // the user handle given at create, returned at get
	Counter uint32
	Step    uint32 // added to the counter at each get (0: a counter stuck at zero)
	Synced  bool   // backup eligible and backed up (a synced passkey)
	NoUV    bool   // the device did not verify the user
	RK      *bool  // what credProps says of a resident key (nil: nothing)
	Pushy   bool   // answers options that do not allow its credential
}

// New is a new passkey, of one credential, answering for origin.
func New(t *testing.T, origin string) *Authenticator {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	id := make([]byte, 16)
	_, _ = rand.Read(id)
	yes := true
	return &Authenticator{t: t, Origin: origin, Key: key, ID: id, Step: 1, RK: &yes}
}

// CreationOptions is what the tests read of {"publicKey": …} for create.
type CreationOptions struct {
	PublicKey struct {
		Challenge string `json:"challenge"`
		RP        struct {
			ID   string `json:"id"`
			Name string `json:"name"`
		} `json:"rp"`
		User struct {
			ID          string `json:"id"`
			Name        string `json:"name"`
			DisplayName string `json:"displayName"`
		} `json:"user"`
		Timeout                int `json:"timeout"`
		AuthenticatorSelection struct {
			ResidentKey        string `json:"residentKey"`
			RequireResidentKey bool   `json:"requireResidentKey"`
			UserVerification   string `json:"userVerification"`
		} `json:"authenticatorSelection"`
		Attestation        string `json:"attestation"`
		ExcludeCredentials []struct {
			ID string `json:"id"`
		} `json:"excludeCredentials"`
		Extensions map[string]any `json:"extensions"`
	} `json:"publicKey"`
}

// RequestOptions is what the tests read of {"publicKey": …} for get.
type RequestOptions struct {
	PublicKey struct {
		Challenge        string `json:"challenge"`
		RPID             string `json:"rpId"`
		Timeout          int    `json:"timeout"`
		UserVerification string `json:"userVerification"`
		AllowCredentials []struct {
			ID   string `json:"id"`
			Type string `json:"type"`
		} `json:"allowCredentials"`
	} `json:"publicKey"`
}

func Decode[T any](t *testing.T, raw []byte) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(raw, &v); err != nil {
		t.Fatalf("options %s: %v", raw, err)
	}
	return v
}

var B64 = base64.RawURLEncoding

func (a *Authenticator) flags(attested bool) byte {
	f := byte(0x01) // user present
	if !a.NoUV {
		f |= 0x04
	}
	if a.Synced {
		f |= 0x08 | 0x10
	}
	if attested {
		f |= 0x40
	}
	return f
}

func (a *Authenticator) clientData(typ, challenge string) []byte {
	b, _ := json.Marshal(map[string]any{"type": typ, "challenge": challenge, "origin": a.Origin, "crossOrigin": false})
	return b
}

// Create answers navigator.credentials.create(options).
func (a *Authenticator) Create(options []byte) []byte {
	a.t.Helper()
	o := Decode[CreationOptions](a.t, options).PublicKey
	for _, ex := range o.ExcludeCredentials {
		if ex.ID == B64.EncodeToString(a.ID) {
			a.t.Fatal("the Authenticator is excluded: it holds a passkey of this login already")
		}
	}
	handle, err := B64.DecodeString(o.User.ID)
	if err != nil {
		a.t.Fatalf("user.id %q: %v", o.User.ID, err)
	}
	a.Handle = handle
	rpHash := sha256.Sum256([]byte(o.RP.ID))
	pub := a.Key.PublicKey
	x, y := make([]byte, 32), make([]byte, 32)
	pub.X.FillBytes(x)
	pub.Y.FillBytes(y)
	cose := cborMap(cborInt(1), cborInt(2), cborInt(3), cborInt(-7), cborInt(-1), cborInt(1), cborInt(-2), cborBytes(x), cborInt(-3), cborBytes(y))
	auth := append(rpHash[:], a.flags(true))
	auth = binary.BigEndian.AppendUint32(auth, a.Counter)
	auth = append(auth, make([]byte, 16)...) // AAGUID: none given
	auth = binary.BigEndian.AppendUint16(auth, uint16(len(a.ID)))
	auth = append(auth, a.ID...)
	auth = append(auth, cose...)
	att := cborMap(cborText("fmt"), cborText("none"), cborText("attStmt"), cborMap(), cborText("authData"), cborBytes(auth))
	spki, err := x509.MarshalPKIXPublicKey(&pub)
	if err != nil {
		a.t.Fatal(err)
	}
	ext := map[string]any{}
	if a.RK != nil {
		ext["credProps"] = map[string]any{"rk": *a.RK}
	}
	out, _ := json.Marshal(map[string]any{
		"id": B64.EncodeToString(a.ID), "rawId": B64.EncodeToString(a.ID), "type": "public-key",
		"authenticatorAttachment": "platform", "clientExtensionResults": ext,
		"response": map[string]any{
			"clientDataJSON":     B64.EncodeToString(a.clientData("webauthn.create", o.Challenge)),
			"attestationObject":  B64.EncodeToString(att),
			"authenticatorData":  B64.EncodeToString(auth),
			"transports":         []string{"internal", "hybrid"},
			"publicKeyAlgorithm": -7,
			"publicKey":          B64.EncodeToString(spki),
		},
	})
	return out
}

// Get answers navigator.credentials.get(options), as long as the options
// allow this Authenticator's credential.
func (a *Authenticator) Get(options []byte) []byte {
	a.t.Helper()
	o := Decode[RequestOptions](a.t, options).PublicKey
	if !a.Pushy && len(o.AllowCredentials) > 0 && !slices.ContainsFunc(o.AllowCredentials, func(c struct {
		ID   string `json:"id"`
		Type string `json:"type"`
	}) bool {
		return c.ID == B64.EncodeToString(a.ID)
	}) {
		a.t.Fatal("the options do not allow this Authenticator's credential")
	}
	a.Counter += a.Step
	rpHash := sha256.Sum256([]byte(o.RPID))
	auth := append(rpHash[:], a.flags(false))
	auth = binary.BigEndian.AppendUint32(auth, a.Counter)
	cd := a.clientData("webauthn.get", o.Challenge)
	cdHash := sha256.Sum256(cd)
	digest := sha256.Sum256(append(slices.Clone(auth), cdHash[:]...))
	sig, err := ecdsa.SignASN1(rand.Reader, a.Key, digest[:])
	if err != nil {
		a.t.Fatal(err)
	}
	out, _ := json.Marshal(map[string]any{
		"id": B64.EncodeToString(a.ID), "rawId": B64.EncodeToString(a.ID), "type": "public-key",
		"authenticatorAttachment": "platform", "clientExtensionResults": map[string]any{},
		"response": map[string]any{
			"clientDataJSON":    B64.EncodeToString(cd),
			"authenticatorData": B64.EncodeToString(auth),
			"signature":         B64.EncodeToString(sig),
			"userHandle":        B64.EncodeToString(a.Handle),
		},
	})
	return out
}

// A little CBOR (RFC 8949), enough for an attestation object and a COSE key.

func cborHead(major byte, n uint64) []byte {
	switch {
	case n < 24:
		return []byte{major<<5 | byte(n)}
	case n < 1<<8:
		return []byte{major<<5 | 24, byte(n)}
	case n < 1<<16:
		return binary.BigEndian.AppendUint16([]byte{major<<5 | 25}, uint16(n))
	}
	return binary.BigEndian.AppendUint32([]byte{major<<5 | 26}, uint32(n))
}

func cborInt(i int64) []byte {
	if i < 0 {
		return cborHead(1, uint64(-1-i))
	}
	return cborHead(0, uint64(i))
}

func cborBytes(b []byte) []byte { return append(cborHead(2, uint64(len(b))), b...) }
func cborText(s string) []byte  { return append(cborHead(3, uint64(len(s))), s...) }

// cborMap encodes a map from encoded keys and values, alternating.
func cborMap(kv ...[]byte) []byte {
	out := cborHead(5, uint64(len(kv)/2))
	for _, b := range kv {
		out = append(out, b...)
	}
	return out
}
