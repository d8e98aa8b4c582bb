package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/entity-account/idp/storage"
)

// Activation codes: issued with their outbox message in one transaction,
// checked by the activation pages, consumed by the activation itself. The
// store sees only the keyed hash of a code and the sealed message; hashing,
// sealing and the rules of the pages are the caller's (login/activation).

// activateeQuery selects the entity account matching accountCond and the
// staff logins matching staffCond (alias p for the account or login, e for
// its entity, ea for the entity's entity account) as storage.Activatee rows.
func activateeQuery(accountCond, staffCond string) string {
	return `
		SELECT 'entity_account', p.id, p.subject, e.id, e.number, e.status = 'active',
			p.application_number, '', NULL::date, e.name_zh, e.name_pt,
			false, false, p.activated_at IS NOT NULL, p.activated_at IS NOT NULL,
			p.mobile, p.email, p.language, coalesce(p.username, '')
		FROM entity_accounts p JOIN entities e ON e.id = p.entity_id
		WHERE ` + accountCond + `
		UNION ALL
		SELECT 'staff', p.id, p.euid, e.id, e.number, e.status = 'active',
			'', p.id_doc_number, p.birth_date, p.name_zh, p.name_foreign,
			p.is_admin, p.status = 'deleted', p.activated_at IS NOT NULL, ea.activated_at IS NOT NULL,
			p.mobile, p.email, p.language, coalesce(p.username, '')
		FROM staff_logins p JOIN entities e ON e.id = p.entity_id
			LEFT JOIN entity_accounts ea ON ea.entity_id = e.id
		WHERE ` + staffCond + `
		ORDER BY 2`
}

// normalizedDocSQL is the normalised identity document number of staff
// login p (the generated column id_doc_key, the SQL twin of
// storage.NormalizeIDDocNumber: upper-case ASCII letters and digits).
const normalizedDocSQL = `p.id_doc_key`

var (
	activateeByRefSQL = map[storage.PrincipalKind]string{
		storage.KindEntityAccount: activateeQuery(`p.id = $1`, `false`),
		storage.KindStaff:         activateeQuery(`false`, `p.id = $1`),
	}
	entityAccountActivateeSQL = activateeQuery(`e.number = $1`, `false`)
	staffActivateesSQL        = activateeQuery(`false`, `e.number = $1 AND `+normalizedDocSQL+` = $2`)
)

func scanActivatee(row pgx.Row) (storage.Activatee, error) {
	var a storage.Activatee
	var birth *time.Time
	err := row.Scan(&a.Account.Kind, &a.Account.ID, &a.Subject, &a.EntityID, &a.EntityNumber, &a.EntityActive,
		&a.ApplicationNumber, &a.IDDocNumber, &birth, &a.NameZH, &a.NameForeign,
		&a.Admin, &a.Deleted, &a.Activated, &a.EntityAccountActivated,
		&a.Mobile, &a.Email, &a.Language, &a.Username)
	if birth != nil {
		a.BirthDate = *birth
	}
	return a, err
}

func collectActivatees(rows pgx.Rows, err error) ([]storage.Activatee, error) {
	if err != nil {
		return nil, err
	}
	list, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (storage.Activatee, error) {
		return scanActivatee(row)
	})
	return nonNil(list), err
}

// Activatee returns what activation knows about an account, or storage.ErrNotFound.
func (s *Store) Activatee(ctx context.Context, ref storage.AccountRef) (storage.Activatee, error) {
	a, err := activatee(ctx, s.pool, ref)
	return a, wrap("get activatee", err)
}

