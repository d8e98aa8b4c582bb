package postgres_test

import (
	"errors"
	"fmt"
	"regexp"
	"sync"
	"testing"
	"time"

	"github.com/entity-account/idp/storage"
)

var euidPattern = regexp.MustCompile(`^CU[0-9]{9}$`)

func TestCreateStaffLogin(t *testing.T) {
	t.Parallel()
	s, ctx := newStore(t)
	e, _ := createEntity(t, s)
	sl := createStaff(t, s, e.ID)

	if !euidPattern.MatchString(sl.EUID) || sl.EUID < "CU000000100" {
		t.Errorf("EUID = %q, want CU + 9 digits from 100 on", sl.EUID)
	}
	if sl.ID == 0 || sl.Status != storage.StatusActive || sl.CreatedAt.IsZero() || !sl.UpdatedAt.Equal(sl.CreatedAt) {
		t.Errorf("staff login not filled: %+v", sl)
	}
	wantAudit(t, s, operator, "staff.create", sl.EUID, &e.ID)

	got, err := s.StaffLoginByEUID(ctx, sl.EUID)
	if err != nil {
		t.Fatalf("StaffLoginByEUID: %v", err)
	}
	if got.NameForeign != sl.NameForeign || got.IDDocNumber != sl.IDDocNumber ||
		!got.BirthDate.Equal(sl.BirthDate) || got.Username != "" || got.ActivatedAt != nil {
		t.Errorf("StaffLoginByEUID = %+v, want %+v", got, sl)
	}
	_, err = s.StaffLoginByEUID(ctx, "CU999999999")
	wantErr(t, "unknown EUID", err, storage.ErrNotFound)

	other := createStaff(t, s, e.ID)
	list, err := s.StaffLogins(ctx, e.ID)
	if err != nil || len(list) != 2 || list[0].ID != sl.ID || list[1].ID != other.ID {
		t.Errorf("StaffLogins = %v, %v; want both logins in order", list, err)
	}

	lost := storage.StaffLogin{EntityID: -1, NameZH: "無", IDDocType: "passport", IDDocNumber: "X", BirthDate: sl.BirthDate}
	err = s.CreateStaffLogin(ctx, operator, &lost)
	wantErr(t, "unknown entity", err, storage.ErrNotFound)
	undated := storage.StaffLogin{EntityID: e.ID, NameZH: "無", IDDocType: "passport", IDDocNumber: "X"}
	if err := s.CreateStaffLogin(ctx, operator, &undated); err == nil {
		t.Error("staff login without birth date accepted")
	}
}

// EUIDs are never reused, even after a login is deleted or its row removed.
func TestEUIDNeverReused(t *testing.T) {
	t.Parallel()
	s, ctx := newStore(t)
	e, _ := createEntity(t, s)

	seen := map[string]bool{}
	first := createStaff(t, s, e.ID)
	seen[first.EUID] = true
	if err := setStatus(ctx, s, operator, first, storage.StatusDeleted); err != nil {
		t.Fatalf("SetStaffStatus: %v", err)
	}
	second := createStaff(t, s, e.ID)
	if seen[second.EUID] {
		t.Fatalf("EUID %s reused after deletion", second.EUID)
	}
	seen[second.EUID] = true

	// Even a row removed outright does not free its EUID.
	if _, err := s.Pool().Exec(ctx, `DELETE FROM staff_logins WHERE id = $1`, second.ID); err != nil {
		t.Fatalf("delete row: %v", err)
	}
	third := createStaff(t, s, e.ID)
	if seen[third.EUID] {
		t.Fatalf("EUID %s reused after the row was removed", third.EUID)
	}

	_, err := s.Pool().Exec(ctx, `UPDATE staff_logins SET euid = 'XX1' WHERE id = $1`, third.ID)
	if err == nil {
		t.Error("malformed EUID accepted")
	}
}

