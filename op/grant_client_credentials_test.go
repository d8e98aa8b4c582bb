package op

import (
	"context"
	"crypto/sha256"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"

	"github.com/entity-account/idp/storage"
	"github.com/entity-account/idp/storage/storagetest"
)

// machineWorld is a Storage over real stores with the provider's crypto,
// a department DSAT with a machine client and an e-service with a web client.
type machineWorld struct {
	s        *Storage
	p        *op.Provider
	machine  storage.Client
	web      storage.Client
	revoke   func(id string) error
	tokenIDs []string
}

func newMachineWorld(t *testing.T) *machineWorld {
	t.Helper()
	ctx := t.Context()
	pg, rs := storagetest.NewPostgres(t), storagetest.NewRedis(t)
	actor := storage.OperatorActor("test")
	d := storage.Department{Code: "DSAT", NameZH: "交通事務局"}
	if err := pg.CreateDepartment(ctx, actor, &d); err != nil {
		t.Fatal(err)
	}
	sv := storage.Service{Code: "permits", DepartmentID: d.ID, NameZH: "准照"}
	if err := pg.CreateService(ctx, actor, &sv); err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256([]byte("machine-secret"))
	m := storage.Client{ID: "dsat-m-1", Kind: storage.ClientMachine, DepartmentID: d.ID, Name: "DSAT",
		SecretHash: sum[:], Scopes: []string{storage.ScopeDepartmentRead, storage.ScopeDepartmentWrite}}
	if err := pg.CreateClient(ctx, actor, &m); err != nil {
		t.Fatal(err)
	}
	web := storage.Client{ID: "permits-web", ServiceID: sv.ID, Name: "web", SecretHash: sum[:],
		RedirectURIs: []string{"https://permits.example/cb"}}
	if err := pg.CreateClient(ctx, actor, &web); err != nil {
		t.Fatal(err)
	}
	s := NewStorage(pg, rs, nil, Lifetimes{AccessToken: 10 * time.Minute}, "/login")
	p, err := NewProvider(ProviderConfig{Issuer: "http://127.0.0.1:1", MasterKey: make([]byte, 32), AllowInsecure: true}, s)
	if err != nil {
		t.Fatal(err)
	}
	return &machineWorld{s: s, p: p, machine: m, web: web, revoke: func(id string) error { return rs.RevokeAccessToken(ctx, id) }}
}

// token issues an access token for req as the library does and returns it.
func (w *machineWorld) token(t *testing.T, req op.TokenRequest) string {
	t.Helper()
	id, _, err := w.s.CreateAccessToken(t.Context(), req)
	if err != nil {
		t.Fatal(err)
	}
	w.tokenIDs = append(w.tokenIDs, id)
	bearer, err := op.CreateBearerToken(id, req.GetSubject(), w.p.Crypto())
	if err != nil {
		t.Fatal(err)
	}
	return bearer
}

// oidcErrorType is the OAuth error code of err ("" when it is not an *oidc.Error).
func oidcErrorType(err error) string {
	var e *oidc.Error
	if errors.As(err, &e) {
		return string(e.ErrorType)
	}
	return ""
}

// The grant's storage side: only machine clients, only registered scopes
// (all of them when none is asked for), a secret checked.
func TestClientCredentialsStorage(t *testing.T) {
	t.Parallel()
	w := newMachineWorld(t)
	// As the client authentication interceptor leaves it: the secret came
	// in the Basic header.
	ctx := withPresentedAuth(t.Context(), presentedAuth{method: storage.TokenAuthBasic})

	if _, err := w.s.ClientCredentials(ctx, w.machine.ID, "machine-secret"); err != nil {
		t.Errorf("right secret: %v", err)
	}
	// Without the interceptor's reading nothing is proven, the right secret included.
	if _, err := w.s.ClientCredentials(t.Context(), w.machine.ID, "machine-secret"); err == nil {
		t.Error("right secret without a presented method: accepted")
	}
	for name, secret := range map[string]string{"wrong secret": "nope", "no secret": ""} {
		if _, err := w.s.ClientCredentials(ctx, w.machine.ID, secret); err == nil || oidcErrorType(err) == string(oidc.ServerError) {
			t.Errorf("%s: %v, want a plain error (invalid_client)", name, err)
		}
	}
	if _, err := w.s.ClientCredentials(ctx, "nobody", "machine-secret"); err == nil || oidcErrorType(err) == string(oidc.ServerError) {
		t.Errorf("unknown client: %v", err)
	}
	// A web client authenticates, but the library then refuses it the grant.
	c, err := w.s.ClientCredentials(ctx, w.web.ID, "machine-secret")
	if err != nil || op.ValidateGrantType(c, oidc.GrantTypeClientCredentials) {
		t.Errorf("web client: %v, or allowed client_credentials", err)
	}
	if _, err := w.s.ClientCredentialsTokenRequest(ctx, w.web.ID, nil); oidcErrorType(err) != string(oidc.UnauthorizedClient) {
		t.Errorf("web client's token request: %v, want unauthorized_client", err)
	}
	mc, _ := w.s.ClientCredentials(ctx, w.machine.ID, "machine-secret")
	if op.ValidateGrantType(mc, oidc.GrantTypeCode) || op.ValidateGrantType(mc, oidc.GrantTypeRefreshToken) ||
		len(mc.ResponseTypes()) != 0 {
		t.Errorf("machine client allowed the code or refresh grant: %v %v", mc.GrantTypes(), mc.ResponseTypes())
	}

	for _, tc := range []struct {
		asked, want []string
	}{
		{nil, []string{"department.read", "department.write"}},
		{[]string{"department.read"}, []string{"department.read"}},
		{[]string{"department.write", "department.write"}, []string{"department.write"}},
	} {
		req, err := w.s.ClientCredentialsTokenRequest(ctx, w.machine.ID, tc.asked)
		if err != nil || !slices.Equal(req.GetScopes(), tc.want) || req.GetSubject() != w.machine.ID {
			t.Errorf("scopes %v: %v, %v; want %v", tc.asked, req, err, tc.want)
		}
	}
	for _, asked := range [][]string{{"openid"}, {"department.read", "department.admin"}} {
		if _, err := w.s.ClientCredentialsTokenRequest(ctx, w.machine.ID, asked); oidcErrorType(err) != string(oidc.InvalidScope) {
			t.Errorf("scopes %v: %v, want invalid_scope", asked, err)
		}
	}
}

