package desk

import (
	"fmt"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/entity-account/idp/login/kit"
	"github.com/entity-account/idp/login/tools"
	"github.com/entity-account/idp/storage"
	"github.com/entity-account/idp/templates"
)

// The approval pages render in every language and every state, their
// texts all there, the formatted ones taking their values.
func TestApprovePagesRender(t *testing.T) {
	k, err := kit.New(kit.Config{}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	o := storage.Officer{ID: 1, Login: "chan.tm", DisplayName: "陳", Role: storage.RoleCounter, Status: storage.OfficerActive}
	a := tools.Approval{Token: "DA1.x", EntityNumber: "02-000021", EntityName: "示範", EUID: "CU000000102", Username: "staff02",
		NameZH: "陳大文", NameForeign: "Chan", DocType: storage.IDPassport, DocMasked: "K12*****3", DocNumber: "K12345673",
		DocIssuePlace: "PT", ExpiresAt: time.Date(2026, 3, 4, 5, 6, 0, 0, time.UTC)}
	for _, lang := range templates.Languages {
		tr := k.T(lang)
		ch := Chrome{Common: k.Common(httptest.NewRequest("GET", "/approve", nil), lang), Current: "approve", Officer: o,
			Nav: navLinks(o, "approve", tr), CSRF: "tok"}
		confirm := confirmPage{Chrome: ch, A: a, Name: "陳大文 Chan", DocType: tr["staff_doc_passport"], Until: "13:06",
			DocTypes: docOptions(tr, storage.IDPassport), Tools: toolsForm{EntityNumber: a.EntityNumber, EUID: a.EUID}}
		revealed := confirm
		revealed.Revealed, revealed.DocError, revealed.DocNumber = true, "e", "K1"
		for name, data := range map[string]any{
			"desk_qr_scan.html":             scanPage{Chrome: ch},
			"desk_qr_scan.html#refused":     scanPage{Chrome: ch, Input: "abcd", Error: "e", Tools: toolsForm{Error: "x"}},
			"desk_qr_scan.html#notice":      scanPage{Chrome: ch, Notice: fmt.Sprintf(tr["desk_qr_reset_done"], 2, a.EUID, a.EntityNumber)},
			"desk_qr_confirm.html":          confirm,
			"desk_qr_confirm.html#revealed": revealed,
		} {
			w := httptest.NewRecorder()
			page, _, _ := strings.Cut(name, "#")
			k.Render(w, 200, page, data)
			body := w.Body.String()
			if w.Code != 200 || !strings.Contains(body, "</html>") || strings.Contains(body, "%!") {
				t.Fatalf("%s in %s: %d %.300s", name, lang, w.Code, body)
			}
			if strings.Contains(name, "confirm") && strings.Contains(body, a.DocNumber) != (name == "desk_qr_confirm.html#revealed") {
				t.Errorf("%s in %s: the whole number shown: %v", name, lang, strings.Contains(body, a.DocNumber))
			}
		}
		for _, f := range []struct {
			key  string
			args []any
		}{
			{"desk_qr_reset_done", []any{2, a.EUID, a.EntityNumber}},
			{"desk_qr_passkeys_done", []any{a.EUID, a.EntityNumber}},
			{"desk_qr_done", []any{"陳大文", a.EUID, a.EntityNumber}},
			{"toolsqr_until", []any{"13:06"}},
		} {
			if s := fmt.Sprintf(tr[f.key], f.args...); strings.Contains(s, "%!") || !strings.Contains(s, fmt.Sprint(f.args[len(f.args)-1])) {
				t.Errorf("%s in %s: %q", f.key, lang, s)
			}
		}
	}
}
