package portal

import (
	"net/http/httptest"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/entity-account/idp/login/kit"
	"github.com/entity-account/idp/storage"
	"github.com/entity-account/idp/templates"
)

// The staff pages render in every language, and every text they and their
// handlers name (catalogue keys built from codes included) is in every
// catalogue.
func TestStaffPagesRender(t *testing.T) {
	k, err := kit.New(kit.Config{}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, lang := range templates.Languages {
		c := k.Common(httptest.NewRequest("GET", "/account/staff", nil), lang)
		ch := chrome{Common: c, Current: "staff", Who: "admin01 (02-000021)", LogoutCSRF: "tok"}
		errs := map[string]string{"birth_date": c.T["reg_error_birth_date"], "channel": c.T["staff_error_channel"]}
		reg := storage.StaffRegistration{NameZH: "陳", IDDocType: storage.IDPassport, Language: "pt"}
		for name, data := range map[string]any{
			"account_staff_list.html": staffListPage{chrome: ch, Query: "x", Total: 1, From: 1, To: 1, PrevURL: "/p", NextURL: "/n",
				Rows: []staffListRow{{URL: "/u", EUID: "CU000000100", Code: true, Active: true}}},
			"account_staff.html": staffPage{chrome: ch, CSRF: "tok", EUID: "CU000000100", Notice: "n", Error: "e",
				Buttons: []codeButton{{Channel: "sms", Label: "s", Enabled: true}, {Channel: "email", Label: "e", Reason: "r"}}},
			"account_staff_form.html": staffFormPage{chrome: ch, CSRF: "tok", Editing: true, EUID: "CU000000100",
				Fields: registrationFields(c.T, reg, "sms", errs)},
			"account_staff_status.html": staffStatusPage{chrome: ch, CSRF: "tok", Confirm: "c",
				Options: options(c.T, "staff_status_", []string{"active", "deleted"}, "active")},
		} {
			w := httptest.NewRecorder()
			k.Render(w, 200, name, data)
			if body := w.Body.String(); w.Code != 200 || !strings.Contains(body, "</html>") {
				t.Fatalf("%s in %s: %d %.300s", name, lang, w.Code, body)
			}
		}
	}

	var keys []string
	for _, file := range []string{"account_staff_list.html", "account_staff.html", "account_staff_form.html", "account_staff_status.html"} {
		b, err := os.ReadFile("../../templates/pages/" + file)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range regexp.MustCompile(`\.T\.(\w+)`).FindAllStringSubmatch(string(b), -1) {
			keys = append(keys, m[1])
		}
	}
	for _, file := range []string{"staff.go", "staff_list.go", "staff_detail.go", "staff_form.go", "staff_status.go"} {
		src, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range regexp.MustCompile(`"((?:staff|reg)_[a-z0-9_]+[a-z0-9])"`).FindAllStringSubmatch(string(src), -1) {
			keys = append(keys, m[1])
		}
	}
	for _, ch := range []string{"sms", "email"} {
		keys = append(keys, "staff_channel_"+ch, "staff_code_off_no_"+ch)
	}
	for _, d := range storage.IDDocTypes {
		keys = append(keys, "staff_doc_"+d)
	}
	for _, l := range storage.Languages {
		keys = append(keys, "staff_lang_"+l)
	}
	for _, s := range []storage.AssociationStatus{storage.StatusActive, storage.StatusDeleted} {
		keys = append(keys, "staff_status_"+string(s))
	}
	// The messages the use cases and the registration rules name.
	for _, file := range []string{"../manage/create.go", "../manage/staff.go", "../../storage/registration.go"} {
		src, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range regexp.MustCompile(`"((?:staff|reg)_error_[a-z0-9_]+)"`).FindAllStringSubmatch(string(src), -1) {
			keys = append(keys, m[1])
		}
	}
	for _, key := range keys {
		if strings.HasPrefix(key, "sl_") {
			continue
		}
		for _, lang := range templates.Languages {
			if k.T(lang)[key] == "" {
				t.Errorf("catalogue %s lacks %s", lang, key)
			}
		}
	}
}
