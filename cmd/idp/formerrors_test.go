package main

import (
	"html"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/entity-account/idp/storage"
)

// A form shown again after a refusal carries the refusal on its fields:
// each field it concerns is aria-invalid and names the message in its
// aria-describedby, and one field, where typing resumes, has autofocus.
// Through HTTP on real stores, for every form and the refusals it has;
// TestBrowserA11y checks the same marks in Chromium.

// formMarks are the marks of the fields of a rendered page.
type formMarks struct {
	invalid   []string            // fields marked aria-invalid (id, or name), in the page's order
	described map[string][]string // a field's aria-describedby, as the texts of the elements it names
	autofocus []string            // fields with autofocus
	texts     map[string]string   // the text of each element with an id
}

var (
	fieldTag  = regexp.MustCompile(`<(?:input|select|textarea)\b[^>]*>`)
	attribute = regexp.MustCompile(`([a-z-]+)(?:="([^"]*)")?`)
	byID      = regexp.MustCompile(`(?s)<(p|div|span|dd)\b[^>]*\bid="([^"]+)"[^>]*>(.*?)</(?:p|div|span|dd)>`)
	tagText   = regexp.MustCompile(`<[^>]*>`)
)

// marksOf reads the marks of the fields of body.
func marksOf(body string) formMarks {
	texts := map[string]string{}
	for _, m := range byID.FindAllStringSubmatch(body, -1) {
		texts[m[2]] = strings.TrimSpace(html.UnescapeString(tagText.ReplaceAllString(m[3], "")))
	}
	m := formMarks{described: map[string][]string{}, texts: texts}
	for _, tag := range fieldTag.FindAllString(body, -1) {
		attrs := map[string]string{}
		for _, a := range attribute.FindAllStringSubmatch(tag, -1) {
			if _, seen := attrs[a[1]]; !seen {
				attrs[a[1]] = a[2]
			}
		}
		key := attrs["id"]
		if key == "" {
			key = attrs["name"]
		}
		if _, ok := attrs["autofocus"]; ok {
			m.autofocus = append(m.autofocus, key)
		}
		if attrs["aria-invalid"] != "true" || slices.Contains(m.invalid, key) {
			continue
		}
		m.invalid = append(m.invalid, key)
		for _, id := range strings.Fields(attrs["aria-describedby"]) {
			t, ok := texts[id]
			if !ok {
				t = "<no element #" + id + ">"
			}
			m.described[key] = append(m.described[key], t)
		}
	}
	return m
}

// wantMarks checks the marks of p: the fields invalid marked, each
// described by the message msg (a catalogue key of zh-Hant), the focus
// on focus.
func wantMarks(t *testing.T, what string, p page, invalid []string, msg, focus string) {
	t.Helper()
	m := marksOf(p.Body)
	if !slices.Equal(m.invalid, invalid) {
		t.Errorf("%s: fields marked aria-invalid %q, want %q", what, m.invalid, invalid)
	}
	text := catalogue(t, msg)
	for _, f := range m.invalid {
		if !slices.Contains(m.described[f], text) {
			t.Errorf("%s: %s is described by %q, not the message %q", what, f, m.described[f], text)
		}
	}
	if !slices.Equal(m.autofocus, []string{focus}) {
		t.Errorf("%s: autofocus on %q, want %q", what, m.autofocus, focus)
	}
	if got := m.texts["form_error"]; got != text || !strings.Contains(p.Body, `role="alert" id="form_error"`) {
		t.Errorf("%s: the alert form_error says %q, want %q", what, got, text)
	}
}

