package tools

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/entity-account/idp/login/notify"
	"github.com/entity-account/idp/storage"
)

// The in-person approval of a pending 安全驗證碼 by QR code (FAQ 19: the
// person shows a QR code at the counter of 行政公職局, with the identity
// document the login was registered with; the officer scans it).
//
// The person's own page makes the QR code (ShowApproval) after the person
// typed the current code of its authenticator app: that proves it holds
// the device, with the code check of sign-in (throttled per login, each
// code once: the step is stored, ProvePendingTOTP). The QR code carries a
// token signed with HMAC-SHA256 under a key of its own (DeriveKey(master,
// "desk-approval")) that names the entity, the EUID, the tool and the
// token's expiry (ApprovalTTL) and an id; it signs nobody in and is worth
// nothing but to an officer at the desk. A short code (12 characters of
// Crockford's base32, in groups of four) stands for the same token in
// Redis, for a desk without a camera. A newer QR code replaces the
// older; one is used once.
//
// The officer's desk resolves the token (ResolveApproval: who, which
// entity, the identity document to compare with the one in hand, masked;
// RevealDocument shows it whole, audited), then approves with the
// document checked (ApproveInPerson): the rule book (the officer may
// ActApproveTools), the document the same as the registration's, the token
// spent, the same tool still pending; tool.approve names the document
// checked and the officer, and the holder is told.

// ApprovalTTL is how long an approval QR code (and its typed code) works.
const ApprovalTTL = 10 * time.Minute

// Approvals is the short-lived side of approval QR codes (storage/redis).
type Approvals interface {
	PutApproval(ctx context.Context, loginID int64, id, code, token string, ttl time.Duration) error
	ApprovalToken(ctx context.Context, code string) (string, error)
	ApprovalState(ctx context.Context, loginID int64, id string) (storage.ApprovalState, error)
	SpendApproval(ctx context.Context, loginID int64, id string, ttl time.Duration) (storage.ApprovalState, error)
}

// approvals is the state of in-person approvals, set by EnableApprovals.
type approvals struct {
	key   []byte
	store Approvals
}

// EnableApprovals turns approval QR codes on: key (32 bytes or more:
// op.DeriveKey(master, "desk-approval")) signs their tokens, store keeps
// the latest of each login, the used ones and the typed codes. Call it
// before the service is shared.
func (s *Service) EnableApprovals(key []byte, store Approvals) error {
	if len(key) < 32 || store == nil {
		return errors.New("tools: approvals need a key of 32 bytes or more and their store")
	}
	s.approvals = &approvals{key: append([]byte(nil), key...), store: store}
	return nil
}

// ApprovalQR is what the person's page shows: the token (for the QR
// code), the code to type in its stead, and until when they work.
type ApprovalQR struct {
	Token     string
	Code      string // grouped: XXXX-XXXX-XXXX
	ExpiresAt time.Time
}

// Approval is a resolved approval QR code as the officer sees it: the
// staff login and entity it names, the identity document to compare with
// the one in hand, and the tool.
type Approval struct {
	Token        string // the token itself (a typed code resolves to it)
	EntityNumber string
	EntityName   string
	EUID         string
	Username     string
	NameZH       string
	NameForeign  string
	DocType      string // storage.IDPassport, …
	DocMasked    string // storage.MaskDocNumber of the registered number
	// DocNumber is the registered number whole: set by RevealDocument
	// (audited) alone.
	DocNumber     string
	DocIssuePlace string
	Tool          storage.IdentityTool
	ExpiresAt     time.Time
}

// CheckedDocument is the identity document the officer checked in person,
// as typed at the desk.
type CheckedDocument struct {
	Type   string
	Number string
}

// Refusals of approval QR codes.
var (
	errApprovalInvalid = &storage.Error{Code: storage.EInvalid, Key: "toolsqr_error_invalid", Field: "token",
		Message: "This is not a valid approval QR code (it was altered, or is none of ours)."}
	errApprovalUnknown = &storage.Error{Code: storage.EInvalid, Key: "toolsqr_error_unknown", Field: "token",
		Message: "No approval matches this code: it is mistyped or expired; ask the person to show a new QR code."}
	errApprovalExpired = &storage.Error{Code: storage.EConflict, Key: "toolsqr_error_expired", Field: "token",
		Message: "This approval QR code has expired; ask the person to show a new one."}
	errApprovalUsed = &storage.Error{Code: storage.EConflict, Key: "toolsqr_error_used", Field: "token",
		Message: "This approval QR code was used already."}
	errApprovalReplaced = &storage.Error{Code: storage.EConflict, Key: "toolsqr_error_replaced", Field: "token",
		Message: "The person has shown a newer approval QR code since; scan the newest one."}
	errApprovalNotPending = &storage.Error{Code: storage.EConflict, Key: "toolsqr_error_not_pending", Field: "token",
		Message: "The staff login has no security verification code waiting for this approval any more (approved, reset, or the login is not active)."}
	errDocumentType = &storage.Error{Code: storage.EInvalid, Key: "toolsqr_error_document_type", Field: "document_type",
		Message: "Choose the type of the identity document checked."}
	errDocumentMismatch = &storage.Error{Code: storage.EInvalid, Key: "toolsqr_error_document", Field: "document_number",
		Message: "The document checked is not the one this staff login was registered with: it cannot be approved."}
	errNoApprovals = errors.New("tools: approvals are not enabled")
)

