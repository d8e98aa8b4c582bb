package main

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"fmt"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"golang.org/x/crypto/argon2"

	"github.com/entity-account/idp/login/password"
)

// Bounds is what the hardware allows for the work a request must do anyway,
// measured in this process on GOMAXPROCS goroutines, on the same machine and
// in the same run as the scenarios.
type Bounds struct {
	GOMAXPROCS int             `json:"gomaxprocs"`
	Argon2     password.Params `json:"argon2_params"`
	// Argon2PerSec: argon2id verifications per second with the configured
	// parameters (the bound of login: one verification per iteration).
	Argon2PerSec float64 `json:"argon2id_per_sec"`
	// OneHash: the median time of one verification on an otherwise idle
	// process (the yardstick of "p99 under 4x one hash's time").
	OneHash time.Duration `json:"one_hash_ns"`
	// SignAlg and SignPerSec: ID-token signatures per second with a fresh
	// key of the configured algorithm via go-jose, as the provider signs
	// (the bound of sso and refresh: one signature per iteration).
	SignAlg    string        `json:"sign_alg"`
	SignPerSec float64       `json:"sign_per_sec"`
	OneSign    time.Duration `json:"one_sign_ns"`
}

// measureBounds runs both measurements, each for about d.
func measureBounds(p password.Params, alg string, d time.Duration) (Bounds, error) {
	b := Bounds{GOMAXPROCS: runtime.GOMAXPROCS(0), Argon2: p, SignAlg: alg}
	b.OneHash = medianOf(5, argon2Verification(p))
	b.Argon2PerSec = argon2Rate(p, d)
	sign, err := signOnce(alg)
	if err != nil {
		return b, err
	}
	b.OneSign = medianOf(21, sign)
	if b.SignPerSec, err = signRate(alg, d); err != nil {
		return b, err
	}
	return b, nil
}

// argon2Rate is argon2id verifications per second on GOMAXPROCS goroutines.
func argon2Rate(p password.Params, d time.Duration) float64 {
	return parallelRate(runtime.GOMAXPROCS(0), d, argon2Verification(p))
}

// argon2Verification is the work of one verification with parameters p.
func argon2Verification(p password.Params) func() {
	salt := []byte("bench-salt-16byt")
	return func() {
		argon2.IDKey([]byte("correct horse battery staple"), salt, p.Iterations, p.MemoryKiB, p.Threads, 32)
	}
}

// signRate is ID-token signatures per second on GOMAXPROCS goroutines.
func signRate(alg string, d time.Duration) (float64, error) {
	sign, err := signOnce(alg)
	if err != nil {
		return 0, err
	}
	return parallelRate(runtime.GOMAXPROCS(0), d, sign), nil
}

// signOnce returns one ID-token signature as a func; a signing failure
// (which go-jose does not have with a valid key) panics.
func signOnce(alg string) (func(), error) {
	sign, err := idTokenSigner(alg)
	if err != nil {
		return nil, err
	}
	if err := sign(); err != nil {
		return nil, fmt.Errorf("sign: %w", err)
	}
	return func() {
		if err := sign(); err != nil {
			panic(err)
		}
	}, nil
}

// idTokenSigner returns a func that signs a typical ID token with a fresh
// key of alg (RS256: RSA 2048, as op/keys.go generates; ES256: P-256).
func idTokenSigner(alg string) (func() error, error) {
	var key crypto.Signer
	var err error
	switch alg {
	case "RS256":
		key, err = rsa.GenerateKey(rand.Reader, 2048)
	case "ES256":
		key, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	default:
		return nil, fmt.Errorf("unsupported signing algorithm %q", alg)
	}
	if err != nil {
		return nil, err
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.SignatureAlgorithm(alg), Key: key},
		(&jose.SignerOptions{}).WithType("JWT").WithHeader("kid", "bench"))
	if err != nil {
		return nil, err
	}
	payload := []byte(`{"iss":"http://127.0.0.1:8080","sub":"CU000000101","aud":["bench-mobile"],` +
		`"exp":1767225600,"iat":1767225000,"auth_time":1767225000,"nonce":"n-0S6_WzA2Mj","acr":"urn:entity-account:acr:password",` +
		`"amr":["pwd"],"azp":"bench-mobile","at_hash":"77QmUPtjPfzWtF2AnpK9RQ","sid":"Zm9vYmFyYmF6cXV4",` +
		`"euid":"CU000000101","entity_number":"99-000001","entity_name":"效能測試實體","service_groups":[],` +
		`"preferred_username":"bench0001","name":"效能測試","locale":"zh-Hant"}`)
	return func() error {
		jws, err := signer.Sign(payload)
		if err != nil {
			return err
		}
		_, err = jws.CompactSerialize()
		return err
	}, nil
}

// medianOf runs fn n times in a row and returns the median duration.
func medianOf(n int, fn func()) time.Duration {
	ds := make([]time.Duration, n)
	for i := range ds {
		t0 := time.Now()
		fn()
		ds[i] = time.Since(t0)
	}
	slices.Sort(ds)
	return ds[n/2]
}

// parallelRate runs fn on g goroutines for about d and returns completions
// per second, counting until the last goroutine's last call ends.
func parallelRate(g int, d time.Duration, fn func()) float64 {
	var done atomic.Int64
	start := time.Now()
	end := start.Add(d)
	var wg sync.WaitGroup
	for range g {
		wg.Go(func() {
			for time.Now().Before(end) {
				fn()
				done.Add(1)
			}
		})
	}
	wg.Wait()
	return float64(done.Load()) / time.Since(start).Seconds()
}
