package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/text/width"
)

// The department API reads what its document says, exactly as it says it,
// and nothing else. Each case is a request a fuzzer fed from openapi.json
// got through before; each must be 400 invalid_request naming the member,
// and must change nothing.

// apiSetup is a provider with the DEMO department's read-write token.
func apiSetup(t *testing.T, env map[string]string) (*testIDP, string) {
	t.Helper()
	idp := startIDP(t, env)
	m := machineClient(t, idp, "DEMO", "department.read", "department.write")
	return idp, machineToken(t, idp, m, "")
}

// apiDemoService is e-service demo as GET /services lists it.
func apiDemoService(t *testing.T, idp *testIDP, at string) map[string]any {
	t.Helper()
	list := idp.api(t, at, http.MethodGet, "/services", nil)
	list.want(t, "GET /services", http.StatusOK, "")
	services, _ := list.body["services"].([]any)
	for _, s := range services {
		if sv, _ := s.(map[string]any); sv["code"] == "demo" {
			return sv
		}
	}
	t.Fatalf("no e-service demo in %s", list.raw)
	return nil
}

func groupCodes(sv map[string]any) []string {
	var out []string
	groups, _ := sv["groups"].([]any)
	for _, g := range groups {
		gm, _ := g.(map[string]any)
		c, _ := gm["code"].(string)
		out = append(out, c)
	}
	return out
}

func TestDepartmentAPIStrictJSON(t *testing.T) {
	idp, at := apiSetup(t, nil)
	before := apiDemoService(t, idp, at)
	if before["min_acr"] != nil {
		t.Fatalf("demo starts with min_acr %v", before["min_acr"])
	}
	for _, c := range []struct {
		name, method, path, body, field string
	}{
		{"upper-case min_acr", http.MethodPatch, "/services/demo", `{"MIN_ACR":"urn:entity-account:acr:tool"}`, "MIN_ACR"},
		{"Min_Acr", http.MethodPatch, "/services/demo", `{"Min_Acr":"urn:entity-account:acr:tool"}`, "Min_Acr"},
		{"min_acr twice, the last a level", http.MethodPatch, "/services/demo", `{"min_acr":null,"min_acr":"urn:entity-account:acr:tool"}`, "min_acr"},
		{"min_acr a number", http.MethodPatch, "/services/demo", `{"min_acr":2}`, "min_acr"},
		{"upper-case group members", http.MethodPost, "/services/demo/groups", `{"CODE":"casefold","Name_ZH":"大小寫"}`, "CODE"},
		{"code twice", http.MethodPost, "/services/demo/groups", `{"code":"first","name_zh":"甲","code":"second"}`, "code"},
		{"name_zh twice", http.MethodPost, "/services/demo/groups", `{"code":"twice","name_zh":"甲","name_zh":"乙"}`, "name_zh"},
		{"null name_zh", http.MethodPost, "/services/demo/groups", `{"code":"nullname","name_zh":null}`, "name_zh"},
		{"null code", http.MethodPost, "/services/demo/groups", `{"code":null,"name_zh":"空"}`, "code"},
		{"null name_pt", http.MethodPost, "/services/demo/groups", `{"code":"nullpt","name_zh":"空","name_pt":null}`, "name_pt"},
		{"invalid UTF-8 in name_zh", http.MethodPost, "/services/demo/groups", "{\"code\":\"badutf8\",\"name_zh\":\"稽\xff核\"}", "name_zh"},
		{"a lone surrogate in name_en", http.MethodPost, "/services/demo/groups", `{"code":"surrogate","name_zh":"甲","name_en":"\ud800"}`, "name_en"},
		{"null in a rename", http.MethodPatch, "/services/demo/groups/admin", `{"name_pt":null}`, "name_pt"},
		{"upper-case rename", http.MethodPatch, "/services/demo/groups/admin", `{"NAME_ZH":"改名"}`, "NAME_ZH"},
		{"rename twice", http.MethodPatch, "/services/demo/groups/admin", `{"name_en":"A","name_en":"B"}`, "name_en"},
		{"a JSON null body", http.MethodPost, "/services/demo/groups", `null`, ""},
		{"an array body", http.MethodPost, "/services/demo/groups", `[{"code":"arr","name_zh":"陣"}]`, ""},
		{"two objects", http.MethodPost, "/services/demo/groups", `{"code":"two","name_zh":"二"} {}`, ""},
	} {
		a := idp.api(t, at, c.method, c.path, c.body)
		a.want(t, c.name, http.StatusBadRequest, "invalid_request")
		if a.body["field"] != nil && a.body["field"] != c.field || a.body["field"] == nil && c.field != "" {
			t.Errorf("%s: field %v, want %q (%s)", c.name, a.body["field"], c.field, a.raw)
		}
	}
	after := apiDemoService(t, idp, at)
	if after["min_acr"] != nil || !slices.Equal(groupCodes(after), groupCodes(before)) || !equalJSON(t, after, before) {
		t.Errorf("refused requests changed demo:\nbefore %v\nafter  %v", before, after)
	}

	// What the schema does allow still works: null for min_acr, names in
	// any script.
	idp.api(t, at, http.MethodPatch, "/services/demo", `{"min_acr":"urn:entity-account:acr:tool"}`).want(t, "min_acr tool", http.StatusOK, "")
	if a := idp.api(t, at, http.MethodPatch, "/services/demo", `{"min_acr":null}`); a.status != http.StatusOK || a.body["min_acr"] != nil {
		t.Errorf("min_acr null = %d %s", a.status, a.raw)
	}
	idp.api(t, at, http.MethodPost, "/services/demo/groups", `{"code":"ok","name_zh":"稽核員","name_pt":"Auditor"}`).want(t, "a plain group", http.StatusCreated, "")
}

