package desk

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"

	"github.com/entity-account/idp/login/kit"
	"github.com/entity-account/idp/login/register"
	"github.com/entity-account/idp/storage"
	"github.com/entity-account/idp/templates"
)

// What the pages of the register (departments, e-services, clients) and of
// the audit trail share: what they read, how a refused form is shown again.

// Registry is what those pages read of the durable store (storage/postgres):
// what the idp commands list and show. Writing is the use cases' job.
type Registry interface {
	Departments(ctx context.Context) ([]storage.Department, error)
	DepartmentByCode(ctx context.Context, code string) (storage.Department, error)
	RegisteredServices(ctx context.Context) ([]storage.RegisteredService, error)
	ServiceByCode(ctx context.Context, code string) (storage.Service, error)
	Groups(ctx context.Context, serviceID int64) ([]storage.Group, error)
	ServiceEntities(ctx context.Context, serviceID int64) ([]storage.EnrolledEntity, error)
	Clients(ctx context.Context) ([]storage.Client, error)
	ClientForOperator(ctx context.Context, id string) (storage.Client, error)
	EntityByNumber(ctx context.Context, number string) (storage.Entity, error)
	SearchAuditEvents(ctx context.Context, q storage.AuditQuery) ([]storage.AuditEvent, error)
	AuditEvent(ctx context.Context, id int64) (storage.AuditEvent, error)
}

// regForm is a form of these pages as shown: which form a refusal
// concerns (a page may have several), the refusal in a sentence, and the
// values submitted, kept.
type regForm struct {
	Name   string
	Error  string
	Field  string // the field the refusal concerns, "" for none
	Values map[string]string
}

// V is the value of field name as submitted.
func (f regForm) V(name string) string { return f.Values[name] }

// On reports whether the refusal concerns the form name.
func (f regForm) On(name string) bool { return f.Name == name && f.Error != "" }

// Bad reports whether the refusal concerns field name of the form form.
func (f regForm) Bad(form, name string) bool { return f.On(form) && f.Field == name }

// submitted is the form the request posted: the values of names, trimmed.
func (d *Desk) submitted(r *http.Request, form string, names ...string) regForm {
	f := regForm{Name: form, Values: map[string]string{}}
	for _, n := range names {
		f.Values[n] = strings.TrimSpace(r.PostFormValue(n))
	}
	return f
}

// refusedIn is the answer to a refused form: when the refusal is the
// officer's to mend (not a failure of ours), the page again by render with
// the refusal in a sentence (the catalogue key refusalKey chooses, else
// fallback) and the field it concerns; else the error as it is.
func (d *Desk) refusedIn(err error, fallback string, render func(status int, key, field string)) error {
	code := storage.CodeOf(err)
	if code == storage.EInternal || code == storage.EUnavailable {
		return err
	}
	key, field := refusalKey(err, fallback)
	if d.T()[key] == "" {
		key = fallback
	}
	if d.T()[key] == "" {
		key = "desk_dept_err_invalid"
	}
	return kit.InForm(&storage.Error{Code: code, Key: key, Message: "refused: " + key, Err: err},
		func(status int, key string) { render(status, key, field) })
}

// refusalKey is the catalogue key of a refusal's sentence, and the field
// it concerns.
func refusalKey(err error, fallback string) (string, string) {
	var e *storage.Error
	field := ""
	if errors.As(err, &e) {
		field = e.Field
	}
	switch {
	case errors.Is(err, storage.ErrAlreadyExists) || storage.CodeOf(err) == storage.EConflict:
		return "desk_dept_err_taken", field
	case errors.Is(err, register.ErrNoDepartment):
		return "desk_dept_err_no_department", "department"
	case errors.Is(err, register.ErrNoService):
		return "desk_dept_err_no_service", field
	case field != "" && (storage.CodeOf(err) == storage.EInvalid || storage.CodeOf(err) == storage.ENotFound):
		return "desk_dept_err_field_" + field, field
	case storage.CodeOf(err) == storage.ENotFound:
		return "desk_dept_err_not_found", field
	case storage.CodeOf(err) == storage.EForbidden:
		return "desk_err_supervisor_only", ""
	}
	return fallback, field
}

// shown answers the failure of a page drawn again after a refusal (the
// e-service went meanwhile, a store failed) by the one error writer: the
// refusal's page writes nothing then.
func (d *Desk) shown(err error) {
	if err != nil {
		d.c.k.Error(d.w, d.r, d.c.look(), err)
	}
}

// formAt renders the refused form of a page: f with the refusal's
// sentence in the officer's language.
func (d *Desk) formAt(f regForm, key, field string) regForm {
	f.Error, f.Field = d.T()[key], field
	if f.Error == "" {
		f.Error = d.T()["desk_dept_err_invalid"]
	}
	return f
}

// noStore marks an answer no cache may keep: a secret is shown once.
func noStore(w http.ResponseWriter) {
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Pragma", "no-cache")
}

// seeOther sends the browser on after a change (POST, then GET), in the
// language of the page the form was on.
func seeOther(w http.ResponseWriter, r *http.Request, to string) error {
	if lang := r.PostFormValue("lang"); slices.Contains(templates.Languages, lang) {
		sep := "?"
		if strings.Contains(to, "?") {
			sep = "&"
		}
		to += sep + "lang=" + url.QueryEscape(lang)
	}
	http.Redirect(w, r, to, http.StatusSeeOther)
	return nil
}

// doneKey is the catalogue key of the status a page shows after a change
// (?done=WHAT), "" for none or one it does not know.
func doneKey(r *http.Request, known ...string) string {
	done := r.URL.Query().Get("done")
	for _, k := range known {
		if done == k {
			return "desk_dept_done_" + k
		}
	}
	return ""
}

// departmentCode is the departments.code CHECK of the schema.
var departmentCode = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_-]{0,31}$`)

// notFoundHere is the desk's page for an address naming nothing (a
// department, an e-service, a client, an event that is not there); any
// other failure goes on as it is.
func notFoundHere(err error) error {
	if storage.CodeOf(err) == storage.ENotFound {
		return kit.Fail(storage.ENotFound, "desk_error_not_found")
	}
	return err
}

// fieldOf is the form field a refusal names, "" for none.
func fieldOf(err error) string {
	var e *storage.Error
	if errors.As(err, &e) {
		return e.Field
	}
	return ""
}

// withField is err naming the form field field instead.
func withField(err error, field string) error {
	return &storage.Error{Code: storage.CodeOf(err), Field: field, Message: err.Error(), Err: err}
}

// chromeAt is the chrome of the page current whose address is path: a
// form refused is shown again at its POST's address, and its language
// links must lead to the page's GET.
func (d *Desk) chromeAt(current, path string) Chrome {
	ch := d.Chrome(current)
	ch.Common = d.c.k.CommonAt(d.r, d.Lang, path)
	return ch
}
