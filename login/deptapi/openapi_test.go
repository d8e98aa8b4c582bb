package deptapi

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/gorilla/mux"
)

// Every route of the router is in the OpenAPI document, with its method,
// and the document describes no route the router lacks.
func TestOpenAPIMatchesRouter(t *testing.T) {
	var doc struct {
		OpenAPI    string                                `json:"openapi"`
		Paths      map[string]map[string]json.RawMessage `json:"paths"`
		Components struct {
			SecuritySchemes map[string]json.RawMessage `json:"securitySchemes"`
			Schemas         map[string]json.RawMessage `json:"schemas"`
		} `json:"components"`
	}
	if err := json.Unmarshal(OpenAPI(), &doc); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(doc.OpenAPI, "3.1") || doc.Components.SecuritySchemes["bearer"] == nil || doc.Components.Schemas["Error"] == nil {
		t.Fatalf("document: openapi %q, schemes %v", doc.OpenAPI, doc.Components.SecuritySchemes)
	}
	inDoc := map[string]bool{}
	for path, ops := range doc.Paths {
		for m := range ops {
			if m != "parameters" {
				inDoc[strings.ToUpper(m)+" "+path] = true
			}
		}
	}
	inRouter := map[string]bool{}
	err := New(nil, nil, false).Router().Walk(func(route *mux.Route, _ *mux.Router, _ []*mux.Route) error {
		tpl, err := route.GetPathTemplate()
		if err != nil {
			return err
		}
		methods, err := route.GetMethods()
		if err != nil {
			return err
		}
		for _, m := range methods {
			if m == http.MethodHead {
				continue
			}
			inRouter[m+" "+strings.TrimPrefix(tpl, Prefix)] = true
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	var missing, extra []string
	for k := range inRouter {
		if !inDoc[k] {
			missing = append(missing, k)
		}
	}
	for k := range inDoc {
		if !inRouter[k] {
			extra = append(extra, k)
		}
	}
	slices.Sort(missing)
	slices.Sort(extra)
	if len(missing) > 0 || len(extra) > 0 || len(inRouter) < 9 {
		t.Errorf("routes not in openapi.json: %v; in openapi.json but not routed: %v (%d routes)", missing, extra, len(inRouter))
	}
}