func equalJSON(t *testing.T, a, b any) bool {
	t.Helper()
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	return string(ja) == string(jb)
}

// Names are limited in characters, as the document says: 67 Chinese
// characters (201 bytes) and 200 of them are names; 201 are not.
func TestDepartmentAPINamesInCharacters(t *testing.T) {
	idp, at := apiSetup(t, nil)
	for _, c := range []struct {
		code, name string
		status     int
	}{
		{"c67", strings.Repeat("稽", 67), http.StatusCreated},
		{"c200", strings.Repeat("稽", 200), http.StatusCreated},
		{"e200", strings.Repeat("😀", 200), http.StatusCreated},
		{"c201", strings.Repeat("稽", 201), http.StatusBadRequest},
	} {
		a := idp.api(t, at, http.MethodPost, "/services/demo/groups", map[string]string{"code": c.code, "name_zh": c.name, "name_en": c.name})
		if a.status != c.status {
			t.Errorf("group %s with a name of %d characters (%d bytes) = %d %s, want %d", c.code, len([]rune(c.name)), len(c.name), a.status, a.raw, c.status)
		}
		if c.status == http.StatusCreated {
			if names, _ := a.body["names"].(map[string]any); names["zh"] != c.name {
				t.Errorf("group %s stored as %v", c.code, names["zh"])
			}
		} else if a.body["field"] != "name_zh" {
			t.Errorf("group %s: field %v", c.code, a.body["field"])
		}
	}
	idp.api(t, at, http.MethodPatch, "/services/demo/groups/c67", map[string]string{"name_pt": strings.Repeat("ç", 200)}).
		want(t, "rename to 200 characters (400 bytes)", http.StatusOK, "")
	idp.api(t, at, http.MethodPatch, "/services/demo/groups/c67", map[string]string{"name_pt": strings.Repeat("ç", 201)}).
		want(t, "rename to 201 characters", http.StatusBadRequest, "invalid_request")
}

