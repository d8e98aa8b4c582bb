package recoverypages

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/entity-account/idp/login/activation"
	"github.com/entity-account/idp/login/kit"
	"github.com/entity-account/idp/login/portal"
	"github.com/entity-account/idp/login/recovery"
	"github.com/entity-account/idp/storage"
)

// mode is one of the two request forms: 忘記密碼 or 忘記用戶名稱.
type mode struct {
	name    string // "password" or "username"
	path    string
	binding string // the CSRF binding of its form
}

var (
	forgotPassword = mode{name: "password", path: ForgotPasswordPath, binding: "recover:password"}
	forgotUsername = mode{name: "username", path: ForgotUsernamePath, binding: "recover:username"}
)

type requestPage struct {
	kit.Common
	CSRF              string
	Mode              string // password or username
	Kind              string // staff or entity_account
	EntityNumber      string
	Username          string
	ApplicationNumber string
	IDDocNumber       string
	BirthDate         string
	Error             string
	Fields            kit.Fields
	invalid           []string
}

// fields are the form's fields in the page's order, and their values.
func (p requestPage) fields() ([]string, map[string]string) {
	shown := map[string]string{"entity_number": p.EntityNumber, "username": p.Username,
		"application_number": p.ApplicationNumber, "id_doc_number": p.IDDocNumber, "birth_date": p.BirthDate}
	names := []string{"entity_number"}
	if p.Mode == forgotPassword.name {
		names = append(names, "username")
	}
	if p.Kind == string(storage.KindEntityAccount) {
		return append(names, "application_number"), shown
	}
	return append(names, "id_doc_number", "birth_date"), shown
}

func (h *Handler) renderRequest(w http.ResponseWriter, r *http.Request, m mode, status int, p requestPage) {
	p.Common = h.common(r, m.path)
	p.CSRF = h.k.CSRFToken(w, r, m.binding)
	p.Mode = m.name
	if p.Kind != string(storage.KindEntityAccount) {
		p.Kind = string(storage.KindStaff)
	}
	names, shown := p.fields()
	p.Fields = kit.FieldsOf(names, shown, p.invalid...)
	h.k.Render(w, status, "recover_request.html", p)
}

// requestForm is the form as submitted, for the error writer.
func (h *Handler) requestForm(w http.ResponseWriter, r *http.Request, m mode, p requestPage) func(int, string) {
	return func(status int, key string) {
		p.Error = h.k.T(h.k.Language(r))[key]
		switch key {
		case "resend_error_missing":
			p.Mode = m.name
			names, shown := p.fields()
			p.invalid = kit.Empty(shown, names...)
		case "resend_error_birth_date", "reg_error_birth_date_nonexistent":
			p.invalid = []string{"birth_date"}
		}
		h.renderRequest(w, r, m, status, p)
	}
}

func (h *Handler) showRequest(m mode) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		h.k.RememberLanguage(w, r)
		h.renderRequest(w, r, m, http.StatusOK, requestPage{Kind: r.URL.Query().Get("kind")})
	}
}

// readFacts reads the submitted form into p and the facts; a refusal when
// it is not filled in or the birth date cannot be read.
func readFacts(r *http.Request, m mode) (requestPage, recovery.Facts, error) {
	f := func(name string) string { return strings.TrimSpace(r.PostForm.Get(name)) }
	p := requestPage{Mode: m.name, Kind: r.PostForm.Get("kind"), EntityNumber: f("entity_number"), Username: f("username"),
		ApplicationNumber: f("application_number"), IDDocNumber: f("id_doc_number"), BirthDate: f("birth_date")}
	if m != forgotPassword {
		p.Username = ""
	}
	facts := recovery.Facts{Kind: storage.PrincipalKind(p.Kind), EntityNumber: p.EntityNumber, Username: p.Username,
		ApplicationNumber: p.ApplicationNumber, IDDocNumber: p.IDDocNumber}
	missing := p.EntityNumber == "" || m == forgotPassword && p.Username == ""
	switch facts.Kind {
	case storage.KindEntityAccount:
		missing = missing || p.ApplicationNumber == ""
	case storage.KindStaff:
		missing = missing || p.IDDocNumber == "" || p.BirthDate == ""
	default:
		p.Kind, missing = string(storage.KindStaff), true
	}
	if missing {
		return p, facts, kit.Fail(storage.EInvalid, "resend_error_missing")
	}
	if facts.Kind == storage.KindStaff {
		d, err := storage.ReadDate(p.BirthDate)
		if errors.Is(err, storage.ErrNoSuchDate) {
			return p, facts, kit.Fail(storage.EInvalid, "reg_error_birth_date_nonexistent")
		} else if err != nil {
			return p, facts, kit.Fail(storage.EInvalid, "resend_error_birth_date")
		}
		facts.BirthDate = d
	}
	return p, facts, nil
}

