package main

import (
	"net/http"
	"strings"
	"testing"
)

// TestIssuerWithPath: with IDP_ISSUER=https://host/oidc every route, the
// login page and the cookies live under /oidc, and a full flow still works.
func TestIssuerWithPath(t *testing.T) {
	idp := startIDP(t, map[string]string{"ISSUER_PATH": "/oidc"})
	if !strings.HasSuffix(idp.issuer, "/oidc") {
		t.Fatalf("issuer %s", idp.issuer)
	}
	web := idp.client(demoWebClient)
	r := idp.rp(web, web.RedirectURIs[0])
	if ep := r.oauth.Endpoint.AuthURL; !strings.HasPrefix(ep, idp.issuer+"/") {
		t.Fatalf("authorization endpoint %s is not under the issuer", ep)
	}
	b := idp.browser()
	p := newAuthParams(t)
	login := b.startLogin(r, p)
	if !strings.HasPrefix(login.Request.URL.Path, "/oidc/login") {
		t.Fatalf("login page at %s", login.Request.URL.Path)
	}
	mustContain(t, login.Body, `action="/oidc/login"`)
	mustContain(t, login.Body, `href="/oidc/static/style.css"`)
	if css := b.get("/oidc/static/style.css"); css.StatusCode != http.StatusOK {
		t.Fatalf("style sheet: %d", css.StatusCode)
	}
	// The guide, under the issuer's path too, its screenshots with it.
	guide := b.get("/oidc/help/staff/sign-in?lang=en")
	if guide.StatusCode != http.StatusOK {
		t.Fatalf("the guide: %d", guide.StatusCode)
	}
	mustContain(t, guide.Body, `<img src="/oidc/static/guide/en/signin-page.jpg"`)
	if img := b.get("/oidc/static/guide/en/signin-page.jpg"); img.StatusCode != http.StatusOK || img.Header.Get("Content-Type") != "image/jpeg" {
		t.Fatalf("a screenshot of the guide: %d %s", img.StatusCode, img.Header.Get("Content-Type"))
	}
	l := idp.login("admin01")
	cb := b.followToRP(b.submit(login.form(t), idp.demo.EntityNumber, l.Username, l.Password))
	tok, err := r.exchange(cb.Get("code"), p.Verifier)
	if err != nil {
		t.Fatal(err)
	}
	if c := r.idClaims(t, tok, p.Nonce); c["iss"] != idp.issuer || c["euid"] != l.EUID {
		t.Fatalf("claims %v", c)
	}
	if rz := b.get(strings.TrimSuffix(idp.issuer, "/oidc") + "/readyz"); rz.StatusCode != http.StatusOK {
		t.Fatalf("/readyz: %d", rz.StatusCode)
	}
}