// An entity number is read in any form a person writes it and answered in
// its canonical form; what is not one is 400 naming entity_number.
func TestDepartmentAPIEntityNumberCanonical(t *testing.T) {
	idp, at := apiSetup(t, nil)
	en := idp.demo.EntityNumber // canonical, e.g. 02-000021
	bare := strings.ReplaceAll(en, "-", "")
	fullWidth := width.Widen.String(en)
	idp.api(t, at, http.MethodDelete, "/services/demo/entities/"+bare, nil).want(t, "close", http.StatusOK, "")
	for _, c := range []struct {
		method, number string
		status         int
	}{
		{http.MethodPut, bare, http.StatusCreated},
		{http.MethodPut, fullWidth, http.StatusOK},
		{http.MethodDelete, fullWidth, http.StatusOK},
		{http.MethodPut, " " + en[:2] + " " + en[3:], http.StatusCreated},
	} {
		a := idp.api(t, at, c.method, "/services/demo/entities/"+escapePath(c.number), nil)
		a.want(t, c.method+" "+c.number, c.status, "")
		if a.body["entity_number"] != en {
			t.Errorf("%s %q answered entity_number %v, want %s", c.method, c.number, a.body["entity_number"], en)
		}
	}
	idp.api(t, at, http.MethodGet, "/services/demo/entities/"+escapePath(fullWidth)+"/assignments", nil).want(t, "assignments by a full-width number", http.StatusOK, "")
	for _, bad := range []string{"0200002", "020000211", "02-00002x", "٠٢-٠٠٠٠٢١", "02_000021", strings.Repeat("0", 70)} {
		for _, method := range []string{http.MethodPut, http.MethodDelete} {
			a := idp.api(t, at, method, "/services/demo/entities/"+escapePath(bad), nil)
			a.want(t, method+" "+bad, http.StatusBadRequest, "invalid_request")
			if a.body["field"] != "entity_number" {
				t.Errorf("%s %q: field %v", method, bad, a.body["field"])
			}
		}
		a := idp.api(t, at, http.MethodGet, "/services/demo/entities/"+escapePath(bad)+"/assignments", nil)
		a.want(t, "assignments of "+bad, http.StatusBadRequest, "invalid_request")
	}
}

// escapePath percent-encodes one path segment.
func escapePath(s string) string { return url.PathEscape(s) }

// noRedirects is a client that shows a redirect rather than following it.
var noRedirects = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

// rawAPI sends method to the raw path (as typed: encoded slashes and dot
// segments kept) under the issuer, with token, and does not follow redirects.
func rawAPI(t *testing.T, idp *testIDP, token, method, rawPath string) apiAnswer {
	t.Helper()
	req, err := http.NewRequest(method, idp.issuer+rawPath, nil)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := noRedirects.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	a := apiAnswer{status: resp.StatusCode, header: resp.Header, raw: string(raw)}
	_ = json.Unmarshal(raw, &a.body)
	return a
}

