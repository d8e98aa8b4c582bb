package telemetry

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/gorilla/mux"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

func TestRequestID(t *testing.T) {
	generated := regexp.MustCompile(`^[A-Z2-7]{26}$`)
	for _, tc := range []struct {
		name   string
		trust  bool
		header string
		keep   bool
	}{
		{"absent", true, "", false},
		{"trusted and valid", true, "lb-7f3a.9_Z", true},
		{"trusted, 64 characters", true, strings.Repeat("a", 64), true},
		{"not trusted", false, "lb-7f3a", false},
		{"newline", true, "abc\nlevel=ERROR msg=forged", false},
		{"200 characters", true, strings.Repeat("a", 200), false},
		{"65 characters", true, strings.Repeat("a", 65), false},
		{"mark-up", true, "<script>", false},
		{"space", true, "a b", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var seen string
			h := RequestID(tc.trust)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				seen = RequestIDFrom(r.Context())
			}))
			req := httptest.NewRequest(http.MethodGet, "/x", nil)
			if tc.header != "" {
				req.Header.Set(RequestIDHeader, tc.header)
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			got := rec.Header().Get(RequestIDHeader)
			if got != seen {
				t.Fatalf("header %q, context %q: want the same id", got, seen)
			}
			if tc.keep && got != tc.header {
				t.Fatalf("id = %q, want the proxy's %q", got, tc.header)
			}
			if !tc.keep && !generated.MatchString(got) {
				t.Fatalf("id = %q, want a generated one", got)
			}
		})
	}
	if NewRequestID() == NewRequestID() {
		t.Fatal("two generated ids are equal")
	}
}

func TestLogHandlerAddsRequestID(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(LogHandler(slog.NewTextHandler(&buf, nil)))
	ctx := WithRequestID(context.Background(), "REQ123")
	log.InfoContext(ctx, "with id")
	log.With("k", "v").WithGroup("g").InfoContext(ctx, "derived", "a", 1)
	log.Info("without context")
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 3 {
		t.Fatalf("lines: %q", lines)
	}
	for _, l := range lines[:2] {
		if !strings.Contains(l, "request_id=REQ123") {
			t.Errorf("line lacks the request id: %s", l)
		}
	}
	if !strings.Contains(lines[1], "k=v") {
		t.Errorf("derived logger lost its attributes: %s", lines[1])
	}
	if strings.Contains(lines[2], "request_id") {
		t.Errorf("a line without a request context has an id: %s", lines[2])
	}
}

// routeSeries returns the route labels of idp_http_request_duration_seconds.
func routeSeries(t *testing.T) map[string]bool {
	t.Helper()
	mfs, err := registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	routes := map[string]bool{}
	for _, mf := range mfs {
		if mf.GetName() != "idp_http_request_duration_seconds" {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, lp := range m.GetLabel() {
				if lp.GetName() == "route" {
					routes[lp.GetValue()] = true
				}
			}
		}
	}
	return routes
}

func TestRouteLabelsAreBounded(t *testing.T) {
	r := mux.NewRouter()
	r.Use(RouteFromMux("/oidc/"))
	sub := r.PathPrefix("/oidc").Subrouter()
	ok := func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNoContent) }
	sub.HandleFunc("/login", ok).Methods(http.MethodGet)
	sub.PathPrefix("/static/").HandlerFunc(ok)
	sub.PathPrefix("/").HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/oidc/oauth/token" {
			http.NotFound(w, r)
		}
	})
	h := HTTPMetrics(r, []string{"/oidc/oauth/token"})
	before := sampleCount(t, other, "GET", "404")
	serve := func(method, path string) {
		h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(method, path, nil))
	}
	serve("GET", "/oidc/login")
	serve("GET", "/oidc/static/style.css")
	serve("POST", "/oidc/oauth/token")
	serve("BREW", "/oidc/login")
	var random []string
	for i := 0; i < 50; i++ {
		p := "/oidc/" + NewRequestID()
		if i%2 == 0 {
			p = "/" + NewRequestID() + "/x"
		}
		random = append(random, p)
		serve("GET", p)
	}
	routes := routeSeries(t)
	for _, want := range []string{"/oidc/login", "/oidc/static/", "/oidc/oauth/token", other} {
		if !routes[want] {
			t.Errorf("no series for route %q (have %v)", want, routes)
		}
	}
	for _, p := range random {
		if routes[p] {
			t.Fatalf("a random path became a route label: %s", p)
		}
	}
	if routes["/oidc/"] {
		t.Error("the catch-all template became a route label")
	}
	if n := sampleCount(t, other, "GET", "404") - before; n < 50 {
		t.Errorf("route other counted %d of the 50 random paths", n)
	}
	if sampleCount(t, other, other, "404") == 0 {
		t.Error("an unknown method was not labelled other")
	}
}

