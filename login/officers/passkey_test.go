package officers_test

import (
	"context"
	"errors"
	"testing"

	"github.com/entity-account/idp/login/officers"
	"github.com/entity-account/idp/login/webauthntest"
	"github.com/entity-account/idp/storage"
	"github.com/entity-account/idp/storage/storagetest"
)

const deskOrigin = "https://desk.dsaj.internal:8443"

// passkeyWorld is the officers' world with the desk's passkeys on.
func passkeyWorld(t *testing.T) *world {
	t.Helper()
	w := newWorld(t)
	err := w.svc.EnablePasskeys(officers.PasskeyConfig{RPID: "desk.dsaj.internal", Origins: []string{deskOrigin}, CeremonyKey: key(7)},
		w.pg, storagetest.NewRedis(t))
	if err != nil {
		t.Fatal(err)
	}
	return w
}

func wantKey(t *testing.T, what string, err error, key string) {
	t.Helper()
	var e *storage.Error
	if !errors.As(err, &e) || e.Key != key {
		t.Fatalf("%s: %v, want %s", what, err, key)
	}
}

func (w *world) auditCount(action, target string) int {
	w.t.Helper()
	var n int
	if err := w.pg.Pool().QueryRow(context.Background(), `SELECT count(*) FROM audit_events WHERE action = $1 AND target = $2`,
		action, target).Scan(&n); err != nil {
		w.t.Fatal(err)
	}
	return n
}

// proof is the officer o's password typed again in session.
func (w *world) proof(o storage.Officer, session string) string {
	w.t.Helper()
	p, err := w.svc.ConfirmPassword(context.Background(), o, session, strongPW, meta)
	if err != nil {
		w.t.Fatal(err)
	}
	return p
}

// addPasskey enrols a new authenticator for o, named name.
func (w *world) addPasskey(o storage.Officer, session, name string) (*webauthntest.Authenticator, storage.OfficerPasskey) {
	w.t.Helper()
	ctx := context.Background()
	proof := w.proof(o, session)
	options, state, err := w.svc.BeginAddPasskey(ctx, o, session, proof)
	if err != nil {
		w.t.Fatal(err)
	}
	a := webauthntest.New(w.t, deskOrigin)
	p, err := w.svc.FinishAddPasskey(ctx, o, session, proof, state, name, a.Create(options))
	if err != nil {
		w.t.Fatal(err)
	}
	return a, p
}

// ticket is o's password's ticket.
func (w *world) ticket(o storage.Officer) string {
	w.t.Helper()
	tk, err := w.svc.SignInPassword(context.Background(), o.Login, strongPW, meta)
	if err != nil {
		w.t.Fatal(err)
	}
	return tk
}

// TestOfficerPasskeyEnrolment: the password again first (wrong, another
// session, another officer's proof refused), the passkey added and
// audited, a finished ceremony not used twice, names unique, at most
// five.
func TestOfficerPasskeyEnrolment(t *testing.T) {
	w := passkeyWorld(t)
	ctx := context.Background()
	o, _ := w.activated("chan.tm", storage.RoleCounter)
	other, _ := w.activated("lei.km", storage.RoleCounter)

	_, _, err := w.svc.BeginAddPasskey(ctx, o, "s1", "")
	wantKey(t, "no proof", err, "desk_passkeys_err_reauth")
	_, err = w.svc.ConfirmPassword(ctx, o, "s1", "wrong password!", meta)
	wantKey(t, "wrong password", err, "desk_passkeys_err_password")
	proof := w.proof(o, "s1")
	if !w.svc.Fresh(ctx, o, "s1", proof) || w.svc.Fresh(ctx, o, "s2", proof) || w.svc.Fresh(ctx, other, "s1", proof) {
		t.Fatal("a proof holds only for its officer and session")
	}
	_, _, err = w.svc.BeginAddPasskey(ctx, other, "s1", proof)
	wantKey(t, "another officer's proof", err, "desk_passkeys_err_reauth")

	options, state, err := w.svc.BeginAddPasskey(ctx, o, "s1", proof)
	if err != nil {
		t.Fatal(err)
	}
	a := webauthntest.New(t, deskOrigin)
	cred := a.Create(options)
	_, err = w.svc.FinishAddPasskey(ctx, o, "s1", proof, state, "", cred)
	wantKey(t, "no name", err, "desk_passkeys_err_name")
	// The officer's state is not another officer's.
	_, err = w.svc.Via(storage.Actor{}).FinishAddPasskey(ctx, other, "s1", w.proof(other, "s1"), state, "偷來", cred)
	wantKey(t, "another officer's ceremony", err, "desk_passkeys_err_state")
	p, err := w.svc.FinishAddPasskey(ctx, o, "s1", proof, state, "櫃台電腦", cred)
	if err != nil {
		t.Fatal(err)
	}
	if p.ID == 0 || p.OfficerID != o.ID || w.auditCount("officer.passkey.add", o.Login) != 1 {
		t.Fatalf("added %+v, audit %d", p, w.auditCount("officer.passkey.add", o.Login))
	}
	_, err = w.svc.FinishAddPasskey(ctx, o, "s1", proof, state, "再一次", cred)
	wantKey(t, "replayed ceremony", err, "desk_passkeys_err_state")

	options, state, err = w.svc.BeginAddPasskey(ctx, o, "s1", proof)
	if err != nil {
		t.Fatal(err)
	}
	_, err = w.svc.FinishAddPasskey(ctx, o, "s1", proof, state, "櫃台電腦", webauthntest.New(t, deskOrigin).Create(options))
	wantKey(t, "name taken", err, "desk_passkeys_err_name_taken")
	for i := range 4 {
		w.addPasskey(o, "s1", "key "+string(rune('a'+i)))
	}
	_, _, err = w.svc.BeginAddPasskey(ctx, o, "s1", proof)
	wantKey(t, "sixth", err, "desk_passkeys_err_limit")
	list, err := w.svc.Passkeys(ctx, o)
	if err != nil || len(list) != storage.MaxOfficerPasskeys {
		t.Fatalf("passkeys %d, %v", len(list), err)
	}
	// Staff logins' identity tools hold none of them.
	var n int
	if err := w.pg.Pool().QueryRow(ctx, `SELECT count(*) FROM identity_tools WHERE kind = 'passkey'`).Scan(&n); err != nil || n != 0 {
		t.Fatalf("identity_tools passkeys %d, %v", n, err)
	}
}

