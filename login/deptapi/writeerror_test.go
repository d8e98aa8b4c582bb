package deptapi

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/entity-account/idp/login/kit"
	"github.com/entity-account/idp/storage"
)

// TestWriteErrorAnswersByTheSharedTable: the API's status for each storage
// code is the pages' (kit.StatusOf), with the API's own error names, and an
// internal fault's details never leave.
func TestWriteErrorAnswersByTheSharedTable(t *testing.T) {
	for _, tc := range []struct {
		err                  error
		status               int
		name, message, field string
		retryAfter           bool
	}{
		{storage.Errorf(storage.EInvalid, "Bad name.").WithField("name_pt"), http.StatusBadRequest, "invalid_request", "Bad name.", "name_pt", false},
		{fmt.Errorf("x: %w", storage.ErrNotFound), http.StatusNotFound, "not_found", "Not found.", "", false},
		{storage.ErrAlreadyExists, http.StatusConflict, "conflict", "This cannot be done in the current state.", "", false},
		{storage.ErrForbidden, http.StatusForbidden, "forbidden", "You may not do this.", "", false},
		{storage.ErrUnavailable, http.StatusServiceUnavailable, "unavailable", "The service cannot handle the request right now. Try again shortly.", "", true},
		{errors.New("secret detail"), http.StatusInternalServerError, "internal", "Internal error.", "", false},
		{&storage.Error{Code: "no_such_code", Message: "secret detail"}, http.StatusInternalServerError, "internal", "Internal error.", "", false},
		{&requestError{http.StatusMethodNotAllowed, apiError{Error: "method_not_allowed", Message: "No."}}, http.StatusMethodNotAllowed, "method_not_allowed", "No.", "", false},
	} {
		w := httptest.NewRecorder()
		writeError(w, httptest.NewRequest(http.MethodGet, "/api/v1/services", nil), tc.err)
		var got apiError
		if err := json.Unmarshal(w.Body.Bytes(), &got); err != nil {
			t.Fatalf("%v: body %q: %v", tc.err, w.Body, err)
		}
		if w.Code != tc.status || got != (apiError{Error: tc.name, Message: tc.message, Field: tc.field}) {
			t.Errorf("%v: %d %+v, want %d %s %q %q", tc.err, w.Code, got, tc.status, tc.name, tc.message, tc.field)
		}
		if _, ok := tc.err.(*requestError); !ok && w.Code != kit.StatusOf(storage.CodeOf(tc.err)) {
			t.Errorf("%v: status %d is not the shared table's %d", tc.err, w.Code, kit.StatusOf(storage.CodeOf(tc.err)))
		}
		if (w.Header().Get("Retry-After") != "") != tc.retryAfter || w.Header().Get("Cache-Control") != "no-store" || w.Header().Get("Content-Type") != "application/json" {
			t.Errorf("%v: headers %v", tc.err, w.Header())
		}
	}
}
