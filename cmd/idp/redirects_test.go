package main

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	idpop "github.com/entity-account/idp/op"
)

// TestSignInAnswersInOneRedirect: the provider's redirects to itself (its
// sign-in page, the library's callback) are taken inside the request. The
// password's POST is answered with the code, a live session is answered by
// /authorize itself, and a page to be read is still shown at its own address.
func TestSignInAnswersInOneRedirect(t *testing.T) {
	idp := startIDP(t, nil)
	web := idp.client(demoWebClient)
	r := idp.rp(web, web.RedirectURIs[0])
	staff := idp.login("staff01")
	b := idp.browser()

	toRP := func(what string, p page, state string) url.Values {
		t.Helper()
		loc := p.location(t)
		if !strings.HasPrefix(loc, web.RedirectURIs[0]) {
			t.Fatalf("%s: redirected to %s; want the e-service's redirect URI at once", what, loc)
		}
		u, _ := url.Parse(loc)
		q := u.Query()
		if q.Get("code") == "" || q.Get("state") != state || q.Get("iss") != idp.issuer {
			t.Fatalf("%s: answer %v; want code, state and iss", what, q)
		}
		return q
	}

	// The password: the form's POST answers with the code and sets the session.
	p := newAuthParams(t)
	done := b.submit(b.startLogin(r, p).form(t), idp.demo.EntityNumber, staff.Username, staff.Password)
	q := toRP("POST of the form", done, p.State)
	if !strings.Contains(strings.Join(done.Header.Values("Set-Cookie"), " "), idpop.SessionCookie+"=") {
		t.Errorf("the POST's answer sets no session cookie: %q", done.Header.Values("Set-Cookie"))
	}
	if tok, err := r.exchange(q.Get("code"), p.Verifier); err != nil || tok.Extra("id_token") == nil {
		t.Fatalf("exchange of the POST's code: %v", err)
	}

	// Single sign-on: /authorize answers with the code; it is single-use.
	p = newAuthParams(t)
	q = toRP("SSO", b.get(r.authURL(p)), p.State)
	if _, err := r.exchange(q.Get("code"), p.Verifier); err != nil {
		t.Fatalf("exchange of the SSO code: %v", err)
	}
	if _, err := r.exchange(q.Get("code"), p.Verifier); err == nil {
		t.Fatal("the SSO code was redeemed twice")
	}
	p = withExtra(newAuthParams(t), "prompt", "none")
	toRP("SSO with prompt=none", b.get(r.authURL(p)), p.State)

	// Pages to be read stay at their address: prompt=login asks for the
	// password at the sign-in page; so does a browser whose cookie names no
	// session, and one without a cookie.
	loginAt := idp.issuer + "/login?"
	p = withExtra(newAuthParams(t), "prompt", "login")
	if first := b.get(r.authURL(p)); !strings.HasPrefix(first.location(t), loginAt) {
		t.Fatalf("prompt=login with a session: redirected to %s; want the sign-in page", first.location(t))
	} else if form := b.get(first.location(t)); !strings.Contains(form.Body, `name="password"`) {
		t.Fatalf("prompt=login: the sign-in page shows no form: %.300s", form.Body)
	}
	stale := idp.browser()
	u, _ := url.Parse(idp.issuer)
	stale.c.Jar.SetCookies(u, []*http.Cookie{{Name: idpop.SessionCookie, Value: "no-such-session", Path: "/"}})
	for name, br := range map[string]*browser{"a stale session cookie": stale, "no cookie": idp.browser()} {
		if first := br.get(r.authURL(newAuthParams(t))); !strings.HasPrefix(first.location(t), loginAt) {
			t.Errorf("%s: redirected to %s; want the sign-in page", name, first.location(t))
		}
	}

}