func TestUsernameNamespace(t *testing.T) {
	t.Parallel()
	s, ctx := newStore(t)
	e, acct := createEntity(t, s)
	other, _ := createEntity(t, s)

	if err := s.ActivateEntityAccount(ctx, operator, acct.ID, "boss", "h"); err != nil {
		t.Fatalf("activate entity account: %v", err)
	}
	alice := activeStaff(t, s, e.ID, "Alice")

	tests := []struct {
		name     string
		entityID int64
		username string
		want     error
	}{
		{"staff takes entity account's username", e.ID, "boss", storage.ErrAlreadyExists},
		{"staff takes staff username", e.ID, "Alice", storage.ErrAlreadyExists},
		{"case differs", e.ID, "ALICE", storage.ErrAlreadyExists},
		{"case differs from entity account", e.ID, "Boss", storage.ErrAlreadyExists},
		{"same username in another entity", other.ID, "alice", nil},
		{"free username", e.ID, "bob", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sl := createStaff(t, s, tt.entityID)
			err := s.ActivateStaffLogin(ctx, operator, sl.ID, tt.username, "h")
			if tt.want == nil && err != nil {
				t.Fatalf("ActivateStaffLogin(%q): %v", tt.username, err)
			}
			if tt.want != nil {
				wantErr(t, "ActivateStaffLogin("+tt.username+")", err, tt.want)
				got, _ := s.StaffLogin(ctx, sl.ID)
				if got.Username != "" || got.ActivatedAt != nil {
					t.Errorf("failed activation left %+v", got)
				}
			}
		})
	}

	// The entity account clashes with staff usernames too.
	e2, acct2 := createEntity(t, s)
	activeStaff(t, s, e2.ID, "carol")
	err := s.ActivateEntityAccount(ctx, operator, acct2.ID, "Carol", "h")
	wantErr(t, "entity account takes staff username", err, storage.ErrAlreadyExists)

	got, err := s.StaffLoginByUsername(ctx, e.ID, "aLiCe")
	if err != nil || got.ID != alice.ID {
		t.Errorf("StaffLoginByUsername(aLiCe) = %d, %v; want %d", got.ID, err, alice.ID)
	}
	_, err = s.StaffLoginByUsername(ctx, other.ID, "bob")
	wantErr(t, "username of another entity", err, storage.ErrNotFound)

	sl := createStaff(t, s, e.ID)
	for _, bad := range []string{"ab", "_alice", "alice smith", "ålice", "a234567890123456789012345678901234"} {
		if err := s.ActivateStaffLogin(ctx, operator, sl.ID, bad, "h"); err == nil {
			t.Errorf("username %q accepted", bad)
		}
	}
}

