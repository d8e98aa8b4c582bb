package main

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"golang.org/x/oauth2"

	idpop "github.com/entity-account/idp/op"
	"github.com/entity-account/idp/storage"
	"github.com/entity-account/idp/storage/postgres"
)

// Back-channel logout, end to end: relying parties with a back-channel
// logout URI (httptest servers standing for the departments' back ends)
// receive a logout token, which they verify with go-jose against our JWKS,
// whenever a session they got tokens in ends, whatever ends it. The outbox
// worker runs as under `idp serve`, with short timings.

// ---- helpers ----

// startBackchannelIDP starts a node whose outbox worker polls every 50 ms
// and retries after 20 to 100 ms.
func startBackchannelIDP(t *testing.T, extraEnv map[string]string) *testIDP {
	t.Helper()
	idp := startIDP(t, extraEnv)
	idp.app.outbox.Poll = 50 * time.Millisecond
	idp.app.outbox.MinBackoff, idp.app.outbox.MaxBackoff = 20*time.Millisecond, 100*time.Millisecond
	// Registered after startIDP's cleanup, so it runs first: the worker
	// stops before the stores close.
	t.Cleanup(idp.app.startOutbox(context.Background()))
	return idp
}

// logoutReceiver is a relying party's back-channel logout endpoint. It
// answers each POST with the next of its answers (200 once they run out)
// and keeps every request.
type logoutReceiver struct {
	srv     *httptest.Server
	mu      sync.Mutex
	answers []int
	posts   []logoutPost
}

type logoutPost struct {
	method, contentType, token string
	status                     int
}

func newLogoutReceiver(t *testing.T, answers ...int) *logoutReceiver {
	t.Helper()
	rcv := &logoutReceiver{answers: answers}
	rcv.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		rcv.mu.Lock()
		status := http.StatusOK
		if len(rcv.answers) > 0 {
			status, rcv.answers = rcv.answers[0], rcv.answers[1:]
		}
		rcv.posts = append(rcv.posts, logoutPost{method: r.Method, contentType: r.Header.Get("Content-Type"),
			token: r.PostForm.Get("logout_token"), status: status})
		rcv.mu.Unlock()
		w.Header().Set("Cache-Control", "no-store")
		w.WriteHeader(status)
	}))
	t.Cleanup(rcv.srv.Close)
	return rcv
}

func (rcv *logoutReceiver) url() string { return rcv.srv.URL + "/backchannel-logout" }

func (rcv *logoutReceiver) received() []logoutPost {
	rcv.mu.Lock()
	defer rcv.mu.Unlock()
	return slices.Clone(rcv.posts)
}

func (rcv *logoutReceiver) accepted() []logoutPost {
	var ok []logoutPost
	for _, p := range rcv.received() {
		if p.status == http.StatusOK {
			ok = append(ok, p)
		}
	}
	return ok
}

// waitAccepted waits until n logout tokens were answered 200, checks that
// each came as the specification says, and returns them.
func (rcv *logoutReceiver) waitAccepted(t *testing.T, n int) []logoutPost {
	t.Helper()
	if !waitFor(15*time.Second, func() bool { return len(rcv.accepted()) >= n }) {
		t.Fatalf("%d logout tokens accepted within 15 s, want %d (requests: %+v)", len(rcv.accepted()), n, rcv.received())
	}
	got := rcv.accepted()
	for _, p := range got {
		if p.method != http.MethodPost || p.contentType != "application/x-www-form-urlencoded" || p.token == "" {
			t.Errorf("logout request %s %q with token %q, want a form POST of logout_token", p.method, p.contentType, p.token)
		}
	}
	return got
}

// wantNoMore waits a few worker polls and checks that nothing more came.
func (rcv *logoutReceiver) wantNoMore(t *testing.T, n int) {
	t.Helper()
	time.Sleep(300 * time.Millisecond)
	if got := rcv.received(); len(got) != n {
		t.Errorf("the relying party got %d requests, want %d: %+v", len(got), n, got)
	}
}

