package activationpages

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/entity-account/idp/login/activation"
	"github.com/entity-account/idp/login/kit"
	"github.com/entity-account/idp/login/password"
	"github.com/entity-account/idp/login/portal"
	"github.com/entity-account/idp/storage"
)

// ---- index ----

type indexPage struct{ kit.Common }

func (h *Handler) showIndex(w http.ResponseWriter, r *http.Request) {
	h.k.RememberLanguage(w, r)
	h.k.Render(w, http.StatusOK, "activate_index.html", indexPage{h.common(r, h.k.Language(r), activatePath)})
}

// ---- step 1 ----

type activateFormPage struct {
	kit.Common
	CSRF         string
	EntityNumber string
	Fact         string // application number or ID document number
	Code         string
	Error        string
	Fields       kit.Fields // the fields the refusal (Error) concerns, and the focus
	// invalid are the fields the refusal concerns, for Fields.
	invalid []string
}

func kindPage(kind storage.PrincipalKind) (path, template string) {
	if kind == storage.KindEntityAccount {
		return activateEntityPath, "activate_entity.html"
	}
	return activateStaffPath, "activate_staff.html"
}

// step1Fields are the fields of step 1 of kind, in the page's order.
func step1Fields(kind storage.PrincipalKind) []string {
	if kind == storage.KindEntityAccount {
		return []string{"application_number", "code", "entity_number"}
	}
	return []string{"entity_number", "code", "id_doc_number"}
}

// factField is the field of kind's registration fact.
func factField(kind storage.PrincipalKind) string {
	if kind == storage.KindEntityAccount {
		return "application_number"
	}
	return "id_doc_number"
}

// shown are step 1's fields with the values of f.
func (f activateFormPage) shown(kind storage.PrincipalKind) map[string]string {
	return map[string]string{"entity_number": f.EntityNumber, factField(kind): f.Fact, "code": f.Code}
}

// step1Refusal are the fields a refusal of step 1 (its catalogue key)
// concerns: every field for facts and a code that do not match, the code
// for a code that cannot be used, the empty ones for a form not filled in.
func step1Refusal(kind storage.PrincipalKind, f activateFormPage, key string) []string {
	switch key {
	case "activate_error_missing":
		return kit.Empty(f.shown(kind), step1Fields(kind)...)
	case "activate_error_mismatch":
		return step1Fields(kind)
	case "activate_error_code_format", "activate_error_expired", "activate_error_used", "activate_error_locked", "activate_error_replaced":
		return []string{"code"}
	}
	return nil
}

func (h *Handler) renderActivate(w http.ResponseWriter, r *http.Request, kind storage.PrincipalKind, status int, f activateFormPage) {
	path, tmpl := kindPage(kind)
	f.Common = h.common(r, h.k.Language(r), path)
	f.CSRF = h.k.CSRFToken(w, r, "activate:"+string(kind))
	f.Fields = kit.FieldsOf(step1Fields(kind), f.shown(kind), f.invalid...)
	h.k.Render(w, status, tmpl, f)
}

// activateForm is step 1's form as submitted (f), for the error writer.
func (h *Handler) activateForm(w http.ResponseWriter, r *http.Request, kind storage.PrincipalKind, f activateFormPage) func(int, string) {
	return func(status int, key string) {
		f.Error, f.invalid = h.k.T(h.k.Language(r))[key], step1Refusal(kind, f, key)
		h.renderActivate(w, r, kind, status, f)
	}
}

func (h *Handler) showActivate(kind storage.PrincipalKind) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		h.k.RememberLanguage(w, r)
		h.renderActivate(w, r, kind, http.StatusOK, activateFormPage{EntityNumber: strings.TrimSpace(r.URL.Query().Get("entity_number"))})
	}
}

