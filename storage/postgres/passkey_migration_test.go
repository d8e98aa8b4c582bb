package postgres_test

import (
	"bytes"
	"errors"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/entity-account/idp/storage"
)

// Migration 00011 gives every staff login, old ones included, its own
// 32-byte WebAuthn user handle, keeps the TOTP rows, holds each kind of
// tool to its own columns, and goes back down cleanly.
func TestMigrationPasskeys(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	s, p := migratedTo(t, ctx, 10)
	op := storage.OperatorActor("safp")
	e := storage.Entity{Number: "04-000001", NameZH: "遷移測試", Kind: "company"}
	if err := s.CreateEntity(ctx, op, &e, &storage.EntityAccount{ApplicationNumber: "A1", Language: "zh-Hant"}); err != nil {
		t.Fatal(err)
	}
	var logins []storage.StaffLogin
	for _, doc := range []string{"1234567(8)", "7654321(0)"} {
		sl := storage.StaffLogin{EntityID: e.ID, NameZH: "陳", IDDocType: storage.IDMacauPermanent, IDDocNumber: doc,
			IDDocIssuePlace: "MO", BirthDate: time.Date(1990, 1, 1, 0, 0, 0, 0, time.UTC), Language: "zh-Hant"}
		if err := s.CreateStaffLogin(ctx, op, &sl); err != nil {
			t.Fatal(err)
		}
		logins = append(logins, sl)
	}
	if _, err := s.BeginTOTP(ctx, op, logins[0], "安全驗證碼", []byte("sealed secret bytes")); err != nil {
		t.Fatal(err)
	}
	if _, err := p.UpTo(ctx, 11); err != nil {
		t.Fatalf("up to 11: %v", err)
	}

	var handles [][]byte
	for _, sl := range logins {
		a, err := s.PasskeyAccount(ctx, sl.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(a.Handle) != 32 || bytes.Contains(a.Handle, []byte(sl.EUID)) || a.PasskeysOff != nil || len(a.Passkeys) != 0 ||
			a.EntityNumber != e.Number || !a.EntityActive {
			t.Errorf("passkey account after 00011 = %+v", a)
		}
		handles = append(handles, a.Handle)
	}
	if bytes.Equal(handles[0], handles[1]) {
		t.Error("two logins got the same user handle")
	}
	if tt, sealed, err := s.TOTP(ctx, logins[0].ID); err != nil || string(sealed) != "sealed secret bytes" || tt.Kind != storage.ToolTOTP {
		t.Errorf("TOTP after 00011 = %+v, %q, %v", tt, sealed, err)
	}

	// Each kind keeps to its columns.
	checkViolation := func(what, sql string, args ...any) {
		t.Helper()
		_, err := s.Pool().Exec(ctx, sql, args...)
		var pgErr *pgconn.PgError
		if !errors.As(err, &pgErr) || pgErr.Code != "23514" {
			t.Errorf("%s: %v, want a check violation", what, err)
		}
	}
	now := time.Now()
	checkViolation("a passkey without a credential", `INSERT INTO identity_tools (staff_login_id, kind, state, created_at)
		VALUES ($1, 'passkey', 'active', $2)`, logins[1].ID, now)
	checkViolation("a passkey with a secret", `INSERT INTO identity_tools (staff_login_id, kind, state, created_at, secret_sealed, credential_id, public_key)
		VALUES ($1, 'passkey', 'active', $2, '\x01', '\x01', '\x01')`, logins[1].ID, now)
	checkViolation("a pending passkey", `INSERT INTO identity_tools (staff_login_id, kind, state, created_at, credential_id, public_key)
		VALUES ($1, 'passkey', 'pending', $2, '\x01', '\x01')`, logins[1].ID, now)
	checkViolation("a TOTP without its secret", `INSERT INTO identity_tools (staff_login_id, kind, state, created_at)
		VALUES ($1, 'totp', 'unconfirmed', $2)`, logins[1].ID, now)
	checkViolation("synced without being eligible", `INSERT INTO identity_tools (staff_login_id, kind, state, created_at, credential_id, public_key, backup_state)
		VALUES ($1, 'passkey', 'active', $2, '\x01', '\x01', true)`, logins[1].ID, now)

	pk, err := s.AddPasskey(ctx, op, logins[1], storage.Passkey{IdentityTool: storage.IdentityTool{Name: "Phone"},
		CredentialID: []byte{1, 2, 3}, PublicKey: []byte{4, 5, 6}, AAGUID: make([]byte, 16), Transports: []string{"internal"}}, nil)
	if err != nil || pk.Kind != storage.ToolPasskey || pk.State != storage.ToolActive || !bytes.Equal(pk.CredentialID, []byte{1, 2, 3}) {
		t.Fatalf("AddPasskey = %+v, %v", pk, err)
	}
	if _, err := s.AddPasskey(ctx, op, logins[1], storage.Passkey{IdentityTool: storage.IdentityTool{Name: "PHONE"},
		CredentialID: []byte{7}, PublicKey: []byte{8}}, nil); !errors.Is(err, storage.ErrPasskeyNameTaken) {
		t.Errorf("a second passkey named PHONE: %v", err)
	}
	if _, err := s.AddPasskey(ctx, op, logins[0], storage.Passkey{IdentityTool: storage.IdentityTool{Name: "Phone"},
		CredentialID: []byte{1, 2, 3}, PublicKey: []byte{8}}, nil); !errors.Is(err, storage.ErrAlreadyExists) || errors.Is(err, storage.ErrPasskeyNameTaken) {
		t.Errorf("a credential registered twice: %v", err)
	}

	if _, err := p.DownTo(ctx, 10); err != nil {
		t.Fatalf("down to 10: %v", err)
	}
	var kinds []string
	rows, err := s.Pool().Query(ctx, `SELECT kind FROM identity_tools ORDER BY id`)
	if err == nil {
		for rows.Next() {
			var k string
			_ = rows.Scan(&k)
			kinds = append(kinds, k)
		}
		err = rows.Err()
	}
	if err != nil || len(kinds) != 1 || kinds[0] != "totp" {
		t.Errorf("after down: tools %v, %v; want the TOTP alone", kinds, err)
	}
	if _, err := p.Up(ctx); err != nil {
		t.Fatalf("up again: %v", err)
	}
}
