package deptapi

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// decode reads one JSON object exactly as its Go struct (the schema) says,
// and every refusal names the member at fault.
func TestDecodeStrict(t *testing.T) {
	type body struct {
		Code   string  `json:"code"`
		NamePT *string `json:"name_pt"`
	}
	for _, c := range []struct {
		name, body string
		status     int // 0: accepted
		field      string
	}{
		{"plain", `{"code":"a","name_pt":"b"}`, 0, ""},
		{"whitespace around", " \n{\"code\":\"a\"}\n ", 0, ""},
		{"case-folded name", `{"Code":"a"}`, 400, "Code"},
		{"duplicate name", `{"code":"a","code":"b"}`, 400, "code"},
		{"null string", `{"code":null}`, 400, "code"},
		{"null optional string", `{"name_pt":null}`, 400, "name_pt"},
		{"number for a string", `{"code":7}`, 400, "code"},
		{"invalid UTF-8", "{\"code\":\"a\xc3\"}", 400, "code"},
		{"invalid UTF-8 in a name", "{\"co\xffde\":\"a\"}", 400, ""},
		{"unknown member", `{"code":"a","colour":"red"}`, 400, "colour"},
		{"empty", ``, 400, ""},
		{"null", `null`, 400, ""},
		{"array", `[]`, 400, ""},
		{"two values", `{"code":"a"}{"code":"b"}`, 400, ""},
		{"garbage after", `{"code":"a"} x`, 400, ""},
		{"truncated", `{"code":`, 400, "code"},
		{"too large", `{"code":"` + strings.Repeat("a", MaxBody) + `"}`, 413, ""},
		{"too large after the object", `{"code":"a"}` + strings.Repeat(" ", MaxBody), 413, ""},
	} {
		r := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(c.body))
		r.Header.Set("Content-Type", "application/json")
		var v body
		err := decode(httptest.NewRecorder(), r, &v)
		var re *requestError
		switch {
		case c.status == 0 && err != nil:
			t.Errorf("%s: %v", c.name, err)
		case c.status == 0:
		case !errors.As(err, &re) || re.status != c.status || re.Field != c.field || re.Message == "":
			t.Errorf("%s: %#v, want %d field %q", c.name, err, c.status, c.field)
		}
	}
}