type querier interface {
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

func activatee(ctx context.Context, q querier, ref storage.AccountRef) (storage.Activatee, error) {
	query, ok := activateeByRefSQL[ref.Kind]
	if !ok {
		return storage.Activatee{}, fmt.Errorf("unknown account kind %q", ref.Kind)
	}
	return scanActivatee(q.QueryRow(ctx, query, ref.ID))
}

// EntityAccountActivatee returns the entity account of the entity numbered
// entityNumber, or storage.ErrNotFound.
func (s *Store) EntityAccountActivatee(ctx context.Context, entityNumber string) (storage.Activatee, error) {
	a, err := scanActivatee(s.pool.QueryRow(ctx, entityAccountActivateeSQL, entityNumber))
	return a, wrap("get entity account activatee", err)
}

// StaffActivatees returns the staff logins of the entity numbered
// entityNumber whose ID document number, reduced to upper-case ASCII letters
// and digits, equals normalizedDoc (deleted and activated ones included; the
// caller decides). None is an empty list, not an error.
func (s *Store) StaffActivatees(ctx context.Context, entityNumber, normalizedDoc string) ([]storage.Activatee, error) {
	if normalizedDoc == "" {
		return []storage.Activatee{}, nil
	}
	list, err := collectActivatees(s.pool.Query(ctx, staffActivateesSQL, entityNumber, normalizedDoc))
	return list, wrap("list staff activatees", err)
}

// accountColumn is the activation_codes column naming an account of kind.
func accountColumn(kind storage.PrincipalKind) (string, error) {
	switch kind {
	case storage.KindStaff:
		return "staff_login_id", nil
	case storage.KindEntityAccount:
		return "entity_account_id", nil
	}
	return "", fmt.Errorf("unknown account kind %q", kind)
}

// lockAccount locks the row of an account for the rest of tx and returns
// what activation knows about it.
func lockAccount(ctx context.Context, tx pgx.Tx, ref storage.AccountRef) (storage.Activatee, error) {
	table := "staff_logins"
	if ref.Kind == storage.KindEntityAccount {
		table = "entity_accounts"
	}
	var id int64
	if err := tx.QueryRow(ctx, `SELECT id FROM `+table+` WHERE id = $1 FOR UPDATE`, ref.ID).Scan(&id); err != nil {
		return storage.Activatee{}, err
	}
	return activatee(ctx, tx, ref)
}

// IssueActivationCode stores a new activation code for the account ref and
// the outbox message that delivers it, in one transaction that also voids
// the account's previous open code (and cancels its undelivered message)
// and writes the audit event activation_code.issue. It fills issue.Code's
// ID, Account and EntityID and issue.Message's ID, CodeID and EntityID.
// Returns storage.ErrNotFound for an unknown account and storage.ErrConflict
// when the account may not receive a code (activated, deleted, entity closed).
func (s *Store) IssueActivationCode(ctx context.Context, actor storage.Actor, ref storage.AccountRef, issue *storage.CodeIssue) error {
	if _, err := accountColumn(ref.Kind); err != nil {
		return wrap("issue activation code", err)
	}
	now := s.now()
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		a, err := lockAccount(ctx, tx, ref)
		if err != nil {
			return err
		}
		if !a.MayReceiveCode() {
			return storage.ErrConflict
		}
		return insertCode(ctx, tx, now, actor, a, issue)
	})
	return wrap("issue activation code", err)
}

