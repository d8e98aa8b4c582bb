package login

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/gorilla/mux"

	"github.com/entity-account/idp/login/activation"
	"github.com/entity-account/idp/login/password"
	"github.com/entity-account/idp/storage"
)

// The activation pages (manual §五, §六, §十 (8)) and the resend page (FAQ 15):
//
//	{base}/activate           「需要幫忙」: links to the three pages below
//	{base}/activate/entity    entity account: application number + code + entity number
//	{base}/activate/staff     staff login (admin or not): entity number + code + ID document number
//	{base}/activate/complete  step 2 of both: choose username and password (twice)
//	{base}/activate/resend    「重發啟動碼」: registration facts → new code to the registered mobile
//
// Activation takes two steps so that a mistake in the username or password
// does not cost a try of the code: step 1 checks the code and hands the
// browser a short-lived ticket (random, stored in Redis only as its hash,
// bound to the browser by the CSRF token); step 2 spends the ticket and the
// code in one transaction.

// Paths of the activation pages, under the issuer's path.
const (
	activatePath         = "/activate"
	activateEntityPath   = "/activate/entity"
	activateStaffPath    = "/activate/staff"
	activateCompletePath = "/activate/complete"
	resendPath           = "/activate/resend"
)

// TicketStore keeps short-lived tickets (storage/redis).
type TicketStore interface {
	CreateTicket(ctx context.Context, purpose string, value []byte, ttl time.Duration) (string, error)
	Ticket(ctx context.Context, purpose, secret string) ([]byte, error)
	DeleteTicket(ctx context.Context, purpose, secret string) error
}

// ActivationConfig turns the activation pages on.
type ActivationConfig struct {
	Service   *activation.Service
	Tickets   TicketStore
	TicketTTL time.Duration // time to choose username and password after step 1 (default 20m)
	// Failed step-1 attempts are counted per client IP and per entity number
	// in FailureWindow; over either limit the page refuses (429).
	FailuresPerIP     int
	FailuresPerEntity int
	FailureWindow     time.Duration
	// Resend requests are counted per (entity, facts) and per client IP in
	// ResendWindow, matched or not.
	ResendPerFacts int
	ResendPerIP    int
	ResendWindow   time.Duration
	// ResendMinDuration pads every resend answer to at least this long, so
	// that a match (which writes a code) cannot be told by timing. Default 300ms.
	ResendMinDuration time.Duration
	// VerifyMinDuration pads every checked step-1 answer to at least this
	// long, so that matching registration facts (which read and count
	// against the account's codes) cannot be told by timing. Default 300ms.
	VerifyMinDuration time.Duration
}

// activationPages is the state of the activation pages.
type activationPages struct {
	ActivationConfig
}

const ticketPurpose = "activate"

// EnableActivation turns the activation and resend pages on. Call it before Mount.
func (h *Handler) EnableActivation(c ActivationConfig) error {
	if c.Service == nil || c.Tickets == nil {
		return errors.New("login: activation needs its service and ticket store")
	}
	for _, name := range []string{"activate_index.html", "activate_entity.html", "activate_staff.html", "activate_choose.html", "resend.html"} {
		if h.pages.tmpl.Lookup(name) == nil {
			return fmt.Errorf("login: template %s is missing", name)
		}
	}
	if c.TicketTTL <= 0 {
		c.TicketTTL = 20 * time.Minute
	}
	if c.ResendMinDuration <= 0 {
		c.ResendMinDuration = 300 * time.Millisecond
	}
	if c.VerifyMinDuration <= 0 {
		c.VerifyMinDuration = 300 * time.Millisecond
	}
	h.act = &activationPages{c}
	return nil
}

// mountActivation registers the activation and resend-code pages (issue 3),
// when EnableActivation was called.
func (h *Handler) mountActivation(r *mux.Router) {
	if h.act == nil {
		return
	}
	post := func(f http.HandlerFunc) http.Handler { return http.NewCrossOriginProtection().Handler(f) }
	get := []string{http.MethodGet, http.MethodHead}
	r.HandleFunc(activatePath, h.showActivateIndex).Methods(get...)
	r.HandleFunc(activateEntityPath, h.showActivate(storage.KindEntityAccount)).Methods(get...)
	r.Handle(activateEntityPath, post(h.submitActivate(storage.KindEntityAccount))).Methods(http.MethodPost)
	r.HandleFunc(activateStaffPath, h.showActivate(storage.KindStaff)).Methods(get...)
	r.Handle(activateStaffPath, post(h.submitActivate(storage.KindStaff))).Methods(http.MethodPost)
	r.Handle(activateCompletePath, post(h.submitComplete)).Methods(http.MethodPost)
	r.HandleFunc(resendPath, h.showResend).Methods(get...)
	r.Handle(resendPath, post(h.submitResend)).Methods(http.MethodPost)
}

