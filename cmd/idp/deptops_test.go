package main

import (
	"context"
	"strings"
	"testing"
)

// TestOperatorServiceGroupsAndClose runs the operator's mirror of the
// department API as the binary does: groups added, renamed and removed,
// who is assigned, and an e-service closed to an entity.
func TestOperatorServiceGroupsAndClose(t *testing.T) {
	idp := startIDP(t, nil)
	idp.runsCommands(t)

	for _, args := range [][]string{
		{"--service", "demo", "--code", "site-a", "--name-zh", "甲地盤", "--name-en", "Site A"},
	} {
		if err := serviceGroupAdd(args); err != nil {
			t.Fatalf("group add: %v", err)
		}
	}
	if err := serviceGroupAdd([]string{"--service", "demo", "--code", "site-a", "--name-zh", "again"}); err == nil || strings.Contains(err.Error(), "SQLSTATE") {
		t.Errorf("adding a group twice: %v", err)
	}
	if err := serviceGroupRename([]string{"--service", "demo", "--code", "site-a", "--name-pt", "Estaleiro A"}); err != nil {
		t.Fatalf("group rename: %v", err)
	}
	sv, err := idp.app.pg.ServiceByCode(context.Background(), "demo")
	if err != nil {
		t.Fatal(err)
	}
	groups, err := idp.app.pg.Groups(context.Background(), sv.ID)
	if err != nil {
		t.Fatal(err)
	}
	var renamed bool
	for _, g := range groups {
		renamed = renamed || g.Code == "site-a" && g.NamePT == "Estaleiro A" && g.NameZH == "甲地盤" && g.NameEN == "Site A"
	}
	if !renamed {
		t.Errorf("groups after the rename: %+v", groups)
	}
	if err := serviceGroupRemove([]string{"--service", "demo", "--code", "site-a"}); err != nil {
		t.Fatalf("group remove: %v", err)
	}
	if err := serviceAssignments([]string{"--service", "demo", "--entity", demoEntityNumber, "--json"}); err != nil {
		t.Fatalf("assignments: %v", err)
	}
	if err := serviceAssignments([]string{"--service", "nope", "--entity", demoEntityNumber}); err == nil || !strings.Contains(err.Error(), "not found") {
		t.Errorf("assignments of an unknown e-service: %v", err)
	}
	if err := serviceClose([]string{"--service", "demo", "--entity", demoEntityNumber}); err != nil {
		t.Fatalf("close: %v", err)
	}
	if _, err := idp.app.manage.EntityService(context.Background(), operator(), idp.demoEntity(t).ID, "demo"); err == nil {
		t.Error("the e-service is still open to the entity after service close")
	}
	if err := serviceEnroll([]string{"--service", "demo", "--entity", "02000021", "--json"}); err != nil {
		t.Fatalf("enroll again: %v", err)
	}
	if _, err := idp.app.manage.EntityService(context.Background(), operator(), idp.demoEntity(t).ID, "demo"); err != nil {
		t.Errorf("the e-service is not open again after service enroll: %v", err)
	}
	if err := serviceEnroll([]string{"--service", "demo", "--entity", "09-999999"}); err == nil || strings.Contains(err.Error(), "SQLSTATE") {
		t.Errorf("enroll to an unknown entity: %v", err)
	}
	if err := departmentChanges([]string{"--department", "DEMO", "--json"}); err != nil {
		t.Errorf("department changes: %v", err)
	}
	if err := departmentChanges([]string{"--department", "NOPE"}); err == nil || !strings.Contains(err.Error(), "not found") {
		t.Errorf("changes of an unknown department: %v", err)
	}
}