// limits are the counters of step-1 attempts: per client IP and per entity
// number (normalised: two spellings count as one entity).
func (h *Handler) limits(r *http.Request, entityNumber string) []kit.Limit {
	if n, ok := storage.NormalizeEntityNumber(entityNumber); ok {
		entityNumber = n
	}
	return []kit.Limit{{Key: "activate-fail:ip:" + h.k.ClientIP(r), Max: h.cfg.FailuresPerIP},
		{Key: "activate-fail:entity:" + strings.ToLower(entityNumber), Max: h.cfg.FailuresPerEntity}}
}

// submitActivate is step 1: check the facts and the code, and on success
// show step 2 with a ticket.
func (h *Handler) submitActivate(kind storage.PrincipalKind) kit.Page {
	return func(w http.ResponseWriter, r *http.Request) error {
		ctx := r.Context()
		t := h.k.T(h.k.Language(r))
		if err := kit.ParseForm(w, r); err != nil || !h.k.CSRFValid(r, "activate:"+string(kind), r.PostForm.Get("csrf_token")) {
			return kit.InForm(kit.Fail(storage.EForbidden, "activate_error_csrf"), h.activateForm(w, r, kind, activateFormPage{}))
		}
		f := activateFormPage{
			EntityNumber: strings.TrimSpace(r.PostForm.Get("entity_number")),
			Fact:         strings.TrimSpace(r.PostForm.Get(factField(kind))),
			Code:         strings.TrimSpace(r.PostForm.Get("code")),
		}
		if f.EntityNumber == "" || f.Fact == "" || f.Code == "" {
			return kit.InForm(kit.Fail(storage.EInvalid, "activate_error_missing"), h.activateForm(w, r, kind, f))
		}
		a := h.cfg
		att, wait, err := h.k.ReserveAttempt(ctx, a.FailureWindow, h.limits(r, f.EntityNumber)...)
		if err != nil {
			return err
		}
		if att == nil {
			refused := kit.Throttled("activate_error_throttled", wait)
			f.Error = refused.Message(w, t)
			h.renderActivate(w, r, kind, refused.Status, f)
			return nil
		}

		start := time.Now()
		v, err := a.Service.Verify(ctx, h.k.PublicActor(r), activation.Claim{Kind: kind, EntityNumber: f.EntityNumber, Fact: f.Fact, Code: f.Code})
		// Matching facts cost more store work than wrong ones: every checked
		// answer takes the same time.
		padAnswer(ctx, start, a.VerifyMinDuration)
		if err != nil {
			refused := activationRefusal(err)
			if refused == nil {
				att.GiveBack(ctx)
				return err
			}
			if code := storage.CodeOf(refused); code != storage.EUnauthenticated && code != storage.EInvalid {
				// Only wrong facts or codes count against the limits.
				att.GiveBack(ctx)
			}
			slog.InfoContext(ctx, "activation step 1 refused", "kind", kind, "entity", kit.Printable(f.EntityNumber), "reason", refused.Key(), "ip", h.k.ClientIP(r))
			return kit.InForm(refused, h.activateForm(w, r, kind, f))
		}
		att.GiveBack(ctx)
		tk, err := h.ticket.Issue(ctx, v)
		if err != nil {
			return err
		}
		h.renderChoose(w, r, http.StatusOK, tk, v, "", "")
		return nil
	}
}

// activationRefusal is the refusal of a Verify error, for the error
// writer (its code sets the status, its key the message); nil for a
// failure that is not the person's (a store fault).
func activationRefusal(err error) *kit.Failure {
	switch {
	case errors.Is(err, activation.ErrMalformedCode):
		return kit.Fail(storage.EInvalid, "activate_error_code_format")
	case errors.Is(err, activation.ErrMismatch):
		return kit.Fail(storage.EUnauthenticated, "activate_error_mismatch")
	case errors.Is(err, activation.ErrExpired), errors.Is(err, storage.ErrCodeNotLive):
		return kit.Fail(storage.EGone, "activate_error_expired")
	case errors.Is(err, activation.ErrLocked):
		return kit.Fail(storage.EGone, "activate_error_locked")
	case errors.Is(err, activation.ErrReplaced):
		return kit.Fail(storage.EGone, "activate_error_replaced")
	case errors.Is(err, activation.ErrUsed):
		return kit.Fail(storage.EConflict, "activate_error_used")
	case errors.Is(err, activation.ErrAlreadyActivated), errors.Is(err, storage.ErrConflict):
		return kit.Fail(storage.EConflict, "activate_error_already")
	case errors.Is(err, storage.ErrEntityAccountNotActivated):
		return kit.Fail(storage.EConflict, "activate_error_entity_first")
	}
	return nil
}

