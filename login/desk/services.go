package desk

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"

	"github.com/gorilla/mux"

	"github.com/entity-account/idp/login/manage"
	"github.com/entity-account/idp/login/register"
	"github.com/entity-account/idp/storage"
)

// The e-services: their list, registering one (code, names, department,
// minimum assurance level, access policy), and the page of one: its level
// and policy, its groups (add, rename, remove), the entities it is opened
// to (open, close). Reading is a counter officer's too; every change a
// supervisor's (storage.ActRegisterService), through the use cases the
// idp service commands call.

const servicesPath = "/services"

// servicePages are the e-services' pages.
type servicePages struct{ *core }

// Mount registers the e-services' pages.
func (h *servicePages) Mount(r *mux.Router) {
	if h.Registry == nil {
		return
	}
	read, write := storage.ActReadOperations, storage.ActRegisterService
	r.Handle(servicesPath, h.page(read, h.showList)).Methods(http.MethodGet)
	r.Handle(servicesPath+"/new", h.page(write, h.showNew)).Methods(http.MethodGet)
	r.Handle(servicesPath+"/new", h.page(write, h.create)).Methods(http.MethodPost)
	one := servicesPath + "/{code}"
	r.Handle(one, h.page(read, h.showOne)).Methods(http.MethodGet)
	r.Handle(one+"/settings", h.page(write, h.settings)).Methods(http.MethodPost)
	r.Handle(one+"/groups", h.page(write, h.addGroup)).Methods(http.MethodPost)
	r.Handle(one+"/groups/{group}", h.page(write, h.renameGroup)).Methods(http.MethodPost)
	r.Handle(one+"/groups/{group}/remove", h.page(write, h.removeGroup)).Methods(http.MethodPost)
	r.Handle(one+"/entities", h.page(write, h.openTo)).Methods(http.MethodPost)
	r.Handle(one+"/entities/{number}/close", h.page(write, h.closeTo)).Methods(http.MethodPost)
}

// levelNames are the minimum levels as the forms name them.
var levelNames = map[string]storage.Level{"none": storage.LevelNone, "password": storage.LevelPassword, "tool": storage.LevelTool}

