package desk

import (
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gorilla/mux"

	"github.com/entity-account/idp/login/kit"
	"github.com/entity-account/idp/login/register"
	"github.com/entity-account/idp/storage"
)

// The clients: their list, registering one (web with a secret, mobile with
// PKCE, machine for the department API), the page of one (its settings,
// never a secret), rotating its secret with a grace period, disabling and
// enabling it. A secret is shown once, on the answer to the registration
// or the rotation, which no cache keeps; only its hash is stored. Reading
// is a counter officer's too; every change a supervisor's
// (storage.ActRegisterClient), through the use cases the idp client
// commands call.

const clientsPath = "/clients"

// clientPages are the clients' pages.
type clientPages struct{ *core }

// Mount registers the clients' pages.
func (h *clientPages) Mount(r *mux.Router) {
	if h.Registry == nil {
		return
	}
	read, write := storage.ActReadOperations, storage.ActRegisterClient
	r.Handle(clientsPath, h.page(read, h.showList)).Methods(http.MethodGet)
	r.Handle(clientsPath+"/new", h.page(write, h.showNew)).Methods(http.MethodGet)
	r.Handle(clientsPath+"/new", h.page(write, h.create)).Methods(http.MethodPost)
	one := clientsPath + "/{id}"
	r.Handle(one, h.page(read, h.showOne)).Methods(http.MethodGet)
	r.Handle(one+"/rotate", h.page(write, h.rotate)).Methods(http.MethodPost)
	r.Handle(one+"/disable", h.page(write, h.disable)).Methods(http.MethodPost)
	r.Handle(one+"/enable", h.page(write, h.enable)).Methods(http.MethodPost)
}

func clientURL(id, rest string) string { return clientsPath + "/" + url.PathEscape(id) + rest }

// clientRow is a client as the pages show it: never a secret.
type clientRow struct {
	storage.Client
	Kind       string // web, mobile or machine
	AuthMethod string
	// PreviousUntil: a rotated-out secret still works until then (Macau time), "" when none does.
	PreviousUntil string
	Created       string
}

func rowOf(c storage.Client, now time.Time) clientRow {
	row := clientRow{Client: c, Kind: string(c.Kind), AuthMethod: c.AuthMethodName(),
		Created: c.CreatedAt.In(kit.Macau).Format("2006-01-02 15:04")}
	if c.Kind == storage.ClientNative {
		row.Kind = "mobile"
	}
	if c.AcceptsPreviousSecret(now) {
		row.PreviousUntil = c.PreviousSecretExpiresAt.In(kit.Macau).Format("2006-01-02 15:04:05")
	}
	return row
}

// clientsPage is desk_clients.html.
type clientsPage struct {
	Chrome
	Clients     []clientRow
	MayRegister bool
}

func (h *clientPages) showList(w http.ResponseWriter, r *http.Request, d *Desk) error {
	list, err := h.Registry.Clients(r.Context())
	if err != nil {
		return err
	}
	p := clientsPage{Chrome: d.Chrome("clients"), MayRegister: d.may(storage.ActRegisterClient)}
	for _, c := range list {
		p.Clients = append(p.Clients, rowOf(c, h.k.Now()))
	}
	h.k.Render(w, http.StatusOK, "desk_clients.html", p)
	return nil
}

// clientNewPage is desk_client_new.html: the registration form.
type clientNewPage struct {
	Chrome
	Services    []storage.RegisteredService
	Departments []storage.Department
	Scopes      []string
	Form        regForm
}

var clientFields = []string{"kind", "service", "department", "name", "client_id", "redirect_uris", "post_logout_uris",
	"backchannel_uri", "auth", "jwks_uri"}

func (h *clientPages) showNew(w http.ResponseWriter, r *http.Request, d *Desk) error {
	q := r.URL.Query()
	f := regForm{Values: map[string]string{"kind": "web", "service": q.Get("service"), "department": q.Get("department"),
		"scope:" + storage.ScopeDepartmentRead: "on"}}
	if f.Values["department"] != "" && f.Values["service"] == "" {
		f.Values["kind"] = "machine"
	}
	return h.renderNew(w, r, d, http.StatusOK, f)
}

func (h *clientPages) renderNew(w http.ResponseWriter, r *http.Request, d *Desk, status int, f regForm) error {
	services, err := h.Registry.RegisteredServices(r.Context())
	if err != nil {
		return err
	}
	deps, err := h.Registry.Departments(r.Context())
	if err != nil {
		return err
	}
	h.k.Render(w, status, "desk_client_new.html", clientNewPage{Chrome: d.chromeAt("clients", clientsPath+"/new"), Services: services,
		Departments: deps, Scopes: storage.MachineScopes, Form: f})
	return nil
}