// bcClient registers a confidential client of the demo e-service that takes
// logout tokens at uri ("" for none) and returns a relying party for it.
func (idp *testIDP) bcClient(id, uri string) *rp {
	t, ctx := idp.t, context.Background()
	t.Helper()
	sv, err := idp.app.pg.ServiceByCode(ctx, demoService)
	if err != nil {
		t.Fatal(err)
	}
	c, err := registerClient(ctx, idp.app.pg, sv, id, "", false, []string{idp.rpURL + "/" + id + "/callback"},
		[]string{idp.rpURL + "/" + id + "/bye"}, uri, "")
	if err != nil {
		t.Fatal(err)
	}
	return idp.rp(c, c.RedirectURIs[0])
}

// ssoTokens gets tokens at r from the browser's existing SSO session.
func (b *browser) ssoTokens(r *rp) (*oauth2.Token, authParams) {
	b.t.Helper()
	p := newAuthParams(b.t)
	cb := b.followToRP(b.get(r.authURL(p)))
	if cb.Get("code") == "" {
		b.t.Fatalf("SSO sign-in at %s: %v", r.oauth.ClientID, cb)
	}
	tok, err := r.exchange(cb.Get("code"), p.Verifier)
	if err != nil {
		b.t.Fatalf("SSO exchange at %s: %v", r.oauth.ClientID, err)
	}
	return tok, p
}

// sidOf returns the sid of the ID token of tok, which must have one.
func (r *rp) sidOf(t *testing.T, tok *oauth2.Token, nonce string) string {
	t.Helper()
	sid, _ := r.idClaims(t, tok, nonce)["sid"].(string)
	if sid == "" {
		t.Fatalf("the ID token issued to %s has no sid", r.oauth.ClientID)
	}
	return sid
}

// jwsHeader parses a compact JWS and returns its only signature's header.
func jwsHeader(t *testing.T, raw string) (*jose.JSONWebSignature, jose.Header) {
	t.Helper()
	jws, err := jose.ParseSigned(raw, []jose.SignatureAlgorithm{jose.RS256, jose.ES256})
	if err != nil {
		t.Fatalf("parse JWS: %v", err)
	}
	if len(jws.Signatures) != 1 {
		t.Fatalf("JWS with %d signatures", len(jws.Signatures))
	}
	return jws, jws.Signatures[0].Header
}

// unverifiedClaims reads the claims of a JWS without checking it, to tell
// tokens apart before verifying them.
func unverifiedClaims(t *testing.T, raw string) map[string]any {
	t.Helper()
	jws, _ := jwsHeader(t, raw)
	var c map[string]any
	if err := json.Unmarshal(jws.UnsafePayloadWithoutVerification(), &c); err != nil {
		t.Fatal(err)
	}
	return c
}

