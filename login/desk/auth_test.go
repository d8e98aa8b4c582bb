package desk

import "testing"

func TestLocalNext(t *testing.T) {
	for next, want := range map[string]string{
		"":                       "/",
		"/me/history":            "/me/history",
		"/entities?q=1":          "/entities?q=1",
		"//evil.example/x":       "/",
		"https://evil.example/":  "/",
		"/\\evil.example":        "/",
		"evil":                   "/",
		"/ok\r\nSet-Cookie: x=1": "/",
		"javascript:alert(1)":    "/",
	} {
		if got := localNext(next); got != want {
			t.Errorf("localNext(%q) = %q, want %q", next, got, want)
		}
	}
}
