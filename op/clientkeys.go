package op

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"sync"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/zitadel/oidc/v3/pkg/oidc"
	"golang.org/x/sync/singleflight"

	"github.com/entity-account/idp/storage"
)

// The public keys of private_key_jwt clients: registered inline (the JWKS
// in Postgres) or published by the client at an https jwks_uri, which
// every node fetches with a timeout and a size cap and keeps for a while.

// AssertionAlgorithms are the signature algorithms a client assertion may
// use (and discovery's token_endpoint_auth_signing_alg_values_supported).
// No HMAC (the client has no secret with us) and never "none".
var AssertionAlgorithms = []jose.SignatureAlgorithm{jose.RS256, jose.ES256, jose.PS256}

// maxClientKeys bounds a client's key set: a rotation needs two or three.
const maxClientKeys = 20

// ParseClientJWKS reads a client's JSON Web Key Set and checks that every
// key can verify an assertion here: public (a private key must never be
// registered, nor stored), RSA of at least 2048 bits or EC P-256, for
// signatures, with an algorithm of AssertionAlgorithms or none named, and
// no two keys with one kid. At least one key, at most 20.
func ParseClientJWKS(data []byte) (jose.JSONWebKeySet, error) {
	var set jose.JSONWebKeySet
	if err := json.Unmarshal(data, &set); err != nil {
		return set, fmt.Errorf("not a JSON Web Key Set: %w", err)
	}
	if len(set.Keys) == 0 || len(set.Keys) > maxClientKeys {
		return set, fmt.Errorf("a key set needs 1 to %d keys, this one has %d", maxClientKeys, len(set.Keys))
	}
	kids := map[string]bool{}
	for i, k := range set.Keys {
		name := fmt.Sprintf("key %d", i+1)
		if k.KeyID != "" {
			name = fmt.Sprintf("key %q", k.KeyID)
			if kids[k.KeyID] {
				return set, fmt.Errorf("%s appears twice", name)
			}
			kids[k.KeyID] = true
		}
		if !k.IsPublic() {
			return set, fmt.Errorf("%s is a private key: register the public key only", name)
		}
		if k.Use != "" && k.Use != "sig" {
			return set, fmt.Errorf("%s: use %q, want sig", name, k.Use)
		}
		if err := checkKeyStrength(k); err != nil {
			return set, fmt.Errorf("%s: %w", name, err)
		}
	}
	return set, nil
}

// checkKeyStrength accepts RSA keys of at least 2048 bits (RS256, PS256)
// and EC P-256 keys (ES256).
func checkKeyStrength(k jose.JSONWebKey) error {
	var algs []jose.SignatureAlgorithm
	switch pub := k.Key.(type) {
	case *rsa.PublicKey:
		if pub.N.BitLen() < 2048 {
			return fmt.Errorf("an RSA key of %d bits; at least 2048", pub.N.BitLen())
		}
		algs = []jose.SignatureAlgorithm{jose.RS256, jose.PS256}
	case *ecdsa.PublicKey:
		if pub.Curve != elliptic.P256() {
			return errors.New("an EC key must be on P-256 (ES256)")
		}
		algs = []jose.SignatureAlgorithm{jose.ES256}
	default:
		return fmt.Errorf("a %T key; use RSA (RS256, PS256) or EC P-256 (ES256)", k.Key)
	}
	if k.Algorithm != "" && !slices.Contains(algs, jose.SignatureAlgorithm(k.Algorithm)) {
		return fmt.Errorf("alg %q does not fit the key; use %v", k.Algorithm, algs)
	}
	return nil
}

// ClientKeyFetch says how the keys at a client's jwks_uri are fetched.
type ClientKeyFetch struct {
	// Client makes the requests; nil is a client of its own (system
	// roots). Redirects are never followed.
	Client *http.Client
	// Timeout bounds one fetch, connection included (5 s).
	Timeout time.Duration
	// MaxBytes bounds the document (64 KiB): a larger one is refused.
	MaxBytes int64
	// TTL is how long fetched keys are used without asking again (5 min);
	// a signature by a key id not among them asks again sooner (a rotation).
	TTL time.Duration
	// Retry is how soon a failed fetch, or a key id not found, may ask
	// the address again (10 s): a caller cannot make us fetch at will.
	Retry time.Duration
}

// clientKeys keeps the key sets fetched from jwks_uris, by address.
type clientKeys struct {
	fetch   ClientKeyFetch
	flights singleflight.Group

	mu      sync.Mutex
	fetched map[string]fetchedKeys
}

type fetchedKeys struct {
	set jose.JSONWebKeySet
	err error
	at  time.Time
}

func newClientKeys(f ClientKeyFetch) *clientKeys {
	if f.Timeout <= 0 {
		f.Timeout = 5 * time.Second
	}
	if f.MaxBytes <= 0 {
		f.MaxBytes = 64 << 10
	}
	if f.TTL <= 0 {
		f.TTL = 5 * time.Minute
	}
	if f.Retry <= 0 {
		f.Retry = 10 * time.Second
	}
	client := &http.Client{Transport: http.DefaultTransport}
	if f.Client != nil {
		c := *f.Client
		client = &c
	}
	client.Timeout = f.Timeout
	client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	f.Client = client
	return &clientKeys{fetch: f, fetched: map[string]fetchedKeys{}}
}