// verifyLogoutToken checks a logout token as a relying party must (Back-
// Channel Logout 1.0 §2.6), with go-jose and the provider's JWKS: signed by
// the key and algorithm of the ID token idToken, typ logout+jwt, and the
// claims for clientID, subject sub and session sid. It returns the claims.
func (idp *testIDP) verifyLogoutToken(t *testing.T, raw, idToken, clientID, sub, sid string) map[string]any {
	t.Helper()
	jws, h := jwsHeader(t, raw)
	_, idh := jwsHeader(t, idToken)
	if typ := h.ExtraHeaders[jose.HeaderType]; typ != "logout+jwt" {
		t.Errorf("logout token typ = %v, want logout+jwt", typ)
	}
	if h.Algorithm != idh.Algorithm || h.KeyID != idh.KeyID || h.KeyID == "" {
		t.Errorf("logout token alg/kid = %s/%s, ID token %s/%s", h.Algorithm, h.KeyID, idh.Algorithm, idh.KeyID)
	}
	resp, err := http.Get(idp.issuer + "/keys")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var jwks jose.JSONWebKeySet
	if err := json.NewDecoder(resp.Body).Decode(&jwks); err != nil {
		t.Fatalf("JWKS: %v", err)
	}
	keys := jwks.Key(h.KeyID)
	if len(keys) != 1 {
		t.Fatalf("JWKS has %d keys with kid %s", len(keys), h.KeyID)
	}
	payload, err := jws.Verify(keys[0])
	if err != nil {
		t.Fatalf("logout token signature: %v", err)
	}
	var c map[string]any
	if err := json.Unmarshal(payload, &c); err != nil {
		t.Fatal(err)
	}
	aud := c["aud"]
	if list, ok := aud.([]any); ok && len(list) == 1 {
		aud = list[0]
	}
	if c["iss"] != idp.issuer || aud != clientID || c["sub"] != sub || c["sid"] != sid {
		t.Errorf("logout token iss/aud/sub/sid = %v/%v/%v/%v, want %s/%s/%s/%s",
			c["iss"], c["aud"], c["sub"], c["sid"], idp.issuer, clientID, sub, sid)
	}
	events, _ := c["events"].(map[string]any)
	if ev, ok := events[idpop.BackchannelLogoutEvent].(map[string]any); !ok || len(ev) != 0 || len(events) != 1 {
		t.Errorf("logout token events = %v, want {%q: {}}", c["events"], idpop.BackchannelLogoutEvent)
	}
	if _, ok := c["nonce"]; ok {
		t.Error("logout token carries a nonce")
	}
	if jti, _ := c["jti"].(string); jti == "" {
		t.Error("logout token without jti")
	}
	iat, _ := c["iat"].(float64)
	exp, _ := c["exp"].(float64)
	now := float64(time.Now().Unix())
	if iat < now-60 || iat > now+5 || exp <= now || exp > iat+5*60 {
		t.Errorf("logout token iat %v exp %v at %v: want iat now and exp within minutes", iat, exp, now)
	}
	return c
}

// deliveries lists the back-channel deliveries recorded for clientID ("" for all).
func (idp *testIDP) deliveries(clientID string) []storage.OutboxMessage {
	idp.t.Helper()
	list, err := idp.app.pg.LogoutDeliveries(context.Background(), clientID, 100)
	if err != nil {
		idp.t.Fatal(err)
	}
	return list
}

// ---- triggers ----

// TestBackchannelRPInitiatedLogout: two clients with a back-channel logout
// URI and one without share an SSO session; RP-initiated logout with an
// id_token_hint tells each of the two once, and the third nothing.
func TestBackchannelRPInitiatedLogout(t *testing.T) {
	t.Parallel()
	idp := startBackchannelIDP(t, nil)
	rcvA, rcvB := newLogoutReceiver(t), newLogoutReceiver(t)
	a, bc := idp.bcClient("bc-a", rcvA.url()), idp.bcClient("bc-b", rcvB.url())
	web := idp.client(demoWebClient)
	plain := idp.rp(web, web.RedirectURIs[0])

	disco := idp.browser().get("/.well-known/openid-configuration")
	var d map[string]any
	if err := json.Unmarshal([]byte(disco.Body), &d); err != nil {
		t.Fatal(err)
	}
	if d["backchannel_logout_supported"] != true || d["backchannel_logout_session_supported"] != true {
		t.Errorf("discovery: backchannel_logout_supported %v, backchannel_logout_session_supported %v",
			d["backchannel_logout_supported"], d["backchannel_logout_session_supported"])
	}

	b := idp.browser()
	tokA, pA := b.tokens(a, "staff01")
	sid := a.sidOf(t, tokA, pA.Nonce)
	tokB, pB := b.ssoTokens(bc)
	tokWeb, pWeb := b.ssoTokens(plain)
	if got := bc.sidOf(t, tokB, pB.Nonce); got != sid {
		t.Errorf("SSO ID token sid %s, want the session's %s", got, sid)
	}
	if got := plain.sidOf(t, tokWeb, pWeb.Nonce); got != sid {
		t.Errorf("SSO ID token sid %s, want the session's %s", got, sid)
	}
	// A refreshed ID token keeps the session's sid.
	status, refreshed := a.refresh(t, tokA.RefreshToken)
	if status != http.StatusOK {
		t.Fatalf("refresh = %d %v", status, refreshed)
	}
	idt, err := a.verifier.Verify(context.Background(), refreshed["id_token"].(string))
	if err != nil {
		t.Fatal(err)
	}
	var rc struct {
		SID string `json:"sid"`
	}
	if err := idt.Claims(&rc); err != nil || rc.SID != sid {
		t.Errorf("refreshed ID token sid = %q (%v), want %s", rc.SID, err, sid)
	}
	if n := len(idp.deliveries("")); n != 0 {
		t.Fatalf("%d deliveries before any logout", n)
	}

	rawID := tokA.Extra("id_token").(string)
	end := url.Values{"id_token_hint": {rawID}, "post_logout_redirect_uri": {idp.rpURL + "/bc-a/bye"}, "state": {"s1"}}
	if loc := b.get(a.discovery(t, "end_session_endpoint") + "?" + end.Encode()).location(t); !strings.HasPrefix(loc, idp.rpURL+"/bc-a/bye") {
		t.Fatalf("end_session went to %s", loc)
	}
	euid := idp.login("staff01").EUID
	gotA := rcvA.waitAccepted(t, 1)
	gotB := rcvB.waitAccepted(t, 1)
	ca := idp.verifyLogoutToken(t, gotA[0].token, rawID, "bc-a", euid, sid)
	cb := idp.verifyLogoutToken(t, gotB[0].token, tokB.Extra("id_token").(string), "bc-b", euid, sid)
	if ca["jti"] == cb["jti"] {
		t.Errorf("two logout tokens share the jti %v", ca["jti"])
	}
	rcvA.wantNoMore(t, 1)
	rcvB.wantNoMore(t, 1)
	if list := idp.deliveries(""); len(list) != 2 {
		t.Errorf("%d deliveries recorded, want 2 (none for %s, which has no back-channel logout URI): %+v", len(list), web.ClientID, list)
	}

	// The session's tokens stopped at once.
	if intro := a.introspect(t, tokA.AccessToken); intro["active"] != false {
		t.Errorf("access token of the ended session: %v", intro)
	}
	status, out := a.refresh(t, refreshed["refresh_token"].(string))
	wantGrantError(t, "refresh after logout", status, out)
}

