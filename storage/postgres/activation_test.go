package postgres_test

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/entity-account/idp/storage"
)

var public = storage.Actor{Kind: "public", IP: "203.0.113.9"}

// codeIssue is a code (hash of label) and its message to to.
func codeIssue(label, to string) *storage.CodeIssue {
	h := sha256.Sum256([]byte(label))
	return &storage.CodeIssue{
		Code:    storage.ActivationCode{Hash: h[:], Channel: storage.ChannelSMS, ExpiresAt: time.Now().Add(time.Hour), MaxAttempts: 3},
		Message: storage.OutboxMessage{Recipient: to, Language: "pt", Body: []byte("sealed " + label)},
		Reason:  "test",
	}
}

func staffRef(sl storage.StaffLogin) storage.AccountRef {
	return storage.AccountRef{Kind: storage.KindStaff, ID: sl.ID}
}

func TestIssueActivationCode(t *testing.T) {
	t.Parallel()
	s, ctx := newStore(t)
	e, acct := createEntity(t, s)
	sl := createStaff(t, s, e.ID)
	ref := staffRef(sl)

	first := codeIssue("first", sl.Mobile)
	if err := s.IssueActivationCode(ctx, storage.Actor(operator), ref, first); err != nil {
		t.Fatalf("IssueActivationCode: %v", err)
	}
	if first.Code.ID == 0 || first.Message.ID == 0 || *first.Message.CodeID != first.Code.ID || first.Code.Account != ref {
		t.Fatalf("issue not filled: %+v", first)
	}
	ev := wantAudit(t, s, operator, "activation_code.issue", sl.EUID, &e.ID)
	if ev.Details["channel"] != "sms" || ev.Details["reason"] != "test" {
		t.Errorf("audit details = %v", ev.Details)
	}

	// A second code voids the first and cancels its undelivered message.
	second := codeIssue("second", sl.Mobile)
	if err := s.IssueActivationCode(ctx, storage.Actor(operator), ref, second); err != nil {
		t.Fatal(err)
	}
	codes, err := s.ActivationCodes(ctx, ref, 10)
	if err != nil || len(codes) != 2 {
		t.Fatalf("ActivationCodes = %v, %v", codes, err)
	}
	if codes[0].ID != second.Code.ID || !codes[0].Live(time.Now()) || !bytes.Equal(codes[0].Hash, second.Code.Hash) {
		t.Errorf("newest code = %+v", codes[0])
	}
	if codes[1].VoidedAt == nil || codes[1].VoidReason != storage.VoidSuperseded {
		t.Errorf("first code not voided: %+v", codes[1])
	}
	m, err := s.OutboxMessage(ctx, first.Message.ID)
	if err != nil || m.CancelledAt == nil || m.Body != nil {
		t.Errorf("first message = %+v, %v; want cancelled with its body cleared", m, err)
	}

	// The database allows one open code per account, whatever the caller does.
	_, err = s.Pool().Exec(ctx, `UPDATE activation_codes SET voided_at = NULL, void_reason = NULL WHERE id = $1`, first.Code.ID)
	if err == nil {
		t.Error("two open codes for one account accepted")
	}

	// No code for an activated account, nor for an unknown one.
	acctRef := storage.AccountRef{Kind: storage.KindEntityAccount, ID: acct.ID}
	if err := s.ActivateEntityAccount(ctx, operator, acct.ID, "owner", "hash"); err != nil {
		t.Fatal(err)
	}
	wantErr(t, "activated", s.IssueActivationCode(ctx, storage.Actor(operator), acctRef, codeIssue("x", "m")), storage.ErrConflict)
	wantErr(t, "unknown", s.IssueActivationCode(ctx, storage.Actor(operator), storage.AccountRef{Kind: storage.KindStaff, ID: -1}, codeIssue("y", "m")), storage.ErrNotFound)
	// A deleted staff login neither.
	if err := setStatus(ctx, s, operator, sl, storage.StatusDeleted); err != nil {
		t.Fatal(err)
	}
	wantErr(t, "deleted", s.IssueActivationCode(ctx, storage.Actor(operator), ref, codeIssue("z", "m")), storage.ErrConflict)
}

