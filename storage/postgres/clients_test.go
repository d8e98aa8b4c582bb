package postgres_test

import (
	"crypto/sha256"
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
	orphan := storage.Client{ID: "orphan", ServiceID: -1, Name: "o", Public: true, RedirectURIs: []string{"https://o/cb"}}
	wantErr(t, "unknown service", s.CreateClient(ctx, operator, &orphan), storage.ErrNotFound)
}