// insertCode voids the open code of a.Account, then writes issue's code,
// its outbox message and the audit event.
func insertCode(ctx context.Context, tx pgx.Tx, now time.Time, actor storage.Actor, a storage.Activatee, issue *storage.CodeIssue) error {
	col, err := accountColumn(a.Account.Kind)
	if err != nil {
		return err
	}
	c, m := &issue.Code, &issue.Message
	var voided []int64
	rows, err := tx.Query(ctx, `
		UPDATE activation_codes SET voided_at = $2, void_reason = 'superseded'
		WHERE `+col+` = $1 AND used_at IS NULL AND voided_at IS NULL
		RETURNING id`, a.Account.ID, now)
	if err == nil {
		voided, err = pgx.CollectRows(rows, pgx.RowTo[int64])
	}
	if err != nil {
		return err
	}
	if len(voided) > 0 {
		if err := cancelPending(ctx, tx, now, voided, "superseded by a newer code"); err != nil {
			return err
		}
	}

	c.Account, c.EntityID, c.CreatedAt, c.Attempts = a.Account, a.EntityID, now, 0
	c.SentAt, c.UsedAt, c.VoidedAt, c.VoidReason = nil, nil, nil, ""
	err = tx.QueryRow(ctx, `
		INSERT INTO activation_codes (entity_id, `+col+`, code_hash, channel, created_at, expires_at, max_attempts, purpose)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
		RETURNING id`,
		a.EntityID, a.Account.ID, c.Hash, string(c.Channel), now, c.ExpiresAt, c.MaxAttempts, string(c.Purpose.OrActivation()),
	).Scan(&c.ID)
	if err != nil {
		return err
	}

	m.CodeID, m.EntityID, m.CreatedAt, m.NextAttemptAt, m.Attempts = &c.ID, &a.EntityID, now, now, 0
	if m.Channel == "" {
		m.Channel = c.Channel
	}
	m.Language = orDefault(m.Language, orDefault(a.Language, defaultLanguage))
	err = tx.QueryRow(ctx, `
		INSERT INTO outbox (channel, recipient, language, body_sealed, entity_id, activation_code_id, created_at, next_attempt_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $7)
		RETURNING id`,
		string(m.Channel), m.Recipient, m.Language, m.Body, a.EntityID, c.ID, now,
	).Scan(&m.ID)
	if err != nil {
		return err
	}
	action := "activation_code.issue"
	if c.Purpose == storage.PurposeReset {
		action = "password_reset.issue"
	}
	return audit(ctx, tx, now, actor, auditEvent{
		entityID: &a.EntityID,
		action:   action,
		target:   a.Subject,
		details: map[string]any{
			"kind": string(a.Account.Kind), "channel": string(c.Channel), "reason": issue.Reason,
			"code_id": c.ID, "outbox_id": m.ID, "expires_at": c.ExpiresAt, "superseded": voided,
		},
	})
}

// cancelPending cancels the undelivered outbox messages of the given codes.
func cancelPending(ctx context.Context, tx pgx.Tx, now time.Time, codeIDs []int64, why string) error {
	_, err := tx.Exec(ctx, `
		UPDATE outbox SET cancelled_at = $2, body_sealed = NULL, lease_token = NULL, last_error = $3
		WHERE activation_code_id = ANY($1)
			AND delivered_at IS NULL AND failed_at IS NULL AND cancelled_at IS NULL`,
		codeIDs, now, why)
	return err
}

// CreateEntityWithCodes opens an entity with its entity account and admin
// staff logins, and issues an activation code (with its outbox message) to
// each, all in one transaction: either everything exists afterwards or
// nothing does. acctIssue goes to the entity account, adminIssues[i] to
// admins[i]. It fills the ids as CreateEntity, CreateStaffLogin and
// IssueActivationCode do, and writes their audit events.
func (s *Store) CreateEntityWithCodes(ctx context.Context, actor storage.Actor, e *storage.Entity, acct *storage.EntityAccount, acctIssue *storage.CodeIssue, admins []*storage.StaffLogin, adminIssues []*storage.CodeIssue) error {
	if len(admins) != len(adminIssues) {
		return fmt.Errorf("postgres: create entity: %d admins but %d codes", len(admins), len(adminIssues))
	}
	now := s.now()
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		if err := createEntity(ctx, tx, now, actor, e, acct); err != nil {
			return err
		}
		refs := []storage.AccountRef{{Kind: storage.KindEntityAccount, ID: acct.ID}}
		issues := []*storage.CodeIssue{acctIssue}
		for i, sl := range admins {
			sl.EntityID = e.ID
			sl.Admin = true
			if err := createStaffLogin(ctx, tx, now, actor, sl); err != nil {
				return err
			}
			refs = append(refs, storage.AccountRef{Kind: storage.KindStaff, ID: sl.ID})
			issues = append(issues, adminIssues[i])
		}
		for i, ref := range refs {
			a, err := activatee(ctx, tx, ref)
			if err != nil {
				return err
			}
			if err := insertCode(ctx, tx, now, actor, a, issues[i]); err != nil {
				return err
			}
		}
		return nil
	})
	return wrap("create entity with activation codes", err)
}

const codeColumns = `id, CASE WHEN staff_login_id IS NULL THEN 'entity_account' ELSE 'staff' END,
	coalesce(staff_login_id, entity_account_id), entity_id, code_hash, channel, created_at, expires_at,
	max_attempts, attempts, sent_at, used_at, voided_at, coalesce(void_reason, ''), purpose`