// TestFormErrorMarks: every form's refusals, and the fields they mark.
func TestFormErrorMarks(t *testing.T) {
	t.Parallel()
	w := startActivationIDP(t, nil)
	staff := w.login("staff01")
	number := w.demo.EntityNumber
	web := w.client(demoWebClient)
	r := w.rp(web, web.RedirectURIs[0])
	all := []string{"entity_number", "username", "password"}

	t.Run("e-service sign-in", func(t *testing.T) {
		b := w.browser()
		f := b.startLogin(r, newAuthParams(t)).form(t)
		wantMarks(t, "wrong password", b.submit(f, number, staff.Username, "not it"), all, "error_credentials", "password")
		wantMarks(t, "unknown entity", b.submit(f, "09-999999", staff.Username, "not it"), all, "error_credentials", "password")
		wantMarks(t, "no username", b.submit(f, number, "", "not it"), []string{"username"}, "error_missing_fields", "username")
		fresh := marksOf(b.startLogin(r, newAuthParams(t)).Body)
		if len(fresh.invalid) != 0 || !slices.Equal(fresh.autofocus, []string{"entity_number"}) {
			t.Errorf("the fresh form: marked %q, autofocus %q", fresh.invalid, fresh.autofocus)
		}
	})

	t.Run("portal sign-in", func(t *testing.T) {
		b := w.browser()
		wantMarks(t, "wrong password", b.accountSignIn(number, staff.Username, "not it"), all, "error_credentials", "password")
		wantMarks(t, "nothing but the entity number", b.accountSignIn(number, "", ""), []string{"username", "password"}, "error_missing_fields", "username")
	})

	t.Run("password", func(t *testing.T) {
		b := w.browser()
		l := w.login("staff02")
		b.accountSignedIn(number, l.Username, l.Password)
		const next = "Lotus bridge over the bay"
		wantMarks(t, "new passwords differ", b.changePassword(l.Password, next, next+"!"), []string{"new_password2"}, "account_error_mismatch", "new_password2")
		wantMarks(t, "wrong old password", b.changePassword(l.Password+"x", next, next), []string{"old_password"}, "account_error_old_password", "old_password")
		wantMarks(t, "too short", b.changePassword(l.Password, "short", "short"), []string{"new_password"}, "pw_too_short", "new_password")
		wantMarks(t, "same as the old", b.changePassword(l.Password, l.Password, l.Password), []string{"new_password"}, "pw_same_as_old", "new_password")
		wantMarks(t, "only the old one", b.changePassword(l.Password, "", ""), []string{"new_password", "new_password2"}, "account_error_missing", "new_password")
		// The new password's rule stays among what describes it.
		if m := marksOf(b.changePassword(l.Password, "short", "short").Body); !slices.Contains(m.described["new_password"], catalogue(t, "account_password_help")) {
			t.Errorf("too short: new_password is described by %q, without its rule", m.described["new_password"])
		}
	})

	t.Run("activation", func(t *testing.T) {
		spec := standardEntity("03-000701")
		w.newEntity(t, spec)
		code := codeIn(t, w.message(t, spec.AccountMobile, 1))
		b := w.browser()
		wantMarks(t, "step 1, fields missing", b.activateStep1(storage.KindEntityAccount, spec.Number, "", ""),
			[]string{"application_number", "code"}, "activate_error_missing", "application_number")
		wantMarks(t, "step 1, a code of the wrong form", b.activateStep1(storage.KindStaff, spec.Number, spec.Admins[0].IDNumber, "12"),
			[]string{"code"}, "activate_error_code_format", "code")
		wantMarks(t, "step 1, facts that do not match", b.activateStep1(storage.KindEntityAccount, spec.Number, "A2026-999999", code),
			[]string{"application_number", "code", "entity_number"}, "activate_error_mismatch", "application_number")
		step1 := b.activateStep1(storage.KindEntityAccount, spec.Number, spec.ApplicationNumber, code)
		if m := marksOf(step1.Body); len(m.invalid) != 0 || !slices.Equal(m.autofocus, []string{"username"}) {
			t.Errorf("step 2 fresh: marked %q, autofocus %q", m.invalid, m.autofocus)
		}
		const pw = "A harbour of many boats"
		wantMarks(t, "step 2, passwords differ", b.activateStep2(step1, "owner", pw, pw+"!"), []string{"password2"}, "activate_error_password_mismatch", "password2")
		wantMarks(t, "step 2, a username against the rule", b.activateStep2(step1, "-x", pw, pw), []string{"username"}, "activate_error_username_rule", "username")
		wantMarks(t, "step 2, a weak password", b.activateStep2(step1, "owner", "short", "short"), []string{"password"}, "pw_too_short", "password")
		wantMarks(t, "step 2, nothing but the username", b.activateStep2(step1, "owner", "", ""), []string{"password", "password2"}, "activate_error_choose_missing", "password")
	})

	t.Run("resend", func(t *testing.T) {
		b := w.browser()
		wantMarks(t, "a date that cannot be read", b.resend(url.Values{"kind": {"staff"}, "entity_number": {number}, "id_doc_number": {"1000009(9)"}, "birth_date": {"31/31/1990"}}),
			[]string{"birth_date"}, "resend_error_birth_date", "birth_date")
		wantMarks(t, "fields missing", b.resend(url.Values{"kind": {"staff"}, "entity_number": {number}}),
			[]string{"id_doc_number", "birth_date"}, "resend_error_missing", "id_doc_number")
		wantMarks(t, "the entity account's, its application number missing", b.resend(url.Values{"kind": {"entity_account"}, "entity_number": {number}}),
			[]string{"application_number"}, "resend_error_missing", "application_number")
		// The date's format is said next to it, and read from what it describes.
		if m := marksOf(b.resend(url.Values{"kind": {"staff"}, "entity_number": {number}, "id_doc_number": {"1000009(9)"}, "birth_date": {"1990/13/01"}}).Body); !slices.Contains(m.described["birth_date"], catalogue(t, "resend_birth_date_help")) {
			t.Errorf("the birth date is described by %q, without its format", m.described["birth_date"])
		}
	})
}
