package desk

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/gorilla/mux"

	"github.com/entity-account/idp/login/kit"
	"github.com/entity-account/idp/login/tools"
	"github.com/entity-account/idp/storage"
)

// The in-person approval of a pending 安全驗證碼 (/approve). The person
// shows the approval QR code of its portal page (FAQ 19) with its identity
// document; the officer scans it with the desk's camera
// (static/deskqr.js: the browser's BarcodeDetector where it reads QR
// codes, else jsQR, served from static/vendor), which fills the form and
// sends it, or types the short code that stands for it. The desk then
// shows whom it names (tools.ResolveApproval): name, entity, EUID and the
// identity document, its number masked; the whole number is one press
// away and that opening of the record is audited (tools.RevealDocument).
// The officer types the document as checked and presses 核准
// (tools.ApproveInPerson). The same page resets a login's tools (a lost
// phone) and switches its passkeys on again, by entity number and EUID.
// Every rule is the use cases' and the rule book's: the pages only parse,
// call and show.

// Paths of the approval pages.
const (
	approvePath         = "/approve"
	approveResetPath    = "/approve/reset"
	approvePasskeysPath = "/approve/passkeys"
)

// approvePages are the approval pages, over the tool use cases.
type approvePages struct{ *core }

// Mount registers the approval pages; without the tool use cases there
// are none.
func (h *approvePages) Mount(r *mux.Router) {
	if h.Tools == nil {
		return
	}
	r.Handle(approvePath, h.page(storage.ActApproveTools, h.showScan)).Methods(http.MethodGet)
	r.Handle(approvePath, h.page(storage.ActApproveTools, h.submit)).Methods(http.MethodPost)
	r.Handle(approveResetPath, h.page(storage.ActResetTools, h.resetTools)).Methods(http.MethodPost)
	r.Handle(approvePasskeysPath, h.page(storage.ActApproveTools, h.enablePasskeys)).Methods(http.MethodPost)
}

// toolsForm is the form that resets a login's tools or switches its
// passkeys on again.
type toolsForm struct {
	EntityNumber, EUID string
	Error              string
}

// scanPage is desk_qr_scan.html: the camera, the token or typed code's
// field, and the tools form.
type scanPage struct {
	Chrome
	Input  string // what was typed, kept
	Error  string // the refusal of the token or code
	Notice string // what was just done
	Tools  toolsForm
}

// confirmPage is desk_qr_confirm.html: whom the approval QR code names,
// and the approval's form.
type confirmPage struct {
	Chrome
	A         tools.Approval
	Name      string // Chinese and foreign names together
	DocType   string // the registered document's type, in the page's language
	Until     string // Macau time
	Revealed  bool   // the number is shown whole
	DocTypes  []docOption
	DocNumber string // as typed, kept after a refusal
	DocError  string
	Error     string
	Tools     toolsForm
}

// docOption is a document type of the approval form's choice.
type docOption struct {
	Value, Label string
	Selected     bool
}

// showScan is the scanner page.
func (h *approvePages) showScan(w http.ResponseWriter, r *http.Request, d *Desk) error {
	h.renderScan(w, d, http.StatusOK, nil)
	return nil
}

func (h *approvePages) renderScan(w http.ResponseWriter, d *Desk, status int, edit func(*scanPage)) {
	p := scanPage{Chrome: d.Chrome("approve")}
	if edit != nil {
		edit(&p)
	}
	kit.AllowOwnScripts(w) // static/deskqr.js and its decoder
	h.k.Render(w, status, "desk_qr_scan.html", p)
}

// submit takes the approval's steps: resolve (the token scanned or the
// code typed), reveal (the document's number whole), approve.
func (h *approvePages) submit(w http.ResponseWriter, r *http.Request, d *Desk) error {
	ctx := r.Context()
	input := strings.TrimSpace(r.PostForm.Get("token"))
	switch r.PostForm.Get("step") {
	case "resolve":
		a, err := h.Tools.ResolveApproval(ctx, d.Actor, input)
		if err != nil {
			return h.scanRefusal(w, d, input, err)
		}
		return h.renderConfirm(w, d, http.StatusOK, a, nil)
	case "reveal":
		a, err := h.Tools.RevealDocument(ctx, d.Actor, input)
		if err != nil {
			return h.scanRefusal(w, d, "", err)
		}
		return h.renderConfirm(w, d, http.StatusOK, a, func(p *confirmPage) { p.Revealed = true })
	case "approve":
		return h.approve(w, r, d, input)
	}
	return kit.Fail(storage.EInvalid, "desk_error_form_expired")
}

