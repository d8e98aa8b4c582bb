package activationpages

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
	"github.com/entity-account/idp/storage"
)

type resendPage struct {
	kit.Common
	CSRF              string
	Kind              string // staff or entity_account
	EntityNumber      string
	ApplicationNumber string
	IDDocNumber       string
	BirthDate         string
	Error             string
	Fields            kit.Fields // the fields the refusal (Error) concerns, and the focus
	// invalid are the fields the refusal concerns, for Fields.
	invalid []string
}

const resendBinding = "activate:resend"

// fields are the form's fields of p's kind, in the page's order, and the
// values they are shown with.
func (p resendPage) fields() ([]string, map[string]string) {
	shown := map[string]string{"entity_number": p.EntityNumber, "application_number": p.ApplicationNumber,
		"id_doc_number": p.IDDocNumber, "birth_date": p.BirthDate}
	if p.Kind == string(storage.KindEntityAccount) {
		return []string{"entity_number", "application_number"}, shown
	}
	return []string{"entity_number", "id_doc_number", "birth_date"}, shown
}

func (h *Handler) renderResend(w http.ResponseWriter, r *http.Request, status int, p resendPage) {
	p.Common = h.common(r, h.k.Language(r), resendPath)
	p.CSRF = h.k.CSRFToken(w, r, resendBinding)
	if p.Kind == "" {
		p.Kind = string(storage.KindStaff)
	}
	names, shown := p.fields()
	p.Fields = kit.FieldsOf(names, shown, p.invalid...)
	h.k.Render(w, status, "resend.html", p)
}

// resendForm is the resend form as submitted (p), for the error writer:
// a form not filled in marks its empty fields, a date that cannot be read
// the date.
func (h *Handler) resendForm(w http.ResponseWriter, r *http.Request, p resendPage) func(int, string) {
	return func(status int, key string) {
		p.Error = h.k.T(h.k.Language(r))[key]
		switch key {
		case "resend_error_missing":
			if p.Kind == "" {
				p.Kind = string(storage.KindStaff)
			}
			names, shown := p.fields()
			p.invalid = kit.Empty(shown, names...)
		case "resend_error_birth_date":
			p.invalid = []string{"birth_date"}
		}
		h.renderResend(w, r, status, p)
	}
}

func (h *Handler) showResend(w http.ResponseWriter, r *http.Request) {
	h.k.RememberLanguage(w, r)
	kind := r.URL.Query().Get("kind")
	if kind != string(storage.KindEntityAccount) {
		kind = string(storage.KindStaff)
	}
	h.renderResend(w, r, http.StatusOK, resendPage{Kind: kind})
}

// submitResend issues a new code to the registered mobile of a matching,
// not-yet-activated account. The answer is the same, after at least the
// same time, whether or not anything matched; only the form's facts are
// read (a mobile number in the request is never used).
func (h *Handler) submitResend(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	start := time.Now()
	t := h.k.T(h.k.Language(r))
	if err := kit.ParseForm(w, r); err != nil || !h.k.CSRFValid(r, resendBinding, r.PostForm.Get("csrf_token")) {
		return kit.InForm(kit.Fail(storage.EForbidden, "activate_error_csrf"), h.resendForm(w, r, resendPage{}))
	}
	p := resendPage{
		Kind:              r.PostForm.Get("kind"),
		EntityNumber:      strings.TrimSpace(r.PostForm.Get("entity_number")),
		ApplicationNumber: strings.TrimSpace(r.PostForm.Get("application_number")),
		IDDocNumber:       strings.TrimSpace(r.PostForm.Get("id_doc_number")),
		BirthDate:         strings.TrimSpace(r.PostForm.Get("birth_date")),
	}
	req := activation.ResendRequest{EntityNumber: p.EntityNumber}
	fact := ""
	switch p.Kind {
	case string(storage.KindEntityAccount):
		req.Kind, req.ApplicationNumber, fact = storage.KindEntityAccount, p.ApplicationNumber, p.ApplicationNumber
	case string(storage.KindStaff):
		req.Kind, req.IDDocNumber, fact = storage.KindStaff, p.IDDocNumber, p.IDDocNumber+"\x00"+p.BirthDate
	default:
		p.Kind = ""
	}
	if p.Kind == "" || p.EntityNumber == "" || (req.Kind == storage.KindEntityAccount && p.ApplicationNumber == "") ||
		(req.Kind == storage.KindStaff && (p.IDDocNumber == "" || p.BirthDate == "")) {
		return kit.InForm(kit.Fail(storage.EInvalid, "resend_error_missing"), h.resendForm(w, r, p))
	}
	if req.Kind == storage.KindStaff {
		d, err := storage.ReadDate(p.BirthDate)
		if errors.Is(err, storage.ErrNoSuchDate) {
			return kit.InForm(kit.Fail(storage.EInvalid, "reg_error_birth_date_nonexistent"), h.resendForm(w, r, p))
		} else if err != nil {
			return kit.InForm(kit.Fail(storage.EInvalid, "resend_error_birth_date"), h.resendForm(w, r, p))
		}
		req.BirthDate = d
	}

	// Every request counts, matched or not, so the limits say nothing either.
	// The facts are counted in their normalised forms: one birth date or ID
	// number written several ways is one set of facts.
	entity := strings.ToLower(p.EntityNumber)
	if n, ok := storage.NormalizeEntityNumber(p.EntityNumber); ok {
		entity = n
	}
	if req.Kind == storage.KindStaff {
		fact = activation.NormalizeFact(p.IDDocNumber) + "\x00" + req.BirthDate.Format(time.DateOnly)
	} else {
		fact = activation.NormalizeFact(fact)
	}
	sum := sha256.Sum256([]byte(string(req.Kind) + "\x00" + entity + "\x00" + fact))
	a := h.cfg
	att, wait, err := h.k.ReserveAttempt(ctx, a.ResendWindow,
		kit.Limit{Key: "resend:facts:" + hex.EncodeToString(sum[:16]), Max: a.ResendPerFacts},
		kit.Limit{Key: "resend:ip:" + h.k.ClientIP(r), Max: a.ResendPerIP})
	if err != nil {
		return err
	}
	if att == nil {
		refused := kit.Throttled("resend_error_throttled", wait)
		p.Error = refused.Message(w, t)
		h.renderResend(w, r, refused.Status, p)
		return nil
	}

	n, err := a.Service.Resend(ctx, h.k.PublicActor(r), req)
	if err != nil {
		return err
	}
	slog.InfoContext(ctx, "resend activation code", "kind", req.Kind, "entity", entity, "issued", n, "ip", h.k.ClientIP(r))
	padAnswer(ctx, start, a.ResendMinDuration)
	page, _ := kindPage(req.Kind)
	h.done(w, r, t["resend_done_heading"], t["resend_done"], page, t["resend_to_activation"])
	return nil
}