// A path is never cleaned or redirected: DELETE of a group named
// ..%2F..%2Fentities%2F<number> used to be a 301 to closing the e-service
// to the entity, which a client following redirects then did. Encoded
// slashes, dot segments and empty segments are 400 in JSON, under an issuer
// with a path too; the site's pages keep their cleaning redirects.
func TestDepartmentAPIPathsAreNeverCleaned(t *testing.T) {
	for _, issuerPath := range []string{"", "/oidc"} {
		t.Run("issuer path "+issuerPath, func(t *testing.T) {
			idp, at := apiSetup(t, map[string]string{"ISSUER_PATH": issuerPath})
			en := idp.demo.EntityNumber
			api := "/api/v1"
			for _, p := range []string{
				api + "/services/demo/groups/..%2F..%2Fentities%2F" + en,
				api + "/services/demo/groups/..%2f..%2fentities%2f" + en,
				api + "/services/demo/groups/admin/../../entities/" + en,
				api + "/services/demo/groups/%2E%2E/%2e%2e/entities/" + en,
				api + "/services/demo/./entities/" + en,
				api + "/services/demo/entities%2F" + en,
				api + "/services/demo//entities/" + en,
				api + "/services/demo/entities/" + en + "/",
				api + "/services/demo/groups/%00",
				"/x/.." + api + "/services/demo/entities/" + en,
				api + "/../" + strings.TrimPrefix(api, "/") + "/services/demo/entities/" + en,
			} {
				for _, method := range []string{http.MethodDelete, http.MethodGet, http.MethodPut} {
					a := rawAPI(t, idp, at, method, p)
					if a.status != http.StatusBadRequest || a.body["error"] != "invalid_request" || a.header.Get("Location") != "" ||
						!strings.HasPrefix(a.header.Get("Content-Type"), "application/json") {
						t.Errorf("%s %s = %d Location %q %s, want 400 invalid_request in JSON", method, p, a.status, a.header.Get("Location"), a.raw)
					}
				}
			}
			// Nothing was closed, deleted or opened anew.
			sv := apiDemoService(t, idp, at)
			if !slices.Contains(groupCodes(sv), "admin") {
				t.Errorf("group admin gone: %v", groupCodes(sv))
			}
			if a := idp.api(t, at, http.MethodGet, "/services/demo/entities/"+en+"/assignments", nil); a.status != http.StatusOK || !strings.Contains(a.raw, `"euid"`) {
				t.Errorf("demo no longer open to %s: %d %s", en, a.status, a.raw)
			}
			// The API's answers carry the site's security headers.
			if a := idp.api(t, at, http.MethodGet, "/services", nil); a.header.Get("X-Content-Type-Options") != "nosniff" {
				t.Errorf("API answer without security headers: %v", a.header)
			}
			// The rest of the site is cleaned as before (a redirect to the clean path).
			if a := rawAPI(t, idp, "", http.MethodGet, "/login/../healthz"); a.status != http.StatusMovedPermanently {
				t.Errorf("GET /login/../healthz = %d, want the site's 301", a.status)
			}
			if a := rawAPI(t, idp, "", http.MethodGet, "/.well-known/openid-configuration"); a.status != http.StatusOK {
				t.Errorf("discovery = %d", a.status)
			}
		})
	}
}

// apiDocument is the OpenAPI document as the provider serves it.
type apiDocument struct {
	Servers    []struct{ URL string }
	Paths      map[string]map[string]json.RawMessage
	Components struct {
		SecuritySchemes struct {
			Bearer struct {
				Flows struct {
					ClientCredentials struct {
						TokenURL string `json:"tokenUrl"`
					} `json:"clientCredentials"`
				}
			}
		} `json:"securitySchemes"`
	}
}

type apiOperation struct {
	OperationID string `json:"operationId"`
	RequestBody *struct {
		Content map[string]json.RawMessage
	} `json:"requestBody"`
	Parameters []struct{ Name, In string }
	Security   *[]map[string][]string
	Responses  map[string]json.RawMessage
}

func servedDocument(t *testing.T, idp *testIDP) apiDocument {
	t.Helper()
	a := rawAPI(t, idp, "", http.MethodGet, "/api/v1/openapi.json")
	var doc apiDocument
	if a.status != http.StatusOK || json.Unmarshal([]byte(a.raw), &doc) != nil {
		t.Fatalf("openapi.json = %d %.200s", a.status, a.raw)
	}
	return doc
}

// The served document names this provider: its server URL is the issuer's
// API, and its token URL is the token endpoint discovery names, absolute
// (relative, it would resolve against {issuer}/api/v1); under an issuer
// with a path too.
func TestDepartmentAPIDocumentNamesTheIssuer(t *testing.T) {
	for _, issuerPath := range []string{"", "/oidc"} {
		idp := startIDP(t, map[string]string{"ISSUER_PATH": issuerPath})
		doc := servedDocument(t, idp)
		resp, err := http.Get(idp.issuer + "/.well-known/openid-configuration")
		if err != nil {
			t.Fatal(err)
		}
		var disc struct {
			TokenEndpoint string `json:"token_endpoint"`
		}
		_ = json.NewDecoder(resp.Body).Decode(&disc)
		resp.Body.Close()
		tokenURL := doc.Components.SecuritySchemes.Bearer.Flows.ClientCredentials.TokenURL
		if disc.TokenEndpoint == "" || tokenURL != disc.TokenEndpoint {
			t.Errorf("issuer %s: the document's tokenUrl %q, discovery's token_endpoint %q", idp.issuer, tokenURL, disc.TokenEndpoint)
		}
		if len(doc.Servers) != 1 || doc.Servers[0].URL != idp.issuer+"/api/v1" {
			t.Errorf("issuer %s: servers %+v", idp.issuer, doc.Servers)
		}
	}
}

