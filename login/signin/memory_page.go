package signin

import (
	"net/http"
	"net/url"

	"github.com/entity-account/idp/login/kit"
	"github.com/entity-account/idp/storage"
)

// The remembered entity numbers on the sign-in page: the box that keeps
// one, the list that offers them, and the forgetting of one or all. It all
// works without a script: picking a number is a GET of the sign-in page
// with it (entityParam), forgetting is a POST that comes back to the page.

// RememberBox is the box 「記住此實體編號」 beside the entity number field
// (template "credentials"). A page without one (nil) remembers nothing.
type RememberBox struct {
	Checked bool
	// List is the id of the <datalist> of the remembered numbers the
	// field offers as it is typed in; "" when there are none.
	List string
}

// rememberedChoice is a remembered number as the page offers it.
type rememberedChoice struct{ Number, Name string }

const (
	// entityParam is the number picked from the list, on the GET of the
	// sign-in page: it fills the field when it is remembered.
	entityParam = "entity"
	// rememberField is the box's name in the sign-in form.
	rememberField = "remember_entity"
	// forgetPath forgets a remembered number (field forget) or all of
	// them (field forget_all), then shows the sign-in page again.
	forgetPath = loginPath + "/remembered"
	// rememberedList is the id of the page's <datalist>.
	rememberedList = "remembered_numbers"
)

// prefill is what the form of ar is first shown with: the number picked
// from the list, else the request's login_hint.
func prefill(r *http.Request, ar *storage.AuthRequest, list []rememberedEntity) Credentials {
	if n, ok := storage.NormalizeEntityNumber(r.URL.Query().Get(entityParam)); ok && remembered(list, n) {
		return Credentials{EntityNumber: n}
	}
	return hintedCredentials(ar.LoginHint)
}

// rememberBox is the box as the form shows it: as it was sent, on a form
// shown again after a refusal; on a fresh form, ticked when the number
// filled in is one remembered, as unticking it forgets the number.
func (m *entityMemory) rememberBox(r *http.Request, list []rememberedEntity, c Credentials) *RememberBox {
	if !m.on() {
		return nil
	}
	box := &RememberBox{}
	if len(list) > 0 {
		box.List = rememberedList
	}
	if r.Method == http.MethodPost {
		box.Checked = r.PostForm.Get(rememberField) != ""
	} else if n, ok := storage.NormalizeEntityNumber(c.EntityNumber); ok {
		box.Checked = remembered(list, n)
	}
	return box
}

// choices are the remembered numbers, with names in lang.
func choices(list []rememberedEntity, lang string) []rememberedChoice {
	out := make([]rememberedChoice, 0, len(list))
	for _, e := range list {
		out = append(out, rememberedChoice{Number: e.Number, Name: e.Name(lang)})
	}
	return out
}

// forgetting is the forgetting of remembered numbers.
type forgetting struct {
	k      *kit.Kit
	memory *entityMemory
}

// submit forgets the number of the button pressed, or all of them, and
// shows the sign-in form of the same request again. The form's CSRF token
// must be this browser's; whether the request is still waiting does not
// matter (the page it comes back to says so if not).
func (h *forgetting) submit(w http.ResponseWriter, r *http.Request) error {
	if err := kit.ParseForm(w, r); err != nil {
		return errUnreadableForm
	}
	id := r.PostForm.Get("authRequestID")
	if !h.k.CSRFValid(r, id, r.PostForm.Get("csrf_token")) {
		return errForged
	}
	list := h.memory.read(w, r)
	if r.PostForm.Get("forget_all") != "" {
		list = nil
	} else if n, ok := storage.NormalizeEntityNumber(r.PostForm.Get("forget")); ok {
		list = forget(list, n)
	}
	h.memory.write(w, list)
	q := url.Values{"authRequestID": {id}}
	if l := h.k.Chosen(r); l != "" {
		q.Set("lang", l)
	}
	http.Redirect(w, r, h.k.BasePath+loginPath+"?"+q.Encode(), http.StatusSeeOther)
	return nil
}
