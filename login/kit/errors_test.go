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
	"time"

	"github.com/entity-account/idp/storage"
)

// kitLogging is a kit with the default catalogues, and the log while the
// test runs.
func kitLogging(t *testing.T) (*Kit, *bytes.Buffer) {
	t.Helper()
	k, err := New(Config{}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	logged := &bytes.Buffer{}
	prev := slog.Default()
	t.Cleanup(func() { slog.SetDefault(prev) })
	slog.SetDefault(slog.New(slog.NewTextHandler(logged, nil)))
	return k, logged
}

// The writer's answer depends on the error's code alone: its status, its
// Retry-After, and whether it is logged at ERROR.
func TestErrorByCode(t *testing.T) {
	k, logged := kitLogging(t)
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

// A form's ordinary refusals (a wrong password, too many tries, a busy
// hasher) go through the one writer too: the status from the code, the
// Retry-After from the error's Wait, logged as a visitor's doing, and the
// form shown again with a limit's message saying the minutes to wait.
func TestFormRefusalsByCode(t *testing.T) {
	k, logged := kitLogging(t)
	en := k.T("en")
	for _, c := range []struct {
		err        error
		status     int
		retryAfter string
		message    string
	}{
		{Fail(storage.EUnauthenticated, "error_busy"), http.StatusUnauthorized, "", en["error_busy"]},
		{FailWait(storage.ETooMany, "error_throttled", 3*time.Minute), http.StatusTooManyRequests, "180", fmt.Sprintf(en["error_throttled"], 4)},
		{FailBusy(), http.StatusServiceUnavailable, "2", en["error_busy"]},
		// A spent one-time code: gone for good, a new one must be sent.
		{Fail(storage.EGone, "error_busy"), http.StatusGone, "", en["error_busy"]},
	} {
		logged.Reset()
		w := httptest.NewRecorder()
		r := httptest.NewRequest("POST", "/x?lang=en", nil)
		var gotStatus int
		var gotMessage string
		k.Error(w, r, SignInErrors, InForm(c.err, func(status int, key string) {
			gotStatus, gotMessage = status, Say(en, key, c.err)
		}))
		if gotStatus != c.status || gotMessage != c.message {
			t.Errorf("%v: form shown with %d %q, want %d %q", c.err, gotStatus, gotMessage, c.status, c.message)
		}
		if got := w.Header().Get("Retry-After"); got != c.retryAfter {
			t.Errorf("%v: Retry-After %q, want %q", c.err, got, c.retryAfter)
		}
		if strings.Contains(logged.String(), "level=ERROR") || w.Body.Len() != 0 {
			t.Errorf("%v: logged at ERROR or a message page written: %s", c.err, logged.String())
		}
	}
	if !strings.Contains(en["error_throttled"], "%d") {
		t.Fatal("error_throttled no longer takes the minutes: the check above proves nothing")
	}
}
