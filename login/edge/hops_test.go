package edge

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// hopsSite is a provider in miniature: /authorize sends to the sign-in page,
// the sign-in page answers from the session cookie (or shows a form), the
// callback sends to the e-service. It records what each hop received.
type hopsSite struct {
	seen []string // method path cookies, per request the handler got
}

func (s *hopsSite) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var cookies []string
	for _, c := range r.Cookies() {
		cookies = append(cookies, c.Name+"="+c.Value)
	}
	body, _ := io.ReadAll(r.Body)
	s.seen = append(s.seen, r.Method+" "+r.URL.Path+" ["+strings.Join(cookies, ",")+"] "+r.Header.Get("Origin")+string(body))
	switch r.URL.Path {
	case "/idp/authorize":
		http.SetCookie(w, &http.Cookie{Name: "lang", Value: "pt", Path: "/"})
		http.Redirect(w, r, "http://op.test/idp/login?authRequestID=A1", http.StatusFound)
	case "/idp/login":
		if r.Method == http.MethodPost {
			http.SetCookie(w, &http.Cookie{Name: "sess", Value: "new", Path: "/"})
			http.SetCookie(w, &http.Cookie{Name: "csrf", Path: "/", MaxAge: -1})
			http.Redirect(w, r, "/idp/authorize/callback?id=A1", http.StatusFound)
			return
		}
		if c, err := r.Cookie("sess"); err == nil && c.Value == "live" {
			http.Redirect(w, r, "http://op.test/idp/authorize/callback?id="+r.URL.Query().Get("authRequestID"), http.StatusFound)
			return
		}
		w.Header().Set("Content-Type", "text/html")
		_, _ = io.WriteString(w, "<form>the sign-in form</form>")
	case "/idp/authorize/callback":
		if r.URL.Query().Get("id") != "A1" {
			w.WriteHeader(http.StatusBadRequest)
			_, _ = io.WriteString(w, "unknown request")
			return
		}
		http.Redirect(w, r, "https://rp.test/cb?code=C&state=S", http.StatusFound)
	case "/idp/elsewhere":
		http.Redirect(w, r, "http://evil.test/idp/authorize/callback?id=A1", http.StatusFound)
	default:
		http.NotFound(w, r)
	}
}

func hops() Hops {
	return Hops{Origin: "http://op.test", Callback: "/idp/authorize/callback", Login: "/idp/login", SessionCookie: "sess"}
}

