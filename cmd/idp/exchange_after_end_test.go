package main

import (
	"context"
	"net/url"
	"strings"
	"testing"
)

// TestNoTokensAfterTheSessionEnds: a code whose sign-in session ended before
// it was exchanged (a deletion of the login, a logout) yields no tokens,
// with or without a refresh token, even though the node still holds the
// account's claims as the sign-in read them moments ago.
func TestNoTokensAfterTheSessionEnds(t *testing.T) {
	idp := startIDP(t, nil)
	mobile := idp.client(demoMobileClient)
	r := idp.rp(mobile, mobile.RedirectURIs[0])
	ctx := context.Background()

	for _, scope := range []string{"openid profile offline_access", "openid profile"} {
		t.Run("deletion/"+scope, func(t *testing.T) {
			idp := startIDP(t, nil) // a login of its own to delete
			mobile := idp.client(demoMobileClient)
			r := idp.rp(mobile, mobile.RedirectURIs[0])
			p := newAuthParams(t)
			p.Extra = url.Values{"scope": {scope}}
			cb := idp.browser().signIn(r, p, "staff01")
			if _, err := idp.app.manage.DeleteStaff(ctx, operator(), idp.demoEntity(t).ID, idp.login("staff01").EUID); err != nil {
				t.Fatal(err)
			}
			if _, err := r.exchange(cb.Get("code"), p.Verifier); err == nil || !strings.Contains(err.Error(), "invalid_grant") {
				t.Fatalf("exchange after the deletion: %v, want invalid_grant", err)
			}
		})
		t.Run("logout/"+scope, func(t *testing.T) {
			p := newAuthParams(t)
			p.Extra = url.Values{"scope": {scope}}
			b := idp.browser()
			cb := b.signIn(r, p, "staff02")
			sids, err := idp.app.redis.SubjectSessions(ctx, idp.login("staff02").EUID)
			if err != nil || len(sids) == 0 {
				t.Fatalf("sessions: %v %v", sids, err)
			}
			for _, sid := range sids {
				if err := idp.app.redis.EndSessionByID(ctx, sid); err != nil {
					t.Fatal(err)
				}
			}
			if _, err := r.exchange(cb.Get("code"), p.Verifier); err == nil || !strings.Contains(err.Error(), "invalid_grant") {
				t.Fatalf("exchange after the session's end: %v, want invalid_grant", err)
			}
		})
	}
}