// secretPage is desk_client_secret.html: a client's secret, shown once.
type secretPage struct {
	Chrome
	ClientID, Secret string
	Rotated          bool
	PreviousUntil    string // a rotation's grace: the old secret works until then; "" when it stopped at once
	AuthMethod       string
}

// create registers the client (register.ServiceClient or
// register.MachineClient, client.create) and shows its secret once.
func (h *clientPages) create(w http.ResponseWriter, r *http.Request, d *Desk) error {
	f := d.submitted(r, "client", clientFields...)
	for _, sc := range storage.MachineScopes {
		if slices.Contains(r.PostForm["scope"], sc) {
			f.Values["scope:"+sc] = "on"
		}
	}
	in, err := clientInput(f, r.PostForm["scope"])
	var out register.Registered
	if err == nil {
		if in.Kind == storage.ClientMachine {
			out, err = h.Register.MachineClient(r.Context(), d.Actor, in)
		} else {
			out, err = h.Register.ServiceClient(r.Context(), d.Actor, in)
		}
	}
	if err != nil {
		return d.refusedIn(err, "desk_dept_err_client", func(status int, key, field string) {
			d.shown(h.renderNew(w, r, d, status, d.formAt(f, key, field)))
		})
	}
	if out.Secret == "" {
		return seeOther(w, r, clientURL(out.Client.ID, "?done=client_created"))
	}
	noStore(w)
	h.k.Render(w, http.StatusOK, "desk_client_secret.html", secretPage{Chrome: d.chromeAt("clients", clientURL(out.Client.ID, "")),
		ClientID: out.Client.ID, Secret: out.Secret, AuthMethod: out.Client.AuthMethodName()})
	return nil
}

// clientInput reads the registration form: the kind decides what it takes
// (a mobile app no secret and no keys, a machine client no addresses); the
// store checks the addresses themselves.
func clientInput(f regForm, scopes []string) (register.Client, error) {
	invalid := func(field, what string) error { return storage.Errorf(storage.EInvalid, "%s", what).WithField(field) }
	in := register.Client{ServiceCode: f.V("service"), DepartmentCode: f.V("department"), Client: storage.Client{
		ID: f.V("client_id"), Name: f.V("name"), RedirectURIs: lines(f.V("redirect_uris")),
		PostLogoutRedirectURIs: lines(f.V("post_logout_uris")), BackchannelLogoutURI: f.V("backchannel_uri"),
		TokenAuth: storage.TokenAuthMethod(f.V("auth")), JWKSURI: f.V("jwks_uri")}}
	if !storage.CleanText(in.Name, 200) {
		return in, invalid("name", "name")
	}
	switch f.V("kind") {
	case "web":
		in.Kind = storage.ClientWeb
	case "mobile":
		in.Kind, in.Public = storage.ClientNative, true
	case "machine":
		in.Kind, in.ServiceCode = storage.ClientMachine, ""
	default:
		return in, invalid("kind", "kind")
	}
	if err := checkClientAuth(in); err != nil {
		return in, err
	}
	if in.Kind == storage.ClientMachine {
		if len(in.RedirectURIs)+len(in.PostLogoutRedirectURIs) > 0 || in.BackchannelLogoutURI != "" {
			return in, invalid("redirect_uris", "a machine client has no addresses")
		}
		for _, sc := range storage.MachineScopes {
			if slices.Contains(scopes, sc) {
				in.Scopes = append(in.Scopes, sc)
			}
		}
		if len(in.Scopes) == 0 {
			return in, invalid("scope", "a machine client has a scope")
		}
		return in, nil
	}
	in.DepartmentCode = ""
	if in.ServiceCode == "" {
		return in, invalid("service", "an e-service")
	}
	if len(in.RedirectURIs) == 0 {
		return in, invalid("redirect_uris", "a redirect URI")
	}
	return in, nil
}

// checkClientAuth: a mobile app authenticates with nothing but PKCE; keys
// go with private_key_jwt only, which needs the https address of its keys.
func checkClientAuth(in register.Client) error {
	invalid := func(field, what string) error { return storage.Errorf(storage.EInvalid, "%s", what).WithField(field) }
	switch in.TokenAuth {
	case storage.TokenAuthSecret, storage.TokenAuthBasic, storage.TokenAuthPost, storage.TokenAuthPrivateKeyJWT:
	default:
		return invalid("auth", "auth method")
	}
	switch {
	case in.Public && (in.TokenAuth != storage.TokenAuthSecret || in.JWKSURI != ""):
		return invalid("auth", "a mobile app has no secret and no keys")
	case in.TokenAuth != storage.TokenAuthPrivateKeyJWT && in.JWKSURI != "":
		return invalid("jwks_uri", "keys go with private_key_jwt")
	case in.TokenAuth == storage.TokenAuthPrivateKeyJWT:
		u, err := url.Parse(in.JWKSURI)
		if err != nil || u.Scheme != "https" || u.Host == "" || u.Fragment != "" || len(in.JWKSURI) > 2048 {
			return invalid("jwks_uri", "an https address")
		}
	}
	return nil
}