// activationCommon is common with language links to the GET of page (also
// after a POST, whose own URL may not take a GET).
func (h *Handler) activationCommon(r *http.Request, lang, page string) common {
	c := h.pages.common(r, h.cfg.BasePath, lang)
	for i := range c.Langs {
		c.Langs[i].URL = (&url.URL{Path: h.cfg.BasePath + page, RawQuery: url.Values{"lang": {c.Langs[i].Code}}.Encode()}).String()
	}
	return c
}

// activationMessage shows a message page with a link.
func (h *Handler) activationMessage(w http.ResponseWriter, r *http.Request, status int, heading, message string, isError bool, linkPath, linkText string) {
	lang := h.pages.language(r, nil)
	page := messagePage{
		common:  h.activationCommon(r, lang, activatePath),
		Heading: heading, Message: message, IsError: isError, LinkText: linkText,
	}
	if linkPath != "" {
		page.LinkURL = h.cfg.BasePath + linkPath
	}
	h.pages.render(w, status, "message.html", page)
}

// activationError logs an unexpected error and shows "try again later" (503).
func (h *Handler) activationError(w http.ResponseWriter, r *http.Request, err error) {
	status := failureStatus(err) // as internalError: 503 only for a store that cannot serve
	if status == http.StatusBadRequest {
		slog.InfoContext(r.Context(), "activation page: value refused by a store", "path", r.URL.Path, "err", err)
	} else {
		slog.ErrorContext(r.Context(), "activation page", "path", r.URL.Path, "err", err)
	}
	if status == http.StatusServiceUnavailable {
		retryAfter(w, 5*time.Second)
	}
	t := h.pages.messages[h.pages.language(r, nil)]
	h.activationMessage(w, r, status, t["activate_error_heading"], t["error_internal"], true, "", "")
}

// publicActor is the audit actor of an unauthenticated holder.
func (h *Handler) publicActor(r *http.Request) storage.Actor {
	return storage.PublicActor(h.clientIP(r))
}

// ---- index ----

type activateIndexPage struct{ common }

func (h *Handler) showActivateIndex(w http.ResponseWriter, r *http.Request) {
	h.rememberLanguage(w, r)
	lang := h.pages.language(r, nil)
	h.pages.render(w, http.StatusOK, "activate_index.html", activateIndexPage{h.activationCommon(r, lang, activatePath)})
}

// ---- step 1 ----

type activateFormPage struct {
	common
	CSRF         string
	EntityNumber string
	Fact         string // application number or ID document number
	Code         string
	Error        string
}

func kindPage(kind storage.PrincipalKind) (path, template string) {
	if kind == storage.KindEntityAccount {
		return activateEntityPath, "activate_entity.html"
	}
	return activateStaffPath, "activate_staff.html"
}

func (h *Handler) renderActivate(w http.ResponseWriter, r *http.Request, kind storage.PrincipalKind, status int, f activateFormPage) {
	path, tmpl := kindPage(kind)
	f.common = h.activationCommon(r, h.pages.language(r, nil), path)
	f.CSRF = h.csrf.token(w, r, "activate:"+string(kind))
	h.pages.render(w, status, tmpl, f)
}

func (h *Handler) showActivate(kind storage.PrincipalKind) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		h.rememberLanguage(w, r)
		h.renderActivate(w, r, kind, http.StatusOK, activateFormPage{EntityNumber: strings.TrimSpace(r.URL.Query().Get("entity_number"))})
	}
}

// activationLimits are the counters of step-1 attempts: per client IP and
// per entity number (normalised: two spellings count as one entity).
func (h *Handler) activationLimits(r *http.Request, entityNumber string) []limit {
	if n, ok := storage.NormalizeEntityNumber(entityNumber); ok {
		entityNumber = n
	}
	a := h.act
	return []limit{{"activate-fail:ip:" + h.clientIP(r), a.FailuresPerIP},
		{"activate-fail:entity:" + strings.ToLower(entityNumber), a.FailuresPerEntity}}
}

// padAnswer waits until at least d has passed since start (or the request ends).
func padAnswer(ctx context.Context, start time.Time, d time.Duration) {
	if wait := d - time.Since(start); wait > 0 {
		select {
		case <-time.After(wait):
		case <-ctx.Done():
		}
	}
}

