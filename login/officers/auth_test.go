package officers_test

import (
	"context"
	"regexp"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"

	"github.com/entity-account/idp/login/notify"
	"github.com/entity-account/idp/login/officers"
	"github.com/entity-account/idp/login/password"
	"github.com/entity-account/idp/storage"
	"github.com/entity-account/idp/storage/postgres"
	"github.com/entity-account/idp/storage/storagetest"
)

// countingHasher counts the passwords that reach the hasher.
type countingHasher struct {
	*password.Hasher
	verified atomic.Int32
}

func (h *countingHasher) Verify(ctx context.Context, encoded, pw string) (bool, bool, error) {
	h.verified.Add(1)
	return h.Hasher.Verify(ctx, encoded, pw)
}

func (h *countingHasher) VerifyNothing(ctx context.Context, pw string) error {
	h.verified.Add(1)
	return h.Hasher.VerifyNothing(ctx, pw)
}

// world is the officers' use cases with sign-in over real Postgres and
// Redis, a clock the test moves, and the outbox opened to read the codes.
type world struct {
	t      *testing.T
	pg     *postgres.Store
	svc    *officers.Service
	sealer *notify.Sealer
	hasher *countingHasher
	now    time.Time
	mu     sync.Mutex
	boss   storage.Officer
}

const (
	perLogin = 5
	strongPW = "correct horse battery"
)

func key(b byte) []byte {
	k := make([]byte, 32)
	for i := range k {
		k[i] = b
	}
	return k
}

func newWorld(t *testing.T) *world {
	t.Helper()
	w := &world{t: t, pg: storagetest.NewPostgres(t), now: time.Now()}
	rs := storagetest.NewRedis(t)
	var err error
	if w.sealer, err = notify.NewSealer(key(9)); err != nil {
		t.Fatal(err)
	}
	w.hasher = &countingHasher{Hasher: password.NewHasher(password.Params{MemoryKiB: 8 * 1024, Iterations: 1, Threads: 1}, 4, time.Minute)}
	w.svc = officers.New(w.pg)
	if err := w.svc.EnableSignIn(officers.SignIn{CodeKey: key(1), TOTPKey: key(2), TicketKey: key(3), Sealer: w.sealer,
		CodeTTL: 72 * time.Hour, MaxAttempts: 3, Hasher: w.hasher, Counters: rs,
		FailuresPerLogin: perLogin, FailuresPerIP: 1000, FailureWindow: 15 * time.Minute, Now: w.clock}); err != nil {
		t.Fatal(err)
	}
	if w.boss, err = w.svc.Create(context.Background(), nil, storage.Officer{Login: "boss", DisplayName: "主管", Role: storage.RoleSupervisor}); err != nil {
		t.Fatal(err)
	}
	return w
}

func (w *world) clock() time.Time {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.now
}

// tick moves the clock to the next TOTP step.
func (w *world) tick() {
	w.mu.Lock()
	w.now = w.now.Add(30 * time.Second)
	w.mu.Unlock()
}

var codePattern = regexp.MustCompile(`[2-9A-Z]{5}-[2-9A-Z]{5}`)

// code is the activation code in the officer's latest message.
func (w *world) code(o storage.Officer) string {
	w.t.Helper()
	var m storage.OutboxMessage
	err := w.pg.Pool().QueryRow(context.Background(), `SELECT o.channel, o.recipient, o.body_sealed FROM outbox o
		JOIN officer_codes c ON c.id = o.officer_code_id WHERE c.officer_id = $1 ORDER BY o.id DESC LIMIT 1`, o.ID).
		Scan(&m.Channel, &m.Recipient, &m.Body)
	if err != nil {
		w.t.Fatal(err)
	}
	c, err := w.sealer.Open(m)
	if err != nil {
		w.t.Fatal(err)
	}
	code := codePattern.FindString(c.Text)
	if code == "" {
		w.t.Fatalf("no code in %q", c.Text)
	}
	return code
}

