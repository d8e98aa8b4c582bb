package kit

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/entity-account/idp/storage"
)

// The writer's answer depends on the error's code alone: its status, its
// Retry-After, and whether it is logged at ERROR.
func TestErrorByCode(t *testing.T) {
	k, err := New(Config{}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	var logged bytes.Buffer
	defer slog.SetDefault(slog.Default())
	slog.SetDefault(slog.New(slog.NewTextHandler(&logged, nil)))
	en := k.T("en")
	for _, c := range []struct {
		err     error
		status  int
		atError bool
		message string
	}{
		{fmt.Errorf("update: %w", storage.ErrInvalid), http.StatusBadRequest, false, en["error_request_invalid"]},
		{storage.ErrNotFound, http.StatusNotFound, false, en["error_internal"]},
		{storage.ErrConflict, http.StatusConflict, false, en["error_internal"]},
		{storage.ErrForbidden, http.StatusForbidden, false, en["error_internal"]},
		{fmt.Errorf("read: %w", storage.ErrUnavailable), http.StatusServiceUnavailable, true, en["error_internal"]},
		{errors.New("bug"), http.StatusInternalServerError, true, en["error_internal"]},
		{Fail(storage.EForbidden, "error_csrf"), http.StatusForbidden, false, en["error_csrf"]},
		{storage.Errorf(storage.EInternal, "bug").WithKey("error_csrf"), http.StatusInternalServerError, true, en["error_internal"]},
	} {
		logged.Reset()
		w := httptest.NewRecorder()
		r := httptest.NewRequest("GET", "/x?lang=en", nil)
		k.Error(w, r, SignInErrors, c.err)
		if w.Code != c.status {
			t.Errorf("%v: status %d, want %d", c.err, w.Code, c.status)
		}
		if got := w.Header().Get("Retry-After") != ""; got != (c.status == http.StatusServiceUnavailable) {
			t.Errorf("%v: Retry-After %q", c.err, w.Header().Get("Retry-After"))
		}
		if got := strings.Contains(logged.String(), "level=ERROR"); got != c.atError {
			t.Errorf("%v: logged at ERROR = %v, want %v: %s", c.err, got, c.atError, logged.String())
		}
		if !strings.Contains(w.Body.String(), c.message) {
			t.Errorf("%v: the page lacks %q", c.err, c.message)
		}
	}
}

// A message of the page's own goes into the submitted form; a failure of
// ours never does.
func TestErrorInForm(t *testing.T) {
	k, err := New(Config{}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		err    error
		inForm bool
	}{
		{Fail(storage.EInvalid, "error_missing_fields"), true},
		{storage.Errorf(storage.EConflict, "taken").WithKey("error_missing_fields"), true},
		{storage.Errorf(storage.EConflict, "no such text").WithKey("no_such_key"), false},
		{storage.ErrInvalid, false},
		{storage.ErrUnavailable, false},
	} {
		var gotStatus int
		var gotKey string
		form := func(status int, key string) { gotStatus, gotKey = status, key }
		w := httptest.NewRecorder()
		k.Error(w, httptest.NewRequest("POST", "/x", nil), SignInErrors, InForm(c.err, form))
		if (gotKey != "") != c.inForm {
			t.Errorf("%v: form shown = %v, want %v", c.err, gotKey != "", c.inForm)
		}
		if c.inForm && (gotStatus != statusOf[storage.CodeOf(c.err)] || w.Body.Len() != 0) {
			t.Errorf("%v: form with %d, and a page of %d bytes besides", c.err, gotStatus, w.Body.Len())
		}
	}
}