// bcSession is a node with one relying party taking logout tokens at rcv,
// and a browser signed in there as one staff login.
type bcSession struct {
	idp  *testIDP
	rcv  *logoutReceiver
	rp   *rp
	b    *browser
	tok  *oauth2.Token
	sid  string
	euid string
}

// startBackchannelSession starts it; the receiver gives answers first.
func startBackchannelSession(t *testing.T, clientID, username string, answers ...int) *bcSession {
	t.Helper()
	idp := startBackchannelIDP(t, nil)
	rcv := newLogoutReceiver(t, answers...)
	s := &bcSession{idp: idp, rcv: rcv, rp: idp.bcClient(clientID, rcv.url()), b: idp.browser(), euid: idp.login(username).EUID}
	var p authParams
	s.tok, p = s.b.tokens(s.rp, username)
	s.sid = s.rp.sidOf(t, s.tok, p.Nonce)
	return s
}

// wantToldOnce checks that the relying party accepted one logout token for
// the session, valid in every respect, after attempts requests in all.
func (s *bcSession) wantToldOnce(t *testing.T, attempts int) {
	t.Helper()
	got := s.rcv.waitAccepted(t, 1)
	s.idp.verifyLogoutToken(t, got[0].token, s.tok.Extra("id_token").(string), s.rp.oauth.ClientID, s.euid, s.sid)
	s.rcv.wantNoMore(t, attempts)
}

// signOutOfPortal signs the browser out on the portal's profile page.
func (s *bcSession) signOutOfPortal(t *testing.T) {
	t.Helper()
	prof := s.b.accountPage("/account") // the e-service's session signs in the portal too
	out := s.b.post(s.idp.portal("/account/logout"), url.Values{"csrf_token": {submatch(csrfField, prof.Body)}})
	if loc := out.location(t); loc != s.idp.issuer+"/logged-out" {
		t.Fatalf("portal sign-out went to %s", loc)
	}
}

