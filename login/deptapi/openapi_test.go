package deptapi

import (
	"encoding/json"
	"math/rand/v2"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/gorilla/mux"

	"github.com/entity-account/idp/storage"
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
	err := New(Config{}, nil, nil).Router().Walk(func(route *mux.Route, _ *mux.Router, _ []*mux.Route) error {
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

// The document's rule for an entity number in a path (its pattern and
// maxLength) is the rule the API applies (storage.NormalizeEntityNumber):
// every string the one accepts, the other does, over an alphabet of digits,
// separators and their look-alikes. An ASCII '/' cannot be in a path
// segment, so the document leaves it out.
func TestOpenAPIEntityNumberRuleIsTheAPIs(t *testing.T) {
	var doc struct {
		Paths map[string]struct {
			Parameters []struct {
				Name   string
				Schema struct {
					Pattern   string
					MaxLength int
				}
			}
		}
	}
	if err := json.Unmarshal(OpenAPI(), &doc); err != nil {
		t.Fatal(err)
	}
	var rules int
	for path, item := range doc.Paths {
		for _, p := range item.Parameters {
			if p.Name != "entity_number" {
				continue
			}
			rules++
			pattern, err := regexp.Compile(p.Schema.Pattern)
			if err != nil || p.Schema.MaxLength != storage.MaxEntityNumberInput {
				t.Fatalf("%s: entity_number pattern %q (%v), maxLength %d", path, p.Schema.Pattern, err, p.Schema.MaxLength)
			}
			var accepted int
			for _, s := range entityNumberSamples() {
				_, api := storage.NormalizeEntityNumber(s)
				documented := pattern.MatchString(s) && utf8.RuneCountInString(s) <= p.Schema.MaxLength
				if api != documented {
					t.Fatalf("%s: %q: the API accepts it %v, the document %v", path, s, api, documented)
				}
				if api {
					accepted++
				}
			}
			if accepted < 1000 {
				t.Fatalf("only %d samples were entity numbers: the test tells nothing", accepted)
			}
		}
	}
	if rules != 2 {
		t.Errorf("%d entity_number parameters in the document, want 2", rules)
	}
}

// entityNumberSamples are strings to try as entity numbers: a few chosen
// ones and 200,000 drawn (always the same) over an alphabet of digits,
// separators and their look-alikes, mostly digits so that eight of them
// come together often, sometimes far too long.
func entityNumberSamples() []string {
	alphabet := []rune("0123456789０１２３４５６７８９-. 　－．／٠١٢〇一aA+_\t\u00a0\u2212\ufe63\u2010")
	rnd := rand.New(rand.NewPCG(1, 2))
	samples := []string{"02-000021", "02000021", "０２-００００２１", "０２－００００２１", " 02 000021 ", "2-000021", "", "02-0000211",
		strings.Repeat(" ", 56) + "02000021", strings.Repeat(" ", 57) + "02000021", strings.Repeat("　", 56) + "02000021"}
	for range 200000 {
		n := rnd.IntN(14)
		if rnd.IntN(50) == 0 {
			n = 50 + rnd.IntN(20)
		}
		b := make([]rune, n)
		for i := range b {
			if rnd.IntN(3) > 0 {
				b[i] = alphabet[rnd.IntN(20)]
			} else {
				b[i] = alphabet[rnd.IntN(len(alphabet))]
			}
		}
		samples = append(samples, string(b))
	}
	return samples
}

// The served document names the provider's own server URL and its absolute
// token URL (a relative tokenUrl would resolve against {issuer}/api/v1);
// the rest is the document as written.
func TestServedDocumentNamesTheIssuer(t *testing.T) {
	a := New(Config{Issuer: "https://id.example.test/oidc", TokenURL: "https://id.example.test/oidc/oauth/token"}, nil, nil)
	var doc struct {
		Servers    []struct{ URL string }
		Paths      map[string]json.RawMessage
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
	if err := json.Unmarshal(a.doc, &doc); err != nil {
		t.Fatal(err)
	}
	if len(doc.Servers) != 1 || doc.Servers[0].URL != "https://id.example.test/oidc/api/v1" ||
		doc.Components.SecuritySchemes.Bearer.Flows.ClientCredentials.TokenURL != "https://id.example.test/oidc/oauth/token" || len(doc.Paths) < 7 {
		t.Errorf("served document: servers %+v, tokenUrl %q, %d paths", doc.Servers, doc.Components.SecuritySchemes.Bearer.Flows.ClientCredentials.TokenURL, len(doc.Paths))
	}
	// As written, the token URL is absolute too (the example issuer's).
	if err := json.Unmarshal(OpenAPI(), &doc); err != nil {
		t.Fatal(err)
	}
	if u := doc.Components.SecuritySchemes.Bearer.Flows.ClientCredentials.TokenURL; !strings.HasPrefix(u, "https://") {
		t.Errorf("openapi.json tokenUrl %q is not absolute", u)
	}
}