func TestActivatees(t *testing.T) {
	t.Parallel()
	s, ctx := newStore(t)
	e, acct := createEntity(t, s)
	sl := createStaff(t, s, e.ID) // ID 1234567(8)
	a, err := s.EntityAccountActivatee(ctx, e.Number)
	if err != nil || a.Account.ID != acct.ID || a.ApplicationNumber != acct.ApplicationNumber || a.Activated || !a.EntityActive {
		t.Fatalf("EntityAccountActivatee = %+v, %v", a, err)
	}
	list, err := s.StaffActivatees(ctx, e.Number, "12345678")
	if err != nil || len(list) != 1 || list[0].Subject != sl.EUID || list[0].IDDocNumber != "1234567(8)" || !list[0].BirthDate.Equal(sl.BirthDate) {
		t.Fatalf("StaffActivatees = %+v, %v", list, err)
	}
	for _, doc := range []string{"", "1234567", "123456789"} {
		if list, _ := s.StaffActivatees(ctx, e.Number, doc); len(list) != 0 {
			t.Errorf("doc %q matched %v", doc, list)
		}
	}
	if list, _ := s.StaffActivatees(ctx, "99-999999", "12345678"); len(list) != 0 {
		t.Error("another entity's number matched")
	}
	_, err = s.EntityAccountActivatee(ctx, "99-999999")
	wantErr(t, "unknown entity", err, storage.ErrNotFound)

	admin := createStaff(t, s, e.ID)
	if _, err := s.Pool().Exec(ctx, `UPDATE staff_logins SET is_admin = true WHERE id = $1`, admin.ID); err != nil {
		t.Fatal(err)
	}
	got, err := s.Activatee(ctx, staffRef(admin))
	if err != nil || !got.Admin || got.EntityAccountActivated {
		t.Fatalf("Activatee = %+v, %v", got, err)
	}
	if !errors.Is(got.ActivationBlocked(), storage.ErrEntityAccountNotActivated) {
		t.Errorf("admin before its entity account: %v", got.ActivationBlocked())
	}
}