// TestBackchannelLogoutConfirmationPage: end_session without a hint asks the
// user; nothing is sent until they confirm, then the relying party is told.
func TestBackchannelLogoutConfirmationPage(t *testing.T) {
	t.Parallel()
	s := startBackchannelSession(t, "bc-confirm", "staff02")
	end := url.Values{"client_id": {"bc-confirm"}, "post_logout_redirect_uri": {s.idp.rpURL + "/bc-confirm/bye"}}
	confirm := s.b.get(s.b.get(s.rp.discovery(t, "end_session_endpoint") + "?" + end.Encode()).location(t))
	if confirm.StatusCode != http.StatusOK || confirm.fieldValue("sig") == "" {
		t.Fatalf("want the confirmation page, got %d %.300s", confirm.StatusCode, confirm.Body)
	}
	if n := len(s.idp.deliveries("")); n != 0 {
		t.Fatalf("%d deliveries before the user confirmed", n)
	}
	form := url.Values{"next": {confirm.fieldValue("next")}, "sig": {confirm.fieldValue("sig")}, "csrf_token": {confirm.fieldValue("csrf_token")}}
	s.b.post(s.idp.issuerPath()+"/logout", form).location(t)
	s.wantToldOnce(t, 1)
}

// TestBackchannelPortalSignOut: signing out of the portal ends the SSO
// session an e-service sign-in started, and tells that e-service.
func TestBackchannelPortalSignOut(t *testing.T) {
	t.Parallel()
	s := startBackchannelSession(t, "bc-portal", "staff01")
	s.signOutOfPortal(t)
	s.wantToldOnce(t, 1)
}

// TestBackchannelPasswordChange: a password change ends every session of
// the login, and each e-service that got tokens in one is told.
func TestBackchannelPasswordChange(t *testing.T) {
	t.Parallel()
	s := startBackchannelSession(t, "bc-password", "staff02")
	// A second browser, a second session of the same login.
	tok2, p2 := s.idp.browser().tokens(s.rp, "staff02")
	sid2 := s.rp.sidOf(t, tok2, p2.Nonce)

	newPw := "violet harbour lantern 2719"
	if done := s.b.changePassword(s.idp.login("staff02").Password, newPw, newPw); done.StatusCode != http.StatusOK {
		t.Fatalf("password change = %d: %.300s", done.StatusCode, done.Body)
	}
	sids := map[string]bool{}
	for _, post := range s.rcv.waitAccepted(t, 2) {
		sid, _ := unverifiedClaims(t, post.token)["sid"].(string)
		idToken := s.tok.Extra("id_token").(string)
		if sid == sid2 {
			idToken = tok2.Extra("id_token").(string)
		}
		s.idp.verifyLogoutToken(t, post.token, idToken, "bc-password", s.euid, sid)
		sids[sid] = true
	}
	if !sids[s.sid] || !sids[sid2] {
		t.Errorf("logout tokens for sessions %v, want %s and %s", sids, s.sid, sid2)
	}
	// The session the change started in this browser had no e-service yet.
	s.rcv.wantNoMore(t, 2)
}

// TestBackchannelRefreshOfDeletedLogin: a refresh by a login deleted
// meanwhile is refused, ends its sessions, and tells their e-services.
func TestBackchannelRefreshOfDeletedLogin(t *testing.T) {
	t.Parallel()
	s := startBackchannelSession(t, "bc-deleted", "staff02")
	s.idp.deleteInStore(t, s.idp.login("staff02"))
	status, out := s.rp.refresh(t, s.tok.RefreshToken)
	wantGrantError(t, "refresh of a deleted login", status, out)
	s.wantToldOnce(t, 1)
}

// ---- delivery ----

// TestBackchannelRetriesUntilDelivered: a relying party that answers 503
// three times, then 200, gets the token once accepted, after four attempts
// that all carry the same jti; the outbox records one delivery.
func TestBackchannelRetriesUntilDelivered(t *testing.T) {
	t.Parallel()
	unavailable := http.StatusServiceUnavailable
	s := startBackchannelSession(t, "bc-flaky", "staff01", unavailable, unavailable, unavailable)
	s.signOutOfPortal(t)
	s.wantToldOnce(t, 4)
	jtis := map[any]bool{}
	for _, post := range s.rcv.received() {
		jtis[unverifiedClaims(t, post.token)["jti"]] = true
	}
	if len(jtis) != 1 {
		t.Errorf("the attempts carried %d different jti, want one: %v", len(jtis), jtis)
	}
	list := s.idp.deliveries("bc-flaky")
	if len(list) != 1 || list[0].State() != storage.DeliveryDelivered || list[0].Attempts != 4 || list[0].LastError != "" {
		t.Fatalf("deliveries = %+v, want one delivered after 4 attempts", list)
	}
}

