package postgres_test

import (
	"crypto/sha256"
	"errors"
	"reflect"
	"testing"

	"github.com/entity-account/idp/storage"
)

func TestClients(t *testing.T) {
	t.Parallel()
	s, ctx := newStore(t)
	sv := createService(t, s, "parking", storage.PolicyAssigned)
	secret := sha256.Sum256([]byte("s3cret"))

	web := storage.Client{
		ID: "parking-web", ServiceID: sv.ID, Name: "Parking (web)", SecretHash: secret[:],
		RedirectURIs: []string{"https://parking.gov.mo/cb"},
	}
	if err := s.CreateClient(ctx, operator, &web); err != nil {
		t.Fatalf("CreateClient(web): %v", err)
	}
	wantAudit(t, s, operator, "client.create", "parking-web", nil)
	if web.ServiceCode != "parking" || web.CreatedAt.IsZero() || web.PostLogoutRedirectURIs == nil {
		t.Errorf("client not filled: %+v", web)
	}
	app := storage.Client{
		ID: "parking-app", ServiceID: sv.ID, Name: "Parking (app)", Public: true,
		RedirectURIs:           []string{"mo.gov.parking:/cb", "http://127.0.0.1/cb"},
		PostLogoutRedirectURIs: []string{"mo.gov.parking:/bye"},
	}
	if err := s.CreateClient(ctx, operator, &app); err != nil {
		t.Fatalf("CreateClient(app): %v", err)
	}

	got, err := s.Client(ctx, "parking-web")
	if err != nil || !reflect.DeepEqual(got, web) {
		t.Errorf("Client(web) =\n%+v, %v\nwant\n%+v", got, err, web)
	}
	got, err = s.Client(ctx, "parking-app")
	if err != nil || !reflect.DeepEqual(got, app) || got.SecretHash != nil {
		t.Errorf("Client(app) =\n%+v, %v\nwant\n%+v", got, err, app)
	}
	list, err := s.ClientsOfService(ctx, sv.ID)
	if err != nil || len(list) != 2 || list[0].ID != "parking-app" || list[1].ID != "parking-web" {
		t.Errorf("ClientsOfService = %v, %v", list, err)
	}

	_, err = s.Client(ctx, "nobody")
	wantErr(t, "unknown client", err, storage.ErrNotFound)

	if err := s.DisableClient(ctx, operator, "parking-app"); err != nil {
		t.Fatalf("DisableClient: %v", err)
	}
	wantAudit(t, s, operator, "client.disable", "parking-app", nil)
	_, err = s.Client(ctx, "parking-app")
	wantErr(t, "disabled client", err, storage.ErrNotFound)
	if list, _ := s.ClientsOfService(ctx, sv.ID); len(list) != 1 {
		t.Errorf("ClientsOfService lists %d clients, want only the enabled one", len(list))
	}
	n := auditCount(t, s)
	if err := s.DisableClient(ctx, operator, "parking-app"); err != nil || auditCount(t, s) != n {
		t.Errorf("disabling again: %v, or audited", err)
	}
	wantErr(t, "disable unknown", s.DisableClient(ctx, operator, "nobody"), storage.ErrNotFound)

	dup := web
	wantErr(t, "duplicate id", s.CreateClient(ctx, operator, &dup), storage.ErrAlreadyExists)
	for name, c := range map[string]storage.Client{
		"public with secret":       {ID: "a", ServiceID: sv.ID, Name: "a", Public: true, SecretHash: secret[:], RedirectURIs: []string{"https://a/cb"}},
		"confidential sans secret": {ID: "b", ServiceID: sv.ID, Name: "b", RedirectURIs: []string{"https://b/cb"}},
		"no redirect uri":          {ID: "c", ServiceID: sv.ID, Name: "c", Public: true},
		"colon in id":              {ID: "d:e", ServiceID: sv.ID, Name: "d", Public: true, RedirectURIs: []string{"https://d/cb"}},
	} {
		if err := s.CreateClient(ctx, operator, &c); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	// Addresses with a fragment or userinfo are never stored (RFC 6749
	// §3.1.2), whatever registers the client; nothing is written or audited.
	n = auditCount(t, s)
	for name, c := range map[string]storage.Client{
		"redirect with userinfo":       {ID: "u1", ServiceID: sv.ID, Name: "u", Public: true, RedirectURIs: []string{"http://evil@127.0.0.1/cb"}},
		"redirect with fragment":       {ID: "u2", ServiceID: sv.ID, Name: "u", SecretHash: secret[:], RedirectURIs: []string{"https://u.gov.mo/cb#x"}},
		"redirect with empty fragment": {ID: "u3", ServiceID: sv.ID, Name: "u", SecretHash: secret[:], RedirectURIs: []string{"https://u.gov.mo/cb#"}},
		"post-logout with userinfo":    {ID: "u4", ServiceID: sv.ID, Name: "u", Public: true, RedirectURIs: []string{"mo.gov.u:/cb"}, PostLogoutRedirectURIs: []string{"https://a:b@u.gov.mo/bye"}},
		"back-channel with fragment":   {ID: "u5", ServiceID: sv.ID, Name: "u", Public: true, RedirectURIs: []string{"mo.gov.u:/cb"}, BackchannelLogoutURI: "https://u.gov.mo/bc#"},
		"plain http off loopback":      {ID: "u6", ServiceID: sv.ID, Name: "u", SecretHash: secret[:], RedirectURIs: []string{"http://u.gov.mo/cb"}},
	} {
		wantErr(t, name, s.CreateClient(ctx, operator, &c), storage.ErrInvalid)
		if _, err := s.Client(ctx, c.ID); !errors.Is(err, storage.ErrNotFound) {
			t.Errorf("%s: stored anyway (%v)", name, err)
		}
	}
	if auditCount(t, s) != n {
		t.Error("a refused client was audited")
	}
	orphan := storage.Client{ID: "orphan", ServiceID: -1, Name: "o", Public: true, RedirectURIs: []string{"https://o/cb"}}
	wantErr(t, "unknown service", s.CreateClient(ctx, operator, &orphan), storage.ErrNotFound)
}

// A machine client belongs to a department, has a secret, registered scopes
// and only the client_credentials grant; web and native clients get the code
// and refresh grants. The database refuses anything else.
func TestMachineClients(t *testing.T) {
	t.Parallel()
	s, ctx := newStore(t)
	sv := createService(t, s, "permits", storage.PolicyAssigned)
	dept, err := s.DepartmentByCode(ctx, "dsat")
	if err != nil {
		t.Fatal(err)
	}
	secret := sha256.Sum256([]byte("machine-s3cret"))

	m := storage.Client{ID: "dsat-m-1", Kind: storage.ClientMachine, DepartmentID: dept.ID, Name: "DSAT back end",
		SecretHash: secret[:], Scopes: []string{storage.ScopeDepartmentRead}}
	if err := s.CreateClient(ctx, operator, &m); err != nil {
		t.Fatalf("CreateClient(machine): %v", err)
	}
	ev := wantAudit(t, s, operator, "client.create", "dsat-m-1", nil)
	if ev.Details["department"] != "dsat" || ev.Details["kind"] != "machine" {
		t.Errorf("audit details = %v", ev.Details)
	}
	if m.DepartmentCode != "dsat" || !reflect.DeepEqual(m.GrantTypes, []string{storage.GrantClientCredentials}) {
		t.Errorf("machine client not filled: %+v", m)
	}
	got, err := s.Client(ctx, "dsat-m-1")
	if err != nil || !reflect.DeepEqual(got, m) {
		t.Errorf("Client(machine) =\n%+v, %v\nwant\n%+v", got, err, m)
	}
	if !got.AllowsGrant(storage.GrantClientCredentials) || got.AllowsGrant(storage.GrantAuthorizationCode) || got.ServiceID != 0 {
		t.Errorf("machine client grants/owner: %+v", got)
	}

	web := storage.Client{ID: "permits-web", ServiceID: sv.ID, Name: "web", SecretHash: secret[:],
		RedirectURIs: []string{"https://permits.gov.mo/cb"}}
	if err := s.CreateClient(ctx, operator, &web); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.Client(ctx, "permits-web"); got.Kind != storage.ClientWeb || got.DepartmentID != 0 ||
		!reflect.DeepEqual(got.GrantTypes, []string{storage.GrantAuthorizationCode, storage.GrantRefreshToken}) {
		t.Errorf("web client = %+v", got)
	}

	for name, c := range map[string]storage.Client{
		"machine without department": {ID: "x1", Kind: storage.ClientMachine, Name: "x", SecretHash: secret[:], Scopes: []string{"department.read"}},
		"machine with a service": {ID: "x2", Kind: storage.ClientMachine, DepartmentID: dept.ID, ServiceID: sv.ID, Name: "x",
			SecretHash: secret[:], Scopes: []string{"department.read"}},
		"machine with redirect URI": {ID: "x3", Kind: storage.ClientMachine, DepartmentID: dept.ID, Name: "x", SecretHash: secret[:],
			Scopes: []string{"department.read"}, RedirectURIs: []string{"https://x/cb"}},
		"machine without secret": {ID: "x4", Kind: storage.ClientMachine, DepartmentID: dept.ID, Name: "x", Public: true,
			Scopes: []string{"department.read"}},
		"machine without scopes": {ID: "x5", Kind: storage.ClientMachine, DepartmentID: dept.ID, Name: "x", SecretHash: secret[:]},
		"machine with the code grant": {ID: "x6", Kind: storage.ClientMachine, DepartmentID: dept.ID, Name: "x", SecretHash: secret[:],
			Scopes: []string{"department.read"}, GrantTypes: []string{"client_credentials", "authorization_code"}},
		"web with client_credentials": {ID: "x7", ServiceID: sv.ID, Name: "x", SecretHash: secret[:],
			RedirectURIs: []string{"https://x/cb"}, GrantTypes: []string{"authorization_code", "client_credentials"}},
		"web with scopes": {ID: "x8", ServiceID: sv.ID, Name: "x", SecretHash: secret[:],
			RedirectURIs: []string{"https://x/cb"}, Scopes: []string{"department.read"}},
		"unknown grant": {ID: "x9", ServiceID: sv.ID, Name: "x", SecretHash: secret[:],
			RedirectURIs: []string{"https://x/cb"}, GrantTypes: []string{"password"}},
	} {
		err := s.CreateClient(ctx, operator, &c)
		if !errors.Is(err, storage.ErrInvalid) {
			t.Errorf("%s: %v, want ErrInvalid", name, err)
		}
	}
	orphan := storage.Client{ID: "orphan-m", Kind: storage.ClientMachine, DepartmentID: -1, Name: "o", SecretHash: secret[:],
		Scopes: []string{"department.read"}}
	wantErr(t, "unknown department", s.CreateClient(ctx, operator, &orphan), storage.ErrNotFound)
}