func (w *world) totp(secret string) string {
	w.t.Helper()
	c, err := totp.GenerateCodeCustom(secret, w.clock(), totp.ValidateOpts{Period: 30, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
	if err != nil {
		w.t.Fatal(err)
	}
	return c
}

var meta = officers.Meta{IP: "10.0.0.7", UserAgent: "Chrome / Windows"}

// activated creates an officer of role and activates it; it returns the
// officer and its TOTP secret.
func (w *world) activated(login string, role storage.OfficerRole) (storage.Officer, string) {
	w.t.Helper()
	ctx := context.Background()
	o, err := w.svc.Create(ctx, &w.boss, storage.Officer{Login: login, DisplayName: "Officer " + login, Role: role, Mobile: "66000001"})
	if err != nil {
		w.t.Fatal(err)
	}
	e, err := w.svc.BeginActivation(ctx, officers.ActivationForm{Login: login, Code: w.code(o), Password: strongPW, Confirm: strongPW}, meta)
	if err != nil {
		w.t.Fatal(err)
	}
	if o, err = w.svc.ConfirmActivation(ctx, e.Ticket, w.totp(e.Secret), meta); err != nil {
		w.t.Fatal(err)
	}
	w.tick()
	return o, e.Secret
}

func outcomes(t *testing.T, pg *postgres.Store, o storage.Officer) map[storage.DeskOutcome]int {
	t.Helper()
	list, err := pg.OfficerSignIns(context.Background(), o.ID, time.Now().Add(-time.Hour), 1000)
	if err != nil {
		t.Fatal(err)
	}
	n := map[storage.DeskOutcome]int{}
	for _, si := range list {
		n[si.Outcome]++
		if si.IP != meta.IP || si.UserAgent != meta.UserAgent {
			t.Errorf("sign-in recorded from %q %q", si.IP, si.UserAgent)
		}
	}
	return n
}

// TestActivation: the code sent at creation, wrong codes and wrong login
// names answered alike, the password policy, the 安全驗證碼's first code,
// and a code used once.
func TestActivation(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	o, err := w.svc.Create(ctx, &w.boss, storage.Officer{Login: "chan.tm", DisplayName: "陳大文", Role: storage.RoleCounter, Mobile: "66123456"})
	if err != nil {
		t.Fatal(err)
	}
	code := w.code(o)
	form := func(login, code, pw, confirm string) error {
		_, err := w.svc.BeginActivation(ctx, officers.ActivationForm{Login: login, Code: code, Password: pw, Confirm: confirm}, meta)
		return err
	}
	for name, c := range map[string]struct{ login, code, pw, confirm, key string }{
		"a wrong code":        {"chan.tm", "ABCDE-FGHJK", strongPW, strongPW, "desk_auth_err_activation"},
		"an unknown login":    {"nobody", code, strongPW, strongPW, "desk_auth_err_activation"},
		"a malformed code":    {"chan.tm", "x", strongPW, strongPW, "desk_auth_err_activation"},
		"passwords differ":    {"chan.tm", code, strongPW, strongPW + "!", "desk_auth_err_passwords_differ"},
		"a short password":    {"chan.tm", code, "short", "short", password.KeyTooShort},
		"the login in the pw": {"chan.tm", code, "chan.tm-forever", "chan.tm-forever", password.KeyContainsIdentity},
	} {
		if err := form(c.login, c.code, c.pw, c.confirm); keyOf(err) != c.key {
			t.Errorf("%s: %v, want %s", name, err, c.key)
		}
	}
	e, err := w.svc.BeginActivation(ctx, officers.ActivationForm{Login: " CHAN.tm ", Code: code, Password: strongPW, Confirm: strongPW}, meta)
	if err != nil || e.Secret == "" || e.Login != "chan.tm" {
		t.Fatalf("the first step: %+v, %v", e, err)
	}
	if again, err := w.svc.Staged(ctx, e.Ticket); err != nil || again.Secret != e.Secret {
		t.Fatalf("the staged enrolment: %+v, %v", again, err)
	}
	if _, err := w.svc.Staged(ctx, "forged"); keyOf(err) != "desk_auth_err_stale" {
		t.Errorf("a forged ticket: %v", err)
	}
	// Until the first TOTP code, the officer has neither password nor TOTP.
	if cur, _ := w.pg.OfficerByID(ctx, o.ID); cur.HasPassword || cur.HasTOTP {
		t.Fatalf("activated before the TOTP's first code: %+v", cur)
	}
	if _, err := w.svc.ConfirmActivation(ctx, e.Ticket, "000000", meta); keyOf(err) != "desk_auth_err_code" {
		t.Errorf("a wrong first TOTP code: %v", err)
	}
	if _, err := w.svc.ConfirmActivation(ctx, e.Ticket, "12", meta); keyOf(err) != "desk_auth_err_code_format" {
		t.Errorf("a malformed TOTP code: %v", err)
	}
	done, err := w.svc.ConfirmActivation(ctx, e.Ticket, w.totp(e.Secret), meta)
	if err != nil || !done.HasPassword || !done.HasTOTP || done.LastSignInAt == nil {
		t.Fatalf("confirm: %+v, %v", done, err)
	}
	if _, err := w.svc.ConfirmActivation(ctx, e.Ticket, w.totp(e.Secret), meta); keyOf(err) != "desk_auth_err_stale" {
		t.Errorf("the ticket again: %v", err)
	}
	if err := form("chan.tm", code, strongPW, strongPW); keyOf(err) != "desk_auth_err_activation" {
		t.Errorf("the code used again: %v", err)
	}
	// The first code's step is spent: the sign-in refuses it (a replay).
	ticket, err := w.svc.SignInPassword(ctx, "chan.tm", strongPW, meta)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.svc.SignInCode(ctx, ticket, w.totp(e.Secret), meta); keyOf(err) != "desk_auth_err_code" {
		t.Errorf("the activation's TOTP code replayed at sign-in: %v", err)
	}
	var n int
	if err := w.pg.Pool().QueryRow(ctx, `SELECT count(*) FROM audit_events WHERE action = 'officer.activate' AND actor_id = 'chan.tm' AND officer_id = $1`, o.ID).Scan(&n); err != nil || n != 1 {
		t.Errorf("%d officer.activate events by the officer, %v", n, err)
	}
}

// TestActivationCodeLimits: wrong tries void a code; a newer code voids the
// older; an expired code is refused.
func TestActivationCodeLimits(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	o, err := w.svc.Create(ctx, &w.boss, storage.Officer{Login: "lei.kf", DisplayName: "李", Role: storage.RoleCounter, Email: "lei@safp.gov.mo"})
	if err != nil {
		t.Fatal(err)
	}
	first := w.code(o)
	try := func(code string) error {
		_, err := w.svc.BeginActivation(ctx, officers.ActivationForm{Login: "lei.kf", Code: code, Password: strongPW, Confirm: strongPW}, meta)
		return err
	}
	for range 3 { // MaxAttempts
		if err := try("ABCDE-FGHJK"); keyOf(err) != "desk_auth_err_activation" {
			t.Fatalf("a wrong code: %v", err)
		}
	}
	if err := try(first); keyOf(err) != "desk_auth_err_activation" {
		t.Errorf("the right code after its tries are spent: %v", err)
	}
	var void string
	if err := w.pg.Pool().QueryRow(ctx, `SELECT void_reason FROM officer_codes WHERE officer_id = $1`, o.ID).Scan(&void); err != nil || void != "attempts" {
		t.Errorf("void reason %q, %v", void, err)
	}

	// A reset sends a new code; a second reset voids it.
	if _, err := w.svc.Reset(ctx, w.boss, "lei.kf"); err != nil {
		t.Fatal(err)
	}
	second := w.code(o)
	if _, err := w.svc.Reset(ctx, w.boss, "lei.kf"); err != nil {
		t.Fatal(err)
	}
	if err := try(second); keyOf(err) != "desk_auth_err_activation" {
		t.Errorf("a code replaced by a newer one: %v", err)
	}
	var cancelled int
	if err := w.pg.Pool().QueryRow(ctx, `SELECT count(*) FROM outbox o JOIN officer_codes c ON c.id = o.officer_code_id
		WHERE c.officer_id = $1 AND o.cancelled_at IS NOT NULL`, o.ID).Scan(&cancelled); err != nil || cancelled != 2 {
		t.Errorf("%d messages of void codes cancelled, %v; want 2", cancelled, err)
	}

	// An expired code (another officer: this one's tries are spent).
	o, err = w.svc.Create(ctx, &w.boss, storage.Officer{Login: "late.one", DisplayName: "遲", Role: storage.RoleCounter, Mobile: "66000009"})
	if err != nil {
		t.Fatal(err)
	}
	third := w.code(o)
	if _, err := w.pg.Pool().Exec(ctx, `UPDATE officer_codes SET created_at = now() - interval '4 days', expires_at = now() - interval '1 day'
		WHERE officer_id = $1 AND used_at IS NULL AND voided_at IS NULL`, o.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := w.svc.BeginActivation(ctx, officers.ActivationForm{Login: "late.one", Code: third, Password: strongPW, Confirm: strongPW}, meta); keyOf(err) != "desk_auth_err_activation" {
		t.Errorf("an expired code: %v", err)
	}
}

// TestSignIn: a password alone gives only a ticket; the code signs in
// once; a replay, a wrong code, a disabled officer and a reset are refused;
// the history records each attempt.
func TestSignIn(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	o, secret := w.activated("chan.tm", storage.RoleCounter)
	for name, c := range map[string]struct{ login, pw string }{
		"a wrong password": {"chan.tm", "wrong password!"},
		"an unknown login": {"nobody", strongPW},
		"a bad login":      {"no body!", strongPW},
	} {
		if _, err := w.svc.SignInPassword(ctx, c.login, c.pw, meta); keyOf(err) != "desk_auth_err_signin" {
			t.Errorf("%s: %v", name, err)
		}
	}
	ticket, err := w.svc.SignInPassword(ctx, "Chan.TM", strongPW, meta)
	if err != nil || ticket == "" {
		t.Fatalf("the right password: %q, %v", ticket, err)
	}
	// The password alone: the ticket opens nothing without the code.
	for name, tk := range map[string]string{"no ticket": "", "a forged ticket": "AAAAAAAAAAAAAAAAAAAAAA.AAAA", "a tampered ticket": ticket[:len(ticket)-2] + "AA"} {
		if _, err := w.svc.SignInCode(ctx, tk, w.totp(secret), meta); keyOf(err) != "desk_auth_err_stale" {
			t.Errorf("%s: %v", name, err)
		}
	}
	if _, err := w.svc.SignInCode(ctx, ticket, "000000", meta); keyOf(err) != "desk_auth_err_code" {
		t.Errorf("a wrong code: %v", err)
	}
	got, err := w.svc.SignInCode(ctx, ticket, w.totp(secret), meta)
	if err != nil || got.ID != o.ID {
		t.Fatalf("the right code: %+v, %v", got, err)
	}
	if _, err := w.svc.SignInCode(ctx, ticket, w.totp(secret), meta); keyOf(err) != "desk_auth_err_code" {
		t.Errorf("the code replayed in its window: %v", err)
	}
	w.tick()
	if _, err := w.svc.SignInCode(ctx, ticket, w.totp(secret), meta); err != nil {
		t.Errorf("the next step's code: %v", err)
	}
	w.tick()
	// The ticket expires.
	for range 10 {
		w.tick()
	}
	if _, err := w.svc.SignInCode(ctx, ticket, w.totp(secret), meta); keyOf(err) != "desk_auth_err_stale" {
		t.Errorf("an expired ticket: %v", err)
	}
	n := outcomes(t, w.pg, o)
	want := map[storage.DeskOutcome]int{storage.DeskSignedIn: 3, storage.DeskWrongPassword: 1, storage.DeskWrongCode: 2}
	for k, v := range want {
		if n[k] != v {
			t.Errorf("history: %d %s, want %d (%v)", n[k], k, v, n)
		}
	}
	if hist, err := w.svc.History(ctx, o); err != nil || len(hist) != 6 {
		t.Errorf("History: %d rows, %v", len(hist), err)
	}
}

// TestSignInDisabledOrReset: a disabled officer's right password is
// refused like a wrong one and its ticket is void; so are a reset
// officer's.
func TestSignInDisabledOrReset(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	o, secret := w.activated("chan.tm", storage.RoleCounter)
	ticket, err := w.svc.SignInPassword(ctx, "chan.tm", strongPW, meta)
	if err != nil {
		t.Fatal(err)
	}

	if _, err := w.svc.Disable(ctx, w.boss, "chan.tm"); err != nil {
		t.Fatal(err)
	}
	if _, err := w.svc.SignInPassword(ctx, "chan.tm", strongPW, meta); keyOf(err) != "desk_auth_err_signin" {
		t.Errorf("a disabled officer's password: %v", err)
	}
	if _, err := w.svc.SignInCode(ctx, ticket, w.totp(secret), meta); keyOf(err) != "desk_auth_err_stale" {
		t.Errorf("a disabled officer's ticket: %v", err)
	}
	if _, err := w.svc.Enable(ctx, w.boss, "chan.tm"); err != nil {
		t.Fatal(err)
	}
	// Reset: the password and the 安全驗證碼 are gone.
	ticket, err = w.svc.SignInPassword(ctx, "chan.tm", strongPW, meta)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.svc.Reset(ctx, w.boss, "chan.tm"); err != nil {
		t.Fatal(err)
	}
	w.tick()
	if _, err := w.svc.SignInCode(ctx, ticket, w.totp(secret), meta); keyOf(err) != "desk_auth_err_stale" {
		t.Errorf("a reset officer's ticket: %v", err)
	}
	if _, err := w.svc.SignInPassword(ctx, "chan.tm", strongPW, meta); keyOf(err) != "desk_auth_err_signin" {
		t.Errorf("a reset officer's old password: %v", err)
	}
	n := outcomes(t, w.pg, o)
	want := map[storage.DeskOutcome]int{storage.DeskSignedIn: 1, storage.DeskWrongPassword: 1, storage.DeskDisabled: 1}
	for k, v := range want {
		if n[k] != v {
			t.Errorf("history: %d %s, want %d (%v)", n[k], k, v, n)
		}
	}
}

// TestConcurrentWrongPasswords: fifty wrong passwords at once reach the
// hasher at most as often as the limit allows; the rest are refused
// unchecked, and the right password too until the window ends.
func TestConcurrentWrongPasswords(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	o, _ := w.activated("ho.mk", storage.RoleCounter)
	w.hasher.verified.Store(0)
	var wg sync.WaitGroup
	var throttled atomic.Int32
	for range 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := w.svc.SignInPassword(ctx, "ho.mk", "not the password", meta)
			if keyOf(err) == "desk_auth_err_throttled" {
				throttled.Add(1)
			} else if keyOf(err) != "desk_auth_err_signin" {
				t.Errorf("a wrong password: %v", err)
			}
		}()
	}
	wg.Wait()
	if n := w.hasher.verified.Load(); n > perLogin {
		t.Errorf("%d passwords reached the hasher, limit %d", n, perLogin)
	}
	if throttled.Load() < 50-perLogin {
		t.Errorf("%d refused unchecked, want at least %d", throttled.Load(), 50-perLogin)
	}
	if _, err := w.svc.SignInPassword(ctx, "ho.mk", strongPW, meta); keyOf(err) != "desk_auth_err_throttled" {
		t.Errorf("the right password while locked: %v", err)
	}
	if n := outcomes(t, w.pg, o); n[storage.DeskLocked] < 50-perLogin {
		t.Errorf("history: %v", n)
	}
}

// TestTOTPTriesLimited: wrong codes after the password are limited per
// officer: the right code is refused once the limit is reached.
func TestTOTPTriesLimited(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	_, secret := w.activated("wong.ss", storage.RoleCounter)
	ticket, err := w.svc.SignInPassword(ctx, "wong.ss", strongPW, meta)
	if err != nil {
		t.Fatal(err)
	}
	for range perLogin {
		if _, err := w.svc.SignInCode(ctx, ticket, "000000", meta); keyOf(err) != "desk_auth_err_code" {
			t.Fatalf("a wrong code: %v", err)
		}
	}
	if _, err := w.svc.SignInCode(ctx, ticket, w.totp(secret), meta); keyOf(err) != "desk_auth_err_throttled" {
		t.Errorf("the right code after %d wrong ones: %v", perLogin, err)
	}
}

// TestManageOfficers: reset, enable and role changes by a supervisor only,
// never leaving no active supervisor, each audited with the officer.
func TestManageOfficers(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	counter, _ := w.activated("chan.tm", storage.RoleCounter)
	if _, err := w.svc.Reset(ctx, counter, "boss"); keyOf(err) != "desk_err_supervisor_only" {
		t.Errorf("a counter officer resets: %v", err)
	}
	if _, err := w.svc.Reset(ctx, w.boss, "boss"); keyOf(err) != "desk_auth_err_reset_self" {
		t.Errorf("a reset of oneself: %v", err)
	}
	if _, err := w.svc.Reset(ctx, w.boss, "nobody"); keyOf(err) != "desk_err_no_officer" {
		t.Errorf("a reset of nobody: %v", err)
	}
	if _, err := w.svc.ChangeRole(ctx, w.boss, "boss", storage.RoleCounter); keyOf(err) != "desk_auth_err_last_supervisor_role" {
		t.Errorf("the last supervisor demoted: %v", err)
	}
	if _, err := w.svc.ChangeRole(ctx, counter, "chan.tm", storage.RoleSupervisor); keyOf(err) != "desk_err_supervisor_only" {
		t.Errorf("a counter officer promotes itself: %v", err)
	}
	if o, err := w.svc.ChangeRole(ctx, w.boss, "chan.tm", storage.RoleSupervisor); err != nil || o.Role != storage.RoleSupervisor {
		t.Fatalf("promote: %+v, %v", o, err)
	}
	if o, err := w.svc.ChangeRole(ctx, w.boss, "boss", storage.RoleCounter); err != nil || o.Role != storage.RoleCounter {
		t.Fatalf("demote oneself with another supervisor: %+v, %v", o, err)
	}
	if _, err := w.svc.Enable(ctx, w.boss, "chan.tm"); keyOf(err) != "desk_err_supervisor_only" {
		t.Errorf("a demoted supervisor acts (as read before): %v", err)
	}
	sup, _ := w.pg.OfficerByLogin(ctx, "chan.tm")
	if _, err := w.svc.Disable(ctx, sup, "boss"); err != nil {
		t.Fatal(err)
	}
	if _, err := w.svc.Enable(ctx, sup, "chan.tm"); keyOf(err) != "desk_auth_err_already_active" {
		t.Errorf("enable an active officer: %v", err)
	}
	if o, err := w.svc.Enable(ctx, sup, "boss"); err != nil || o.Status != storage.OfficerActive {
		t.Fatalf("enable: %+v, %v", o, err)
	}
	for action, want := range map[string]int{"officer.role": 2, "officer.disable": 1, "officer.enable": 1} {
		var n int
		if err := w.pg.Pool().QueryRow(ctx, `SELECT count(*) FROM audit_events WHERE action = $1 AND officer_id IS NOT NULL`, action).Scan(&n); err != nil || n != want {
			t.Errorf("%d %s events with their officer, %v; want %d", n, action, err, want)
		}
	}
}