func scanCode(row pgx.Row) (storage.ActivationCode, error) {
	var c storage.ActivationCode
	err := row.Scan(&c.ID, &c.Account.Kind, &c.Account.ID, &c.EntityID, &c.Hash, &c.Channel, &c.CreatedAt, &c.ExpiresAt,
		&c.MaxAttempts, &c.Attempts, &c.SentAt, &c.UsedAt, &c.VoidedAt, &c.VoidReason, &c.Purpose)
	return c, err
}

// ActivationCodes returns the last limit activation codes of an account,
// newest first (the first is the only one that can be live); its reset
// codes are not among them.
func (s *Store) ActivationCodes(ctx context.Context, ref storage.AccountRef, limit int) ([]storage.ActivationCode, error) {
	return s.codesOf(ctx, ref, storage.PurposeActivation, limit)
}

// codesOf returns the last limit codes of purpose of an account, newest first.
func (s *Store) codesOf(ctx context.Context, ref storage.AccountRef, purpose storage.CodePurpose, limit int) ([]storage.ActivationCode, error) {
	col, err := accountColumn(ref.Kind)
	if err != nil {
		return nil, wrap("list activation codes", err)
	}
	rows, err := s.pool.Query(ctx, `SELECT `+codeColumns+` FROM activation_codes
		WHERE `+col+` = $1 AND purpose = $3 ORDER BY id DESC LIMIT $2`, ref.ID, limit, string(purpose))
	if err != nil {
		return nil, wrap("list activation codes", err)
	}
	codes, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (storage.ActivationCode, error) {
		return scanCode(row)
	})
	return nonNil(codes), wrap("list activation codes", err)
}

// LastCodeSent returns when an activation code was last delivered to an
// account and by which channel (「最後發送啟動碼時間」), or a nil time when
// none has been.
func (s *Store) LastCodeSent(ctx context.Context, ref storage.AccountRef) (*time.Time, storage.Channel, error) {
	col, err := accountColumn(ref.Kind)
	if err != nil {
		return nil, "", wrap("last activation code sent", err)
	}
	var at *time.Time
	var ch storage.Channel
	err = s.pool.QueryRow(ctx, `SELECT sent_at, channel FROM activation_codes
		WHERE `+col+` = $1 AND purpose = 'activation' AND sent_at IS NOT NULL ORDER BY sent_at DESC LIMIT 1`, ref.ID).Scan(&at, &ch)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, "", nil
	}
	return at, ch, wrap("last activation code sent", err)
}

// ReserveActivationAttempt takes one try against a live code before the
// typed code is compared with it, so that tries sent at once cannot exceed
// MaxAttempts: it reports false (and counts nothing) when the code is no
// longer live or all its tries are taken. The caller settles the try:
// ReturnActivationAttempt when the typed code was this one or an older code
// of the account (not a guess), FailActivationAttempt when it was wrong.
func (s *Store) ReserveActivationAttempt(ctx context.Context, codeID int64) (bool, error) {
	tag, err := s.pool.Exec(ctx, `
		UPDATE activation_codes SET attempts = attempts + 1
		WHERE id = $1 AND used_at IS NULL AND voided_at IS NULL AND expires_at > $2 AND attempts < max_attempts`,
		codeID, s.now())
	if err != nil {
		return false, wrap("reserve activation attempt", err)
	}
	return tag.RowsAffected() == 1, nil
}

// ReturnActivationAttempt gives back a try taken by ReserveActivationAttempt.
func (s *Store) ReturnActivationAttempt(ctx context.Context, codeID int64) error {
	_, err := s.pool.Exec(ctx, `UPDATE activation_codes SET attempts = attempts - 1 WHERE id = $1 AND attempts > 0`, codeID)
	return wrap("return activation attempt", err)
}