// TestBackchannelOnceWhenNodesEndTheSessionTogether: two nodes ending the
// same session at the same moment queue one delivery per client, not two.
func TestBackchannelOnceWhenNodesEndTheSessionTogether(t *testing.T) {
	t.Parallel()
	idp := startBackchannelIDP(t, nil)
	rcvA, rcvB := newLogoutReceiver(t), newLogoutReceiver(t)
	a, bc := idp.bcClient("bc-n1", rcvA.url()), idp.bcClient("bc-n2", rcvB.url())
	b := idp.browser()
	tok, p := b.tokens(a, "staff01")
	sid := a.sidOf(t, tok, p.Nonce)
	b.ssoTokens(bc)

	// Each node wraps the shared stores in its own notifier.
	nodes := []storage.ShortLived{
		idpop.NotifyLogouts(idp.app.redis, idpop.LogoutNotice{Parties: idp.app.redis, Queue: idp.app.pg}),
		idpop.NotifyLogouts(idp.app.redis, idpop.LogoutNotice{Parties: idp.app.redis, Queue: idp.app.pg}),
	}
	start := make(chan struct{})
	errs := make([]error, len(nodes))
	var wg sync.WaitGroup
	for i, n := range nodes {
		wg.Go(func() {
			<-start
			errs[i] = n.EndSessionByID(context.Background(), sid)
		})
	}
	close(start)
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("node %d: EndSessionByID: %v", i, err)
		}
	}
	if list := idp.deliveries(""); len(list) != 2 {
		t.Errorf("%d deliveries queued, want one per client: %+v", len(list), list)
	}
	rcvA.waitAccepted(t, 1)
	rcvB.waitAccepted(t, 1)
	rcvA.wantNoMore(t, 1)
	rcvB.wantNoMore(t, 1)
}

// TestBackchannelSessionEndsWhenPostgresFails: when the deliveries cannot
// be written, the session still ends (its tokens stop), and what is lost is
// logged at error level.
func TestBackchannelSessionEndsWhenPostgresFails(t *testing.T) {
	t.Parallel()
	s := startBackchannelSession(t, "bc-lost", "staff01")
	down, err := postgres.Open(context.Background(), s.idp.app.cfg.DatabaseURL)
	if err != nil {
		t.Fatal(err)
	}
	// A store whose every query fails.
	down.Close()
	// Written only by EndSessionByID, in this goroutine.
	var log bytes.Buffer
	node := idpop.NotifyLogouts(s.idp.app.redis, idpop.LogoutNotice{Parties: s.idp.app.redis, Queue: down,
		Logger: slog.New(slog.NewTextHandler(&log, nil))})
	if err := node.EndSessionByID(context.Background(), s.sid); err != nil {
		t.Fatalf("EndSessionByID with Postgres down: %v", err)
	}
	if intro := s.rp.introspect(t, s.tok.AccessToken); intro["active"] != false {
		t.Errorf("the session's access token survived: %v", intro)
	}
	status, out := s.rp.refresh(t, s.tok.RefreshToken)
	wantGrantError(t, "refresh of the ended session", status, out)
	logged := log.String()
	for _, want := range []string{"level=ERROR", "bc-lost", s.sid, s.euid} {
		if !strings.Contains(logged, want) {
			t.Errorf("the error log lacks %q: %s", want, logged)
		}
	}
}