// submitActivate is step 1: check the facts and the code, and on success
// show step 2 with a ticket.
func (h *Handler) submitActivate(kind storage.PrincipalKind) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
		t := h.pages.messages[h.pages.language(r, nil)]
		if err := r.ParseForm(); err != nil || !h.csrf.valid(r, "activate:"+string(kind), r.PostForm.Get("csrf_token")) {
			h.renderActivate(w, r, kind, http.StatusForbidden, activateFormPage{Error: t["activate_error_csrf"]})
			return
		}
		factField := "application_number"
		if kind == storage.KindStaff {
			factField = "id_doc_number"
		}
		f := activateFormPage{
			EntityNumber: strings.TrimSpace(r.PostForm.Get("entity_number")),
			Fact:         strings.TrimSpace(r.PostForm.Get(factField)),
			Code:         strings.TrimSpace(r.PostForm.Get("code")),
		}
		fail := func(status int, key string) {
			f.Error = t[key]
			h.renderActivate(w, r, kind, status, f)
		}
		if f.EntityNumber == "" || f.Fact == "" || f.Code == "" {
			fail(http.StatusBadRequest, "activate_error_missing")
			return
		}
		a := h.act
		att, wait, err := h.reserveAttempt(ctx, a.FailureWindow, h.activationLimits(r, f.EntityNumber)...)
		if err != nil {
			h.activationError(w, r, err)
			return
		}
		if att == nil {
			retryAfter(w, wait)
			f.Error = fmt.Sprintf(t["activate_error_throttled"], int(wait.Minutes())+1)
			h.renderActivate(w, r, kind, http.StatusTooManyRequests, f)
			return
		}

		start := time.Now()
		v, err := a.Service.Verify(ctx, h.publicActor(r), activation.Claim{Kind: kind, EntityNumber: f.EntityNumber, Fact: f.Fact, Code: f.Code})
		// Matching facts cost more store work than wrong ones: every checked
		// answer takes the same time.
		padAnswer(ctx, start, a.VerifyMinDuration)
		if err != nil {
			status, key := activationRefusal(err)
			if key == "" {
				att.giveBack(ctx)
				h.activationError(w, r, err)
				return
			}
			if status != http.StatusUnauthorized && status != http.StatusBadRequest {
				// Only wrong facts or codes count against the limits.
				att.giveBack(ctx)
			}
			slog.InfoContext(ctx, "activation step 1 refused", "kind", kind, "entity", printable(f.EntityNumber), "reason", key, "ip", h.clientIP(r))
			fail(status, key)
			return
		}
		att.giveBack(ctx)
		raw, err := json.Marshal(v)
		if err != nil {
			h.activationError(w, r, err)
			return
		}
		tk, err := a.Tickets.CreateTicket(ctx, ticketPurpose, raw, a.TicketTTL)
		if err != nil {
			h.activationError(w, r, err)
			return
		}
		h.renderChoose(w, r, http.StatusOK, tk, v, "", "")
	}
}

// activationRefusal maps a Verify error to a status and a message key; ""
// for an unexpected error.
func activationRefusal(err error) (int, string) {
	switch {
	case errors.Is(err, activation.ErrMalformedCode):
		return http.StatusBadRequest, "activate_error_code_format"
	case errors.Is(err, activation.ErrMismatch):
		return http.StatusUnauthorized, "activate_error_mismatch"
	case errors.Is(err, activation.ErrExpired):
		return http.StatusGone, "activate_error_expired"
	case errors.Is(err, activation.ErrUsed):
		return http.StatusConflict, "activate_error_used"
	case errors.Is(err, activation.ErrLocked):
		return http.StatusGone, "activate_error_locked"
	case errors.Is(err, activation.ErrReplaced):
		return http.StatusGone, "activate_error_replaced"
	case errors.Is(err, activation.ErrAlreadyActivated), errors.Is(err, storage.ErrConflict):
		return http.StatusConflict, "activate_error_already"
	case errors.Is(err, storage.ErrEntityAccountNotActivated):
		return http.StatusConflict, "activate_error_entity_first"
	case errors.Is(err, storage.ErrCodeNotLive):
		return http.StatusGone, "activate_error_expired"
	}
	return 0, ""
}

// ---- step 2 ----

type activateChoosePage struct {
	common
	CSRF         string
	Ticket       string
	AccountKind  string // label of the account kind
	EntityNumber string
	Name         string
	Username     string
	Error        string
}

