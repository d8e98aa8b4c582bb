package kit

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// Every response runs no script; a page that asks (AllowOwnScripts) may run
// script files of our origin, and still no inline script, and that page only.
func TestScriptPolicy(t *testing.T) {
	h := SecurityHeaders(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/with-script" {
			AllowOwnScripts(w)
		}
		w.WriteHeader(http.StatusOK)
	}))
	csp := func(path string) string {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, path, nil))
		return w.Header().Get("Content-Security-Policy")
	}
	strict := csp("/account")
	if strings.Contains(strict, "script-src") || !strings.Contains(strict, "default-src 'none'") {
		t.Errorf("a page's CSP = %q, want default-src 'none' and no script source", strict)
	}
	scripted := csp("/with-script")
	if !strings.HasPrefix(scripted, strict+";") || !strings.HasSuffix(scripted, "script-src 'self'") ||
		strings.Contains(scripted, "unsafe-inline") || strings.Contains(scripted, "unsafe-eval") {
		t.Errorf("the CSP of a page that asked for scripts = %q, want the strict policy plus script-src 'self' alone", scripted)
	}
	if again := csp("/account"); again != strict {
		t.Errorf("after a scripted page, the next page's CSP = %q", again)
	}
}