// tokenPrefix starts every approval token (its version): what tells a
// scanned token from a typed code.
const tokenPrefix = "DA1"

// approvalToken is what a token says.
type approvalToken struct {
	entityNumber, euid string
	toolID             int64
	expires            time.Time
	id                 string
}

// sign writes t as a token: its fields and their MAC, dot-separated.
func (a *approvals) sign(t approvalToken) string {
	payload := strings.Join([]string{tokenPrefix, t.entityNumber, t.euid, strconv.FormatInt(t.toolID, 10),
		strconv.FormatInt(t.expires.Unix(), 10), t.id}, ".")
	return payload + "." + a.mac(payload)
}

func (a *approvals) mac(payload string) string {
	m := hmac.New(sha256.New, a.key)
	m.Write([]byte(payload))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil)[:16])
}

// parse checks a token's MAC and reads it; it does not look at the time.
func (a *approvals) parse(token string) (approvalToken, error) {
	cut := strings.LastIndexByte(token, '.')
	if cut < 0 || len(token) > 200 || !hmac.Equal([]byte(a.mac(token[:cut])), []byte(token[cut+1:])) {
		return approvalToken{}, errApprovalInvalid
	}
	f := strings.Split(token[:cut], ".")
	if len(f) != 6 || f[0] != tokenPrefix {
		return approvalToken{}, errApprovalInvalid
	}
	toolID, err1 := strconv.ParseInt(f[3], 10, 64)
	exp, err2 := strconv.ParseInt(f[4], 10, 64)
	if err1 != nil || err2 != nil {
		return approvalToken{}, errApprovalInvalid
	}
	return approvalToken{entityNumber: f[1], euid: f[2], toolID: toolID, expires: time.Unix(exp, 0), id: f[5]}, nil
}

// crockford is Crockford's base32 alphabet: no I, L, O or U.
const crockford = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"

// codeLength is the typed code's length: 60 random bits.
const codeLength = 12

// newTypedCode is a random typed code, ungrouped.
func newTypedCode() (string, error) {
	b := make([]byte, codeLength)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	for i := range b {
		b[i] = crockford[b[i]&31]
	}
	return string(b), nil
}

// NormalizeApprovalCode reads a typed code as Crockford's base32 is read:
// case, spaces and hyphens do not matter, O is 0, I and L are 1. ok is
// false when it is no typed code.
func NormalizeApprovalCode(s string) (string, bool) {
	var b strings.Builder
	for _, c := range strings.ToUpper(s) {
		switch {
		case c == ' ' || c == '-':
			continue
		case c == 'O':
			c = '0'
		case c == 'I' || c == 'L':
			c = '1'
		case !strings.ContainsRune(crockford, c):
			return "", false
		}
		b.WriteRune(c)
	}
	return b.String(), b.Len() == codeLength
}

// groupCode writes a typed code in groups of four.
func groupCode(code string) string {
	return code[:4] + "-" + code[4:8] + "-" + code[8:]
}

