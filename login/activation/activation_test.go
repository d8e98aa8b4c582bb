package activation_test

import (
	"bytes"
	"context"
	"errors"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/entity-account/idp/login/activation"
	"github.com/entity-account/idp/login/notify"
	"github.com/entity-account/idp/storage"
	"github.com/entity-account/idp/storage/postgres"
	"github.com/entity-account/idp/storage/storagetest"
)

func TestCodes(t *testing.T) {
	shape := regexp.MustCompile(`^[2-9A-HJ-NP-Z]{5}-[2-9A-HJ-NP-Z]{5}$`)
	seen := map[string]bool{}
	counts := map[rune]int{}
	for range 2000 {
		c, err := activation.NewCode()
		if err != nil {
			t.Fatal(err)
		}
		if !shape.MatchString(c) || seen[c] {
			t.Fatalf("code %q (repeat %v)", c, seen[c])
		}
		seen[c] = true
		for _, r := range strings.ReplaceAll(c, "-", "") {
			counts[r]++
		}
	}
	if len(counts) != 32 {
		t.Errorf("%d distinct characters in 20000, want all 32", len(counts))
	}
	for typed, want := range map[string]string{
		"abcde-fghjk": "ABCDEFGHJK", " ABCDE FGHJK ": "ABCDEFGHJK", "ABCDEFGHJK": "ABCDEFGHJK",
		"ABCDE-FGHJ": "", "ABCDE-FGHJ0": "", "ABCDE-FGHJI": "", "ABCDE-FGHJＫ": "", "ABCDE/FGHJK": "",
	} {
		got, ok := activation.NormalizeCode(typed)
		if (want == "") == ok || (ok && got != want) {
			t.Errorf("NormalizeCode(%q) = %q, %v", typed, got, ok)
		}
	}
	for in, want := range map[string]string{"1234567(8)": "12345678", " a-2026/0001 ": "A20260001", "護照": ""} {
		if got := activation.NormalizeFact(in); got != want {
			t.Errorf("NormalizeFact(%q) = %q, want %q", in, got, want)
		}
	}
}

// world is a service over a fresh database, with one entity and a staff
// login, both with a code; codes are read back from the sealed messages.
type world struct {
	svc    *activation.Service
	pg     *postgres.Store
	sealer *notify.Sealer
	entity storage.Entity
}

func newWorld(t *testing.T) *world {
	t.Helper()
	pg := storagetest.NewPostgres(t)
	sealer, _ := notify.NewSealer(bytes.Repeat([]byte{3}, 32))
	texts, err := notify.LoadTexts()
	if err != nil {
		t.Fatal(err)
	}
	svc, err := activation.New(pg, activation.Config{
		Issuer: "https://id.example.gov.mo/", CodeKey: bytes.Repeat([]byte{4}, 32), Sealer: sealer, Texts: texts,
		CodeTTL: time.Hour, MaxAttempts: 2,
	})
	if err != nil {
		t.Fatal(err)
	}
	w := &world{svc: svc, pg: pg, sealer: sealer}
	e := &storage.Entity{Number: "07-000001", NameZH: "服務", Kind: "company"}
	acct := &storage.EntityAccount{ApplicationNumber: "APP-7", Mobile: "+85366000070", Language: "en"}
	admin := &storage.StaffLogin{NameZH: "管", IDDocType: "passport", IDDocNumber: "K1234567",
		BirthDate: time.Date(1970, 7, 7, 0, 0, 0, 0, time.UTC), Mobile: "+85366000071", Language: "en"}
	if err := svc.OpenEntity(context.Background(), storage.OperatorActor("t"), e, acct, []*storage.StaffLogin{admin}, storage.ChannelSMS); err != nil {
		t.Fatal(err)
	}
	w.entity = *e
	return w
}

// TestOpenEntityOnlyOperator: anyone but the operator is refused before
// anything is written (storage.CanOpenEntity).
func TestOpenEntityOnlyOperator(t *testing.T) {
	w := newWorld(t)
	for _, actor := range []storage.Actor{
		{Kind: storage.ActorOperator, ID: "t"}, // not active
		{Kind: storage.ActorStaff, ID: "CU000000001", EntityID: w.entity.ID, Admin: true, Active: true},
		{Kind: storage.ActorEntityAccount, ID: "EA1", EntityID: w.entity.ID, Active: true},
		{Kind: storage.ActorDepartment, ID: "dept", DepartmentID: 1, Active: true},
		storage.SystemActor(),
		storage.PublicActor("192.0.2.1"),
	} {
		e := &storage.Entity{Number: "07-000002", NameZH: "另一", Kind: "company"}
		acct := &storage.EntityAccount{ApplicationNumber: "APP-8", Mobile: "+85366000080", Language: "en"}
		admin := &storage.StaffLogin{NameZH: "管", IDDocType: "passport", IDDocNumber: "K7654321",
			BirthDate: time.Date(1970, 7, 7, 0, 0, 0, 0, time.UTC), Mobile: "+85366000081", Language: "en"}
		err := w.svc.OpenEntity(context.Background(), actor, e, acct, []*storage.StaffLogin{admin}, storage.ChannelSMS)
		if !errors.Is(err, storage.ErrForbidden) || storage.CodeOf(err) != storage.EForbidden {
			t.Errorf("%s %q opened an entity: %v", actor.Kind, actor.ID, err)
		}
		if _, err := w.pg.EntityByNumber(context.Background(), "07-000002"); !errors.Is(err, storage.ErrNotFound) {
			t.Fatalf("after %s's refusal the entity exists: %v", actor.Kind, err)
		}
	}
}