func TestHopsSignInEndsAtTheClient(t *testing.T) {
	site := &hopsSite{}
	req := httptest.NewRequest(http.MethodPost, "http://op.test/idp/login", strings.NewReader("password=x"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", "http://op.test")
	req.AddCookie(&http.Cookie{Name: "csrf", Value: "t"})
	rec := httptest.NewRecorder()
	hops().Follow(site).ServeHTTP(rec, req)

	if rec.Code != http.StatusFound || rec.Header().Get("Location") != "https://rp.test/cb?code=C&state=S" {
		t.Fatalf("answer %d to %q; want 302 to the client", rec.Code, rec.Header().Get("Location"))
	}
	// The session cookie the sign-in set reaches the browser with the last answer.
	got := strings.Join(rec.Header().Values("Set-Cookie"), " | ")
	if !strings.Contains(got, "sess=new") || !strings.Contains(got, "csrf=;") {
		t.Errorf("Set-Cookie of the final answer = %q; want the sign-in's cookies", got)
	}
	// The callback got a bodiless GET, without Origin, with the cookies as updated.
	if len(site.seen) != 2 || site.seen[1] != "GET /idp/authorize/callback [sess=new] " {
		t.Errorf("requests the site saw: %q", site.seen)
	}
}

func TestHopsSSOAnswersFromAuthorize(t *testing.T) {
	site := &hopsSite{}
	req := httptest.NewRequest(http.MethodGet, "http://op.test/idp/authorize?client_id=x", nil)
	req.AddCookie(&http.Cookie{Name: "sess", Value: "live"})
	rec := httptest.NewRecorder()
	hops().Follow(site).ServeHTTP(rec, req)
	if rec.Code != http.StatusFound || rec.Header().Get("Location") != "https://rp.test/cb?code=C&state=S" {
		t.Fatalf("answer %d to %q; want 302 to the client", rec.Code, rec.Header().Get("Location"))
	}
	if !strings.Contains(strings.Join(rec.Header().Values("Set-Cookie"), " "), "lang=pt") {
		t.Errorf("the first answer's cookie was lost: %q", rec.Header().Values("Set-Cookie"))
	}
	if len(site.seen) != 3 {
		t.Errorf("requests the site saw: %q", site.seen)
	}
}

func TestHopsFormIsShownAtItsOwnAddress(t *testing.T) {
	for name, cookie := range map[string]string{"no session cookie": "", "a session that cannot answer": "stale"} {
		t.Run(name, func(t *testing.T) {
			site := &hopsSite{}
			req := httptest.NewRequest(http.MethodGet, "http://op.test/idp/authorize?client_id=x", nil)
			if cookie != "" {
				req.AddCookie(&http.Cookie{Name: "sess", Value: cookie})
			}
			rec := httptest.NewRecorder()
			hops().Follow(site).ServeHTTP(rec, req)
			if rec.Code != http.StatusFound || rec.Header().Get("Location") != "http://op.test/idp/login?authRequestID=A1" {
				t.Fatalf("answer %d to %q; want the redirect to the sign-in page", rec.Code, rec.Header().Get("Location"))
			}
			if !strings.Contains(strings.Join(rec.Header().Values("Set-Cookie"), " "), "lang=pt") {
				t.Errorf("the redirect's own cookie was lost: %q", rec.Header().Values("Set-Cookie"))
			}
			if strings.Contains(rec.Body.String(), "form") {
				t.Errorf("the form leaked into the redirect's body")
			}
		})
	}
}

func TestHopsNeverLeaveTheOrigin(t *testing.T) {
	site := &hopsSite{}
	rec := httptest.NewRecorder()
	hops().Follow(site).ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "http://op.test/idp/elsewhere", nil))
	if rec.Code != http.StatusFound || !strings.HasPrefix(rec.Header().Get("Location"), "http://evil.test/") || len(site.seen) != 1 {
		t.Fatalf("answer %d to %q after %d requests; want the foreign redirect untouched", rec.Code, rec.Header().Get("Location"), len(site.seen))
	}
}

func TestHopsErrorOfTheCallbackIsShown(t *testing.T) {
	site := &hopsSite{}
	h := hops()
	next := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/idp/login" {
			http.Redirect(w, r, "/idp/authorize/callback?id=gone", http.StatusFound)
			return
		}
		site.ServeHTTP(w, r)
	})
	rec := httptest.NewRecorder()
	h.Follow(next).ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "http://op.test/idp/login", nil))
	if rec.Code != http.StatusBadRequest || rec.Body.String() != "unknown request" {
		t.Fatalf("answer %d %q; want the callback's own 400", rec.Code, rec.Body.String())
	}
}

func TestHopsLeaveOtherMethodsAlone(t *testing.T) {
	next := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/idp/authorize/callback?id=A1", http.StatusFound)
	})
	for _, method := range []string{http.MethodHead, http.MethodPut} {
		rec := httptest.NewRecorder()
		hops().Follow(next).ServeHTTP(rec, httptest.NewRequest(method, "http://op.test/idp/x", nil))
		if rec.Code != http.StatusFound || rec.Header().Get("Location") != "/idp/authorize/callback?id=A1" {
			t.Errorf("%s answer %d to %q; want untouched", method, rec.Code, rec.Header().Get("Location"))
		}
	}
}

// A handler that keeps redirecting to the callback does not make the
// request loop: after maxHops the browser takes over.
func TestHopsAreBounded(t *testing.T) {
	calls := 0
	next := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls++
		http.Redirect(w, r, "/idp/authorize/callback?id=A1", http.StatusFound)
	})
	rec := httptest.NewRecorder()
	hops().Follow(next).ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "http://op.test/idp/login", nil))
	if calls != 1+maxHops || rec.Code != http.StatusFound {
		t.Fatalf("%d calls, answer %d; want %d calls and a redirect", calls, rec.Code, 1+maxHops)
	}
}