// ---- step 2 ----

type choosePage struct {
	kit.Common
	CSRF         string
	Ticket       string
	AccountKind  string // label of the account kind
	EntityNumber string
	Name         string
	Username     string
	Error        string
	Fields       kit.Fields // the fields the refusal (Error) concerns, and the focus
}

// chooseFields are the fields of step 2, in the page's order.
var chooseFields = []string{"username", "password", "password2"}

// errTicketGone: the step-1 ticket is missing, forged or expired; step 1
// must be done again.
var errTicketGone = kit.Fail(storage.EInvalid, "activate_error_ticket").WithLink(activatePath, "activate_start_again")

// renderChoose shows step 2 with the username kept (the passwords never)
// and the message errMsg of a refusal that concerns the fields invalid.
func (h *Handler) renderChoose(w http.ResponseWriter, r *http.Request, status int, tk string, v activation.Verified, username, errMsg string, invalid ...string) {
	lang := h.k.Language(r)
	t := h.k.T(lang)
	page, _ := kindPage(v.Account.Kind)
	kind := t["activate_kind_staff"]
	switch {
	case v.Account.Kind == storage.KindEntityAccount:
		kind = t["activate_kind_entity_account"]
	case v.Admin:
		kind = t["activate_kind_admin"]
	}
	name := strings.TrimSpace(v.NameZH + " " + v.NameForeign)
	h.k.Render(w, status, "activate_choose.html", choosePage{
		Common:       h.common(r, lang, page),
		CSRF:         h.ticket.CSRF(h.k, w, r, tk),
		Ticket:       tk,
		AccountKind:  kind,
		EntityNumber: v.EntityNumber,
		Name:         name,
		Username:     username,
		Error:        errMsg,
		Fields:       kit.FieldsOf(chooseFields, map[string]string{"username": username}, invalid...),
	})
}

// submitComplete is step 2: choose the username (checked against the rule,
// then unique in the entity) and the password (twice, under the policy),
// then activate and consume the code in one transaction.
func (h *Handler) submitComplete(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	t := h.k.T(h.k.Language(r))
	var v activation.Verified
	tk, err := h.ticket.Posted(h.k, w, r, &v)
	if err != nil {
		return err
	}
	username := strings.TrimSpace(r.PostForm.Get("username"))
	pw, again := r.PostForm.Get("password"), r.PostForm.Get("password2")
	// refuse answers err, or else step 2 again with c's message, its
	// fields marked.
	refuse := func(c *choiceRefusal, err error) error {
		if err != nil {
			return err
		}
		return kit.InForm(kit.Fail(c.code, c.key), func(status int, key string) { h.renderChoose(w, r, status, tk, v, username, t[key], c.invalid...) })
	}
	if refused, err := h.checkChoice(ctx, t, v, username, pw, again); err != nil || refused != nil {
		return refuse(refused, err)
	}
	hash, err := h.hasher.Hash(ctx, pw)
	if errors.Is(err, password.ErrBusy) {
		h.renderChoose(w, r, kit.Busy.Status, tk, v, username, kit.Busy.Message(w, t))
		return nil
	}
	if err != nil {
		return err
	}
	actor := storage.Actor{Kind: storage.ActorKind(v.Account.Kind), ID: v.Subject, IP: h.k.ClientIP(r)}
	if refused, err := h.completeRefusal(ctx, tk, v, h.cfg.Service.Complete(ctx, actor, v, username, hash)); err != nil || refused != nil {
		return refuse(refused, err)
	}
	h.ticket.Spend(ctx, tk)
	slog.InfoContext(ctx, "activated", "kind", v.Account.Kind, "subject", v.Subject, "entity", v.EntityNumber, "ip", h.k.ClientIP(r))

	msg := fmt.Sprintf(t["activate_done_entity_account"], v.EntityNumber, username)
	if v.Account.Kind == storage.KindStaff {
		msg = fmt.Sprintf(t["activate_done_staff"], v.EntityNumber, username, v.Subject)
	}
	h.done(w, r, t["activate_done_heading"], msg, portal.LoginPath, t["activate_sign_in"])
	return nil
}