// keysOf returns the client's keys: its inline set, or the set at its
// jwks_uri (from the cache while fresh; fetched again, at most once per
// Retry, when missing names a key id the cached set lacks).
func (ck *clientKeys) keysOf(ctx context.Context, c storage.Client, missing string) (jose.JSONWebKeySet, error) {
	if len(c.JWKS) > 0 {
		return ParseClientJWKS(c.JWKS)
	}
	if c.JWKSURI == "" {
		return jose.JSONWebKeySet{}, errors.New("the client has no registered keys")
	}
	ck.mu.Lock()
	f, ok := ck.fetched[c.JWKSURI]
	ck.mu.Unlock()
	age := time.Since(f.at)
	switch {
	case ok && f.err != nil && age < ck.fetch.Retry:
		return f.set, f.err
	case ok && f.err == nil && age < ck.fetch.TTL && (missing == "" || len(f.set.Key(missing)) > 0 || age < ck.fetch.Retry):
		return f.set, nil
	}
	v, _, _ := ck.flights.Do(c.JWKSURI, func() (any, error) {
		// Detached from the caller: one fetch serves every request waiting
		// for it, so one caller going away must not fail the others.
		set, err := ck.get(context.WithoutCancel(ctx), c.JWKSURI)
		f := fetchedKeys{set: set, err: err, at: time.Now()}
		ck.mu.Lock()
		if len(ck.fetched) > 10000 {
			ck.fetched = map[string]fetchedKeys{}
		}
		ck.fetched[c.JWKSURI] = f
		ck.mu.Unlock()
		return f, nil
	})
	f = v.(fetchedKeys)
	return f.set, f.err
}

// get fetches and checks the key set at an https address. A key set
// that arrives after the fetch's Timeout is refused like no answer at
// all: Go's HTTP client may still hand over a response that raced with
// its own deadline (one the server sent as the connection was closing),
// and a key server that is too slow must never authenticate a client.
func (ck *clientKeys) get(ctx context.Context, address string) (jose.JSONWebKeySet, error) {
	u, err := url.Parse(address)
	if err != nil || u.Scheme != "https" || u.Host == "" {
		return jose.JSONWebKeySet{}, fmt.Errorf("jwks_uri %q: only https addresses are fetched", address)
	}
	deadline := time.Now().Add(ck.fetch.Timeout)
	ctx, cancel := context.WithDeadline(ctx, deadline)
	defer cancel()
	set, err := ck.request(ctx, address)
	if err == nil && (ctx.Err() != nil || !time.Now().Before(deadline)) {
		return jose.JSONWebKeySet{}, fmt.Errorf("jwks_uri %s: no key set within %v", address, ck.fetch.Timeout)
	}
	return set, err
}

// request asks address for its key set and checks it.
func (ck *clientKeys) request(ctx context.Context, address string) (jose.JSONWebKeySet, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, address, nil)
	if err != nil {
		return jose.JSONWebKeySet{}, err
	}
	req.Header.Set("Accept", "application/jwk-set+json, application/json")
	resp, err := ck.fetch.Client.Do(req)
	if err != nil {
		return jose.JSONWebKeySet{}, fmt.Errorf("jwks_uri %s: %w", address, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return jose.JSONWebKeySet{}, fmt.Errorf("jwks_uri %s answered %d", address, resp.StatusCode)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, ck.fetch.MaxBytes+1))
	if err != nil {
		return jose.JSONWebKeySet{}, fmt.Errorf("jwks_uri %s: %w", address, err)
	}
	if int64(len(body)) > ck.fetch.MaxBytes {
		return jose.JSONWebKeySet{}, fmt.Errorf("jwks_uri %s: the key set is larger than %d bytes", address, ck.fetch.MaxBytes)
	}
	set, err := ParseClientJWKS(body)
	if err != nil {
		return set, fmt.Errorf("jwks_uri %s: %w", address, err)
	}
	return set, nil
}

// clientKeySet verifies a client assertion's signature with the client's
// registered keys (oidc.KeySet, for the library's verifier).
type clientKeySet struct {
	keys   *clientKeys
	client storage.Client
}

func (ks clientKeySet) VerifySignature(ctx context.Context, jws *jose.JSONWebSignature) ([]byte, error) {
	kid, alg := oidc.GetKeyIDAndAlg(jws)
	if !slices.Contains(AssertionAlgorithms, jose.SignatureAlgorithm(alg)) {
		return nil, fmt.Errorf("algorithm %q is not accepted", alg)
	}
	set, err := ks.keys.keysOf(ctx, ks.client, kid)
	if err != nil {
		return nil, err
	}
	candidates := set.Keys
	if kid != "" {
		candidates = set.Key(kid)
	}
	for _, k := range candidates {
		if k.Algorithm != "" && k.Algorithm != alg {
			continue
		}
		if payload, err := jws.Verify(k); err == nil {
			return payload, nil
		}
	}
	if kid != "" && len(candidates) == 0 {
		return nil, fmt.Errorf("no key %q among the client's registered keys", kid)
	}
	return nil, errors.New("no registered key of the client verifies the signature")
}
