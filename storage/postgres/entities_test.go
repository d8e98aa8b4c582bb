package postgres_test

import (
	"regexp"
	"testing"

	"github.com/entity-account/idp/storage"
)

var subjectPattern = regexp.MustCompile(`^EA[0-9]{9}$`)

func TestCreateEntity(t *testing.T) {
	t.Parallel()
	s, ctx := newStore(t)
	e, a := createEntity(t, s)

	if e.ID == 0 || e.Status != "active" || e.CreatedAt.IsZero() {
		t.Errorf("entity not filled: %+v", e)
	}
	if a.ID == 0 || a.EntityID != e.ID || !subjectPattern.MatchString(a.Subject) || a.CreatedAt.IsZero() {
		t.Errorf("entity account not filled: %+v", a)
	}
	wantAudit(t, s, operator, "entity.create", e.Number, &e.ID)

	got, err := s.EntityByNumber(ctx, e.Number)
	if err != nil || got.ID != e.ID || got.NameZH != e.NameZH || got.Kind != "company" {
		t.Errorf("EntityByNumber = %+v, %v; want %+v", got, err, e)
	}
	acct, err := s.EntityAccount(ctx, e.ID)
	if err != nil || acct.Subject != a.Subject || acct.ApplicationNumber != a.ApplicationNumber ||
		acct.Username != "" || acct.ActivatedAt != nil || acct.Language != "pt" {
		t.Errorf("EntityAccount = %+v, %v", acct, err)
	}

	_, a2 := createEntity(t, s)
	if a2.Subject == a.Subject {
		t.Errorf("two entity accounts share subject %s", a.Subject)
	}
}

func TestCreateEntityRejects(t *testing.T) {
	t.Parallel()
	s, ctx := newStore(t)
	e, _ := createEntity(t, s)
	before := auditCount(t, s)

	dup := storage.Entity{Number: e.Number, NameZH: "另一間", Kind: "company"}
	err := s.CreateEntity(ctx, operator, &dup, &storage.EntityAccount{ApplicationNumber: "A-2"})
	wantErr(t, "duplicate entity number", err, storage.ErrAlreadyExists)

	bad := storage.Entity{Number: "2-21", NameZH: "格式錯", Kind: "company"}
	if err := s.CreateEntity(ctx, operator, &bad, &storage.EntityAccount{ApplicationNumber: "A-3"}); err == nil {
		t.Error("malformed entity number accepted")
	}
	// A bad account rolls the entity back too.
	half := storage.Entity{Number: "02-999998", NameZH: "半", Kind: "company"}
	if err := s.CreateEntity(ctx, operator, &half, &storage.EntityAccount{ApplicationNumber: "A-4", Language: "fr"}); err == nil {
		t.Error("entity account with language fr accepted")
	}
	_, err = s.EntityByNumber(ctx, half.Number)
	wantErr(t, "entity of a failed creation", err, storage.ErrNotFound)
	if n := auditCount(t, s); n != before {
		t.Errorf("failed creations wrote %d audit events", n-before)
	}
	if _, err := s.EntityByNumber(ctx, "99-999999"); err == nil {
		t.Error("unknown entity number found")
	} else {
		wantErr(t, "EntityByNumber(unknown)", err, storage.ErrNotFound)
	}
	_, err = s.EntityAccount(ctx, -1)
	wantErr(t, "EntityAccount(unknown)", err, storage.ErrNotFound)
}

func TestActivateEntityAccount(t *testing.T) {
	t.Parallel()
	s, ctx := newStore(t)
	e, a := createEntity(t, s)
	actor := operator
	actor.Kind, actor.ID = "entity_account", a.Subject

	if err := s.ActivateEntityAccount(ctx, actor, a.ID, "CorpAdmin", "hash-1"); err != nil {
		t.Fatalf("ActivateEntityAccount: %v", err)
	}
	wantAudit(t, s, actor, "entity_account.activate", a.Subject, &e.ID)
	got, err := s.EntityAccount(ctx, e.ID)
	if err != nil || got.Username != "CorpAdmin" || got.PasswordHash != "hash-1" || got.ActivatedAt == nil {
		t.Errorf("after activation: %+v, %v", got, err)
	}

	err = s.ActivateEntityAccount(ctx, actor, a.ID, "CorpAdmin", "hash-2")
	wantErr(t, "second activation", err, storage.ErrConflict)
	err = s.ActivateEntityAccount(ctx, actor, -1, "someone", "hash")
	wantErr(t, "unknown account", err, storage.ErrNotFound)
}