// choiceRefusal is why the username and password chosen at step 2 are
// refused: the code, the message's key and the fields it marks.
type choiceRefusal struct {
	code    storage.ErrorCode
	key     string
	invalid []string
}

// checkChoice checks the username and password chosen against the rules,
// before any hash: all fields given, the username's rule, the password
// typed twice alike and the password policy, the username free.
func (h *Handler) checkChoice(ctx context.Context, t map[string]string, v activation.Verified, username, pw, again string) (*choiceRefusal, error) {
	switch {
	case username == "" || pw == "" || again == "":
		return &choiceRefusal{storage.EInvalid, "activate_error_choose_missing",
			kit.Empty(map[string]string{"username": username, "password": pw, "password2": again}, chooseFields...)}, nil
	case !storage.ValidUsername(username):
		return &choiceRefusal{storage.EInvalid, "activate_error_username_rule", []string{"username"}}, nil
	case pw != again:
		return &choiceRefusal{storage.EInvalid, "activate_error_password_mismatch", []string{"password2"}}, nil
	}
	if err := password.CheckPolicy(pw, username, v.EntityNumber, strings.ReplaceAll(v.EntityNumber, "-", "")); err != nil {
		var pe *password.PolicyError
		if !errors.As(err, &pe) {
			return nil, err
		}
		key := pe.Key
		if t[key] == "" {
			key = "activate_password_rule"
		}
		return &choiceRefusal{storage.EInvalid, key, []string{"password"}}, nil
	}
	// Spare the hash when the username is taken; the database decides anyway.
	if _, err := h.k.Dir.Principal(ctx, v.EntityNumber, username); err == nil {
		return &choiceRefusal{storage.EConflict, "activate_error_username_taken", []string{"username"}}, nil
	} else if !errors.Is(err, storage.ErrNotFound) {
		return nil, err
	}
	return nil, nil
}

// completeRefusal is the answer to the activation's refusal err (nil:
// none): a choice to make again, or the code spent or replaced meanwhile
// (the ticket goes with it; step 1 again).
func (h *Handler) completeRefusal(ctx context.Context, tk string, v activation.Verified, err error) (*choiceRefusal, error) {
	switch {
	case errors.Is(err, storage.ErrAlreadyExists):
		return &choiceRefusal{storage.EConflict, "activate_error_username_taken", []string{"username"}}, nil
	case errors.Is(err, storage.ErrEntityAccountNotActivated):
		return &choiceRefusal{code: storage.EConflict, key: "activate_error_entity_first"}, nil
	case errors.Is(err, storage.ErrConflict), errors.Is(err, storage.ErrCodeNotLive), errors.Is(err, storage.ErrNotFound):
		h.ticket.Spend(ctx, tk)
		key := "activate_error_already"
		if !errors.Is(err, storage.ErrConflict) {
			key = "activate_error_code_gone"
		}
		page, _ := kindPage(v.Account.Kind)
		return nil, kit.Fail(storage.EConflict, key).WithLink(page, "activate_start_again")
	}
	return nil, err
}