// TestOfficerPasskeyRemove: the password again first; another officer's
// passkey is not found; the last second factor is kept.
func TestOfficerPasskeyRemove(t *testing.T) {
	w := passkeyWorld(t)
	ctx := context.Background()
	o, _ := w.activated("chan.tm", storage.RoleCounter)
	other, _ := w.activated("lei.km", storage.RoleCounter)
	_, p1 := w.addPasskey(o, "s1", "one")
	_, p2 := w.addPasskey(o, "s1", "two")
	_, theirs := w.addPasskey(other, "s9", "theirs")

	wantKey(t, "no proof", w.svc.RemovePasskey(ctx, o, "s1", "", p1.ID), "desk_passkeys_err_reauth")
	proof := w.proof(o, "s1")
	wantKey(t, "another officer's", w.svc.RemovePasskey(ctx, o, "s1", proof, theirs.ID), "desk_passkeys_err_not_found")
	if err := w.svc.RemovePasskey(ctx, o, "s1", proof, p1.ID); err != nil {
		t.Fatal(err)
	}
	if w.auditCount("officer.passkey.remove", o.Login) != 1 {
		t.Error("remove not audited")
	}
	// Without its 安全驗證碼, the officer's last passkey stays.
	if _, err := w.pg.Pool().Exec(ctx, `UPDATE officers SET totp_sealed = NULL WHERE id = $1`, o.ID); err != nil {
		t.Fatal(err)
	}
	wantKey(t, "last factor", w.svc.RemovePasskey(ctx, o, "s1", proof, p2.ID), "desk_passkeys_err_last")
	if _, err := w.pg.RemoveOfficerPasskey(ctx, storage.OfficerActor(o), p2.ID); !errors.Is(err, storage.ErrLastFactor) {
		t.Fatalf("store: %v", err)
	}
	// With it, the last passkey may go.
	if err := w.svc.RemovePasskey(ctx, other, "s9", w.proof(other, "s9"), theirs.ID); err != nil {
		t.Fatal(err)
	}
}

