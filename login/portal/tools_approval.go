package portal

import (
	"errors"
	"log/slog"
	"net/http"
	"strings"

	"github.com/entity-account/idp/login/kit"
	"github.com/entity-account/idp/storage"
)

// The approval QR code of a pending 安全驗證碼 (on /account/tools/totp, in
// its pending mode). The person types the code its authenticator app shows
// now (tools.ShowApproval checks it as at sign-in: throttled, each code
// once), and the page answers with the QR code, drawn as inline SVG, and
// the short code that stands for it at a desk without a camera, to show at
// the counter of 行政公職局 with the identity document. The QR code signs
// nobody in; it is in this answer alone (never in an address), and the
// page is not stored.

// approvalShown is the approval QR code as the page shows it.
type approvalShown struct {
	QR    kit.QRSVG
	Code  string // XXXX-XXXX-XXXX
	Until string // Macau time, HH:MM
}

// showApproval takes the app's code and shows the approval QR code.
func (h *accountPages) showApproval(w http.ResponseWriter, r *http.Request, tr *toolRequest) error {
	ctx := r.Context()
	code := strings.Join(strings.Fields(r.PostForm.Get("code")), "")
	a, err := h.tools.TOTP.ShowApproval(ctx, tr.actor, tr.euid, code)
	if err != nil {
		return h.approvalRefusal(w, r, tr, err)
	}
	qr, err := kit.NewQRSVG(a.Token)
	if err != nil {
		return err
	}
	slog.InfoContext(ctx, "identity tools: approval QR code shown", "subject", tr.euid, "ip", h.k.ClientIP(r))
	return h.renderTOTP(w, r, tr, http.StatusOK, func(p *totpPage) {
		p.Approval = &approvalShown{QR: qr, Code: a.Code, Until: a.ExpiresAt.In(macau).Format("15:04")}
	})
}

// approvalRefusal shows the page as the TOTP stands with the refusal: a
// wrong code tied to the code's field, anything else (too many codes, no
// TOTP pending) as the page's alert.
func (h *accountPages) approvalRefusal(w http.ResponseWriter, r *http.Request, tr *toolRequest, err error) error {
	if storage.CodeOf(err) == storage.EForbidden {
		return refused()
	}
	var e *storage.Error
	field := ""
	if errors.As(err, &e) {
		field = e.Field
	}
	return h.inTOTP(w, r, tr, err, func(p *totpPage, msg string) {
		if field == "code" && p.Mode == totpPending {
			p.ApprovalError = msg
		} else {
			p.Error = msg
		}
	})
}