// ShowApproval makes the approval QR code of the pending 安全驗證碼 of the
// staff login euid of the actor's entity, by the login itself, after code
// (the authenticator app's code now) proved the device: checked as at
// sign-in, throttled, and accepted once. A newer QR code replaces the
// login's older one. Errors: ENotFound, EForbidden, EInvalid (the code),
// EConflict (no TOTP pending, too many codes).
func (s *Service) ShowApproval(ctx context.Context, actor storage.Actor, euid, code string) (ApprovalQR, error) {
	if s.approvals == nil {
		return ApprovalQR{}, errNoApprovals
	}
	sl, err := s.dir.StaffLoginOf(ctx, actor.EntityID, euid)
	if err != nil {
		return ApprovalQR{}, notFound(err, "Staff login "+euid)
	}
	if !storage.CanEnrolTool(actor, sl) {
		return ApprovalQR{}, forbidden("show the approval QR code of this login (only the login itself may)")
	}
	e, err := s.dir.Entity(ctx, sl.EntityID)
	if err != nil {
		return ApprovalQR{}, err
	}
	t, err := s.check(ctx, sl.ID, code, storage.ToolPending, func(step int64) (storage.IdentityTool, error) {
		return s.dir.ProvePendingTOTP(ctx, sl.ID, step)
	})
	if err != nil {
		return ApprovalQR{}, err
	}
	id := make([]byte, 9)
	if _, err := rand.Read(id); err != nil {
		return ApprovalQR{}, err
	}
	typed, err := newTypedCode()
	if err != nil {
		return ApprovalQR{}, err
	}
	exp := s.Now().Add(ApprovalTTL).Truncate(time.Second)
	tok := s.approvals.sign(approvalToken{entityNumber: e.Number, euid: sl.EUID, toolID: t.ID, expires: exp,
		id: base64.RawURLEncoding.EncodeToString(id)})
	if err := s.approvals.store.PutApproval(ctx, sl.ID, base64.RawURLEncoding.EncodeToString(id), typed, tok, ApprovalTTL); err != nil {
		return ApprovalQR{}, err
	}
	return ApprovalQR{Token: tok, Code: groupCode(typed), ExpiresAt: exp}, nil
}

// resolved is a token found good, with what it names.
type resolved struct {
	tok approvalToken
	sl  storage.StaffLogin
	e   storage.Entity
	t   storage.IdentityTool
}

// resolve reads input (a token, or a typed code standing for one) and
// checks it: signed by us, not expired, the login's latest and unused, and
// the tool it names still the login's pending 安全驗證碼.
func (s *Service) resolve(ctx context.Context, input string) (resolved, error) {
	var r resolved
	if s.approvals == nil {
		return r, errNoApprovals
	}
	token := strings.TrimSpace(input)
	if !strings.HasPrefix(token, tokenPrefix+".") {
		code, ok := NormalizeApprovalCode(token)
		if !ok {
			return r, errApprovalUnknown
		}
		var err error
		if token, err = s.approvals.store.ApprovalToken(ctx, code); errors.Is(err, storage.ErrNotFound) {
			return r, errApprovalUnknown
		} else if err != nil {
			return r, err
		}
	}
	tok, err := s.approvals.parse(token)
	if err != nil {
		return r, err
	}
	if !s.Now().Before(tok.expires) {
		return r, errApprovalExpired
	}
	r.tok = tok
	if r.e, err = s.dir.EntityByNumber(ctx, tok.entityNumber); err != nil {
		return r, notFound(err, "Entity "+tok.entityNumber)
	}
	if r.sl, err = s.dir.StaffLoginOf(ctx, r.e.ID, tok.euid); err != nil {
		return r, notFound(err, "Staff login "+tok.euid)
	}
	if err := approvalStateErr(s.approvals.store.ApprovalState(ctx, r.sl.ID, tok.id)); err != nil {
		return r, err
	}
	return r, s.stillPending(ctx, &r)
}

// stillPending reads the tool r's token names: it must still be the
// login's pending 安全驗證碼 (not approved, not reset and enrolled again),
// of an active login.
func (s *Service) stillPending(ctx context.Context, r *resolved) error {
	t, _, err := s.dir.TOTP(ctx, r.sl.ID)
	if errors.Is(err, storage.ErrNotFound) {
		return errApprovalNotPending
	}
	if err != nil {
		return err
	}
	if t.ID != r.tok.toolID || t.State != storage.ToolPending || r.sl.Status != storage.StatusActive {
		return errApprovalNotPending
	}
	r.t = t
	return nil
}

// approvalStateErr is the refusal of a token that is not current.
func approvalStateErr(st storage.ApprovalState, err error) error {
	switch {
	case err != nil:
		return err
	case st == storage.ApprovalUsed:
		return errApprovalUsed
	case st != storage.ApprovalCurrent:
		return errApprovalReplaced
	}
	return nil
}

// view is what the officer sees of r.
func (r resolved) view(token string) Approval {
	return Approval{
		Token: token, EntityNumber: r.e.Number, EntityName: r.e.NameZH, EUID: r.sl.EUID, Username: r.sl.Username,
		NameZH: r.sl.NameZH, NameForeign: r.sl.NameForeign, DocType: r.sl.IDDocType,
		DocMasked: storage.MaskDocNumber(r.sl.IDDocNumber), DocIssuePlace: r.sl.IDDocIssuePlace,
		Tool: r.t, ExpiresAt: r.tok.expires,
	}
}