func TestUsernameImmutable(t *testing.T) {
	t.Parallel()
	s, ctx := newStore(t)
	e, acct := createEntity(t, s)
	alice := activeStaff(t, s, e.ID, "alice")
	wantAudit(t, s, staffActor(alice), "staff.activate", alice.EUID, &e.ID)
	if alice.Username != "alice" || alice.PasswordHash != "hash-alice" || alice.ActivatedAt == nil {
		t.Errorf("after activation: %+v", alice)
	}

	err := s.ActivateStaffLogin(ctx, operator, alice.ID, "alice2", "h2")
	wantErr(t, "second activation", err, storage.ErrConflict)
	err = s.ActivateStaffLogin(ctx, operator, -1, "nobody", "h")
	wantErr(t, "unknown login", err, storage.ErrNotFound)

	for _, q := range []string{
		`UPDATE staff_logins SET username = 'alice2' WHERE id = $1`,
		`UPDATE staff_logins SET username = 'ALICE' WHERE id = $1`,
		`UPDATE staff_logins SET username = NULL WHERE id = $1`,
	} {
		if _, err := s.Pool().Exec(ctx, q, alice.ID); err == nil {
			t.Errorf("%s: succeeded", q)
		}
	}
	if err := s.ActivateEntityAccount(ctx, operator, acct.ID, "boss", "h"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Pool().Exec(ctx, `UPDATE entity_accounts SET username = 'chief' WHERE id = $1`, acct.ID); err == nil {
		t.Error("entity account username changed")
	}
	// Other columns stay editable.
	if _, err := s.Pool().Exec(ctx, `UPDATE staff_logins SET email = 'new@example.mo' WHERE id = $1`, alice.ID); err != nil {
		t.Errorf("editing email: %v", err)
	}
	got, _ := s.StaffLogin(ctx, alice.ID)
	if got.Username != "alice" {
		t.Errorf("username = %q, want alice", got.Username)
	}
}

func TestSetStaffStatus(t *testing.T) {
	t.Parallel()
	s, ctx := newStore(t)
	e, _ := createEntity(t, s)
	sl := createStaff(t, s, e.ID)
	admin := staffActor(activeStaff(t, s, e.ID, "admin"))

	later := time.Now().Add(time.Hour).Truncate(time.Microsecond)
	s.Now = func() time.Time { return later }
	if err := setStatus(ctx, s, admin, sl, storage.StatusDeleted); err != nil {
		t.Fatalf("delete: %v", err)
	}
	ev := wantAudit(t, s, admin, "staff.delete", sl.EUID, &e.ID)
	if ev.Details["from"] != "active" || ev.Details["to"] != "deleted" || !ev.At.Equal(later) {
		t.Errorf("audit = %+v", ev)
	}
	got, _ := s.StaffLogin(ctx, sl.ID)
	var deletedAt *time.Time
	_ = s.Pool().QueryRow(ctx, `SELECT deleted_at FROM staff_logins WHERE id = $1`, sl.ID).Scan(&deletedAt)
	if got.Status != storage.StatusDeleted || deletedAt == nil || !deletedAt.Equal(later) || !got.UpdatedAt.Equal(later) {
		t.Errorf("after delete: status %s, deleted_at %v, updated_at %v; want deleted at %v",
			got.Status, deletedAt, got.UpdatedAt, later)
	}

	// Repeating changes nothing, and says so.
	n := auditCount(t, s)
	wantErr(t, "delete again", setStatus(ctx, s, admin, sl, storage.StatusDeleted), storage.ErrConflict)
	if auditCount(t, s) != n {
		t.Error("no-op status change audited")
	}
	// A deleted login cannot be activated.
	err := s.ActivateStaffLogin(ctx, operator, sl.ID, "ghost", "h")
	wantErr(t, "activate deleted login", err, storage.ErrConflict)

	if err := setStatus(ctx, s, operator, sl, storage.StatusActive); err != nil {
		t.Fatalf("restore: %v", err)
	}
	wantAudit(t, s, operator, "staff.restore", sl.EUID, &e.ID)
	_ = s.Pool().QueryRow(ctx, `SELECT deleted_at FROM staff_logins WHERE id = $1`, sl.ID).Scan(&deletedAt)
	if deletedAt != nil {
		t.Errorf("restored login keeps deleted_at %v", *deletedAt)
	}

	_, err = s.SetStaffStatus(ctx, operator, e.ID, "CU999999999", storage.StatusDeleted, nil)
	wantErr(t, "unknown login", err, storage.ErrNotFound)
	// Another entity's login is as unknown as a missing one, and untouched.
	other, _ := createEntity(t, s)
	_, err = s.SetStaffStatus(ctx, operator, other.ID, sl.EUID, storage.StatusDeleted, nil)
	wantErr(t, "another entity's login", err, storage.ErrNotFound)
	if got, _ := s.StaffLogin(ctx, sl.ID); got.Status != storage.StatusActive {
		t.Error("a login of another entity was changed")
	}
	if err := setStatus(ctx, s, operator, sl, "gone"); err == nil {
		t.Error("invalid status accepted")
	}
}

// Two people activating at once with the same username: one wins.
func TestUsernameRace(t *testing.T) {
	t.Parallel()
	s, ctx := newStore(t)
	e, _ := createEntity(t, s)
	const n = 5
	logins := make([]storage.StaffLogin, n)
	for i := range logins {
		logins[i] = createStaff(t, s, e.ID)
	}
	errs := make([]error, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			<-start
			errs[i] = s.ActivateStaffLogin(ctx, operator, logins[i].ID, fmt.Sprintf("Same%c", "sSsSs"[i]), "h")
		})
	}
	close(start)
	wg.Wait()
	won := 0
	for _, err := range errs {
		switch {
		case err == nil:
			won++
		case !errors.Is(err, storage.ErrAlreadyExists):
			t.Errorf("loser got %v, want ErrAlreadyExists", err)
		}
	}
	if won != 1 {
		t.Errorf("%d activations won, want 1", won)
	}
}
