package portal

import (
	"html"
	"net/http/httptest"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/entity-account/idp/login/kit"
	"github.com/entity-account/idp/login/tools"
	"github.com/entity-account/idp/storage"
	"github.com/entity-account/idp/templates"
)

// The identity-tool pages render in every language and in every mode, and
// every text they and their handlers name is in every catalogue.
func TestToolPagesRender(t *testing.T) {
	k, err := kit.New(kit.Config{}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	code, err := kit.NewQRSVG("otpauth://totp/x?secret=JBSWY3DPEHPK3PXP")
	if err != nil {
		t.Fatal(err)
	}
	for _, lang := range templates.Languages {
		c := k.Common(httptest.NewRequest("GET", "/account/tools", nil), lang)
		ch := chrome{Common: c, Current: "tools", Who: "staff01 (02-000021)", LogoutCSRF: "tok", ToolsLink: true}
		rows := []toolRow{{ID: 1, Kind: "k", Name: "n", State: "s", StateCode: storage.ToolActive, Added: "2026-01-02 03:04", LastUsed: "—"}}
		totp := func(mode string, edit func(*totpPage)) totpPage {
			p := totpPage{chrome: ch, CSRF: "tok", Action: "/account/tools/totp", Mode: mode, EntityNumber: "02-000021",
				Reauth: reauthForm{Username: "staff01"}}
			if edit != nil {
				edit(&p)
			}
			return p
		}
		pk := func(edit func(*passkeysPage)) passkeysPage {
			p := passkeysPage{chrome: ch, CSRF: "tok", Action: "/account/tools/passkeys", Rows: rows, Fresh: true,
				Status: tools.ToolStatus{MayAddPasskey: true, SelfConfirms: true, Passkeys: 1}, AddForm: true, OffForm: true, Options: `{"publicKey":{}}`, State: "st"}
			if edit != nil {
				edit(&p)
			}
			return p
		}
		for name, data := range map[string]any{
			"account_tools.html":              toolsPage{chrome: ch, Rows: rows, Passkeys: true, PasskeysOff: true},
			"account_tools.html#none":         toolsPage{chrome: ch},
			"account_tools_totp.html#start":   totp(totpStart, func(p *totpPage) { p.Notice = "n" }),
			"account_tools_totp.html#reauth":  totp(totpReauth, func(p *totpPage) { p.Reauth.Error = "e"; p.Error = "x" }),
			"account_tools_totp.html#enrol":   totp(totpEnrol, func(p *totpPage) { p.QR, p.Secret = &code, "JBSW Y3DP" }),
			"account_tools_totp.html#confirm": totp(totpConfirm, func(p *totpPage) { p.CodeError = "e" }),
			"account_tools_totp.html#pending": totp(totpPending, func(p *totpPage) { p.Done = true }),
			"account_tools_totp.html#active":  totp(totpActive, nil),
			"account_tools_totp.html#approval": totp(totpPending, func(p *totpPage) {
				p.Approval = &approvalShown{QR: code, Code: "ABCD-EFGH-JKMN", Until: "12:34"}
			}),
			"account_tools_totp.html#approval_refused": totp(totpPending, func(p *totpPage) { p.ApprovalError = "e" }),
			"account_tools.html#pending":               toolsPage{chrome: ch, Rows: rows, TOTPPending: true},
			"account_tools_passkeys.html#add":          pk(func(p *passkeysPage) { p.NameError, p.OffError, p.Done = "e", "o", "d" }),
			"account_tools_passkeys.html#off": pk(func(p *passkeysPage) {
				p.Status.PasskeysOff, p.Fresh, p.AddForm, p.OffForm = true, false, false, false
			}),
			"account_tools_passkeys.html#none": pk(func(p *passkeysPage) {
				p.Status.SelfConfirms, p.AddForm, p.OffForm, p.Rows = false, false, false, nil
			}),
			"account_tools_passkeys.html#reauth": pk(func(p *passkeysPage) {
				p.Fresh, p.AddForm, p.OffForm, p.ShowReauth, p.Reauth.Error = false, false, false, true, "e"
			}),
		} {
			w := httptest.NewRecorder()
			page, _, _ := strings.Cut(name, "#")
			k.Render(w, 200, page, data)
			if body := w.Body.String(); w.Code != 200 || !strings.Contains(body, "</html>") {
				t.Fatalf("%s in %s: %d %.300s", name, lang, w.Code, body)
			}
		}
	}

	var keys []string
	for _, file := range []string{"account_tools.html", "account_tools_totp.html", "account_tools_passkeys.html", "account_profile.html"} {
		b, err := os.ReadFile("../../templates/pages/" + file)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range regexp.MustCompile(`\.T\.(\w+)`).FindAllStringSubmatch(string(b), -1) {
			keys = append(keys, m[1])
		}
	}
	for _, file := range []string{"tools.go", "tools_totp.go", "tools_passkeys.go", "tools_reauth.go"} {
		src, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range regexp.MustCompile(`"((?:tools|totp|passkeys)_[a-z0-9_]+)"`).FindAllStringSubmatch(string(src), -1) {
			if !strings.HasSuffix(m[1], "_") {
				keys = append(keys, m[1])
			}
		}
	}
	// Built from codes: the kinds, the states and the answers after a change;
	// and the messages of the use cases the pages show.
	for _, kind := range []storage.ToolKind{storage.ToolTOTP, storage.ToolPasskey} {
		keys = append(keys, "tools_kind_"+string(kind))
	}
	for _, st := range []storage.ToolState{storage.ToolUnconfirmed, storage.ToolPending, storage.ToolActive} {
		keys = append(keys, "tools_state_"+string(st))
	}
	for _, done := range []string{"added", "removed", "off", "reauth"} {
		keys = append(keys, "passkeys_done_"+done)
	}
	keys = append(keys, "tool_error_code", "tool_error_code_format", "tool_error_enrolled", "tool_error_state", "tool_error_throttled",
		"changes_action_tool_enrol", "changes_action_tool_confirm", "changes_action_tool_approve", "changes_action_tool_reset")
	for _, key := range keys {
		for _, lang := range templates.Languages {
			if k.T(lang)[key] == "" {
				t.Errorf("catalogue %s lacks %s", lang, key)
			}
		}
	}
}

// The passkey add form carries what templates/static/passkey.js reads, and
// only the page that has it loads the script.
func TestPasskeyFormContract(t *testing.T) {
	k, err := kit.New(kit.Config{BasePath: "/oidc"}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	c := k.Common(httptest.NewRequest("GET", "/oidc/account/tools/passkeys", nil), "en")
	page := passkeysPage{chrome: chrome{Common: c, Current: "tools", LogoutCSRF: "tok"}, CSRF: "tok", Action: "/oidc/account/tools/passkeys",
		Fresh: true, Status: tools.ToolStatus{MayAddPasskey: true, SelfConfirms: true}, AddForm: true,
		Options: `{"publicKey":{"challenge":"abc","rp":{"name":"<x>"}}}`, State: "st&1"}
	w := httptest.NewRecorder()
	k.Render(w, 200, "account_tools_passkeys.html", page)
	body := w.Body.String()
	form := regexp.MustCompile(`(?s)<form [^>]*data-passkey="create".*?</form>`).FindString(body)
	if form == "" {
		t.Fatalf("no add form: %s", body)
	}
	open := regexp.MustCompile(`<form [^>]*>`).FindString(form)
	if !strings.Contains(open, `method="post"`) || !strings.Contains(open, `data-passkey-error="`+html.EscapeString(c.T["passkeys_error_browser"])+`"`) {
		t.Errorf("add form: %s", open)
	}
	options := regexp.MustCompile(`data-options="([^"]*)"`).FindStringSubmatch(open)
	if options == nil || html.UnescapeString(options[1]) != page.Options {
		t.Errorf("data-options = %v, want the options JSON as given", options)
	}
	for _, want := range []string{
		`<input type="hidden" name="state" value="st&amp;1">`,
		`<input type="hidden" name="credential" value="">`,
		`<input type="hidden" name="csrf_token" value="tok">`,
		`name="name"`,
		`<button type="submit" data-passkey-start>`,
		`<p role="alert" class="error" hidden></p>`,
	} {
		if !strings.Contains(form, want) {
			t.Errorf("the add form lacks %s:\n%s", want, form)
		}
	}
	if !strings.Contains(body, `<script src="/oidc/static/passkey.js" defer></script>`) {
		t.Error("the page with the add form does not load passkey.js")
	}
	page.AddForm, page.Fresh, page.ShowReauth = false, false, true
	w = httptest.NewRecorder()
	k.Render(w, 200, "account_tools_passkeys.html", page)
	if body := w.Body.String(); strings.Contains(body, "<script") || strings.Contains(body, "data-passkey") {
		t.Error("a page without the add form carries a script or the form")
	}
}

func TestGroupsOfFour(t *testing.T) {
	for in, want := range map[string]string{"": "", "ABC": "ABC", "ABCD": "ABCD", "ABCDE": "ABCD E", "JBSWY3DPEHPK3PXP": "JBSW Y3DP EHPK 3PXP"} {
		if got := groupsOfFour(in); got != want {
			t.Errorf("groupsOfFour(%q) = %q, want %q", in, got, want)
		}
	}
}