// ResolveApproval reads an approval QR code (its token, or the typed code
// standing for one) for an officer at the desk: the staff login it names,
// its entity, its identity document (the number masked) and its pending
// 安全驗證碼. The officer may ActApproveTools (storage.ActorMay).
// Refused: a token altered or not ours, an unknown typed code (EInvalid);
// expired, used, replaced by a newer one, or its tool no longer pending
// (EConflict).
func (s *Service) ResolveApproval(ctx context.Context, officer storage.Actor, tokenOrCode string) (Approval, error) {
	if err := storage.ActorMay(officer, storage.ActApproveTools); err != nil {
		return Approval{}, err
	}
	r, err := s.resolve(ctx, tokenOrCode)
	if err != nil {
		return Approval{}, err
	}
	return r.view(s.approvals.sign(r.tok)), nil
}

// RevealDocument is ResolveApproval with the identity document's number
// whole, for the officer to compare with the document in hand: the
// opening of the record is audited (staff.document.show), in the login's
// entity.
func (s *Service) RevealDocument(ctx context.Context, officer storage.Actor, token string) (Approval, error) {
	if err := storage.ActorMay(officer, storage.ActApproveTools); err != nil {
		return Approval{}, err
	}
	r, err := s.resolve(ctx, token)
	if err != nil {
		return Approval{}, err
	}
	if _, err := s.dir.AuditStaffAction(ctx, officer, r.e.ID, r.sl.EUID, "staff.document.show",
		map[string]any{"why": "tool.approve", "approval": r.tok.id}); err != nil {
		return Approval{}, err
	}
	a := r.view(s.approvals.sign(r.tok))
	a.DocNumber = r.sl.IDDocNumber
	return a, nil
}

// ApproveInPerson approves the pending 安全驗證碼 an approval QR code names,
// after the officer checked the identity document doc in person: the
// officer may ActApproveTools; doc must be the registration's (its type,
// and its number compared normalised); the token is spent (once) and must
// still name the login's pending tool. The approval (tool.approve) records
// the officer, the document checked and the step the person proved when
// the QR code was made; the holder is told. A person with logins in several
// entities is approved per login: the token names one. Errors as
// ResolveApproval, and EInvalid for the document.
func (s *Service) ApproveInPerson(ctx context.Context, officer storage.Actor, token string, doc CheckedDocument) (Approval, error) {
	if err := storage.ActorMay(officer, storage.ActApproveTools); err != nil {
		return Approval{}, err
	}
	r, err := s.resolve(ctx, token)
	if err != nil {
		return Approval{}, err
	}
	number, err := checkDocument(r.sl, doc)
	if err != nil {
		return Approval{}, err
	}
	if err := approvalStateErr(s.approvals.store.SpendApproval(ctx, r.sl.ID, r.tok.id, r.tok.expires.Sub(s.Now())+time.Minute)); err != nil {
		return Approval{}, err
	}
	details := map[string]any{"method": "in_person_qr", "approval": r.tok.id,
		"document": map[string]any{"type": doc.Type, "number": number}}
	t, err := s.told(ctx, r.sl, notify.ToolTOTPApproved, func(notice *storage.OutboxMessage) (storage.IdentityTool, error) {
		return s.dir.ApproveTOTPInPerson(ctx, officer, r.sl, r.tok.toolID, details, notice)
	})
	if errors.Is(err, storage.ErrConflict) {
		return Approval{}, errApprovalNotPending
	}
	if err != nil {
		return Approval{}, err
	}
	r.t = t
	slog.InfoContext(ctx, "identity tools: 安全驗證碼 approved in person", "entity", r.e.Number, "subject", r.sl.EUID,
		"officer", officer.Name)
	return r.view(s.approvals.sign(r.tok)), nil
}

// checkDocument compares the document checked with the registration of
// sl: the same type, the same number normalised. It returns the number as
// checked, normalised.
func checkDocument(sl storage.StaffLogin, doc CheckedDocument) (string, error) {
	known := false
	for _, t := range storage.IDDocTypes {
		known = known || t == doc.Type
	}
	if !known {
		return "", errDocumentType
	}
	n := storage.NormalizeIDDocNumber(doc.Number)
	if doc.Type != sl.IDDocType || n == "" || n != storage.NormalizeIDDocNumber(sl.IDDocNumber) {
		return "", errDocumentMismatch
	}
	return n, nil
}
