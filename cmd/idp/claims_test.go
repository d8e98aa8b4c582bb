package main

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestClaimsChangeReachesEveryNode: with the claims cache on (the default
// 5 s), a group taken away through the use case shows in userinfo at once,
// on this node and on another node that had the old groups cached.
func TestClaimsChangeReachesEveryNode(t *testing.T) {
	t.Parallel()
	idp := startIDP(t, nil) // IDP_CLAIMS_CACHE_TTL: the default, 5 s
	r := idp.rp(idp.client(demoWebClient), idp.rpURL+"/callback")
	groups, at := idp.freshGroups(t, r, "admin01")
	if !equalStrings(groups, []string{"admin"}) {
		t.Fatalf("before: %v", groups)
	}

	// A second node over the same stores, its cache warmed with ["admin"].
	ctx := context.Background()
	second, err := newApp(ctx, idp.app.cfg, idp.app.pg, idp.app.redis, idp.app.rdb)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(second.handler)
	t.Cleanup(srv.Close)
	userinfoAt := func(base string) any {
		req, _ := http.NewRequest(http.MethodPost, base+idp.issuerPath()+"/userinfo", strings.NewReader(url.Values{"access_token": {at}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		p := idp.browser().do(req)
		return submatch(serviceGroupsJSON, p.Body)
	}
	for _, base := range []string{srv.URL, idp.srv.URL} {
		if got := userinfoAt(base); got != `["admin"]` {
			t.Fatalf("userinfo at %s before the change: %s", base, got)
		}
	}

	e := idp.demoEntity(t)
	if changed, err := idp.app.manage.UnassignService(ctx, idp.actorOf(t, idp.login("admin01")), e.ID, idp.login("admin01").EUID, "demo", "admin"); err != nil || !changed {
		t.Fatalf("unassign: %v, %v", changed, err)
	}
	// Well within the cache's 5 s: the change is published to every node.
	deadline := time.Now().Add(time.Second)
	for _, base := range []string{idp.srv.URL, srv.URL} {
		for {
			got := userinfoAt(base)
			if got == `[]` {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("userinfo at %s a second after the change: %s, want []", base, got)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
}

// serviceGroupsJSON finds the service_groups member of a JSON answer.
var serviceGroupsJSON = regexp.MustCompile(`"service_groups":(\[[^\]]*\])`)

// TestRefreshAfterAccessEnds: a login taken off an assigned-only e-service
// can no longer refresh there: invalid_grant (never server_error), and the
// grant is revoked.
func TestRefreshAfterAccessEnds(t *testing.T) {
	t.Parallel()
	idp := startIDP(t, nil)
	web := idp.client(demoWebClient)
	r := idp.rp(web, web.RedirectURIs[0])
	tok, _ := idp.browser().tokens(r, "staff01")
	staff := idp.login("staff01")
	if changed, err := idp.app.manage.UnassignService(context.Background(), operator(), idp.demoEntity(t).ID, staff.EUID, "demo", ""); err != nil || !changed {
		t.Fatalf("unassign: %v, %v", changed, err)
	}
	status, out := r.refresh(t, tok.RefreshToken)
	wantGrantError(t, "refresh after the e-service stopped admitting the login", status, out)
	if intro := r.introspect(t, tok.AccessToken); intro["active"] != false {
		t.Errorf("the grant's access token after the refusal: %v", intro)
	}
}
