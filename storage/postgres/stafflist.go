package postgres

import (
	"context"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/entity-account/idp/storage"
)

// staffListSQL is one page of an entity's staff list (工作人員登入號列表):
// the logins matching the search in order of creation, whether each has an
// outstanding activation code (looked up for the page's rows only), and how
// many match in all, with 最後登入時間. $7, when not NULL, keeps the logins
// not signed in since then (or never). $2 is the search
// as a LIKE pattern over lower-case username, names and EUID, $3 over the
// normalised document number (NULL: the search is too short to be one).
const staffListSQL = `
	WITH matching AS (
		SELECT p.id FROM staff_logins p
		WHERE p.entity_id = $1 AND ($2 = '%%' OR lower(coalesce(p.username, '')) LIKE $2 OR lower(p.name_zh) LIKE $2
			OR lower(p.name_foreign) LIKE $2 OR lower(p.euid) LIKE $2 OR ` + normalizedDocSQL + ` LIKE $3)
			AND ($7::timestamptz IS NULL OR p.last_signin_at IS NULL OR p.last_signin_at < $7)
	), page AS (
		SELECT id FROM matching ORDER BY id LIMIT $4 OFFSET $5
	)
	SELECT ` + staffColumns + `,
		EXISTS (SELECT 1 FROM activation_codes c
			WHERE c.staff_login_id = staff_logins.id AND c.purpose = 'activation' AND c.used_at IS NULL AND c.voided_at IS NULL AND c.expires_at > $6),
		staff_logins.last_signin_at, (SELECT count(*) FROM matching)
	FROM staff_logins JOIN page USING (id)
	ORDER BY id`

// likePattern turns typed search text into a LIKE pattern that matches it
// anywhere, its own wildcards taken literally.
func likePattern(s string) string {
	s = strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
	return "%" + s + "%"
}

// StaffList returns one page of an entity's staff logins (deleted ones
// included, as the list shows 關聯狀態) matching q.Search in the username,
// the names, the EUID or the identity document number, compared
// case-insensitively (the document number normalised), and how many match.
func (s *Store) StaffList(ctx context.Context, q storage.StaffQuery) ([]storage.StaffListRow, int, error) {
	search := strings.ToLower(strings.TrimSpace(q.Search))
	limit, offset := q.Limit, max(q.Offset, 0)
	if limit <= 0 || limit > 500 {
		limit = 50
	}
	var docPattern *string // a document number is searched from three characters on
	if doc := storage.NormalizeIDDocNumber(search); len(doc) >= 3 {
		p := likePattern(doc)
		docPattern = &p
	}
	var unusedSince *time.Time
	if !q.UnusedSince.IsZero() {
		unusedSince = &q.UnusedSince
	}
	rows, err := s.pool.Query(ctx, staffListSQL, q.EntityID, likePattern(search), docPattern, limit, offset, s.now(), unusedSince)
	if err != nil {
		return nil, 0, wrap("list staff", err)
	}
	total := 0
	list, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (storage.StaffListRow, error) {
		var r storage.StaffListRow
		sl := &r.StaffLogin
		err := row.Scan(&sl.ID, &sl.EUID, &sl.EntityID, &sl.Username, &sl.PasswordHash,
			&sl.NameZH, &sl.NameForeign, &sl.IDDocType, &sl.IDDocNumber, &sl.IDDocIssuePlace, &sl.BirthDate,
			&sl.Mobile, &sl.Email, &sl.Language, &sl.Admin, &sl.ServiceAdmin, &sl.Status,
			&sl.ActivatedAt, &sl.CreatedAt, &sl.UpdatedAt, &r.CodeOutstanding, &r.LastSignInAt, &total)
		sl.PasswordHash = "" // a list never carries secrets
		return r, err
	})
	if err != nil {
		return nil, 0, wrap("list staff", err)
	}
	return nonNil(list), total, nil
}
