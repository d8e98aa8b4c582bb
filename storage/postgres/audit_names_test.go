package postgres_test

import (
	"crypto/sha256"
	"testing"

	"github.com/entity-account/idp/storage"
)

// TestAuditNames: the names of e-services (with their groups) by code and
// of departments by their machine client's id; what names nothing (an
// unknown code, a web client's id, an e-service without groups) is left
// out, and nothing asked reads nothing.
func TestAuditNames(t *testing.T) {
	s, ctx := newStore(t)
	d := storage.Department{Code: "DSAFP", NameZH: "行政公職局", NamePT: "Direcção dos Serviços de Administração e Função Pública"}
	if err := s.CreateDepartment(ctx, operator, &d); err != nil {
		t.Fatal(err)
	}
	sv := storage.Service{Code: "social", DepartmentID: d.ID, NameZH: "社團服務", NamePT: "Serviço às associações"}
	bare := storage.Service{Code: "bare", DepartmentID: d.ID, NameZH: "無群組服務", NameEN: "No groups"}
	for _, x := range []*storage.Service{&sv, &bare} {
		if err := s.CreateService(ctx, operator, x); err != nil {
			t.Fatal(err)
		}
	}
	for _, g := range []storage.Group{{ServiceID: sv.ID, Code: "admin", NameZH: "管理員", NamePT: "Administrador"}, {ServiceID: sv.ID, Code: "operator", NameZH: "操作員", NameEN: "Operator"}} {
		if err := s.CreateGroup(ctx, operator, &g); err != nil {
			t.Fatal(err)
		}
	}
	secret := sha256.Sum256([]byte("secret"))
	machine := storage.Client{ID: "safp-backend", Kind: storage.ClientMachine, DepartmentID: d.ID, GrantTypes: []string{storage.GrantClientCredentials},
		Scopes: []string{storage.ScopeDepartmentRead}, Name: "SAFP back end", SecretHash: secret[:]}
	if err := s.CreateClient(ctx, operator, &machine); err != nil {
		t.Fatal(err)
	}

	n, err := s.AuditNames(ctx, []string{"social", "bare", "gone"}, []string{"safp-backend", "no-such-client"})
	if err != nil {
		t.Fatal(err)
	}
	if got := n.Services["social"]; got != (storage.Names{ZH: "社團服務", PT: "Serviço às associações"}) {
		t.Errorf("social = %+v", got)
	}
	if got := n.Services["bare"]; got.EN != "No groups" || len(n.Groups["bare"]) != 0 {
		t.Errorf("bare = %+v, groups %v", got, n.Groups["bare"])
	}
	if got := n.Groups["social"]; len(got) != 2 || got["admin"].PT != "Administrador" || got["operator"].EN != "Operator" {
		t.Errorf("groups of social = %+v", got)
	}
	if _, ok := n.Services["gone"]; ok || len(n.Services) != 2 {
		t.Errorf("services %v", n.Services)
	}
	if got := n.Departments; len(got) != 1 || got["safp-backend"].ZH != "行政公職局" {
		t.Errorf("departments %v", got)
	}
	if empty, err := s.AuditNames(ctx, nil, nil); err != nil || len(empty.Services)+len(empty.Groups)+len(empty.Departments) != 0 {
		t.Errorf("nothing asked = %+v, %v", empty, err)
	}
}