// The department API's verifier accepts a live machine token and refuses
// a revoked one, a user's token, and anything that is not our token.
func TestMachineToken(t *testing.T) {
	t.Parallel()
	w := newMachineWorld(t)
	ctx := t.Context()

	req, err := w.s.ClientCredentialsTokenRequest(ctx, w.machine.ID, []string{"department.read"})
	if err != nil {
		t.Fatal(err)
	}
	bearer := w.token(t, req)
	m, err := w.s.MachineToken(ctx, bearer)
	if err != nil || m.Department != "DSAT" || m.ClientID != w.machine.ID || !m.HasScope("department.read") ||
		m.HasScope("department.write") || !m.ExpiresAt.After(time.Now()) {
		t.Fatalf("MachineToken = %+v, %v", m, err)
	}

	// Introspection by the machine client: active, its scope and department, no user claims.
	resp := new(oidc.IntrospectionResponse)
	if err := w.s.SetIntrospectionFromToken(ctx, resp, w.tokenIDs[0], w.machine.ID, w.machine.ID); err != nil {
		t.Fatal(err)
	}
	if !resp.Active || resp.ClientID != w.machine.ID || !slices.Equal(resp.Scope, []string{"department.read"}) ||
		resp.Claims["department"] != "DSAT" {
		t.Errorf("introspection = %+v", resp)
	}
	// Userinfo has no user to describe.
	if err := w.s.SetUserinfoFromToken(ctx, new(oidc.UserInfo), w.tokenIDs[0], w.machine.ID, ""); err == nil {
		t.Error("userinfo answered for a machine token")
	}

	// A user's access token (code grant) is live but not a machine token.
	user := w.token(t, authRequest{&storage.AuthRequest{ID: "ar1", ClientID: w.web.ID, Scopes: []string{"openid"},
		Authentication: storage.Authentication{Subject: "CU000000101"}}})
	if _, err := w.s.MachineToken(ctx, user); !errors.Is(err, ErrNotMachineToken) {
		t.Errorf("user token: %v, want ErrNotMachineToken", err)
	}
	for name, b := range map[string]string{"empty": "", "garbage": "not-a-token", "truncated": bearer[:len(bearer)-4]} {
		if _, err := w.s.MachineToken(ctx, b); !errors.Is(err, ErrInvalidToken) {
			t.Errorf("%s: %v, want ErrInvalidToken", name, err)
		}
	}
	// Another subject in the envelope than in the record.
	forged, _ := op.CreateBearerToken(w.tokenIDs[0], "someone-else", w.p.Crypto())
	if _, err := w.s.MachineToken(ctx, forged); !errors.Is(err, ErrInvalidToken) {
		t.Errorf("forged subject: %v, want ErrInvalidToken", err)
	}

	// Revocation takes effect at once.
	if err := w.revoke(w.tokenIDs[0]); err != nil {
		t.Fatal(err)
	}
	if _, err := w.s.MachineToken(ctx, bearer); !errors.Is(err, ErrInvalidToken) {
		t.Errorf("revoked: %v, want ErrInvalidToken", err)
	}
}

// Without the provider the verifier has no key and says so.
func TestMachineTokenWithoutProvider(t *testing.T) {
	s := NewStorage(nil, nil, nil, Lifetimes{}, "/login")
	if _, err := s.MachineToken(context.Background(), "x"); err == nil || errors.Is(err, ErrInvalidToken) {
		t.Errorf("MachineToken without provider: %v", err)
	}
}