// sampleCount is the number of observations of one latency series.
func sampleCount(t *testing.T, route, method, code string) uint64 {
	t.Helper()
	mfs, err := registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != "idp_http_request_duration_seconds" {
			continue
		}
		for _, m := range mf.GetMetric() {
			labels := map[string]string{}
			for _, lp := range m.GetLabel() {
				labels[lp.GetName()] = lp.GetValue()
			}
			if labels["route"] == route && labels["method"] == method && labels["code"] == code {
				return m.GetHistogram().GetSampleCount()
			}
		}
	}
	return 0
}

func TestTokenGrants(t *testing.T) {
	const path = "/oauth/token"
	var sawForm string
	next := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// As the library does: parse (again) and read the form.
		if err := r.ParseForm(); err != nil {
			t.Errorf("second ParseForm: %v", err)
		}
		sawForm = r.FormValue("code")
		w.Header().Set("Content-Type", "application/json")
		switch r.FormValue("grant_type") {
		case "authorization_code":
			_, _ = io.WriteString(w, `{"access_token":"x"}`)
		case "refresh_token":
			w.WriteHeader(http.StatusBadRequest)
			// A long description: the code must be found in the kept prefix.
			_, _ = io.WriteString(w, `{"error":"invalid_grant","error_description":"`+strings.Repeat("d", 5000)+`"}`)
		default:
			w.WriteHeader(http.StatusBadRequest)
			_, _ = io.WriteString(w, `{"error":"made_up_code"}`)
		}
	})
	h := TokenGrants(next, path)
	post := func(form url.Values) *httptest.ResponseRecorder {
		req := httptest.NewRequest(http.MethodPost, path, strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec
	}
	count := func(grant, outcome string) float64 {
		return testutil.ToFloat64(tokenGrants.WithLabelValues(grant, outcome))
	}

	c0, g0, o0 := count("authorization_code", "success"), count("refresh_token", "invalid_grant"), count(other, other)
	if rec := post(url.Values{"grant_type": {"authorization_code"}, "code": {"abc"}}); rec.Code != 200 || sawForm != "abc" {
		t.Fatalf("success: %d, the handler saw code %q", rec.Code, sawForm)
	}
	if rec := post(url.Values{"grant_type": {"refresh_token"}}); rec.Code != 400 || rec.Body.Len() < 5000 {
		t.Fatalf("error answer altered: %d, %d bytes", rec.Code, rec.Body.Len())
	}
	post(url.Values{"grant_type": {"x-" + NewRequestID()}})
	none0 := count("none", other)
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodOptions, path, nil))
	if d := count("none", other) - none0; d != 0 {
		t.Errorf("a preflight was counted as a grant (%v)", d)
	}
	for _, d := range []struct {
		name      string
		got, want float64
	}{
		{"authorization_code success", count("authorization_code", "success") - c0, 1},
		{"refresh_token invalid_grant", count("refresh_token", "invalid_grant") - g0, 1},
		{"unknown grant, unknown error", count(other, other) - o0, 1},
	} {
		if d.got != d.want {
			t.Errorf("%s: counted %v, want %v", d.name, d.got, d.want)
		}
	}
}

func TestErrorMember(t *testing.T) {
	for body, want := range map[string]string{
		`{"error":"invalid_grant","error_description":"x"}`:      "invalid_grant",
		`{"error_description":"x","error":"invalid_client"}`:     "invalid_client",
		`{"error":"invalid_request","error_description":"cut sh`: "invalid_request",
		`{"error_description":"cut sh`:                           "",
		`not json`:                                               "",
		`{"error":7}`:                                            "",
	} {
		if got := errorMember([]byte(body)); got != want {
			t.Errorf("errorMember(%s) = %q, want %q", body, got, want)
		}
	}
}

func TestHandlerBacklog(t *testing.T) {
	scrape := func(h http.Handler) string {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
		if rec.Code != http.StatusOK {
			t.Fatalf("scrape: %d %s", rec.Code, rec.Body.String())
		}
		return rec.Body.String()
	}
	var deadline bool
	body := scrape(Handler(func(ctx context.Context) (int64, error) {
		_, deadline = ctx.Deadline()
		return 7, nil
	}))
	if !strings.Contains(body, "\nidp_outbox_backlog 7\n") || !deadline {
		t.Fatalf("backlog not served (or asked without a deadline):\n%s", body)
	}
	for _, name := range []string{"idp_signins_total", "go_goroutines", "process_cpu_seconds_total"} {
		if !strings.Contains(body, name) {
			t.Errorf("scrape lacks %s", name)
		}
	}
	body = scrape(Handler(func(context.Context) (int64, error) { return 0, errors.New("database down") }))
	if strings.Contains(body, "idp_outbox_backlog ") || !strings.Contains(body, "idp_signins_total") {
		t.Fatalf("a failed backlog query should drop only the backlog:\n%s", body)
	}
}