// factsKey is the counter of facts in their normalised forms: one birth
// date or ID number written several ways is one set of facts.
func factsKey(m mode, f recovery.Facts) string {
	entity := strings.ToLower(f.EntityNumber)
	if n, ok := storage.NormalizeEntityNumber(f.EntityNumber); ok {
		entity = n
	}
	fact := activation.NormalizeFact(f.ApplicationNumber)
	if f.Kind == storage.KindStaff {
		fact = activation.NormalizeFact(f.IDDocNumber) + "\x00" + f.BirthDate.Format(time.DateOnly)
	}
	sum := sha256.Sum256([]byte(string(f.Kind) + "\x00" + entity + "\x00" + strings.ToLower(f.Username) + "\x00" + fact))
	return "recover-" + m.name + ":facts:" + hex.EncodeToString(sum[:16])
}

// submitRequest sends a reset code (忘記密碼) or the username (忘記用戶名稱)
// to the registered mobile of the account the facts name. The answer is
// the same, after at least the same time, whether or not anything matched;
// every request counts before anything is looked up.
func (h *Handler) submitRequest(m mode) kit.Page {
	return func(w http.ResponseWriter, r *http.Request) error {
		ctx := r.Context()
		start := time.Now()
		t := h.k.T(h.k.Language(r))
		if err := kit.ParseForm(w, r); err != nil || !h.k.CSRFValid(r, m.binding, r.PostForm.Get("csrf_token")) {
			return kit.InForm(kit.Fail(storage.EForbidden, "activate_error_csrf"), h.requestForm(w, r, m, requestPage{}))
		}
		p, facts, err := readFacts(r, m)
		if err != nil {
			return kit.InForm(err, h.requestForm(w, r, m, p))
		}
		att, wait, err := h.k.ReserveAttempt(ctx, h.cfg.RequestWindow,
			kit.Limit{Key: factsKey(m, facts), Max: h.cfg.RequestsPerFacts},
			kit.Limit{Key: "recover:ip:" + h.k.ClientIP(r), Max: h.cfg.RequestsPerIP})
		if err != nil {
			return err
		}
		if att == nil {
			refused := kit.Throttled("resend_error_throttled", wait)
			p.Error = refused.Message(w, t)
			h.renderRequest(w, r, m, refused.Status, p)
			return nil
		}
		actor := h.k.PublicActor(r)
		var sent int
		if m == forgotPassword {
			var ok bool
			if ok, err = h.cfg.Service.RequestReset(ctx, actor, facts); ok {
				sent = 1
			}
		} else {
			sent, err = h.cfg.Service.RemindUsername(ctx, actor, facts)
		}
		if err != nil {
			return err
		}
		slog.InfoContext(ctx, "recovery request", "what", m.name, "kind", facts.Kind, "sent", sent, "ip", h.k.ClientIP(r))
		padAnswer(ctx, start, h.cfg.MinDuration)
		if m == forgotPassword {
			h.done(w, r, m.path, t["recover_done_heading"], t["recover_password_done"], ResetPath, t["recover_have_code"])
		} else {
			h.done(w, r, m.path, t["recover_done_heading"], t["recover_username_done"], portal.LoginPath, t["activate_sign_in"])
		}
		return nil
	}
}
