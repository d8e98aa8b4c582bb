package main

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/entity-account/idp/storage"
)

// clientLevelSoon waits until the node's cached client id carries want,
// for much less than the client cache's TTL (30 s): a published change of
// its e-service drops it at once.
func (idp *testIDP) clientLevelSoon(t *testing.T, id string, want storage.Level) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		c, err := idp.app.st.Client(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		if c.MinLevel == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("client %s still has MinLevel %v 5 s after the change, want %v", id, c.MinLevel, want)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestDepartmentAPIServiceMinLevel: the DEMO department sets the minimum
// assurance level of its e-service with PATCH /services/demo; the service
// object answered and listed carries min_acr; the node's cached clients of
// the e-service follow at once. Another department's e-service is not found,
// bodies and acr values are checked, a read token may not, and the change
// is in the department's changes.
func TestDepartmentAPIServiceMinLevel(t *testing.T) {
	idp := startIDP(t, nil)
	m := machineClient(t, idp, "DEMO", "department.read", "department.write")
	at := machineToken(t, idp, m, "")

	list := idp.api(t, at, http.MethodGet, "/services", nil)
	list.want(t, "GET /services", http.StatusOK, "")
	if !strings.Contains(list.raw, `"access_policy":"assigned","min_acr":null,`) {
		t.Errorf("GET /services before = %s", list.raw)
	}
	// The sign-in's view of the demo clients is cached now.
	idp.clientLevelSoon(t, demoWebClient, storage.LevelNone)

	p := idp.api(t, at, http.MethodPatch, "/services/demo", map[string]any{"min_acr": storage.ACRTool})
	p.want(t, "PATCH min_acr tool", http.StatusOK, "")
	if p.body["code"] != "demo" || p.body["min_acr"] != storage.ACRTool || p.body["access_policy"] != "assigned" {
		t.Errorf("PATCH answer = %s", p.raw)
	}
	if groups, _ := p.body["groups"].([]any); len(groups) == 0 {
		t.Errorf("PATCH answer has no groups: %s", p.raw)
	}
	idp.clientLevelSoon(t, demoWebClient, storage.LevelTool)
	list = idp.api(t, at, http.MethodGet, "/services", nil)
	if !strings.Contains(list.raw, `"min_acr":"`+storage.ACRTool+`"`) {
		t.Errorf("GET /services after = %s", list.raw)
	}
	idp.api(t, at, http.MethodPatch, "/services/demo", map[string]any{"min_acr": storage.ACRTool}).
		want(t, "PATCH the same level", http.StatusOK, "")

	// Another department's e-service, or an unknown one: not found, and nothing changes.
	for _, code := range []string{"other", "nope"} {
		a := idp.api(t, at, http.MethodPatch, "/services/"+code, map[string]any{"min_acr": storage.ACRTool})
		a.want(t, "PATCH "+code, http.StatusNotFound, "not_found")
		if strings.Contains(a.raw, "OTHER") || strings.Contains(a.raw, "department") {
			t.Errorf("PATCH %s reveals: %s", code, a.raw)
		}
	}
	if sv, err := idp.app.pg.ServiceByCode(context.Background(), "other"); err != nil || sv.MinLevel != storage.LevelNone {
		t.Errorf("other after the refusal: %v, %v", sv.MinLevel, err)
	}

	// Bodies and values.
	for name, c := range map[string]struct {
		body  any
		field string
	}{
		"bad JSON":      {`{"min_acr":`, ""},
		"no min_acr":    {map[string]any{}, "min_acr"},
		"a number":      {map[string]any{"min_acr": 2}, "min_acr"},
		"unknown acr":   {map[string]any{"min_acr": "urn:entity-account:acr:passkey"}, "min_acr"},
		"empty acr":     {map[string]any{"min_acr": ""}, "min_acr"},
		"unknown field": {map[string]any{"min_acr": nil, "access_policy": "enrolled"}, "access_policy"},
	} {
		a := idp.api(t, at, http.MethodPatch, "/services/demo", c.body)
		a.want(t, name, http.StatusBadRequest, "invalid_request")
		if c.field != "" && a.body["field"] != c.field {
			t.Errorf("%s: field %v, want %s (%s)", name, a.body["field"], c.field, a.raw)
		}
	}
	if sv, _ := idp.app.pg.ServiceByCode(context.Background(), "demo"); sv.MinLevel != storage.LevelTool {
		t.Errorf("demo after the refused bodies: %v", sv.MinLevel)
	}

	// A read-only token may not.
	ro := machineToken(t, idp, m, "department.read")
	idp.api(t, ro, http.MethodPatch, "/services/demo", map[string]any{"min_acr": nil}).
		want(t, "PATCH with a read token", http.StatusForbidden, "insufficient_scope")

	// null clears it.
	p = idp.api(t, at, http.MethodPatch, "/services/demo", `{"min_acr": null}`)
	p.want(t, "PATCH null", http.StatusOK, "")
	if v, ok := p.body["min_acr"]; !ok || v != nil {
		t.Errorf("PATCH null answer = %s", p.raw)
	}
	idp.clientLevelSoon(t, demoWebClient, storage.LevelNone)

	// The changes: two by the department's client, before and after recorded.
	var changes struct {
		Changes []struct {
			Actor  struct{ Kind, ID string }
			Action string
			Target string
		}
	}
	if err := json.Unmarshal([]byte(idp.api(t, at, http.MethodGet, "/changes", nil).raw), &changes); err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, c := range changes.Changes {
		if c.Action == "service.min_level" && c.Target == "demo" && c.Actor.Kind == "department" && c.Actor.ID == m.ClientID {
			n++
		}
	}
	if n != 2 {
		t.Errorf("%d service.min_level changes by the department, want 2: %+v", n, changes.Changes)
	}
}

// TestOperatorServiceLevel runs `idp service level` and `idp service
// create --min-acr` as the binary does: the same use case as the
// department API, as the operator, for any department's e-service, and the
// running node's cached clients follow at once.
func TestOperatorServiceLevel(t *testing.T) {
	idp := startIDP(t, nil)
	idp.runsCommands(t)
	ctx := context.Background()

	idp.clientLevelSoon(t, "other-web", storage.LevelNone)
	out, err := captureStdout(t, func() error {
		return run([]string{"service", "level", "--service", "other", "--min-acr", storage.ACRTool, "--json"})
	})
	var got struct {
		Service string  `json:"service"`
		MinACR  *string `json:"min_acr"`
		Changed bool    `json:"changed"`
	}
	if err != nil || json.Unmarshal([]byte(out), &got) != nil || got.Service != "other" || got.MinACR == nil || *got.MinACR != storage.ACRTool || !got.Changed {
		t.Fatalf("service level --json = %q, %v", out, err)
	}
	idp.clientLevelSoon(t, "other-web", storage.LevelTool)
	events, err := idp.app.pg.AuditEvents(ctx, 1)
	if err != nil || len(events) != 1 || events[0].Action != "service.min_level" || events[0].ActorKind != "operator" || events[0].Target != "other" {
		t.Errorf("audit after service level: %+v, %v", events, err)
	}
	out, err = captureStdout(t, func() error {
		return run([]string{"service", "level", "--service", "other", "--min-acr", storage.ACRTool})
	})
	if err != nil || !strings.Contains(out, "already demands the password and an identity tool") {
		t.Errorf("the same level again = %q, %v", out, err)
	}
	out, err = captureStdout(t, func() error { return run([]string{"service", "level", "--service", "other", "--min-acr", "none"}) })
	if err != nil || !strings.Contains(out, "e-service other now has no minimum beyond the password") {
		t.Errorf("--min-acr none = %q, %v", out, err)
	}
	idp.clientLevelSoon(t, "other-web", storage.LevelNone)

	for name, c := range map[string]struct {
		args []string
		want string
	}{
		"unknown acr":     {[]string{"--service", "other", "--min-acr", "urn:x"}, "--min-acr must be " + storage.ACRTool},
		"missing level":   {[]string{"--service", "other"}, "--min-acr is required"},
		"missing service": {[]string{"--min-acr", "none"}, "--service is required"},
		"unknown service": {[]string{"--service", "nope", "--min-acr", "none"}, "E-service nope was not found."},
	} {
		err := serviceLevel(c.args)
		if err == nil || !strings.Contains(err.Error(), c.want) || strings.Contains(err.Error(), "SQLSTATE") {
			t.Errorf("%s: %v, want %q", name, err, c.want)
		}
	}

	// service create --min-acr.
	if _, err := captureStdout(t, func() error {
		return run([]string{"service", "create", "--code", "strict", "--name-zh", "嚴格服務", "--department", "DEMO", "--min-acr", storage.ACRTool})
	}); err != nil {
		t.Fatalf("service create --min-acr: %v", err)
	}
	if sv, err := idp.app.pg.ServiceByCode(ctx, "strict"); err != nil || sv.MinLevel != storage.LevelTool {
		t.Errorf("created e-service: %v, %v", sv.MinLevel, err)
	}
	if err := serviceCreate([]string{"--code", "lax", "--name-zh", "x", "--department", "DEMO", "--min-acr", "password"}); err == nil ||
		!strings.Contains(err.Error(), "--min-acr must be") {
		t.Errorf("service create with a bad --min-acr: %v", err)
	}
	if _, err := idp.app.pg.ServiceByCode(ctx, "lax"); err == nil {
		t.Error("service create with a bad --min-acr created the e-service")
	}
	usage, _ := captureStdout(t, func() error { return run([]string{"help"}) })
	if !strings.Contains(usage, "service level") || !strings.Contains(usage, "--min-acr") {
		t.Errorf("help lacks service level: %s", usage)
	}
}