func TestFailActivationAttempt(t *testing.T) {
	t.Parallel()
	s, ctx := newStore(t)
	e, _ := createEntity(t, s)
	sl := createStaff(t, s, e.ID)
	issue := codeIssue("c", sl.Mobile) // 3 tries
	if err := s.IssueActivationCode(ctx, storage.Actor(operator), staffRef(sl), issue); err != nil {
		t.Fatal(err)
	}
	before := auditCount(t, s)
	for i := 1; i <= 3; i++ {
		if ok, err := s.ReserveActivationAttempt(ctx, issue.Code.ID); !ok || err != nil {
			t.Fatalf("reserve try %d: %v, %v", i, ok, err)
		}
		c, err := s.FailActivationAttempt(ctx, public, issue.Code.ID)
		if err != nil || c.Attempts != i {
			t.Fatalf("try %d: %+v, %v", i, c, err)
		}
		if (c.VoidedAt != nil) != (i == 3) {
			t.Fatalf("try %d: voided %v", i, c.VoidedAt)
		}
	}
	if n := auditCount(t, s); n != before+1 {
		t.Errorf("%d audit events for three tries, want 1 (the void)", n-before)
	}
	wantAudit(t, s, public, "activation_code.void", sl.EUID, &e.ID)
	if ok, err := s.ReserveActivationAttempt(ctx, issue.Code.ID); ok || err != nil {
		t.Fatalf("reserve after the limit: %v, %v", ok, err)
	}
	_, err := s.FailActivationAttempt(ctx, public, issue.Code.ID)
	wantErr(t, "after the limit", err, storage.ErrCodeNotLive)
	m, _ := s.OutboxMessage(ctx, issue.Message.ID)
	if m.CancelledAt == nil {
		t.Error("the voided code's message is still pending")
	}
	err = s.CompleteActivation(ctx, public, issue.Code.ID, "late", "hash")
	wantErr(t, "complete with a voided code", err, storage.ErrCodeNotLive)

	// Concurrent tries never exceed the limit: at most MaxAttempts are
	// reserved, and a returned try (the right code) can be taken again.
	fresh := codeIssue("d", sl.Mobile)
	if err := s.IssueActivationCode(ctx, storage.Actor(operator), staffRef(sl), fresh); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	counted := 0
	for range 10 {
		wg.Go(func() {
			if ok, err := s.ReserveActivationAttempt(ctx, fresh.Code.ID); ok && err == nil {
				mu.Lock()
				counted++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if counted != 3 {
		t.Errorf("%d of 10 concurrent tries reserved, want 3", counted)
	}
	if err := s.ReturnActivationAttempt(ctx, fresh.Code.ID); err != nil {
		t.Fatal(err)
	}
	if ok, err := s.ReserveActivationAttempt(ctx, fresh.Code.ID); !ok || err != nil {
		t.Fatalf("a returned try is not available again: %v, %v", ok, err)
	}
}

func TestCompleteActivation(t *testing.T) {
	t.Parallel()
	s, ctx := newStore(t)
	e, acct := createEntity(t, s)
	acctRef := storage.AccountRef{Kind: storage.KindEntityAccount, ID: acct.ID}
	admin := createStaff(t, s, e.ID)
	if _, err := s.Pool().Exec(ctx, `UPDATE staff_logins SET is_admin = true WHERE id = $1`, admin.ID); err != nil {
		t.Fatal(err)
	}
	acctCode, adminCode := codeIssue("a", "m1"), codeIssue("b", "m2")
	for ref, c := range map[storage.AccountRef]*storage.CodeIssue{acctRef: acctCode, staffRef(admin): adminCode} {
		if err := s.IssueActivationCode(ctx, storage.Actor(operator), ref, c); err != nil {
			t.Fatal(err)
		}
	}
	self := storage.Actor{Kind: "staff", ID: admin.EUID, IP: "198.51.100.1"}

	// The admin cannot activate before the entity account; nothing changes.
	err := s.CompleteActivation(ctx, self, adminCode.Code.ID, "boss", "hash-boss")
	wantErr(t, "admin first", err, storage.ErrEntityAccountNotActivated)

	owner := storage.Actor{Kind: "entity_account", ID: acct.Subject, IP: "198.51.100.2"}
	if err := s.CompleteActivation(ctx, owner, acctCode.Code.ID, "owner", "hash-owner"); err != nil {
		t.Fatalf("CompleteActivation: %v", err)
	}
	wantAudit(t, s, owner, "entity_account.activate", acct.Subject, &e.ID)
	got, _ := s.EntityAccount(ctx, e.ID)
	if got.Username != "owner" || got.PasswordHash != "hash-owner" || got.ActivatedAt == nil {
		t.Errorf("entity account after activation: %+v", got)
	}
	if codes, _ := s.ActivationCodes(ctx, acctRef, 1); codes[0].UsedAt == nil {
		t.Error("code not marked used")
	}
	wantErr(t, "second use", s.CompleteActivation(ctx, owner, acctCode.Code.ID, "owner2", "h"), storage.ErrConflict)

	// A username taken in the entity (any case) is refused and the code kept.
	err = s.CompleteActivation(ctx, self, adminCode.Code.ID, "OWNER", "hash-boss")
	wantErr(t, "taken username", err, storage.ErrAlreadyExists)
	if codes, _ := s.ActivationCodes(ctx, staffRef(admin), 1); codes[0].UsedAt != nil || !codes[0].Live(time.Now()) {
		t.Errorf("a refused activation spent the code: %+v", codes[0])
	}
	if err := s.CompleteActivation(ctx, self, adminCode.Code.ID, "boss", "hash-boss"); err != nil {
		t.Fatal(err)
	}
	wantAudit(t, s, self, "staff.activate", admin.EUID, &e.ID)

	// An expired code is refused.
	other := createStaff(t, s, e.ID)
	late := codeIssue("late", "m3")
	late.Code.ExpiresAt = time.Now().Add(time.Millisecond)
	if err := s.IssueActivationCode(ctx, storage.Actor(operator), staffRef(other), late); err != nil {
		t.Fatal(err)
	}
	time.Sleep(5 * time.Millisecond)
	wantErr(t, "expired", s.CompleteActivation(ctx, self, late.Code.ID, "late", "h"), storage.ErrCodeNotLive)
	wantErr(t, "unknown code", s.CompleteActivation(ctx, self, -1, "x", "h"), storage.ErrNotFound)
}

// CreateEntityWithCodes writes everything or nothing.
func TestCreateEntityWithCodes(t *testing.T) {
	t.Parallel()
	s, ctx := newStore(t)
	mk := func(n int) (*storage.Entity, *storage.EntityAccount, []*storage.StaffLogin, []*storage.CodeIssue) {
		e := &storage.Entity{Number: fmt.Sprintf("05-%06d", n), NameZH: "原子", Kind: "association"}
		a := &storage.EntityAccount{ApplicationNumber: "APP", Mobile: "+85366000001"}
		admins := []*storage.StaffLogin{
			{NameZH: "甲", IDDocType: "passport", IDDocNumber: "A1", BirthDate: time.Date(1980, 1, 1, 0, 0, 0, 0, time.UTC), Mobile: "+85366000002"},
			{NameZH: "乙", IDDocType: "passport", IDDocNumber: "B2", BirthDate: time.Date(1981, 1, 1, 0, 0, 0, 0, time.UTC), Mobile: "+85366000003"},
		}
		return e, a, admins, []*storage.CodeIssue{codeIssue("1", "+85366000002"), codeIssue("2", "+85366000003")}
	}
	e, a, admins, issues := mk(1)
	if err := s.CreateEntityWithCodes(ctx, storage.Actor(operator), e, a, codeIssue("0", "+85366000001"), admins, issues); err != nil {
		t.Fatalf("CreateEntityWithCodes: %v", err)
	}
	for _, sl := range admins {
		got, err := s.StaffLogin(ctx, sl.ID)
		if err != nil || !got.Admin || got.EntityID != e.ID {
			t.Errorf("admin %s = %+v, %v", sl.EUID, got, err)
		}
	}
	var codes, messages int
	_ = s.Pool().QueryRow(ctx, `SELECT (SELECT count(*) FROM activation_codes), (SELECT count(*) FROM outbox)`).Scan(&codes, &messages)
	if codes != 3 || messages != 3 {
		t.Errorf("%d codes and %d messages, want 3 and 3", codes, messages)
	}

	// The second admin is invalid (no birth date): nothing of the entity stays.
	e2, a2, admins2, issues2 := mk(2)
	admins2[1].BirthDate = time.Time{}
	if err := s.CreateEntityWithCodes(ctx, storage.Actor(operator), e2, a2, codeIssue("0", "+85366000001"), admins2, issues2); err == nil {
		t.Fatal("invalid admin accepted")
	}
	_, err := s.EntityByNumber(ctx, e2.Number)
	wantErr(t, "rolled back entity", err, storage.ErrNotFound)
	_ = s.Pool().QueryRow(ctx, `SELECT (SELECT count(*) FROM activation_codes), (SELECT count(*) FROM outbox)`).Scan(&codes, &messages)
	if codes != 3 || messages != 3 {
		t.Errorf("after the failed create: %d codes and %d messages, want 3 and 3", codes, messages)
	}
}

func TestOutboxClaims(t *testing.T) {
	t.Parallel()
	s, ctx := newStore(t)
	e, _ := createEntity(t, s)
	var ids []int64
	var codeIDs []int64
	var logins []storage.StaffLogin
	for i := range 7 {
		sl := createStaff(t, s, e.ID)
		logins = append(logins, sl)
		c := codeIssue(fmt.Sprint(i), sl.Mobile)
		if err := s.IssueActivationCode(ctx, storage.Actor(operator), staffRef(sl), c); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, c.Message.ID)
		codeIDs = append(codeIDs, c.Code.ID)
	}

	// Concurrent claims never return one message twice.
	var mu sync.Mutex
	seen := map[int64]int{}
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			got, err := s.ClaimOutbox(ctx, time.Minute, 2)
			if err != nil {
				t.Error(err)
				return
			}
			mu.Lock()
			defer mu.Unlock()
			for _, m := range got {
				seen[m.ID]++
				if m.Attempts != 1 || m.Lease == "" || string(m.Body) == "" {
					t.Errorf("claimed %+v", m)
				}
			}
		})
	}
	wg.Wait()
	if len(seen) != 7 {
		t.Fatalf("claimed %v, want all 7 once", seen)
	}
	for id, n := range seen {
		if n != 1 {
			t.Errorf("message %d claimed %d times", id, n)
		}
	}
	if more, _ := s.ClaimOutbox(ctx, time.Minute, 10); len(more) != 0 {
		t.Errorf("leased messages claimed again: %v", more)
	}

	// Settle them: delivered, retried, failed, and a lost lease.
	s.Now = func() time.Time { return time.Now().Add(2 * time.Minute) } // past every lease
	claimed, err := s.ClaimOutbox(ctx, time.Minute, 10)
	if err != nil || len(claimed) != 7 {
		t.Fatalf("reclaim after the lease: %d, %v", len(claimed), err)
	}
	byID := map[int64]storage.OutboxMessage{}
	for _, m := range claimed {
		byID[m.ID] = m
		if m.Attempts != 2 {
			t.Errorf("attempts after reclaim = %d", m.Attempts)
		}
	}
	if err := s.OutboxDelivered(ctx, ids[0]); err != nil {
		t.Fatal(err)
	}
	wantErr(t, "delivered twice", s.OutboxDelivered(ctx, ids[0]), storage.ErrConflict)
	m, _ := s.OutboxMessage(ctx, ids[0])
	if m.DeliveredAt == nil || m.Body != nil || m.Lease != "" {
		t.Errorf("delivered message = %+v", m)
	}
	if at, ch, err := s.LastCodeSent(ctx, staffRef(logins[0])); err != nil || at == nil || ch != storage.ChannelSMS {
		t.Errorf("LastCodeSent after delivery = %v %q %v", at, ch, err)
	}
	if at, _, err := s.LastCodeSent(ctx, staffRef(logins[1])); err != nil || at != nil {
		t.Errorf("LastCodeSent before delivery = %v %v", at, err)
	}
	if err := s.OutboxRetry(ctx, ids[1], byID[ids[1]].Lease, "gateway down", 10*time.Minute); err != nil {
		t.Fatal(err)
	}
	wantErr(t, "retry with a stale lease", s.OutboxRetry(ctx, ids[2], "stale", "x", 0), storage.ErrConflict)
	if err := s.OutboxFailed(ctx, ids[2], byID[ids[2]].Lease, "refused"); err != nil {
		t.Fatal(err)
	}
	m, _ = s.OutboxMessage(ctx, ids[2])
	if m.FailedAt == nil || m.Body != nil || m.LastError != "refused" {
		t.Errorf("failed message = %+v", m)
	}
	m, _ = s.OutboxMessage(ctx, ids[1])
	if m.LastError != "gateway down" || !m.NextAttemptAt.After(time.Now().Add(9*time.Minute)) {
		t.Errorf("retried message = %+v", m)
	}

	// Messages whose code expired, or whose login was deleted, meanwhile are
	// cancelled, not claimed.
	if _, err := s.Pool().Exec(ctx, `UPDATE activation_codes SET expires_at = created_at + interval '1 ms' WHERE id = $1`, codeIDs[3]); err != nil {
		t.Fatal(err)
	}
	if err := setStatus(ctx, s, operator, logins[6], storage.StatusDeleted); err != nil {
		t.Fatal(err)
	}
	s.Now = func() time.Time { return time.Now().Add(4 * time.Minute) }
	again, err := s.ClaimOutbox(ctx, time.Minute, 10)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range again {
		if m.ID == ids[3] || m.ID == ids[0] || m.ID == ids[1] || m.ID == ids[2] || m.ID == ids[6] {
			t.Errorf("claimed %d", m.ID)
		}
	}
	if len(again) != 2 {
		t.Errorf("claimed %d, want the 2 still pending", len(again))
	}
	for _, i := range []int{3, 6} {
		if m, _ := s.OutboxMessage(ctx, ids[i]); m.CancelledAt == nil || m.Body != nil {
			t.Errorf("message %d (expired code, deleted login) = %+v", i, m)
		}
	}
}