// TestBackchannelDeliveriesCommand: `idp logout deliveries --json` shows
// each delivery's state: delivered, given up (the relying party refused
// the token with 400) and pending (it keeps answering 503).
func TestBackchannelDeliveriesCommand(t *testing.T) {
	idp := startBackchannelIDP(t, map[string]string{"IDP_BACKCHANNEL_GIVE_UP": "1h"})
	ok, refuse, down := newLogoutReceiver(t), newLogoutReceiver(t, http.StatusBadRequest),
		newLogoutReceiver(t, slices.Repeat([]int{http.StatusServiceUnavailable}, 1000)...)
	clients := []*rp{idp.bcClient("bc-ok", ok.url()), idp.bcClient("bc-refuse", refuse.url()), idp.bcClient("bc-down", down.url())}
	b := idp.browser()
	tok, p := b.tokens(clients[0], "staff01")
	sid := clients[0].sidOf(t, tok, p.Nonce)
	b.ssoTokens(clients[1])
	b.ssoTokens(clients[2])
	prof := b.accountPage("/account")
	b.post(idp.portal("/account/logout"), url.Values{"csrf_token": {submatch(csrfField, prof.Body)}}).location(t)
	ok.waitAccepted(t, 1)
	if !waitFor(15*time.Second, func() bool { return len(refuse.received()) == 1 && len(down.received()) >= 2 }) {
		t.Fatalf("attempts: refusing RP %d, RP down %d", len(refuse.received()), len(down.received()))
	}
	refuse.wantNoMore(t, 1) // 400 is final: never asked again

	idp.runsCommands(t)
	var out bytes.Buffer
	if err := logoutDeliveries([]string{"--json", "--limit", "10"}, &out); err != nil {
		t.Fatal(err)
	}
	var rows []logoutDelivery
	if err := json.Unmarshal(out.Bytes(), &rows); err != nil {
		t.Fatalf("%v: %s", err, out.String())
	}
	byClient := map[string]logoutDelivery{}
	for _, r := range rows {
		if r.SessionID != sid || r.Subject != idp.login("staff01").EUID {
			t.Errorf("row %+v: want sid %s and sub of staff01", r, sid)
		}
		byClient[r.ClientID] = r
	}
	if r := byClient["bc-ok"]; r.State != "delivered" || r.Attempts != 1 || r.SettledAt == nil || r.URI != ok.url() {
		t.Errorf("bc-ok: %+v, want delivered after 1 attempt", r)
	}
	if r := byClient["bc-refuse"]; r.State != "given up" || r.Attempts != 1 || !strings.Contains(r.LastError, "400") {
		t.Errorf("bc-refuse: %+v, want given up after one 400", r)
	}
	if r := byClient["bc-down"]; r.State != "pending" || r.Attempts < 2 || !strings.Contains(r.LastError, "503") {
		t.Errorf("bc-down: %+v, want pending with the 503 recorded", r)
	}
	if len(rows) != 3 {
		t.Errorf("%d rows, want 3: %s", len(rows), out.String())
	}

	out.Reset()
	if err := logoutDeliveries([]string{"--client", "bc-refuse"}, &out); err != nil {
		t.Fatal(err)
	}
	if text := out.String(); !strings.Contains(text, "CLIENT") || !strings.Contains(text, "bc-refuse") ||
		!strings.Contains(text, "given up") || strings.Contains(text, "bc-ok") {
		t.Errorf("table for --client bc-refuse:\n%s", text)
	}
}

// TestBackchannelLogoutURIChecks: the operator command accepts https and
// loopback http only, without a fragment.
func TestBackchannelLogoutURIChecks(t *testing.T) {
	t.Parallel()
	for uri, ok := range map[string]bool{
		"https://rp.example.gov.mo/backchannel": true,
		"https://rp.example.gov.mo/bc?x=1":      true,
		"http://127.0.0.1:8081/bc":              true,
		"http://[::1]:8081/bc":                  true,
		"http://localhost/bc":                   true,
		"http://rp.example.gov.mo/bc":           false,
		"https://rp.example.gov.mo/bc#f":        false,
		"/bc":                                   false,
		"mo.gov.app:/bc":                        false,
		"https:///bc":                           false,
	} {
		if err := checkClientURI("back-channel logout URI", uri, false); (err == nil) != ok {
			t.Errorf("%s: err = %v, want ok %v", uri, err, ok)
		}
	}
}