// codeFor opens the newest message to recipient and returns its code.
func (w *world) codeFor(t *testing.T, recipient string) string {
	t.Helper()
	var id int64
	err := w.pg.Pool().QueryRow(context.Background(), `SELECT id FROM outbox WHERE recipient = $1 ORDER BY id DESC LIMIT 1`, recipient).Scan(&id)
	if err != nil {
		t.Fatal(err)
	}
	m, err := w.pg.OutboxMessage(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	c, err := w.sealer.Open(m)
	if err != nil {
		t.Fatal(err)
	}
	code := regexp.MustCompile(`[2-9A-HJ-NP-Z]{5}-[2-9A-HJ-NP-Z]{5}`).FindString(c.Text)
	if code == "" || !strings.Contains(c.Text, "https://id.example.gov.mo/activate/") {
		t.Fatalf("message %q", c.Text)
	}
	return code
}

var public = storage.Actor{Kind: "public", IP: "192.0.2.4"}

func TestVerify(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	ctx := context.Background()
	owner := w.codeFor(t, "+85366000070")
	admin := w.codeFor(t, "+85366000071")
	claim := func(kind storage.PrincipalKind, fact, code string) error {
		_, err := w.svc.Verify(ctx, public, activation.Claim{Kind: kind, EntityNumber: w.entity.Number, Fact: fact, Code: code})
		return err
	}
	for name, c := range map[string]struct {
		err  error
		kind storage.PrincipalKind
		fact string
		code string
	}{
		"admin first":            {storage.ErrEntityAccountNotActivated, storage.KindStaff, "k1234567", admin},
		"owner's code for staff": {activation.ErrMismatch, storage.KindStaff, "K1234567", owner},
		"wrong application":      {activation.ErrMismatch, storage.KindEntityAccount, "APP-8", owner},
		"malformed":              {activation.ErrMalformedCode, storage.KindEntityAccount, "APP-7", "123"},
		"no fact":                {activation.ErrMismatch, storage.KindEntityAccount, "--", owner},
	} {
		if err := claim(c.kind, c.fact, c.code); !errors.Is(err, c.err) {
			t.Errorf("%s: %v, want %v", name, err, c.err)
		}
	}
	v, err := w.svc.Verify(ctx, public, activation.Claim{Kind: storage.KindEntityAccount, EntityNumber: " 07-000001 ", Fact: "app7", Code: owner})
	if err != nil || v.Account.Kind != storage.KindEntityAccount || v.CodeID == 0 {
		t.Fatalf("Verify = %+v, %v", v, err)
	}
	// Verify does not consume: a second check passes too.
	if err := claim(storage.KindEntityAccount, "APP-7", owner); err != nil {
		t.Fatalf("second Verify: %v", err)
	}
	// The owner's code counted one try against the staff login's code
	// ("owner's code for staff"); one more wrong one voids it (2 tries),
	// answered like any wrong code.
	if err := claim(storage.KindStaff, "K1234567", "ZZZZZ-ZZZZZ"); !errors.Is(err, activation.ErrMismatch) {
		t.Fatalf("second wrong try: %v, want ErrMismatch", err)
	}
	if err := claim(storage.KindStaff, "K1234567", admin); !errors.Is(err, activation.ErrLocked) {
		t.Errorf("right code after the limit: %v", err)
	}
	if err := w.svc.Complete(ctx, public, v, "owner", "hash"); err != nil {
		t.Fatal(err)
	}
	if err := claim(storage.KindEntityAccount, "APP-7", owner); !errors.Is(err, activation.ErrUsed) {
		t.Errorf("used code: %v", err)
	}
	if err := claim(storage.KindEntityAccount, "APP-7", "ZZZZZ-ZZZZZ"); !errors.Is(err, activation.ErrMismatch) {
		t.Errorf("activated account, another code: %v, want ErrMismatch (nothing told without the code)", err)
	}
	if _, err := w.svc.Issue(ctx, public, v.Account, storage.ChannelSMS, "resend"); !errors.Is(err, storage.ErrConflict) {
		t.Errorf("code for an activated account: %v", err)
	}
}

func TestResend(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	ctx := context.Background()
	first := w.codeFor(t, "+85366000071")
	req := activation.ResendRequest{Kind: storage.KindStaff, EntityNumber: w.entity.Number, IDDocNumber: "k 1234567",
		BirthDate: time.Date(1970, 7, 7, 0, 0, 0, 0, time.FixedZone("x", 8*3600))}
	if n, err := w.svc.Resend(ctx, public, req); n != 1 || err != nil {
		t.Fatalf("Resend = %d, %v", n, err)
	}
	if second := w.codeFor(t, "+85366000071"); second == first {
		t.Error("same code resent")
	}
	req.BirthDate = req.BirthDate.AddDate(0, 0, 1)
	if n, err := w.svc.Resend(ctx, public, req); n != 0 || err != nil {
		t.Errorf("wrong birth date: %d, %v", n, err)
	}
	if n, _ := w.svc.Resend(ctx, public, activation.ResendRequest{Kind: storage.KindEntityAccount, EntityNumber: w.entity.Number, ApplicationNumber: "APP-7"}); n != 1 {
		t.Errorf("entity account resend issued %d", n)
	}
	if _, err := w.svc.Issue(ctx, public, storage.AccountRef{Kind: storage.KindStaff, ID: -5}, storage.ChannelSMS, "x"); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("unknown account: %v", err)
	}
	// The login has no e-mail: an e-mail code cannot be sent.
	list, _ := w.pg.StaffActivatees(ctx, w.entity.Number, "K1234567")
	if _, err := w.svc.Issue(ctx, public, list[0].Account, storage.ChannelEmail, "x"); !errors.Is(err, storage.ErrNoRecipient) {
		t.Errorf("e-mail without an address: %v", err)
	}
}
