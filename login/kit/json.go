package kit

import (
	"encoding/json"
	"net/http"
)

// WriteJSON answers v as JSON with status, never cached: the JSON answers
// of the provider (the department API, the health checks) concern one
// caller at one moment. v is one of our own types, so encoding cannot fail
// but on a broken connection, which nobody is left to tell.
func WriteJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
