package desk

import (
	"net/http"
	"net/url"

	"github.com/gorilla/mux"

	"github.com/entity-account/idp/storage"
)

// The departments: their list, registering one, renaming one. Reading is
// a counter officer's too; registering and renaming a supervisor's
// (storage.ActRegisterDepartment).

const departmentsPath = "/departments"

// departmentPages are the departments' pages.
type departmentPages struct{ *core }

// Mount registers the departments' pages.
func (h *departmentPages) Mount(r *mux.Router) {
	if h.Registry == nil {
		return
	}
	r.Handle(departmentsPath, h.page(storage.ActReadOperations, h.showList)).Methods(http.MethodGet)
	r.Handle(departmentsPath, h.page(storage.ActRegisterDepartment, h.create)).Methods(http.MethodPost)
	r.Handle(departmentsPath+"/{code}", h.page(storage.ActReadOperations, h.showOne)).Methods(http.MethodGet)
	r.Handle(departmentsPath+"/{code}", h.page(storage.ActRegisterDepartment, h.rename)).Methods(http.MethodPost)
}

// departmentsPage is desk_departments.html.
type departmentsPage struct {
	Chrome
	Departments []storage.Department
	MayRegister bool
	Form        regForm
	Done        string
}

func (h *departmentPages) showList(w http.ResponseWriter, r *http.Request, d *Desk) error {
	return h.renderList(w, r, d, http.StatusOK, regForm{}, doneKey(r, "department_created"))
}

func (h *departmentPages) renderList(w http.ResponseWriter, r *http.Request, d *Desk, status int, f regForm, done string) error {
	list, err := h.Registry.Departments(r.Context())
	if err != nil {
		return err
	}
	p := departmentsPage{Chrome: d.chromeAt("departments", departmentsPath), Departments: list, MayRegister: d.may(storage.ActRegisterDepartment),
		Form: f, Done: d.T()[done]}
	h.k.Render(w, status, "desk_departments.html", p)
	return nil
}

var departmentFields = []string{"code", "name_zh", "name_pt", "name_en"}

// create registers a department (register.Department, department.create).
func (h *departmentPages) create(w http.ResponseWriter, r *http.Request, d *Desk) error {
	f := d.submitted(r, "department", departmentFields...)
	dep := storage.Department{Code: f.V("code"), NameZH: f.V("name_zh"), NamePT: f.V("name_pt"), NameEN: f.V("name_en")}
	err := checkDepartment(dep)
	if err == nil {
		err = h.Register.Department(r.Context(), d.Actor, &dep)
	}
	if err != nil {
		return d.refusedIn(err, "desk_dept_err_department", func(status int, key, field string) {
			d.shown(h.renderList(w, r, d, status, d.formAt(f, key, field), ""))
		})
	}
	return seeOther(w, r, departmentsPath+"/"+url.PathEscape(dep.Code)+"?done=department_created")
}

// checkDepartment refuses what the schema would (the command checks the
// same before it asks).
func checkDepartment(dep storage.Department) error {
	if !departmentCode.MatchString(dep.Code) {
		return storage.Errorf(storage.EInvalid, "department code %q", dep.Code).WithField("code")
	}
	if dep.NameZH == "" {
		return storage.Errorf(storage.EInvalid, "a department has a Chinese name").WithField("name_zh")
	}
	for field, v := range map[string]string{"name_zh": dep.NameZH, "name_pt": dep.NamePT, "name_en": dep.NameEN} {
		if !storage.CleanText(v, 200) {
			return storage.Errorf(storage.EInvalid, "%s: at most 200 characters of text", field).WithField(field)
		}
	}
	return nil
}

// departmentPage is desk_department.html: one department, its e-services
// and clients, and the rename form.
type departmentPage struct {
	Chrome
	Department storage.Department
	Services   []storage.RegisteredService
	Clients    []storage.Client
	MayRename  bool
	// MayAddService and MayAddClient: the links to register one here.
	MayAddService, MayAddClient bool
	Form                        regForm
	Done                        string
}

func (h *departmentPages) showOne(w http.ResponseWriter, r *http.Request, d *Desk) error {
	return h.renderOne(w, r, d, http.StatusOK, regForm{}, doneKey(r, "department_created", "department_renamed", "unchanged"))
}

func (h *departmentPages) renderOne(w http.ResponseWriter, r *http.Request, d *Desk, status int, f regForm, done string) error {
	ctx := r.Context()
	dep, err := h.Registry.DepartmentByCode(ctx, mux.Vars(r)["code"])
	if err != nil {
		return notFoundHere(err)
	}
	p := departmentPage{Chrome: d.chromeAt("departments", departmentsPath+"/"+url.PathEscape(dep.Code)), Department: dep, MayRename: d.may(storage.ActRegisterDepartment),
		MayAddService: d.may(storage.ActRegisterService), MayAddClient: d.may(storage.ActRegisterClient), Form: f, Done: d.T()[done]}
	if f.Name == "" {
		p.Form = regForm{Values: map[string]string{"name_zh": dep.NameZH, "name_pt": dep.NamePT, "name_en": dep.NameEN}}
	}
	services, err := h.Registry.RegisteredServices(ctx)
	if err != nil {
		return err
	}
	for _, sv := range services {
		if sv.DepartmentID == dep.ID {
			p.Services = append(p.Services, sv)
		}
	}
	clients, err := h.Registry.Clients(ctx)
	if err != nil {
		return err
	}
	for _, c := range clients {
		if c.DepartmentID == dep.ID {
			p.Clients = append(p.Clients, c)
		}
	}
	h.k.Render(w, status, "desk_department.html", p)
	return nil
}

// rename sets the department's three names (register.RenameDepartment,
// department.rename).
func (h *departmentPages) rename(w http.ResponseWriter, r *http.Request, d *Desk) error {
	code := mux.Vars(r)["code"]
	f := d.submitted(r, "rename", "name_zh", "name_pt", "name_en")
	zh, pt, en := f.V("name_zh"), f.V("name_pt"), f.V("name_en")
	dep, changed, err := h.Register.RenameDepartment(r.Context(), d.Actor, code, storage.DepartmentNames{ZH: &zh, PT: &pt, EN: &en})
	if err != nil {
		if storage.CodeOf(err) == storage.ENotFound {
			return notFoundHere(err)
		}
		return d.refusedIn(err, "desk_dept_err_department", func(status int, key, field string) {
			d.shown(h.renderOne(w, r, d, status, d.formAt(f, key, field), ""))
		})
	}
	done := "department_renamed"
	if !changed {
		done = "unchanged"
	}
	return seeOther(w, r, departmentsPath+"/"+url.PathEscape(dep.Code)+"?done="+done)
}