// TestOfficerPasskeySignIn: after the password, a passkey of the ticket's
// officer signs in; a replayed ceremony, another officer's passkey, a
// counter that did not move forward and an unverified user are refused,
// and the refusals are throttled like codes.
func TestOfficerPasskeySignIn(t *testing.T) {
	w := passkeyWorld(t)
	ctx := context.Background()
	o, _ := w.activated("chan.tm", storage.RoleCounter)
	other, _ := w.activated("lei.km", storage.RoleCounter)
	a, _ := w.addPasskey(o, "s1", "mine")
	b, _ := w.addPasskey(other, "s2", "theirs")

	if _, _, ok, err := w.svc.SignInPasskeyOptions(ctx, "bogus"); ok || err == nil {
		t.Fatal("options without a ticket")
	}
	tk := w.ticket(o)
	options, state, ok, err := w.svc.SignInPasskeyOptions(ctx, tk)
	if err != nil || !ok {
		t.Fatalf("options: %v", err)
	}
	resp := a.Get(options)
	got, err := w.svc.SignInPasskey(ctx, tk, state, resp, meta)
	if err != nil || got.ID != o.ID {
		t.Fatalf("sign-in: %+v %v", got, err)
	}
	_, err = w.svc.SignInPasskey(ctx, tk, state, resp, meta)
	wantKey(t, "replay", err, "desk_passkeys_err_state")

	// Another officer's passkey answers this officer's ceremony.
	options, state, _, _ = w.svc.SignInPasskeyOptions(ctx, tk)
	b.Pushy = true
	_, err = w.svc.SignInPasskey(ctx, tk, state, b.Get(options), meta)
	wantKey(t, "another officer's passkey", err, "desk_passkeys_err_signin")
	// A counter that went back (a cloned authenticator).
	options, state, _, _ = w.svc.SignInPasskeyOptions(ctx, tk)
	a.Counter -= 2
	_, err = w.svc.SignInPasskey(ctx, tk, state, a.Get(options), meta)
	wantKey(t, "counter", err, "desk_passkeys_err_signin")
	a.Counter += 5
	// No user verification.
	a.NoUV = true
	options, state, _, _ = w.svc.SignInPasskeyOptions(ctx, tk)
	_, err = w.svc.SignInPasskey(ctx, tk, state, a.Get(options), meta)
	wantKey(t, "no UV", err, "desk_passkeys_err_signin")
	a.NoUV = false
	// A ticket of the other officer does not take this officer's state.
	tk2 := w.ticket(other)
	options, state, _, _ = w.svc.SignInPasskeyOptions(ctx, tk)
	_, err = w.svc.SignInPasskey(ctx, tk2, state, a.Get(options), meta)
	wantKey(t, "another ticket", err, "desk_passkeys_err_state")
	// An officer without passkeys is offered none.
	third, _ := w.activated("ho.sk", storage.RoleCounter)
	if _, _, ok, err := w.svc.SignInPasskeyOptions(ctx, w.ticket(third)); ok || err != nil {
		t.Fatalf("an officer without passkeys: %v %v", ok, err)
	}
	// The replay, the other passkey, the counter and UV: four.
	if n := outcomes(t, w.pg, o)[storage.DeskWrongPasskey]; n != 4 {
		t.Errorf("wrong passkeys recorded %d", n)
	}
	// Throttled like codes: one more failure is the fifth, past which
	// nothing is tried.
	_, state, _, _ = w.svc.SignInPasskeyOptions(ctx, tk)
	_, _ = w.svc.SignInPasskey(ctx, tk, state, []byte(`{}`), meta)
	options, state, _, _ = w.svc.SignInPasskeyOptions(ctx, tk)
	_, err = w.svc.SignInPasskey(ctx, tk, state, a.Get(options), meta)
	wantKey(t, "throttled", err, "desk_auth_err_throttled")
	_, err = w.svc.SignInCode(ctx, tk, "123456", meta)
	wantKey(t, "code throttled too", err, "desk_auth_err_throttled")
}

// TestOfficerPasskeysReset: a supervisor's reset removes the officer's
// passkeys with its password and 安全驗證碼; a disabled officer's ticket
// offers no passkey.
func TestOfficerPasskeysReset(t *testing.T) {
	w := passkeyWorld(t)
	ctx := context.Background()
	o, _ := w.activated("chan.tm", storage.RoleCounter)
	other, _ := w.activated("lei.km", storage.RoleCounter)
	w.addPasskey(o, "s1", "mine")
	w.addPasskey(other, "s2", "theirs")
	tk := w.ticket(other)
	if _, err := w.svc.Reset(ctx, w.boss, o.Login); err != nil {
		t.Fatal(err)
	}
	a, err := w.pg.OfficerPasskeyAccount(ctx, o.ID)
	if err != nil || len(a.Passkeys) != 0 {
		t.Fatalf("after the reset: %d passkeys, %v", len(a.Passkeys), err)
	}
	if _, err := w.svc.Disable(ctx, w.boss, other.Login); err != nil {
		t.Fatal(err)
	}
	if _, _, ok, err := w.svc.SignInPasskeyOptions(ctx, tk); ok || err == nil {
		t.Errorf("a disabled officer's ticket offers passkeys: %v %v", ok, err)
	}
}