// lines are the non-empty lines of a text area, trimmed.
func lines(s string) []string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, l)
		}
	}
	return out
}

// clientPage is desk_client.html: one client's settings and its forms.
type clientPage struct {
	Chrome
	Client    clientRow
	HasSecret bool
	MayChange bool
	Form      regForm
	Done      string
}

func (h *clientPages) showOne(w http.ResponseWriter, r *http.Request, d *Desk) error {
	return h.renderOne(w, r, d, http.StatusOK, regForm{Values: map[string]string{"grace_hours": "24"}},
		doneKey(r, "client_created", "client_disabled", "client_enabled"))
}

func (h *clientPages) renderOne(w http.ResponseWriter, r *http.Request, d *Desk, status int, f regForm, done string) error {
	c, err := h.Registry.ClientForOperator(r.Context(), mux.Vars(r)["id"])
	if err != nil {
		return notFoundHere(err)
	}
	p := clientPage{Chrome: d.chromeAt("clients", clientURL(c.ID, "")), Client: rowOf(c, h.k.Now()), MayChange: d.may(storage.ActRegisterClient),
		HasSecret: !c.Public && c.TokenAuth != storage.TokenAuthPrivateKeyJWT, Form: f, Done: d.T()[done]}
	h.k.Render(w, status, "desk_client.html", p)
	return nil
}

// rotate gives the client a new secret (register.ClientKeeper.RotateSecret,
// client.rotate_secret), the old one working for the grace, and shows the
// new one once.
func (h *clientPages) rotate(w http.ResponseWriter, r *http.Request, d *Desk) error {
	id := mux.Vars(r)["id"]
	f := d.submitted(r, "rotate", "grace_hours")
	hours, err := strconv.ParseFloat(f.V("grace_hours"), 64)
	if err != nil || hours < 0 || hours > storage.MaxSecretGrace.Hours() {
		return d.refusedIn(storage.Errorf(storage.EInvalid, "grace").WithField("grace_hours"), "", func(status int, key, field string) {
			d.shown(h.renderOne(w, r, d, status, d.formAt(f, key, field), ""))
		})
	}
	grace := time.Duration(hours * float64(time.Hour)).Round(time.Second)
	out, err := h.ClientKeeper.RotateSecret(r.Context(), d.Actor, id, grace)
	if err != nil && out.Secret == "" {
		if storage.CodeOf(err) == storage.ENotFound {
			return notFoundHere(err)
		}
		return d.refusedIn(err, "desk_dept_err_rotate", func(status int, key, field string) {
			d.shown(h.renderOne(w, r, d, status, d.formAt(f, key, field), ""))
		})
	}
	if err != nil {
		// The secret changed, but the nodes were not told (they follow
		// within their cache's lifetime): it is shown all the same, once.
		slog.WarnContext(r.Context(), "client secret rotated, nodes not told", "client", id, "err", err)
	}
	p := secretPage{Chrome: d.chromeAt("clients", clientURL(id, "")), ClientID: id, Secret: out.Secret, Rotated: true}
	if grace > 0 {
		p.PreviousUntil = out.PreviousUntil.In(kit.Macau).Format("2006-01-02 15:04:05")
	}
	noStore(w)
	h.k.Render(w, http.StatusOK, "desk_client_secret.html", p)
	return nil
}

func (h *clientPages) disable(w http.ResponseWriter, r *http.Request, d *Desk) error {
	return h.setDisabled(w, r, d, true)
}

func (h *clientPages) enable(w http.ResponseWriter, r *http.Request, d *Desk) error {
	return h.setDisabled(w, r, d, false)
}

// setDisabled disables or enables the client (register.ClientKeeper.SetDisabled,
// client.disable or client.enable); disabling ends its tokens at once and
// tells every node.
func (h *clientPages) setDisabled(w http.ResponseWriter, r *http.Request, d *Desk, disabled bool) error {
	id := mux.Vars(r)["id"]
	if err := h.ClientKeeper.SetDisabled(r.Context(), d.Actor, id, disabled); err != nil {
		if storage.CodeOf(err) == storage.ENotFound {
			return notFoundHere(err)
		}
		return d.refusedIn(err, "desk_dept_err_invalid", func(status int, key, field string) {
			d.shown(h.renderOne(w, r, d, status, d.formAt(regForm{Name: "state"}, key, field), ""))
		})
	}
	done := "client_enabled"
	if disabled {
		done = "client_disabled"
	}
	return seeOther(w, r, clientURL(id, "?done="+done))
}
