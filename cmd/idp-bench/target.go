package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"sync/atomic"
	"time"
)

// target is the provider under load: its endpoints (from discovery) and the
// bench world seeded in its database.
type target struct {
	issuer     string
	origin     string // scheme://host of the issuer: where redirects may lead
	authorize  string
	token      string
	userinfo   string
	introspect string
	world      world
	next       atomic.Uint64 // rotates over the staff logins
}

// discover reads the provider's discovery document.
func discover(ctx context.Context, issuer string, w world) (*target, error) {
	u, err := url.Parse(issuer)
	if err != nil || u.Host == "" {
		return nil, fmt.Errorf("-url %q is not an absolute URL", issuer)
	}
	if err := onLoopback(u); err != nil {
		return nil, fmt.Errorf("-url must be a loopback issuer (this tool only loads the local machine): %s", issuer)
	}
	b := newBrowser(http.DefaultTransport, 10*time.Second, false, new(int))
	r, err := b.get(ctx, issuer+"/.well-known/openid-configuration", nil)
	if err != nil {
		return nil, fmt.Errorf("discovery: %w", err)
	}
	if r.status != http.StatusOK {
		return nil, fmt.Errorf("discovery: %w", statusFailure("discovery", r))
	}
	var d struct {
		Issuer        string `json:"issuer"`
		Authorization string `json:"authorization_endpoint"`
		Token         string `json:"token_endpoint"`
		Userinfo      string `json:"userinfo_endpoint"`
		Introspection string `json:"introspection_endpoint"`
	}
	if err := json.Unmarshal(r.body, &d); err != nil {
		return nil, fmt.Errorf("discovery: %w", err)
	}
	t := &target{issuer: d.Issuer, origin: u.Scheme + "://" + u.Host, authorize: d.Authorization,
		token: d.Token, userinfo: d.Userinfo, introspect: d.Introspection, world: w}
	for _, e := range []string{t.authorize, t.token, t.userinfo, t.introspect} {
		eu, err := url.Parse(e)
		if err != nil || e == "" || onLoopback(eu) != nil {
			return nil, fmt.Errorf("discovery: endpoint %q is missing or not on loopback", e)
		}
	}
	return t, nil
}

// nextLogin returns the next staff login's username, round robin, so that
// no single account carries the load.
func (t *target) nextLogin() string {
	n := t.next.Add(1) - 1
	return t.world.Usernames[n%uint64(len(t.world.Usernames))]
}

// authorization is one authorization request in flight.
type authorization struct {
	client   clientInfo
	state    string
	verifier string
}

// tokens is a token endpoint answer.
type tokens struct {
	AccessToken  string `json:"access_token"`
	IDToken      string `json:"id_token"`
	RefreshToken string `json:"refresh_token"`
}