// approve approves with the document as checked, and says so.
func (h *approvePages) approve(w http.ResponseWriter, r *http.Request, d *Desk, token string) error {
	ctx := r.Context()
	doc := tools.CheckedDocument{Type: r.PostForm.Get("document_type"), Number: strings.TrimSpace(r.PostForm.Get("document_number"))}
	a, err := h.Tools.ApproveInPerson(ctx, d.Actor, token, doc)
	var e *storage.Error
	if err != nil && errors.As(err, &e) && strings.HasPrefix(e.Field, "document_") {
		// The document: the form again, with what was typed.
		shown, rerr := h.Tools.ResolveApproval(ctx, d.Actor, token)
		if rerr != nil {
			return h.scanRefusal(w, d, "", rerr)
		}
		return kit.InForm(err, func(status int, key string) {
			_ = h.renderConfirm(w, d, status, shown, func(p *confirmPage) {
				p.DocNumber, p.DocError = doc.Number, kit.Say(d.T(), key, err)
				p.DocTypes = docOptions(d.T(), doc.Type)
			})
		})
	}
	if err != nil {
		return h.scanRefusal(w, d, "", err)
	}
	t := d.T()
	h.k.Render(w, http.StatusOK, "desk_message.html", messagePage{
		Chrome:  d.Chrome("approve"),
		Heading: t["desk_qr_done_heading"],
		Message: fmt.Sprintf(t["desk_qr_done"], joinNames(a.NameZH, a.NameForeign), a.EUID, a.EntityNumber),
		LinkURL: approvePath, Link: t["desk_qr_next"],
	})
	return nil
}

// scanRefusal shows the scanner page again with a refusal of the token
// or code; the rule book's refusal is the desk's 403.
func (h *approvePages) scanRefusal(w http.ResponseWriter, d *Desk, input string, err error) error {
	if storage.CodeOf(err) == storage.EForbidden {
		return err
	}
	return kit.InForm(err, func(status int, key string) {
		h.renderScan(w, d, status, func(p *scanPage) { p.Input, p.Error = input, kit.Say(d.T(), key, err) })
	})
}

// renderConfirm shows whom a resolved approval QR code names.
func (h *approvePages) renderConfirm(w http.ResponseWriter, d *Desk, status int, a tools.Approval, edit func(*confirmPage)) error {
	t := d.T()
	p := confirmPage{
		Chrome: d.Chrome("approve"), A: a, Name: joinNames(a.NameZH, a.NameForeign), DocType: t["staff_doc_"+a.DocType],
		Until: a.ExpiresAt.In(macau).Format("15:04"), DocTypes: docOptions(t, a.DocType),
		Tools: toolsForm{EntityNumber: a.EntityNumber, EUID: a.EUID},
	}
	if edit != nil {
		edit(&p)
	}
	h.k.Render(w, status, "desk_qr_confirm.html", p)
	return nil
}

// docOptions are the document types, selected the one named.
func docOptions(t map[string]string, selected string) []docOption {
	out := make([]docOption, 0, len(storage.IDDocTypes))
	for _, v := range storage.IDDocTypes {
		out = append(out, docOption{Value: v, Label: t["staff_doc_"+v], Selected: v == selected})
	}
	return out
}

// resetTools removes every identity tool of the login named (a lost
// phone), as idp tools reset does.
func (h *approvePages) resetTools(w http.ResponseWriter, r *http.Request, d *Desk) error {
	f := toolsForm{EntityNumber: strings.TrimSpace(r.PostForm.Get("entity_number")), EUID: strings.ToUpper(strings.TrimSpace(r.PostForm.Get("euid")))}
	n, err := h.Tools.ResetTools(r.Context(), d.Actor, f.EntityNumber, f.EUID)
	if err != nil {
		return h.toolsRefusal(w, d, f, err)
	}
	h.renderScan(w, d, http.StatusOK, func(p *scanPage) {
		p.Notice = fmt.Sprintf(d.T()["desk_qr_reset_done"], n, f.EUID, f.EntityNumber)
	})
	return nil
}

// enablePasskeys switches the passkeys of the login named on again, as
// idp tools enable does.
func (h *approvePages) enablePasskeys(w http.ResponseWriter, r *http.Request, d *Desk) error {
	f := toolsForm{EntityNumber: strings.TrimSpace(r.PostForm.Get("entity_number")), EUID: strings.ToUpper(strings.TrimSpace(r.PostForm.Get("euid")))}
	if err := h.Tools.EnablePasskeysFor(r.Context(), d.Actor, f.EntityNumber, f.EUID); err != nil {
		return h.toolsRefusal(w, d, f, err)
	}
	h.renderScan(w, d, http.StatusOK, func(p *scanPage) {
		p.Notice = fmt.Sprintf(d.T()["desk_qr_passkeys_done"], f.EUID, f.EntityNumber)
	})
	return nil
}

// toolsRefusal shows the scanner page with the tools form's refusal.
func (h *approvePages) toolsRefusal(w http.ResponseWriter, d *Desk, f toolsForm, err error) error {
	code := storage.CodeOf(err)
	if code == storage.EForbidden {
		return err
	}
	var e *storage.Error
	if (code == storage.EInvalid || code == storage.ENotFound) && (!errors.As(err, &e) || e.Key == "") {
		// A malformed entity number, or no such login: one message.
		err = kit.Fail(code, "desk_qr_tools_not_found")
	}
	return kit.InForm(err, func(status int, key string) {
		f.Error = kit.Say(d.T(), key, err)
		h.renderScan(w, d, status, func(p *scanPage) { p.Tools = f })
	})
}

// macau is the time zone of the desk's times: Asia/Macau, UTC+8 all year,
// fixed when the system has no tzdata.
var macau = func() *time.Location {
	if l, err := time.LoadLocation("Asia/Macau"); err == nil {
		return l
	}
	return time.FixedZone("CST", 8*60*60)
}()
