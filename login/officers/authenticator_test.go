package officers_test

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

// authenticator is a software passkey for the tests (a copy of
// login/tools' own): a P-256 key that
// answers navigator.credentials.create and .get as a browser would hand
// them to the page (PublicKeyCredential.toJSON()), with attestation
// "none". Its flags and counter can be set wrong on purpose.
type authenticator struct {
	t       *testing.T
	origin  string
	key     *ecdsa.PrivateKey
	id      []byte
	handle  []byte // the user handle given at create, returned at get
	counter uint32
	step    uint32 // added to the counter at each get (0: a counter stuck at zero)
	synced  bool   // backup eligible and backed up (a synced passkey)
	noUV    bool   // the device did not verify the user
	rk      *bool  // what credProps says of a resident key (nil: nothing)
	pushy   bool   // answers options that do not allow its credential
}

func newAuthenticator(t *testing.T, origin string) *authenticator {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	id := make([]byte, 16)
	_, _ = rand.Read(id)
	yes := true
	return &authenticator{t: t, origin: origin, key: key, id: id, step: 1, rk: &yes}
}

// creationOptions is what the tests read of {"publicKey": …} for create.
type creationOptions struct {
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

// requestOptions is what the tests read of {"publicKey": …} for get.
type requestOptions struct {
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

func decode[T any](t *testing.T, raw []byte) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(raw, &v); err != nil {
		t.Fatalf("options %s: %v", raw, err)
	}
	return v
}

var b64 = base64.RawURLEncoding

func (a *authenticator) flags(attested bool) byte {
	f := byte(0x01) // user present
	if !a.noUV {
		f |= 0x04
	}
	if a.synced {
		f |= 0x08 | 0x10
	}
	if attested {
		f |= 0x40
	}
	return f
}

func (a *authenticator) clientData(typ, challenge string) []byte {
	b, _ := json.Marshal(map[string]any{"type": typ, "challenge": challenge, "origin": a.origin, "crossOrigin": false})
	return b
}

// create answers navigator.credentials.create(options).
func (a *authenticator) create(options []byte) []byte {
	a.t.Helper()
	o := decode[creationOptions](a.t, options).PublicKey
	for _, ex := range o.ExcludeCredentials {
		if ex.ID == b64.EncodeToString(a.id) {
			a.t.Fatal("the authenticator is excluded: it holds a passkey of this login already")
		}
	}
	handle, err := b64.DecodeString(o.User.ID)
	if err != nil {
		a.t.Fatalf("user.id %q: %v", o.User.ID, err)
	}
	a.handle = handle
	rpHash := sha256.Sum256([]byte(o.RP.ID))
	pub := a.key.PublicKey
	x, y := make([]byte, 32), make([]byte, 32)
	pub.X.FillBytes(x)
	pub.Y.FillBytes(y)
	cose := cborMap(cborInt(1), cborInt(2), cborInt(3), cborInt(-7), cborInt(-1), cborInt(1), cborInt(-2), cborBytes(x), cborInt(-3), cborBytes(y))
	auth := append(rpHash[:], a.flags(true))
	auth = binary.BigEndian.AppendUint32(auth, a.counter)
	auth = append(auth, make([]byte, 16)...) // AAGUID: none given
	auth = binary.BigEndian.AppendUint16(auth, uint16(len(a.id)))
	auth = append(auth, a.id...)
	auth = append(auth, cose...)
	att := cborMap(cborText("fmt"), cborText("none"), cborText("attStmt"), cborMap(), cborText("authData"), cborBytes(auth))
	spki, err := x509.MarshalPKIXPublicKey(&pub)
	if err != nil {
		a.t.Fatal(err)
	}
	ext := map[string]any{}
	if a.rk != nil {
		ext["credProps"] = map[string]any{"rk": *a.rk}
	}
	out, _ := json.Marshal(map[string]any{
		"id": b64.EncodeToString(a.id), "rawId": b64.EncodeToString(a.id), "type": "public-key",
		"authenticatorAttachment": "platform", "clientExtensionResults": ext,
		"response": map[string]any{
			"clientDataJSON":     b64.EncodeToString(a.clientData("webauthn.create", o.Challenge)),
			"attestationObject":  b64.EncodeToString(att),
			"authenticatorData":  b64.EncodeToString(auth),
			"transports":         []string{"internal", "hybrid"},
			"publicKeyAlgorithm": -7,
			"publicKey":          b64.EncodeToString(spki),
		},
	})
	return out
}

// get answers navigator.credentials.get(options), as long as the options
// allow this authenticator's credential.
func (a *authenticator) get(options []byte) []byte {
	a.t.Helper()
	o := decode[requestOptions](a.t, options).PublicKey
	if !a.pushy && len(o.AllowCredentials) > 0 && !slices.ContainsFunc(o.AllowCredentials, func(c struct {
		ID   string `json:"id"`
		Type string `json:"type"`
	}) bool {
		return c.ID == b64.EncodeToString(a.id)
	}) {
		a.t.Fatal("the options do not allow this authenticator's credential")
	}
	a.counter += a.step
	rpHash := sha256.Sum256([]byte(o.RPID))
	auth := append(rpHash[:], a.flags(false))
	auth = binary.BigEndian.AppendUint32(auth, a.counter)
	cd := a.clientData("webauthn.get", o.Challenge)
	cdHash := sha256.Sum256(cd)
	digest := sha256.Sum256(append(slices.Clone(auth), cdHash[:]...))
	sig, err := ecdsa.SignASN1(rand.Reader, a.key, digest[:])
	if err != nil {
		a.t.Fatal(err)
	}
	out, _ := json.Marshal(map[string]any{
		"id": b64.EncodeToString(a.id), "rawId": b64.EncodeToString(a.id), "type": "public-key",
		"authenticatorAttachment": "platform", "clientExtensionResults": map[string]any{},
		"response": map[string]any{
			"clientDataJSON":    b64.EncodeToString(cd),
			"authenticatorData": b64.EncodeToString(auth),
			"signature":         b64.EncodeToString(sig),
			"userHandle":        b64.EncodeToString(a.handle),
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
