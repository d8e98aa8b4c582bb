package portal

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/entity-account/idp/storage"
)

// 工作人員登入號列表 of the staff area (staff.go).

type staffListPage struct {
	chrome
	Query            string
	Rows             []staffListRow
	Total            int
	From, To         int
	PrevURL, NextURL string
	NewURL           string
}

type staffListRow struct {
	URL, EUID, Username     string
	NameZH, NameForeign     string
	DocNumber, Phone        string
	Code, Activated, Active bool
	LockedUntil             string // Macau time, "" when not locked (staff_signout.go)
}

// showStaffList is 工作人員登入號列表: a page of the entity's staff logins,
// searched by name, username, EUID or document number.
func (h *staffPages) showStaffList(w http.ResponseWriter, r *http.Request) error {
	sr, err := h.staffSignedIn(w, r)
	if sr == nil {
		return err
	}
	q := strings.TrimSpace(r.URL.Query().Get("q"))
	if !storage.CleanText(q, 100) {
		q = ""
	}
	pageNo, _ := strconv.Atoi(r.URL.Query().Get("page"))
	pageNo = min(max(pageNo, 1), 100000)
	rows, total, err := h.admin.Manage.ManagedStaffList(r.Context(), sr.actor, storage.StaffQuery{
		EntityID: sr.pt.Principal.EntityID, Search: q, Offset: (pageNo - 1) * staffPageSize, Limit: staffPageSize,
	})
	if err != nil {
		return err
	}
	p := staffListPage{
		chrome: h.chrome(w, r, sr.pt, sr.lang, "staff"),
		Query:  q, Total: total, NewURL: h.k.BasePath + staffPath + "/new",
	}
	for _, row := range rows {
		p.Rows = append(p.Rows, staffListRow{
			URL: h.staffURL(row.EUID), EUID: row.EUID, Username: row.Username,
			NameZH: row.NameZH, NameForeign: row.NameForeign,
			DocNumber: storage.MaskDocNumber(row.IDDocNumber), Phone: storage.MaskPhone(row.Mobile),
			Code: row.CodeOutstanding, Activated: row.ActivatedAt != nil, Active: row.Status == storage.StatusActive,
		})
	}
	if err := h.markLockouts(r, sr, rows, p.Rows); err != nil {
		return err
	}
	if len(rows) > 0 {
		p.From, p.To = (pageNo-1)*staffPageSize+1, (pageNo-1)*staffPageSize+len(rows)
	}
	link := func(n int) string {
		v := url.Values{"page": {strconv.Itoa(n)}}
		if q != "" {
			v.Set("q", q)
		}
		return h.k.BasePath + staffPath + "?" + v.Encode()
	}
	if pageNo > 1 {
		p.PrevURL = link(pageNo - 1)
	}
	if pageNo*staffPageSize < total {
		p.NextURL = link(pageNo + 1)
	}
	h.render.staffList(w, p)
	return nil
}
