package op

import (
	"context"
	"testing"
	"time"

	"github.com/zitadel/oidc/v3/pkg/oidc"

	"github.com/entity-account/idp/storage"
)

// countingDirectory answers as one enrolled staff login and counts lookups.
type countingDirectory struct {
	storage.Directory
	bySubject int
}

func (d *countingDirectory) PrincipalBySubject(context.Context, string) (storage.Principal, error) {
	d.bySubject++
	return storage.Principal{Kind: storage.KindStaff, ID: 7, Subject: "CU000000107", EntityNumber: "99-000001",
		EntityActive: true, Username: "bench0007", PasswordHash: "x", Activated: true, Status: storage.StatusActive}, nil
}

func (d *countingDirectory) Client(context.Context, string) (storage.Client, error) {
	return storage.Client{ID: "c", ServiceID: 1, Public: true}, nil
}

func (d *countingDirectory) ServiceAccess(context.Context, int64, int64) (storage.ServiceAccess, error) {
	return storage.ServiceAccess{Policy: storage.PolicyEnrolled, Enrolled: true, Groups: []string{}}, nil
}

// PrincipalInService reads both in one round trip; it counts as one read of the account.
func (d *countingDirectory) PrincipalInService(ctx context.Context, subject string, _, serviceID int64) (storage.Principal, storage.ServiceAccess, error) {
	p, _ := d.PrincipalBySubject(ctx, subject)
	a, _ := d.ServiceAccess(ctx, p.ID, serviceID)
	return p, a, nil
}

type oneRefreshToken struct{ storage.ShortLived }

func (oneRefreshToken) RefreshToken(context.Context, string) (*storage.RefreshToken, error) {
	return &storage.RefreshToken{FamilyID: "f", ClientID: "c", Subject: "CU000000107", Scopes: []string{"openid"},
		ExpiresAt: time.Now().Add(time.Hour), Authentication: storage.Authentication{LoginID: 7}}, nil
}

// A refresh grant loads the account once: the ID token reuses what the
// grant's validation loaded (profiling showed the second query on this path).
func TestRefreshGrantLoadsTheAccountOnce(t *testing.T) {
	dir := &countingDirectory{}
	s := NewStorage(dir, oneRefreshToken{}, nil, Lifetimes{}, "/login")
	req, err := s.TokenRequestByRefreshToken(context.Background(), "token")
	if err != nil {
		t.Fatal(err)
	}
	info := new(oidc.UserInfo)
	if err := s.SetUserinfoFromRequest(context.Background(), info, req.(*refreshRequest), []string{"openid"}); err != nil {
		t.Fatal(err)
	}
	if dir.bySubject != 1 {
		t.Fatalf("PrincipalBySubject called %d times for one refresh grant, want 1", dir.bySubject)
	}
	if info.Subject != "CU000000107" || info.Claims["entity_number"] != "99-000001" {
		t.Fatalf("claims = %+v", info)
	}
	// Without a known account (userinfo, code grant) it is loaded as before.
	if err := s.fillClaims(context.Background(), new(oidc.UserInfo), "CU000000107", "c", nil, storage.Authentication{}, nil, nil); err != nil {
		t.Fatal(err)
	}
	if dir.bySubject != 2 {
		t.Fatalf("PrincipalBySubject called %d times, want 2", dir.bySubject)
	}
}

// Within the claims cache's TTL the claims of an account in an e-service are
// built without asking the directory again; after it they are read afresh.
func TestClaimsCache(t *testing.T) {
	dir := &countingDirectory{}
	s := NewStorage(dir, oneRefreshToken{}, nil, Lifetimes{ClaimsCache: 150 * time.Millisecond}, "/login")
	fill := func() map[string]any {
		info := new(oidc.UserInfo)
		if err := s.fillClaims(context.Background(), info, "CU000000107", "c", nil, storage.Authentication{}, nil, nil); err != nil {
			t.Fatal(err)
		}
		return info.Claims
	}
	first, second := fill(), fill()
	if dir.bySubject != 1 {
		t.Fatalf("two userinfo answers within the TTL read the account %d times, want 1", dir.bySubject)
	}
	if first["euid"] != second["euid"] || second["entity_number"] != "99-000001" {
		t.Fatalf("cached claims differ: %v vs %v", first, second)
	}
	time.Sleep(200 * time.Millisecond)
	fill()
	if dir.bySubject != 2 {
		t.Fatalf("after the TTL the account was read %d times in all, want 2", dir.bySubject)
	}
}