func ticketBinding(tk string) string { return "activate-ticket\x00" + tk }

func (h *Handler) renderChoose(w http.ResponseWriter, r *http.Request, status int, tk string, v activation.Verified, username, errMsg string) {
	lang := h.pages.language(r, nil)
	t := h.pages.messages[lang]
	page, _ := kindPage(v.Account.Kind)
	kind := t["activate_kind_staff"]
	switch {
	case v.Account.Kind == storage.KindEntityAccount:
		kind = t["activate_kind_entity_account"]
	case v.Admin:
		kind = t["activate_kind_admin"]
	}
	name := strings.TrimSpace(v.NameZH + " " + v.NameForeign)
	h.pages.render(w, status, "activate_choose.html", activateChoosePage{
		common:       h.activationCommon(r, lang, page),
		CSRF:         h.csrf.token(w, r, ticketBinding(tk)),
		Ticket:       tk,
		AccountKind:  kind,
		EntityNumber: v.EntityNumber,
		Name:         name,
		Username:     username,
		Error:        errMsg,
	})
}

// submitComplete is step 2: choose the username (checked against the rule,
// then unique in the entity) and the password (twice, under the policy),
// then activate and consume the code in one transaction.
func (h *Handler) submitComplete(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
	t := h.pages.messages[h.pages.language(r, nil)]
	expired := func() {
		h.activationMessage(w, r, http.StatusBadRequest, t["activate_error_heading"], t["activate_error_ticket"], true, activatePath, t["activate_start_again"])
	}
	if err := r.ParseForm(); err != nil {
		expired()
		return
	}
	tk := r.PostForm.Get("ticket")
	if tk == "" || !h.csrf.valid(r, ticketBinding(tk), r.PostForm.Get("csrf_token")) {
		expired()
		return
	}
	raw, err := h.act.Tickets.Ticket(ctx, ticketPurpose, tk)
	if errors.Is(err, storage.ErrNotFound) {
		expired()
		return
	}
	if err != nil {
		h.activationError(w, r, err)
		return
	}
	var v activation.Verified
	if err := json.Unmarshal(raw, &v); err != nil {
		h.activationError(w, r, err)
		return
	}

	username := strings.TrimSpace(r.PostForm.Get("username"))
	pw, again := r.PostForm.Get("password"), r.PostForm.Get("password2")
	fail := func(status int, msg string) { h.renderChoose(w, r, status, tk, v, username, msg) }
	switch {
	case username == "" || pw == "" || again == "":
		fail(http.StatusBadRequest, t["activate_error_choose_missing"])
		return
	case !storage.ValidUsername(username):
		fail(http.StatusBadRequest, t["activate_error_username_rule"])
		return
	case pw != again:
		fail(http.StatusBadRequest, t["activate_error_password_mismatch"])
		return
	}
	if err := password.CheckPolicy(pw, username, v.EntityNumber, strings.ReplaceAll(v.EntityNumber, "-", "")); err != nil {
		var pe *password.PolicyError
		if !errors.As(err, &pe) {
			h.activationError(w, r, err)
			return
		}
		msg := t[pe.Key]
		if msg == "" {
			msg = t["activate_password_rule"]
		}
		fail(http.StatusBadRequest, msg)
		return
	}
	// Spare the hash when the username is taken; the database decides anyway.
	if _, err := h.dir.Principal(ctx, v.EntityNumber, username); err == nil {
		fail(http.StatusConflict, t["activate_error_username_taken"])
		return
	} else if !errors.Is(err, storage.ErrNotFound) {
		h.activationError(w, r, err)
		return
	}
	hash, err := h.hasher.Hash(ctx, pw)
	if errors.Is(err, password.ErrBusy) {
		fail(busyRefusal.status, busyRefusal.write(w, t))
		return
	}
	if err != nil {
		h.activationError(w, r, err)
		return
	}

	actor := storage.Actor{Kind: storage.ActorKind(v.Account.Kind), ID: v.Subject, IP: h.clientIP(r)}
	err = h.act.Service.Complete(ctx, actor, v, username, hash)
	switch {
	case errors.Is(err, storage.ErrAlreadyExists):
		fail(http.StatusConflict, t["activate_error_username_taken"])
		return
	case errors.Is(err, storage.ErrEntityAccountNotActivated):
		fail(http.StatusConflict, t["activate_error_entity_first"])
		return
	case errors.Is(err, storage.ErrConflict), errors.Is(err, storage.ErrCodeNotLive), errors.Is(err, storage.ErrNotFound):
		_ = h.act.Tickets.DeleteTicket(ctx, ticketPurpose, tk)
		key := "activate_error_already"
		if !errors.Is(err, storage.ErrConflict) {
			key = "activate_error_code_gone"
		}
		page, _ := kindPage(v.Account.Kind)
		h.activationMessage(w, r, http.StatusConflict, t["activate_error_heading"], t[key], true, page, t["activate_start_again"])
		return
	case err != nil:
		h.activationError(w, r, err)
		return
	}
	_ = h.act.Tickets.DeleteTicket(ctx, ticketPurpose, tk)
	slog.InfoContext(ctx, "activated", "kind", v.Account.Kind, "subject", v.Subject, "entity", v.EntityNumber, "ip", h.clientIP(r))

	msg := fmt.Sprintf(t["activate_done_entity_account"], v.EntityNumber, username)
	if v.Account.Kind == storage.KindStaff {
		msg = fmt.Sprintf(t["activate_done_staff"], v.EntityNumber, username, v.Subject)
	}
	h.activationMessage(w, r, http.StatusOK, t["activate_done_heading"], msg, false, accountLoginPath, t["activate_sign_in"])
}

