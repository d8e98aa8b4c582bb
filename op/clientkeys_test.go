package op

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/entity-account/idp/storage"
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

// lateKeyServer answers every request with its key set after delay,
// whatever the request's context says: the answer of a key server that
// raced the client's deadline, as Go's HTTP client may hand it over
// (a response read while the connection was being closed).
type lateKeyServer struct {
	delay time.Duration
	set   []byte
	asked atomic.Int32
}

func (l *lateKeyServer) RoundTrip(req *http.Request) (*http.Response, error) {
	l.asked.Add(1)
	time.Sleep(l.delay)
	return &http.Response{StatusCode: http.StatusOK, Header: http.Header{"Content-Type": {"application/json"}},
		Body: io.NopCloser(bytes.NewReader(l.set)), ContentLength: int64(len(l.set)), Request: req}, nil
}

func testKeySet(t *testing.T) []byte {
	t.Helper()
	k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	b, err := json.Marshal(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &k.PublicKey, KeyID: "ec-1"}}})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// A key set that arrives after the fetch's timeout authenticates nobody:
// the only fetch of the address failed, and the failure is kept for Retry
// (no second request meanwhile). The same set on time is taken.
func TestClientKeysRefuseALateAnswer(t *testing.T) {
	const timeout = 100 * time.Millisecond
	set := testKeySet(t)
	client := storage.Client{ID: "late", JWKSURI: "https://keys.example/late"}
	for _, tc := range []struct {
		delay time.Duration
		late  bool
	}{{0, false}, {3 * timeout, true}} {
		srv := &lateKeyServer{delay: tc.delay, set: set}
		ck := newClientKeys(ClientKeyFetch{Client: &http.Client{Transport: srv}, Timeout: timeout, Retry: time.Hour})
		got, err := ck.keysOf(context.Background(), client, "ec-1")
		if !tc.late {
			if err != nil || len(got.Key("ec-1")) != 1 {
				t.Fatalf("an answer on time: %d keys, %v", len(got.Keys), err)
			}
			continue
		}
		if err == nil || len(got.Keys) != 0 || !strings.Contains(err.Error(), "no key set within") {
			t.Fatalf("an answer %v after a %v timeout: %d keys, %v; want no keys", tc.delay, timeout, len(got.Keys), err)
		}
		if got, err := ck.keysOf(context.Background(), client, "ec-1"); err == nil || len(got.Keys) != 0 {
			t.Errorf("asked again: %d keys, %v; want the failure kept", len(got.Keys), err)
		}
		if n := srv.asked.Load(); n != 1 {
			t.Errorf("the late key server was asked %d times within Retry, want 1", n)
		}
	}
}

// Keys are kept by address: the set fetched from one jwks_uri serves every
// client of that address, and never a client of another address on the
// same host, whose own fetch times out. A server that answers the moment
// the fetch gives up (its request cancelled) is refused too, every time.
func TestClientKeysByAddress(t *testing.T) {
	set := testKeySet(t)
	var fetched, slowAsked atomic.Int32
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/slow" {
			slowAsked.Add(1)
			select {
			case <-time.After(3 * time.Second):
			case <-r.Context().Done():
			}
		} else {
			fetched.Add(1)
		}
		_, _ = w.Write(set)
	}))
	defer srv.Close()
	const timeout = 100 * time.Millisecond
	fetch := ClientKeyFetch{Client: srv.Client(), Timeout: timeout, Retry: time.Hour}
	ck := newClientKeys(fetch)
	ctx := context.Background()
	for _, id := range []string{"a", "b"} {
		got, err := ck.keysOf(ctx, storage.Client{ID: id, JWKSURI: srv.URL + "/keys"}, "ec-1")
		if err != nil || len(got.Key("ec-1")) != 1 {
			t.Fatalf("client %s at /keys: %d keys, %v", id, len(got.Keys), err)
		}
	}
	if n := fetched.Load(); n != 1 {
		t.Errorf("/keys fetched %d times for two clients, want 1", n)
	}
	for i := range 10 {
		if i > 0 {
			ck = newClientKeys(fetch) // a first fetch each time
		}
		start := time.Now()
		got, err := ck.keysOf(ctx, storage.Client{ID: "slow", JWKSURI: srv.URL + "/slow"}, "ec-1")
		if err == nil || len(got.Keys) != 0 {
			t.Fatalf("the slow address (try %d): %d keys, %v; want none", i+1, len(got.Keys), err)
		}
		if d := time.Since(start); d > 2*time.Second {
			t.Errorf("the slow address took %v: the timeout did not hold", d)
		}
	}
	if got, err := ck.keysOf(ctx, storage.Client{ID: "slow", JWKSURI: srv.URL + "/slow"}, "ec-1"); err == nil || len(got.Keys) != 0 {
		t.Errorf("the slow address asked again: %d keys, %v; want the failure kept", len(got.Keys), err)
	}
	if n := slowAsked.Load(); n > 10 {
		t.Errorf("/slow asked %d times by 10 fresh caches and one cached failure, want at most 10", n)
	}
}