// Every operation of the document answers only what the document lists for
// it, and every 4xx (and 2xx) it lists is one it does answer: each
// operation is driven through its happy path and every refusal its
// parameters, body and security allow. 500 and 503 (a fault, a store down)
// are documented but not provoked here. A method a path does not take is
// 405 with Allow naming exactly the documented methods (and HEAD beside
// GET); HEAD answers as GET without a body.
func TestDepartmentAPIAnswersAsDocumented(t *testing.T) {
	idp := startIDP(t, nil)
	m := machineClient(t, idp, "DEMO", "department.read", "department.write")
	rw := machineToken(t, idp, m, "")
	readOnly := machineToken(t, idp, m, "department.read")
	writeOnly := machineToken(t, idp, m, "department.write")
	en := idp.demo.EntityNumber
	doc := servedDocument(t, idp)

	groupSeq := 0
	newGroup := func() string {
		groupSeq++
		code := "probe" + strings.Repeat("x", groupSeq)
		idp.api(t, rw, http.MethodPost, "/services/demo/groups", map[string]string{"code": code, "name_zh": "探"}).want(t, "probe group", http.StatusCreated, "")
		return code
	}
	goodBody := func(op string) string {
		switch op {
		case "updateService":
			return `{"min_acr":null}`
		case "createGroup":
			groupSeq++
			return `{"code":"new` + strings.Repeat("y", groupSeq) + `","name_zh":"新"}`
		case "renameGroup":
			return `{"name_en":"Renamed"}`
		}
		return ""
	}
	send := func(method, path, token, contentType, body string) apiAnswer {
		t.Helper()
		var rd io.Reader
		if body != "" {
			rd = strings.NewReader(body)
		}
		req, err := http.NewRequest(method, idp.issuer+"/api/v1"+path, rd)
		if err != nil {
			t.Fatal(err)
		}
		if contentType != "" {
			req.Header.Set("Content-Type", contentType)
		}
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := noRedirects.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		raw, _ := io.ReadAll(resp.Body)
		return apiAnswer{status: resp.StatusCode, header: resp.Header, raw: string(raw)}
	}

	allMethods := []string{http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete, http.MethodOptions}
	operations := 0
	for tpl, item := range doc.Paths {
		var documentedMethods []string
		for method, raw := range item {
			if method == "parameters" {
				continue
			}
			method = strings.ToUpper(method)
			documentedMethods = append(documentedMethods, method)
			var op apiOperation
			if err := json.Unmarshal(raw, &op); err != nil {
				t.Fatal(err)
			}
			operations++
			write := method != http.MethodGet
			observed := map[string]string{} // status → the request that got it
			// fill makes the path, with values for its parameters (override
			// replaces one).
			fill := func(override map[string]string) string {
				p := tpl
				group := ""
				if strings.Contains(p, "{group}") {
					group = newGroup()
				}
				for name, v := range map[string]string{"code": "demo", "group": group, "entity_number": en} {
					if o, ok := override[name]; ok {
						v = o
					}
					p = strings.ReplaceAll(p, "{"+name+"}", v)
				}
				return p
			}
			try := func(what, method, path, token, contentType, body string) apiAnswer {
				a := send(method, path, token, contentType, body)
				if method != http.MethodHead && !strings.HasPrefix(a.header.Get("Content-Type"), "application/json") && a.status != http.StatusNoContent {
					t.Errorf("%s %s (%s): Content-Type %q", method, path, what, a.header.Get("Content-Type"))
				}
				if _, seen := observed[itoa(a.status)]; !seen {
					observed[itoa(a.status)] = what + ": " + method + " " + path
				}
				return a
			}
			ct, body := "", goodBody(op.OperationID)
			if op.RequestBody != nil {
				ct = "application/json"
			}
			secured := op.Security == nil || len(*op.Security) > 0
			token := rw
			if !secured {
				token = ""
			}
			// The happy path (twice for open: opened now, already open),
			// with demo open to the entity whatever ran before.
			send(http.MethodPut, "/services/demo/entities/"+en, rw, "", "")
			if op.OperationID == "openService" {
				send(http.MethodDelete, fill(nil), rw, "", "")
				try("open a closed e-service", method, fill(nil), token, ct, body)
			}
			try("happy path", method, fill(nil), token, ct, goodBody(op.OperationID))
			if secured {
				try("no token", method, fill(nil), "", ct, goodBody(op.OperationID))
				narrow := readOnly
				if !write {
					narrow = writeOnly
				}
				try("a token without the scope", method, fill(nil), narrow, ct, goodBody(op.OperationID))
			}
			for _, prm := range op.Parameters {
				if prm.Name == "limit" {
					try("a bad limit", method, fill(nil)+"?limit=abc", token, ct, body)
				}
			}
			if strings.Contains(tpl, "{code}") {
				try("an unknown e-service", method, fill(map[string]string{"code": "nope"}), token, ct, goodBody(op.OperationID))
				try("an encoded / in the code", method, fill(map[string]string{"code": "demo%2Fx"}), token, ct, goodBody(op.OperationID))
			}
			if strings.Contains(tpl, "{group}") {
				try("an unknown group", method, fill(map[string]string{"group": "nope"}), token, ct, goodBody(op.OperationID))
				try("a .. group", method, fill(map[string]string{"group": "%2E%2E"}), token, ct, goodBody(op.OperationID))
			}
			if strings.Contains(tpl, "{entity_number}") {
				try("an unknown entity", method, fill(map[string]string{"entity_number": "99-999999"}), token, ct, body)
				try("not an entity number", method, fill(map[string]string{"entity_number": "nope"}), token, ct, body)
			}
			if op.RequestBody != nil {
				try("not JSON", method, fill(nil), token, ct, `{"`)
				try("a form", method, fill(nil), token, "application/x-www-form-urlencoded", "a=b")
				try("a body over 64 KiB", method, fill(nil), token, ct, strings.Repeat(" ", 70<<10)+"{}")
				if op.OperationID == "createGroup" {
					try("a taken code", method, fill(nil), token, ct, `{"code":"admin","name_zh":"重"}`)
				}
			}
			if method == http.MethodGet {
				get, head := send(http.MethodGet, fill(nil), token, "", ""), send(http.MethodHead, fill(nil), token, "", "")
				if head.status != get.status || head.raw != "" || head.header.Get("Content-Type") != get.header.Get("Content-Type") {
					t.Errorf("HEAD %s = %d %q %q; GET = %d %q", tpl, head.status, head.header.Get("Content-Type"), head.raw, get.status, get.header.Get("Content-Type"))
				}
			}
			var undocumented, unseen []string
			for status, what := range observed {
				if op.Responses[status] == nil {
					undocumented = append(undocumented, status+" ("+what+")")
				}
			}
			for status := range op.Responses {
				if _, seen := observed[status]; !seen && status != "500" && status != "503" {
					unseen = append(unseen, status)
				}
			}
			slices.Sort(undocumented)
			slices.Sort(unseen)
			if len(undocumented) > 0 || len(unseen) > 0 {
				t.Errorf("%s (%s %s): answers not in the document: %v; documented but never answered: %v", op.OperationID, method, tpl, undocumented, unseen)
			}
		}
		// The other methods: 405 with Allow naming exactly the documented ones.
		allowed := slices.Clone(documentedMethods)
		if slices.Contains(allowed, http.MethodGet) && !slices.Contains(allowed, http.MethodHead) {
			allowed = append(allowed, http.MethodHead)
		}
		slices.Sort(allowed)
		path := strings.NewReplacer("{code}", "demo", "{group}", "admin", "{entity_number}", en).Replace(tpl)
		for _, method := range allMethods {
			if slices.Contains(allowed, method) {
				continue
			}
			a := send(method, path, rw, "", "")
			got := strings.Split(a.header.Get("Allow"), ", ")
			slices.Sort(got)
			if a.status != http.StatusMethodNotAllowed || !slices.Equal(got, allowed) {
				t.Errorf("%s %s = %d Allow %q, want 405 Allow %v", method, tpl, a.status, a.header.Get("Allow"), allowed)
			}
		}
	}
	if operations < 10 {
		t.Fatalf("only %d operations in the document", operations)
	}
}