// ---- resend ----

type resendPageData struct {
	common
	CSRF              string
	Kind              string // staff or entity_account
	EntityNumber      string
	ApplicationNumber string
	IDDocNumber       string
	BirthDate         string
	Error             string
}

const resendBinding = "activate:resend"

func (h *Handler) renderResend(w http.ResponseWriter, r *http.Request, status int, p resendPageData) {
	p.common = h.activationCommon(r, h.pages.language(r, nil), resendPath)
	p.CSRF = h.csrf.token(w, r, resendBinding)
	if p.Kind == "" {
		p.Kind = string(storage.KindStaff)
	}
	h.pages.render(w, status, "resend.html", p)
}

func (h *Handler) showResend(w http.ResponseWriter, r *http.Request) {
	h.rememberLanguage(w, r)
	kind := r.URL.Query().Get("kind")
	if kind != string(storage.KindEntityAccount) {
		kind = string(storage.KindStaff)
	}
	h.renderResend(w, r, http.StatusOK, resendPageData{Kind: kind})
}

// parseBirthDate accepts YYYY-MM-DD (what a date input sends) and YYYY/MM/DD.
func parseBirthDate(s string) (time.Time, bool) { return storage.ParseBirthDate(s) }

// submitResend issues a new code to the registered mobile of a matching,
// not-yet-activated account. The answer is the same, after at least the
// same time, whether or not anything matched; only the form's facts are
// read (a mobile number in the request is never used).
func (h *Handler) submitResend(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	start := time.Now()
	r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
	t := h.pages.messages[h.pages.language(r, nil)]
	if err := r.ParseForm(); err != nil || !h.csrf.valid(r, resendBinding, r.PostForm.Get("csrf_token")) {
		h.renderResend(w, r, http.StatusForbidden, resendPageData{Error: t["activate_error_csrf"]})
		return
	}
	p := resendPageData{
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
		p.Error = t["resend_error_missing"]
		h.renderResend(w, r, http.StatusBadRequest, p)
		return
	}
	if req.Kind == storage.KindStaff {
		d, ok := parseBirthDate(p.BirthDate)
		if !ok {
			p.Error = t["resend_error_birth_date"]
			h.renderResend(w, r, http.StatusBadRequest, p)
			return
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
	a := h.act
	att, wait, err := h.reserveAttempt(ctx, a.ResendWindow,
		limit{"resend:facts:" + hex.EncodeToString(sum[:16]), a.ResendPerFacts},
		limit{"resend:ip:" + h.clientIP(r), a.ResendPerIP})
	if err != nil {
		h.activationError(w, r, err)
		return
	}
	if att == nil {
		retryAfter(w, wait)
		p.Error = fmt.Sprintf(t["resend_error_throttled"], int(wait.Minutes())+1)
		h.renderResend(w, r, http.StatusTooManyRequests, p)
		return
	}

	n, err := a.Service.Resend(ctx, h.publicActor(r), req)
	if err != nil {
		h.activationError(w, r, err)
		return
	}
	slog.InfoContext(ctx, "resend activation code", "kind", req.Kind, "entity", entity, "issued", n, "ip", h.clientIP(r))
	padAnswer(ctx, start, a.ResendMinDuration)
	page, _ := kindPage(req.Kind)
	h.activationMessage(w, r, http.StatusOK, t["resend_done_heading"], t["resend_done"], false, page, t["resend_to_activation"])
}
