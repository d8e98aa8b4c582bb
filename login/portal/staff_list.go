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
	// Unused is the filter 未登入日數 (0: any) and UnusedOptions its choices.
	Unused        int
	UnusedOptions []unusedOption
}

type staffListRow struct {
	URL, EUID, Username     string
	NameZH, NameForeign     string
	DocNumber, Phone        string
	Code, Activated, Active bool
	LockedUntil             string // Macau time, "" when not locked (staff_signout.go)
	LastSignIn              string // 最後登入時間, "" never
}

// unusedOption is one choice of the filter 未登入日數.
type unusedOption struct {
	Days     int
	Selected bool
}

// unusedDays are the choices of the filter of logins not signed in for so
// many days; any other number in the address is taken as the nearest
// choice below it (none below 30: no filter).
var unusedDays = []int{30, 90, 180, 365}

// unusedFilter reads ?unused=N as one of unusedDays (0: none).
func unusedFilter(s string) int {
	n, err := strconv.Atoi(s)
	if err != nil {
		return 0
	}
	chosen := 0
	for _, d := range unusedDays {
		if n >= d {
			chosen = d
		}
	}
	return chosen
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
	unused := unusedFilter(r.URL.Query().Get("unused"))
	sq := storage.StaffQuery{
		EntityID: sr.pt.Principal.EntityID, Search: q, Offset: (pageNo - 1) * staffPageSize, Limit: staffPageSize,
	}
	if unused > 0 {
		sq.UnusedSince = h.k.Now().AddDate(0, 0, -unused)
	}
	rows, total, err := h.admin.Manage.ManagedStaffList(r.Context(), sr.actor, sq)
	if err != nil {
		return err
	}
	p := staffListPage{
		chrome: h.chrome(w, r, sr.pt, sr.lang, "staff"),
		Query:  q, Total: total, NewURL: h.k.BasePath + staffPath + "/new", Unused: unused,
	}
	for _, d := range unusedDays {
		p.UnusedOptions = append(p.UnusedOptions, unusedOption{Days: d, Selected: d == unused})
	}
	for _, row := range rows {
		last := ""
		if row.LastSignInAt != nil {
			last = row.LastSignInAt.In(staffZone).Format("2006-01-02 15:04")
		}
		p.Rows = append(p.Rows, staffListRow{
			URL: h.staffURL(row.EUID), EUID: row.EUID, Username: row.Username,
			NameZH: row.NameZH, NameForeign: row.NameForeign,
			DocNumber: storage.MaskDocNumber(row.IDDocNumber), Phone: storage.MaskPhone(row.Mobile),
			Code: row.CodeOutstanding, Activated: row.ActivatedAt != nil, Active: row.Status == storage.StatusActive,
			LastSignIn: last,
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
		if unused > 0 {
			v.Set("unused", strconv.Itoa(unused))
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