// FailActivationAttempt settles a reserved try as wrong and returns the code
// as it now is: when the code's tries are all taken, it is voided (reason
// attempts), its undelivered message cancelled and the audit event
// activation_code.void written. A code that is no longer live gives
// storage.ErrCodeNotLive.
func (s *Store) FailActivationAttempt(ctx context.Context, actor storage.Actor, codeID int64) (storage.ActivationCode, error) {
	now := s.now()
	var c storage.ActivationCode
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		var err error
		c, err = scanCode(tx.QueryRow(ctx, `
			UPDATE activation_codes SET
				voided_at = CASE WHEN attempts >= max_attempts THEN $2::timestamptz END,
				void_reason = CASE WHEN attempts >= max_attempts THEN 'attempts' END
			WHERE id = $1 AND used_at IS NULL AND voided_at IS NULL AND expires_at > $2
			RETURNING `+codeColumns, codeID, now))
		if errors.Is(err, pgx.ErrNoRows) {
			return storage.ErrCodeNotLive
		}
		if err != nil || c.VoidedAt == nil {
			return err
		}
		if err := cancelPending(ctx, tx, now, []int64{c.ID}, "voided after too many wrong tries"); err != nil {
			return err
		}
		a, err := activatee(ctx, tx, c.Account)
		if err != nil {
			return err
		}
		return audit(ctx, tx, now, actor, auditEvent{
			entityID: &c.EntityID,
			action:   "activation_code.void",
			target:   a.Subject,
			details:  map[string]any{"code_id": c.ID, "reason": storage.VoidAttempts, "attempts": c.Attempts},
		})
	})
	return c, wrap("count activation attempt", err)
}

// CompleteActivation activates the account of a live activation code with
// username and passwordHash and marks the code used, in one transaction
// with the audit event (staff.activate or entity_account.activate). It
// returns storage.ErrNotFound for an unknown code, storage.ErrCodeNotLive
// when the code has been voided or has expired, storage.ErrConflict when
// the code has been used or the account is already activated or may not be
// (deleted, entity closed), storage.ErrEntityAccountNotActivated for an admin staff login of
// an entity whose entity account is not activated, and
// storage.ErrAlreadyExists when the username is taken in the entity; in
// every such case nothing changes and the code stays as it was.
func (s *Store) CompleteActivation(ctx context.Context, actor storage.Actor, codeID int64, username, passwordHash string) error {
	now := s.now()
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		c, err := scanCode(tx.QueryRow(ctx, `SELECT `+codeColumns+` FROM activation_codes WHERE id = $1 FOR UPDATE`, codeID))
		if err != nil {
			return err
		}
		if c.Purpose != storage.PurposeActivation {
			return storage.ErrNotFound // a reset code activates nothing
		}
		if c.UsedAt != nil {
			return storage.ErrConflict // its account is activated with it
		}
		if !c.Live(now) {
			return storage.ErrCodeNotLive
		}
		a, err := lockAccount(ctx, tx, c.Account)
		if err != nil {
			return err
		}
		if err := a.ActivationBlocked(); err != nil {
			return err
		}
		action := "staff.activate"
		update := `UPDATE staff_logins SET username = $2, password_hash = $3, activated_at = $4, updated_at = $4
			WHERE id = $1 AND activated_at IS NULL AND status = 'active'`
		if c.Account.Kind == storage.KindEntityAccount {
			action = "entity_account.activate"
			update = `UPDATE entity_accounts SET username = $2, password_hash = $3, activated_at = $4
				WHERE id = $1 AND activated_at IS NULL`
		}
		tag, err := tx.Exec(ctx, update, c.Account.ID, nullIfEmpty(username), nullIfEmpty(passwordHash), now)
		if err != nil {
			return err
		}
		if tag.RowsAffected() != 1 {
			return storage.ErrConflict
		}
		if _, err := tx.Exec(ctx, `UPDATE activation_codes SET used_at = $2 WHERE id = $1`, c.ID, now); err != nil {
			return err
		}
		return audit(ctx, tx, now, actor, auditEvent{
			entityID: &c.EntityID,
			action:   action,
			target:   a.Subject,
			details:  map[string]any{"username": username, "code_id": c.ID, "via": "activation_code"},
		})
	})
	return wrap("complete activation", err)
}