// serviceCode is the services.code CHECK of the schema.
var serviceCode = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{1,31}$`)

// levelName is the form's name of l.
func levelName(l storage.Level) string {
	for n, v := range levelNames {
		if v == l {
			return n
		}
	}
	return "none"
}

// settingsChoices are the choices of an e-service's level and policy, as
// the forms name them.
type settingsChoices struct{ Levels, Policies []string }

var choices = settingsChoices{Levels: []string{"none", "password", "tool"},
	Policies: []string{string(storage.PolicyAssigned), string(storage.PolicyEnrolled)}}

// servicesPage is desk_services.html.
type servicesPage struct {
	Chrome
	Services    []registeredServiceRow
	MayRegister bool
}

// registeredServiceRow is an e-service as a list shows it.
type registeredServiceRow struct {
	storage.RegisteredService
	Level string
}

func (h *servicePages) showList(w http.ResponseWriter, r *http.Request, d *Desk) error {
	list, err := h.Registry.RegisteredServices(r.Context())
	if err != nil {
		return err
	}
	p := servicesPage{Chrome: d.Chrome("services"), MayRegister: d.may(storage.ActRegisterService)}
	for _, sv := range list {
		p.Services = append(p.Services, registeredServiceRow{RegisteredService: sv, Level: levelName(sv.MinLevel)})
	}
	h.k.Render(w, http.StatusOK, "desk_services.html", p)
	return nil
}

// serviceNewPage is desk_service_new.html: the registration form.
type serviceNewPage struct {
	Chrome
	settingsChoices
	Departments []storage.Department
	Form        regForm
}

var serviceFields = []string{"code", "name_zh", "name_pt", "name_en", "department", "level", "policy"}

func (h *servicePages) showNew(w http.ResponseWriter, r *http.Request, d *Desk) error {
	f := regForm{Values: map[string]string{"level": "none", "policy": string(storage.PolicyAssigned), "department": r.URL.Query().Get("department")}}
	return h.renderNew(w, r, d, http.StatusOK, f)
}

func (h *servicePages) renderNew(w http.ResponseWriter, r *http.Request, d *Desk, status int, f regForm) error {
	deps, err := h.Registry.Departments(r.Context())
	if err != nil {
		return err
	}
	h.k.Render(w, status, "desk_service_new.html", serviceNewPage{Chrome: d.chromeAt("services", servicesPath+"/new"), settingsChoices: choices, Departments: deps, Form: f})
	return nil
}

// create registers the e-service (register.Service, service.create).
func (h *servicePages) create(w http.ResponseWriter, r *http.Request, d *Desk) error {
	f := d.submitted(r, "service", serviceFields...)
	level, ok := levelNames[f.V("level")]
	in := register.Service{DepartmentCode: f.V("department"), Service: storage.Service{Code: f.V("code"),
		NameZH: f.V("name_zh"), NamePT: f.V("name_pt"), NameEN: f.V("name_en"),
		AccessPolicy: storage.AccessPolicy(f.V("policy")), MinLevel: level}}
	err := checkService(in.Service, ok)
	if err == nil {
		_, err = h.Register.Service(r.Context(), d.Actor, in)
	}
	if err != nil {
		return d.refusedIn(err, "desk_dept_err_service", func(status int, key, field string) {
			d.shown(h.renderNew(w, r, d, status, d.formAt(f, key, field)))
		})
	}
	return seeOther(w, r, serviceURL(in.Code, "?done=service_created"))
}

// checkService refuses what the schema would, naming the field.
func checkService(sv storage.Service, levelKnown bool) error {
	switch {
	case !serviceCode.MatchString(sv.Code):
		return storage.Errorf(storage.EInvalid, "e-service code %q", sv.Code).WithField("code")
	case sv.NameZH == "":
		return storage.Errorf(storage.EInvalid, "an e-service has a Chinese name").WithField("name_zh")
	case !levelKnown:
		return storage.Errorf(storage.EInvalid, "minimum level").WithField("level")
	case !sv.AccessPolicy.Known():
		return storage.Errorf(storage.EInvalid, "access policy").WithField("policy")
	}
	for field, v := range map[string]string{"name_zh": sv.NameZH, "name_pt": sv.NamePT, "name_en": sv.NameEN} {
		if !storage.CleanText(v, 200) {
			return storage.Errorf(storage.EInvalid, "%s: at most 200 characters of text", field).WithField(field)
		}
	}
	return nil
}

func serviceURL(code, rest string) string { return servicesPath + "/" + url.PathEscape(code) + rest }

// servicePage is desk_service.html: one e-service and its forms.
type servicePage struct {
	Chrome
	settingsChoices
	Service    storage.Service
	Department storage.Department
	Level      string
	Groups     []storage.Group
	Entities   []storage.EnrolledEntity
	Clients    []storage.Client
	MayChange  bool
	Form       regForm
	Done       string
}

var serviceDone = []string{"service_created", "settings_changed", "unchanged", "group_added", "group_renamed", "group_removed",
	"entity_opened", "entity_already_open", "entity_closed", "entity_not_open"}

func (h *servicePages) showOne(w http.ResponseWriter, r *http.Request, d *Desk) error {
	return h.renderOne(w, r, d, http.StatusOK, regForm{}, doneKey(r, serviceDone...))
}

func (h *servicePages) renderOne(w http.ResponseWriter, r *http.Request, d *Desk, status int, f regForm, done string) error {
	ctx := r.Context()
	sv, err := h.Registry.ServiceByCode(ctx, mux.Vars(r)["code"])
	if err != nil {
		return notFoundHere(err)
	}
	p := servicePage{Chrome: d.chromeAt("services", serviceURL(sv.Code, "")), settingsChoices: choices, Service: sv, Level: levelName(sv.MinLevel),
		MayChange: d.may(storage.ActRegisterService), Form: f, Done: d.T()[done]}
	if f.Values == nil {
		p.Form.Values = map[string]string{}
	}
	if !f.On("settings") {
		p.Form.Values["level"], p.Form.Values["policy"] = p.Level, string(sv.AccessPolicy)
	}
	if p.Groups, err = h.Registry.Groups(ctx, sv.ID); err != nil {
		return err
	}
	if p.Entities, err = h.Registry.ServiceEntities(ctx, sv.ID); err != nil {
		return err
	}
	clients, err := h.Registry.Clients(ctx)
	if err != nil {
		return err
	}
	for _, c := range clients {
		if c.ServiceID == sv.ID {
			p.Clients = append(p.Clients, c)
		}
	}
	deps, err := h.Registry.Departments(ctx)
	if err != nil {
		return err
	}
	for _, dep := range deps {
		if dep.ID == sv.DepartmentID {
			p.Department = dep
		}
	}
	h.k.Render(w, status, "desk_service.html", p)
	return nil
}

// refused shows the e-service's page again with the refused form f.
func (h *servicePages) refused(w http.ResponseWriter, r *http.Request, d *Desk, f regForm, fallback string, err error) error {
	if storage.CodeOf(err) == storage.ENotFound && !strings.HasPrefix(f.Name, "group") && f.Name != "open" {
		return notFoundHere(err)
	}
	return d.refusedIn(err, fallback, func(status int, key, field string) {
		d.shown(h.renderOne(w, r, d, status, d.formAt(f, key, field), ""))
	})
}

// settings sets the minimum level and the access policy together
// (register.SetServiceSettings: one transaction, service.min_level and
// service.access_policy each audited when it changes).
func (h *servicePages) settings(w http.ResponseWriter, r *http.Request, d *Desk) error {
	code := mux.Vars(r)["code"]
	f := d.submitted(r, "settings", "level", "policy")
	level, ok := levelNames[f.V("level")]
	if !ok {
		return h.refused(w, r, d, f, "", storage.Errorf(storage.EInvalid, "minimum level").WithField("level"))
	}
	policy := storage.AccessPolicy(f.V("policy"))
	if !policy.Known() {
		return h.refused(w, r, d, f, "", storage.Errorf(storage.EInvalid, "access policy").WithField("policy"))
	}
	_, changed, err := h.Register.SetServiceSettings(r.Context(), d.Actor, code, register.Settings{MinLevel: level, AccessPolicy: policy})
	if err != nil {
		return h.refused(w, r, d, f, "desk_dept_err_invalid", err)
	}
	done := "settings_changed"
	if !changed.Any() {
		done = "unchanged"
	}
	return seeOther(w, r, serviceURL(code, "?done="+done))
}

// addGroup defines a group (manage.Departments.CreateGroup, group.create).
func (h *servicePages) addGroup(w http.ResponseWriter, r *http.Request, d *Desk) error {
	code := mux.Vars(r)["code"]
	f := d.submitted(r, "group", "group_code", "name_zh", "name_pt", "name_en")
	_, err := h.Departments.CreateGroup(r.Context(), d.Actor, code,
		manage.GroupInput{Code: f.V("group_code"), NameZH: f.V("name_zh"), NamePT: f.V("name_pt"), NameEN: f.V("name_en")})
	if err != nil {
		if fieldOf(err) == "code" {
			err = withField(err, "group_code")
		}
		return h.refused(w, r, d, f, "desk_dept_err_group", err)
	}
	return seeOther(w, r, serviceURL(code, "?done=group_added"))
}

// renameGroup sets a group's three names (manage.Departments.RenameGroup,
// group.rename).
func (h *servicePages) renameGroup(w http.ResponseWriter, r *http.Request, d *Desk) error {
	code, group := mux.Vars(r)["code"], mux.Vars(r)["group"]
	f := d.submitted(r, "group:"+group, "name_zh", "name_pt", "name_en")
	zh, pt, en := f.V("name_zh"), f.V("name_pt"), f.V("name_en")
	if _, err := h.Departments.RenameGroup(r.Context(), d.Actor, code, group, storage.GroupNames{ZH: &zh, PT: &pt, EN: &en}); err != nil {
		return h.refused(w, r, d, f, "desk_dept_err_group", err)
	}
	return seeOther(w, r, serviceURL(code, "?done=group_renamed"))
}

// removeGroup removes a group with its memberships
// (manage.Departments.DeleteGroup, group.delete).
func (h *servicePages) removeGroup(w http.ResponseWriter, r *http.Request, d *Desk) error {
	code, group := mux.Vars(r)["code"], mux.Vars(r)["group"]
	if err := h.Departments.DeleteGroup(r.Context(), d.Actor, code, group); err != nil {
		return h.refused(w, r, d, regForm{Name: "group:" + group}, "desk_dept_err_group", err)
	}
	return seeOther(w, r, serviceURL(code, "?done=group_removed"))
}

// openTo opens the e-service to an entity by its number
// (manage.Departments.EnrollEntity, service.enroll).
func (h *servicePages) openTo(w http.ResponseWriter, r *http.Request, d *Desk) error {
	code := mux.Vars(r)["code"]
	f := d.submitted(r, "open", "entity_number")
	changed, err := h.Departments.EnrollEntity(r.Context(), d.Actor, code, f.V("entity_number"))
	if err != nil {
		return h.refused(w, r, d, f, "desk_dept_err_entity", withField(err, "entity_number"))
	}
	done := "entity_opened"
	if !changed {
		done = "entity_already_open"
	}
	return seeOther(w, r, serviceURL(code, "?done="+done))
}

// closeTo closes the e-service to an entity, taking its staff logins off
// it and out of its groups (manage.Departments.CloseService, service.unenroll).
func (h *servicePages) closeTo(w http.ResponseWriter, r *http.Request, d *Desk) error {
	code, number := mux.Vars(r)["code"], mux.Vars(r)["number"]
	changed, err := h.Departments.CloseService(r.Context(), d.Actor, code, number)
	if err != nil {
		return h.refused(w, r, d, regForm{Name: "close"}, "desk_dept_err_entity", err)
	}
	done := "entity_closed"
	if !changed {
		done = "entity_not_open"
	}
	return seeOther(w, r, serviceURL(code, "?done="+done))
}