func itoa(n int) string { return strconv.Itoa(n) }

// The operator's commands read an entity number as the API does and print
// it canonical.
func TestOperatorServiceCommandsCanonicalEntityNumber(t *testing.T) {
	idp := startIDP(t, nil)
	idp.runsCommands(t)
	en := idp.demo.EntityNumber
	for _, c := range []struct {
		run    func([]string) error
		number string
	}{
		{serviceClose, width.Widen.String(en)},
		{serviceEnroll, strings.ReplaceAll(en, "-", "")},
		{serviceAssignments, " " + en[:2] + " " + en[3:]},
	} {
		out, err := captureStdout(t, func() error { return c.run([]string{"--service", "demo", "--entity", c.number, "--json"}) })
		var got struct {
			EntityNumber string `json:"entity_number"`
		}
		if err != nil || json.Unmarshal([]byte(out), &got) != nil || got.EntityNumber != en {
			t.Errorf("--entity %q: %q, %v; want entity_number %s", c.number, out, err, en)
		}
	}
	if err := serviceEnroll([]string{"--service", "demo", "--entity", "02-00002x"}); err == nil || !strings.Contains(err.Error(), "not an entity number") {
		t.Errorf("enroll to a bad number: %v", err)
	}
}

// The portal's staff form limits names in characters, as its maxlength
// says: a Chinese name of 100 characters (300 bytes) registers a login,
// one of 101 does not.
func TestPortalStaffNamesInCharacters(t *testing.T) {
	w := startActivationIDP(t, nil)
	admin := w.login("admin01")
	b := w.browser()
	b.accountSignedIn(w.demo.EntityNumber, admin.Username, admin.Password)
	form := b.accountPage("/account/staff/new")
	for _, field := range []string{"name_zh", "name_foreign", "id_doc_issue_place"} {
		if !regexp.MustCompile(`<input id="` + field + `"[^>]* maxlength="100"`).MatchString(form.Body) {
			t.Errorf("%s has no maxlength=100: %s", field, submatch(regexp.MustCompile(`(<input id="`+field+`"[^>]*>)`), form.Body))
		}
	}
	long := registration(strings.Repeat("黃", 101), "1357913(5)", "6677 0551")
	long.Set("id_doc_issue_place", strings.Repeat("澳", 100))
	if p := b.staffPOST("/account/staff/new", long); p.StatusCode != http.StatusBadRequest {
		t.Fatalf("a name of 101 characters = %d", p.StatusCode)
	}
	long.Set("name_zh", strings.Repeat("黃", 100))
	p := b.staffPOST("/account/staff/new", long)
	euid := createdEUID(t, p)
	sl, err := w.app.pg.StaffLoginByEUID(context.Background(), euid)
	if err != nil || sl.NameZH != strings.Repeat("黃", 100) {
		t.Errorf("registered %q, %v", sl.NameZH, err)
	}
}
