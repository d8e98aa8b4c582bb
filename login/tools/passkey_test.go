package tools_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/entity-account/idp/login/tools"
	"github.com/entity-account/idp/login/webauthntest"
	"github.com/entity-account/idp/storage"
)

const (
	rpID   = "id.example.gov.mo"
	origin = "https://id.example.gov.mo"
)

// withPasskeys turns the fixture's passkey ceremonies on.
func (f *fixture) withPasskeys(t *testing.T) *fixture {
	t.Helper()
	err := f.svc.EnablePasskeys(tools.WebAuthnConfig{RPID: rpID, Origins: []string{origin}, DisplayName: "澳門公共服務一戶通",
		CeremonyKey: bytes.Repeat([]byte{5}, 32)}, f.rs)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// enrol adds a passkey of authenticator a, named name, to the login.
func (f *fixture) enrol(t *testing.T, me storage.Actor, a *webauthntest.Authenticator, name string) storage.IdentityTool {
	t.Helper()
	opts, state, err := f.svc.BeginPasskey(t.Context(), me, me.ID)
	if err != nil {
		t.Fatalf("BeginPasskey: %v", err)
	}
	tool, err := f.svc.FinishPasskey(t.Context(), me, me.ID, state, name, a.Create(opts))
	if err != nil {
		t.Fatalf("FinishPasskey: %v", err)
	}
	return tool
}

// signIn signs in with authenticator a alone.
func (f *fixture) signIn(t *testing.T, a *webauthntest.Authenticator) (int64, string, []string, error) {
	t.Helper()
	opts, state, err := f.svc.BeginPasskeySignIn(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	return f.svc.FinishPasskeySignIn(t.Context(), state, a.Get(opts))
}

// check uses authenticator a as the second factor of login.
func (f *fixture) check(t *testing.T, loginID int64, a *webauthntest.Authenticator) ([]string, error) {
	t.Helper()
	opts, state, err := f.svc.BeginPasskeyCheck(t.Context(), loginID)
	if err != nil {
		t.Fatal(err)
	}
	return f.svc.FinishPasskeyCheck(t.Context(), loginID, state, a.Get(opts))
}

func wantCode(t *testing.T, what string, err error, code storage.ErrorCode) {
	t.Helper()
	if storage.CodeOf(err) != code {
		t.Errorf("%s: %v (code %q), want %q", what, err, storage.CodeOf(err), code)
	}
}

func keyOf(err error) string {
	var e *storage.Error
	if errors.As(err, &e) {
		return e.Key
	}
	return ""
}

// TestPasskeyRegisterSignInAndCheck: a login with a Macau resident ID
// enrols a passkey with options a browser takes as they are, signs in with
// it alone, and uses it as the second factor; a synced passkey says swk.
func TestPasskeyRegisterSignInAndCheck(t *testing.T) {
	f := newFixture(t).withPasskeys(t)
	ctx := t.Context()
	sl, me := f.staff(t, "staff11", storage.IDMacauPermanent)

	opts, state, err := f.svc.BeginPasskey(ctx, me, sl.EUID)
	if err != nil {
		t.Fatal(err)
	}
	o := webauthntest.Decode[webauthntest.CreationOptions](t, opts).PublicKey
	handle, _ := webauthntest.B64.DecodeString(o.User.ID)
	if o.RP.ID != rpID || o.RP.Name != "澳門公共服務一戶通" || len(handle) != 32 || bytes.Contains(handle, []byte(sl.EUID)) ||
		o.AuthenticatorSelection.ResidentKey != "required" || !o.AuthenticatorSelection.RequireResidentKey ||
		o.AuthenticatorSelection.UserVerification != "required" || o.Attestation != "none" || o.Extensions["credProps"] != true ||
		o.Timeout != int(tools.CeremonyTTL.Milliseconds()) || !strings.Contains(o.User.Name, f.entity.Number) || len(o.Challenge) < 22 {
		t.Errorf("creation options %s", opts)
	}
	if strings.Contains(state, sl.EUID) || strings.Contains(state, o.Challenge) {
		t.Error("the state shows what it holds")
	}
	phone := webauthntest.New(t, origin)
	tool, err := f.svc.FinishPasskey(ctx, me, sl.EUID, state, "  我的手機 ", phone.Create(opts))
	if err != nil {
		t.Fatalf("FinishPasskey: %v", err)
	}
	if tool.Kind != storage.ToolPasskey || tool.State != storage.ToolActive || tool.Name != "我的手機" || tool.StaffLoginID != sl.ID {
		t.Errorf("enrolled %+v", tool)
	}
	list, err := f.svc.Tools(ctx, me, sl.EUID)
	if err != nil || len(list) != 1 || list[0].ID != tool.ID || list[0].LastUsedAt != nil {
		t.Errorf("Tools = %+v, %v", list, err)
	}
	st, err := f.svc.Status(ctx, sl.ID)
	if err != nil || st.Passkeys != 1 || !st.MayAddPasskey || st.PasskeysOff || st.TOTP != "" || st.TOTPActive() {
		t.Errorf("Status = %+v, %v", st, err)
	}

	// Alone: the options name no credential; the passkey names the login.
	opts, state, err = f.svc.BeginPasskeySignIn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if r := webauthntest.Decode[webauthntest.RequestOptions](t, opts).PublicKey; r.RPID != rpID || r.UserVerification != "required" || len(r.AllowCredentials) != 0 {
		t.Errorf("sign-in options %s", opts)
	}
	id, sub, amr, err := f.svc.FinishPasskeySignIn(ctx, state, phone.Get(opts))
	if err != nil || id != sl.ID || sub != sl.EUID || strings.Join(amr, " ") != "hwk user mfa" || storage.LevelOfAMR(amr) != storage.LevelTool {
		t.Fatalf("FinishPasskeySignIn = %d, %q, %v, %v", id, sub, amr, err)
	}

	// The second factor: the options name the login's passkeys.
	opts, state, err = f.svc.BeginPasskeyCheck(ctx, sl.ID)
	if err != nil {
		t.Fatal(err)
	}
	if r := webauthntest.Decode[webauthntest.RequestOptions](t, opts).PublicKey; len(r.AllowCredentials) != 1 || r.AllowCredentials[0].ID != webauthntest.B64.EncodeToString(phone.ID) ||
		r.UserVerification != "required" {
		t.Errorf("check options %s", opts)
	}
	amr, err = f.svc.FinishPasskeyCheck(ctx, sl.ID, state, phone.Get(opts))
	if err != nil || strings.Join(amr, " ") != "hwk user mfa" {
		t.Fatalf("FinishPasskeyCheck = %v, %v", amr, err)
	}

	// Every use stored its counter and time.
	acct, err := f.pg.PasskeyAccount(ctx, sl.ID)
	if err != nil || len(acct.Passkeys) != 1 || acct.Passkeys[0].SignCount != phone.Counter || acct.Passkeys[0].LastUsedAt == nil {
		t.Errorf("after two uses: %+v, %v (counter %d)", acct.Passkeys, err, phone.Counter)
	}

	// A synced passkey is a software key.
	laptop := webauthntest.New(t, origin)
	laptop.Synced = true
	f.enrol(t, me, laptop, "Laptop")
	if _, _, amr, err := f.signIn(t, laptop); err != nil || strings.Join(amr, " ") != "swk user mfa" {
		t.Errorf("synced passkey: %v, %v", amr, err)
	}
	if amr, err := f.check(t, sl.ID, laptop); err != nil || amr[0] != storage.AMRSoftwareKey {
		t.Errorf("synced passkey as second factor: %v, %v", amr, err)
	}
	// The same authenticator is not enrolled twice: it is excluded.
	opts, _, err = f.svc.BeginPasskey(ctx, me, sl.EUID)
	if err != nil {
		t.Fatal(err)
	}
	if ex := webauthntest.Decode[webauthntest.CreationOptions](t, opts).PublicKey.ExcludeCredentials; len(ex) != 2 {
		t.Errorf("exclusions %+v", ex)
	}
}

// TestPasskeyBeginSignInStoresNothing: loading a sign-in page is free.
func TestPasskeyBeginSignInStoresNothing(t *testing.T) {
	f := newFixture(t).withPasskeys(t)
	ctx := t.Context()
	count := func() (keys int64, rows int) {
		iter := f.rs.Client().Scan(ctx, 0, f.rs.Prefix()+"*", 100).Iterator()
		for iter.Next(ctx) {
			keys++
		}
		if err := f.pg.Pool().QueryRow(ctx, `SELECT (SELECT count(*) FROM audit_events) + (SELECT count(*) FROM outbox)`).Scan(&rows); err != nil {
			t.Fatal(err)
		}
		return keys, rows
	}
	k0, r0 := count()
	for range 5 {
		if _, _, err := f.svc.BeginPasskeySignIn(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if k, r := count(); k != k0 || r != r0 {
		t.Errorf("5 sign-in pages stored %d Redis keys and %d rows", k-k0, r-r0)
	}
}

// TestPasskeyRefusals: the user not verified, a replayed state or response,
// a state of another login, purpose or time, and bad input are refused as
// invalid, never as a fault of ours.
func TestPasskeyRefusals(t *testing.T) {
	f := newFixture(t).withPasskeys(t)
	ctx := t.Context()
	sl, me := f.staff(t, "staff12", storage.IDMacauPermanent)
	other, otherMe := f.staff(t, "staff13", storage.IDMacauNonPermanent)

	// Enrolment without user verification.
	a := webauthntest.New(t, origin)
	a.NoUV = true
	opts, state, err := f.svc.BeginPasskey(ctx, me, sl.EUID)
	if err != nil {
		t.Fatal(err)
	}
	_, err = f.svc.FinishPasskey(ctx, me, sl.EUID, state, "no UV", a.Create(opts))
	wantCode(t, "enrolment without user verification", err, storage.EInvalid)
	// Not a discoverable credential.
	a = webauthntest.New(t, origin)
	no := false
	a.RK = &no
	opts, state, _ = f.svc.BeginPasskey(ctx, me, sl.EUID)
	_, err = f.svc.FinishPasskey(ctx, me, sl.EUID, state, "no rk", a.Create(opts))
	wantCode(t, "a credential that is not discoverable", err, storage.EInvalid)
	// Another origin.
	a = webauthntest.New(t, "https://id.example.gov.mo.evil.test")
	opts, state, _ = f.svc.BeginPasskey(ctx, me, sl.EUID)
	_, err = f.svc.FinishPasskey(ctx, me, sl.EUID, state, "phished", a.Create(opts))
	wantCode(t, "a credential made for another origin", err, storage.EInvalid)
	if list, _ := f.pg.Tools(ctx, sl.ID); len(list) != 0 {
		t.Fatalf("refused enrolments stored %+v", list)
	}

	// A registration state is the login's own.
	a = webauthntest.New(t, origin)
	opts, state, _ = f.svc.BeginPasskey(ctx, me, sl.EUID)
	resp := a.Create(opts)
	_, err = f.svc.FinishPasskey(ctx, otherMe, other.EUID, state, "stolen", resp)
	wantCode(t, "another login's registration state", err, storage.EInvalid)
	// …and the refusal did not spend it.
	if _, err := f.svc.FinishPasskey(ctx, me, sl.EUID, state, "Phone", resp); err != nil {
		t.Fatalf("the login's own state after another's try: %v", err)
	}
	// Replayed: the state works once.
	_, err = f.svc.FinishPasskey(ctx, me, sl.EUID, state, "Phone 2", resp)
	wantCode(t, "a replayed registration", err, storage.EInvalid)

	// Sign-in without user verification.
	a.NoUV = true
	_, _, _, err = f.signIn(t, a)
	wantCode(t, "sign-in without user verification", err, storage.EInvalid)
	a.NoUV = false

	// Replay of a sign-in: the same state and response, then the same state
	// with a fresh response.
	opts, state, _ = f.svc.BeginPasskeySignIn(ctx)
	resp = a.Get(opts)
	if _, _, _, err := f.svc.FinishPasskeySignIn(ctx, state, resp); err != nil {
		t.Fatal(err)
	}
	_, _, _, err = f.svc.FinishPasskeySignIn(ctx, state, resp)
	wantCode(t, "a replayed sign-in", err, storage.EInvalid)
	_, _, _, err = f.svc.FinishPasskeySignIn(ctx, state, a.Get(opts))
	wantCode(t, "a replayed sign-in state", err, storage.EInvalid)

	// A check state is for its login and its purpose only.
	opts, state, err = f.svc.BeginPasskeyCheck(ctx, sl.ID)
	if err != nil {
		t.Fatal(err)
	}
	resp = a.Get(opts)
	_, err = f.svc.FinishPasskeyCheck(ctx, other.ID, state, resp)
	wantCode(t, "a state of another login", err, storage.EInvalid)
	_, _, _, err = f.svc.FinishPasskeySignIn(ctx, state, resp)
	wantCode(t, "a check state used to sign in", err, storage.EInvalid)
	if _, err := f.svc.FinishPasskeyCheck(ctx, sl.ID, state, resp); err != nil {
		t.Errorf("the check after refused misuses of its state: %v", err)
	}
	opts, state, _ = f.svc.BeginPasskeySignIn(ctx)
	_, err = f.svc.FinishPasskeyCheck(ctx, sl.ID, state, a.Get(opts))
	wantCode(t, "a sign-in state used as a check", err, storage.EInvalid)

	// Expired.
	opts, state, _ = f.svc.BeginPasskeySignIn(ctx)
	f.now = f.now.Add(tools.CeremonyTTL + time.Second)
	_, _, _, err = f.signInWith(t, state, a.Get(opts))
	wantCode(t, "an expired state", err, storage.EInvalid)
	if keyOf(err) != "tool_error_passkey_state" {
		t.Errorf("expired state: key %q", keyOf(err))
	}

	// Tampered, empty and foreign states.
	opts, state, _ = f.svc.BeginPasskeySignIn(ctx)
	resp = a.Get(opts)
	for _, bad := range []string{"", "x", state[:len(state)-2] + "AA", strings.Repeat("A", 9000)} {
		_, _, _, err = f.svc.FinishPasskeySignIn(ctx, bad, resp)
		wantCode(t, "a bad state", err, storage.EInvalid)
	}

	// Bad responses.
	for name, body := range map[string][]byte{
		"empty":     nil,
		"not JSON":  []byte("{not json"),
		"JSON null": []byte("null"),
		"no id":     []byte(`{"type":"public-key","response":{}}`),
		"oversized": append(append([]byte(`{"id":"`), bytes.Repeat([]byte("A"), tools.MaxResponse)...), `"}`...),
	} {
		_, _, _, err = f.svc.FinishPasskeySignIn(ctx, state, body)
		wantCode(t, "sign-in response "+name, err, storage.EInvalid)
		_, err = f.svc.FinishPasskeyCheck(ctx, sl.ID, state, body)
		wantCode(t, "check response "+name, err, storage.EInvalid)
		_, err = f.svc.FinishPasskey(ctx, me, sl.EUID, state, "x", body)
		wantCode(t, "registration response "+name, err, storage.EInvalid)
	}
	_, err = f.svc.FinishPasskey(ctx, me, sl.EUID, state, strings.Repeat("名", 41), resp)
	wantCode(t, "a 41-character name", err, storage.EInvalid)

	// A passkey nobody enrolled, presenting a real login's handle.
	stranger := webauthntest.New(t, origin)
	stranger.Handle = a.Handle
	_, _, _, err = f.signIn(t, stranger)
	wantCode(t, "an unknown passkey", err, storage.EInvalid)
}

func (f *fixture) signInWith(t *testing.T, state string, resp []byte) (int64, string, []string, error) {
	t.Helper()
	return f.svc.FinishPasskeySignIn(t.Context(), state, resp)
}

// TestPasskeyCounter: an assertion whose counter does not move forward is
// refused and logged as a warning; a counter that stays at zero (synced
// passkeys have none) is fine.
func TestPasskeyCounter(t *testing.T) {
	f := newFixture(t).withPasskeys(t)
	_, me := f.staff(t, "staff14", storage.IDMacauPermanent)
	var logs bytes.Buffer
	prev := slog.Default()
	slog.SetDefault(slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelWarn})))
	t.Cleanup(func() { slog.SetDefault(prev) })

	a := webauthntest.New(t, origin)
	f.enrol(t, me, a, "Key")
	a.Counter = 10
	if _, _, _, err := f.signIn(t, a); err != nil { // stores 11
		t.Fatal(err)
	}
	a.Counter = 5 // a clone, behind the original
	_, _, _, err := f.signIn(t, a)
	wantCode(t, "a counter gone backwards", err, storage.EInvalid)
	a.Counter, a.Step = 11, 0 // the same counter again
	_, _, _, err = f.signIn(t, a)
	wantCode(t, "a counter that did not move", err, storage.EInvalid)
	if !strings.Contains(logs.String(), "level=WARN") || !strings.Contains(logs.String(), "cloned") || !strings.Contains(logs.String(), me.ID) {
		t.Errorf("no warning logged: %s", logs.String())
	}
	a.Step = 1
	if _, _, _, err := f.signIn(t, a); err != nil {
		t.Errorf("the counter forward again: %v", err)
	}

	synced := webauthntest.New(t, origin)
	synced.Synced, synced.Step = true, 0
	f.enrol(t, me, synced, "Synced")
	for i := range 3 {
		if _, _, _, err := f.signIn(t, synced); err != nil {
			t.Errorf("use %d of a passkey without a counter: %v", i, err)
		}
	}
}

// TestPasskeyEnrolmentRules: only the login itself, registered with a
// Macau resident ID, enrols; an admin of the same entity does not, for
// anyone else; a deleted login's passkey no longer signs in.
func TestPasskeyEnrolmentRules(t *testing.T) {
	f := newFixture(t).withPasskeys(t)
	ctx := t.Context()
	sl, me := f.staff(t, "staff15", storage.IDMacauPermanent)
	foreign, foreignMe := f.staff(t, "staff16", storage.IDPassport)
	_, admin := f.staff(t, "admin01", storage.IDMacauPermanent)

	_, _, err := f.svc.BeginPasskey(ctx, foreignMe, foreign.EUID)
	wantCode(t, "a passport holder enrols", err, storage.EForbidden)
	if keyOf(err) != "tool_error_passkey_document" {
		t.Errorf("passport holder: key %q", keyOf(err))
	}
	if st, _ := f.svc.Status(ctx, foreign.ID); st.MayAddPasskey {
		t.Error("Status lets a passport holder add a passkey")
	}
	_, _, err = f.svc.BeginPasskey(ctx, admin, sl.EUID)
	wantCode(t, "an admin enrols for someone else", err, storage.EForbidden)
	_, _, err = f.svc.BeginPasskey(ctx, operator, sl.EUID)
	if storage.CodeOf(err) == "" {
		t.Error("the operator enrolled for a login")
	}
	_, err = f.svc.Tools(ctx, admin, sl.EUID)
	wantCode(t, "an admin lists someone else's tools", err, storage.EForbidden)

	// An admin finishing the login's own ceremony gets nowhere either.
	a := webauthntest.New(t, origin)
	opts, state, err := f.svc.BeginPasskey(ctx, me, sl.EUID)
	if err != nil {
		t.Fatal(err)
	}
	_, err = f.svc.FinishPasskey(ctx, admin, sl.EUID, state, "Admin's", a.Create(opts))
	wantCode(t, "an admin finishes someone else's enrolment", err, storage.EForbidden)
	if _, err := f.svc.FinishPasskey(ctx, me, sl.EUID, state, "Mine", a.Create(opts)); err != nil {
		t.Fatal(err)
	}
	_, err = f.svc.FinishPasskey(ctx, me, sl.EUID, "", "Mine", a.Create(opts))
	wantCode(t, "a name taken (any case)", err, storage.EConflict)

	if _, err := f.pg.SetStaffStatus(ctx, admin, f.entity.ID, sl.EUID, storage.StatusDeleted, nil); err != nil {
		t.Fatal(err)
	}
	_, _, _, err = f.signIn(t, a)
	wantCode(t, "a deleted login signs in", err, storage.EInvalid)
	_, _, err = f.svc.BeginPasskeyCheck(ctx, sl.ID)
	wantCode(t, "a deleted login's check", err, storage.EConflict)
}

// TestPasskeySwitchOffRemoveAndEnable: switching off removes every passkey
// and blocks enrolment until the operator switches passkeys on again;
// removing one passkey, or the operator's reset, blocks nothing; a login
// cannot remove another's passkey.
func TestPasskeySwitchOffRemoveAndEnable(t *testing.T) {
	f := newFixture(t).withPasskeys(t)
	ctx := t.Context()
	sl, me := f.staff(t, "staff17", storage.IDMacauPermanent)
	other, otherMe := f.staff(t, "staff18", storage.IDMacauPermanent)
	_, admin := f.staff(t, "admin01", storage.IDMacauPermanent)
	phone, key := webauthntest.New(t, origin), webauthntest.New(t, origin)
	f.enrol(t, me, phone, "Phone")
	keyTool := f.enrol(t, me, key, "Key")
	otherTool := f.enrol(t, otherMe, webauthntest.New(t, origin), "Other's")

	// Another login's passkey id is not found, and stays.
	wantCode(t, "removing another login's passkey", f.svc.RemovePasskey(ctx, me, sl.EUID, otherTool.ID), storage.ENotFound)
	wantCode(t, "an admin removes someone's passkey", f.svc.RemovePasskey(ctx, admin, other.EUID, otherTool.ID), storage.EForbidden)
	wantCode(t, "an admin switches someone's passkeys off", f.svc.SwitchOffPasskeys(ctx, admin, other.EUID), storage.EForbidden)
	if list, _ := f.pg.Tools(ctx, other.ID); len(list) != 1 {
		t.Errorf("the other login's tools %+v", list)
	}

	// Removing one passkey blocks nothing.
	if err := f.svc.RemovePasskey(ctx, me, sl.EUID, keyTool.ID); err != nil {
		t.Fatal(err)
	}
	wantCode(t, "removing it again", f.svc.RemovePasskey(ctx, me, sl.EUID, keyTool.ID), storage.ENotFound)
	_, _, _, err := f.signIn(t, key)
	wantCode(t, "a removed passkey signs in", err, storage.EInvalid)
	f.enrol(t, me, key, "Key again")

	// Switched off: every passkey goes, and enrolment waits for the operator.
	if err := f.svc.SwitchOffPasskeys(ctx, me, sl.EUID); err != nil {
		t.Fatal(err)
	}
	if list, _ := f.svc.Tools(ctx, me, sl.EUID); len(list) != 0 {
		t.Errorf("tools after switching off: %+v", list)
	}
	if st, _ := f.svc.Status(ctx, sl.ID); !st.PasskeysOff || st.MayAddPasskey || st.Passkeys != 0 {
		t.Errorf("Status after switching off: %+v", st)
	}
	_, _, _, err = f.signIn(t, phone)
	wantCode(t, "a passkey signs in after switching off", err, storage.EInvalid)
	_, _, err = f.svc.BeginPasskey(ctx, me, sl.EUID)
	wantCode(t, "enrolment while switched off", err, storage.EConflict)
	if keyOf(err) != "tool_error_passkeys_off" {
		t.Errorf("switched off: key %q", keyOf(err))
	}
	wantCode(t, "switching off twice", f.svc.SwitchOffPasskeys(ctx, me, sl.EUID), storage.EConflict)
	wantCode(t, "the login switches itself on", f.svc.EnablePasskeysFor(ctx, me, f.entity.Number, sl.EUID), storage.EForbidden)
	wantCode(t, "an admin switches it on", f.svc.EnablePasskeysFor(ctx, admin, f.entity.Number, sl.EUID), storage.EForbidden)
	wantCode(t, "a bad entity number", f.svc.EnablePasskeysFor(ctx, operator, "12", sl.EUID), storage.EInvalid)
	wantCode(t, "the login in another entity", f.svc.EnablePasskeysFor(ctx, operator, "09-999999", sl.EUID), storage.ENotFound)
	if err := f.svc.EnablePasskeysFor(ctx, operator, f.entity.Number, sl.EUID); err != nil {
		t.Fatal(err)
	}
	wantCode(t, "switching on twice", f.svc.EnablePasskeysFor(ctx, operator, f.entity.Number, sl.EUID), storage.EConflict)
	f.enrol(t, me, phone, "Phone again")

	// The operator's reset removes every tool, passkeys included, and blocks nothing.
	if n, err := f.svc.ResetTools(ctx, operator, f.entity.Number, sl.EUID); err != nil || n != 1 {
		t.Fatalf("ResetTools = %d, %v", n, err)
	}
	if st, _ := f.svc.Status(ctx, sl.ID); st.PasskeysOff || !st.MayAddPasskey || st.Passkeys != 0 {
		t.Errorf("Status after the reset: %+v", st)
	}
	f.enrol(t, me, webauthntest.New(t, origin), "New phone")
}

// TestPasskeyLimit: a login holds at most storage.MaxPasskeys.
func TestPasskeyLimit(t *testing.T) {
	f := newFixture(t).withPasskeys(t)
	_, me := f.staff(t, "staff19", storage.IDMacauPermanent)
	for i := range storage.MaxPasskeys {
		f.enrol(t, me, webauthntest.New(t, origin), "Key "+string(rune('A'+i)))
	}
	_, _, err := f.svc.BeginPasskey(t.Context(), me, me.ID)
	wantCode(t, "one passkey too many", err, storage.EConflict)
}

// TestPasskeySignInConcurrent: of one state and response sent at once,
// exactly one signs in. The passkey has no counter (a synced one), so the
// single-use state alone must hold.
func TestPasskeySignInConcurrent(t *testing.T) {
	f := newFixture(t).withPasskeys(t)
	_, me := f.staff(t, "staff20", storage.IDMacauPermanent)
	a := webauthntest.New(t, origin)
	a.Synced, a.Step = true, 0
	f.enrol(t, me, a, "Phone")
	opts, state, err := f.svc.BeginPasskeySignIn(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	resp := a.Get(opts)
	var ok, invalid atomic.Int32
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			_, _, _, err := f.svc.FinishPasskeySignIn(t.Context(), state, resp)
			switch storage.CodeOf(err) {
			case "":
				ok.Add(1)
			case storage.EInvalid:
				invalid.Add(1)
			default:
				t.Errorf("concurrent sign-in: %v", err)
			}
		})
	}
	wg.Wait()
	if ok.Load() != 1 || invalid.Load() != 7 {
		t.Errorf("8 sign-ins at once: %d succeeded, %d refused; want 1 and 7", ok.Load(), invalid.Load())
	}
}

// TestToolsChangesAuditedAndTold: every enrolment and removal of a tool
// writes exactly one audit event and one notice, in the login's language,
// to its mobile (else its e-mail, else nobody).
func TestToolsChangesAuditedAndTold(t *testing.T) {
	f := newFixture(t).withPasskeys(t)
	ctx := t.Context()
	sl, me := f.staff(t, "staff21", storage.IDMacauPermanent)
	if _, err := f.pg.Pool().Exec(ctx, `UPDATE staff_logins SET language = 'pt' WHERE id = $1`, sl.ID); err != nil {
		t.Fatal(err)
	}

	told := toolChanges{f: f}
	count := func() changeCounts { return told.count(t) }
	step := func(action string, notices int, want string, change func() error) {
		t.Helper()
		told.step(t, action, notices, want, change)
	}

	var secret string
	step("tool.enrol", 0, "", func() error {
		en, err := f.svc.BeginTOTP(ctx, me, sl.EUID)
		secret = en.Secret
		return err
	})
	step("tool.confirm", 1, "código de verificação de segurança foi activado", func() error {
		_, err := f.svc.ConfirmTOTP(ctx, me, sl.EUID, code(t, secret, f.now))
		return err
	})
	a := webauthntest.New(t, origin)
	var pk storage.IdentityTool
	step("tool.passkey.add", 1, "«Telemóvel»", func() error {
		opts, state, err := f.svc.BeginPasskey(ctx, me, sl.EUID)
		if err == nil {
			pk, err = f.svc.FinishPasskey(ctx, me, sl.EUID, state, "Telemóvel", a.Create(opts))
		}
		return err
	})
	// Using a passkey is a sign-in, not a change: neither audited nor told.
	before := count()
	if _, _, _, err := f.signIn(t, a); err != nil {
		t.Fatal(err)
	}
	if count() != before {
		t.Error("a sign-in wrote an audit event or a notice")
	}
	step("tool.passkey.remove", 1, "«Telemóvel» foi removida", func() error { return f.svc.RemovePasskey(ctx, me, sl.EUID, pk.ID) })
	step("tool.passkey.off", 1, "desactivadas", func() error { return f.svc.SwitchOffPasskeys(ctx, me, sl.EUID) })
	step("tool.passkey.enable", 1, "reactivaram", func() error { return f.svc.EnablePasskeysFor(ctx, operator, f.entity.Number, sl.EUID) })
	step("tool.reset", 1, "removeram todas", func() error {
		_, err := f.svc.ResetTools(ctx, operator, f.entity.Number, sl.EUID)
		return err
	})
	// Refusals change nothing and tell nobody.
	before = count()
	_ = f.svc.EnablePasskeysFor(ctx, operator, f.entity.Number, sl.EUID)
	_, _ = f.svc.ResetTools(ctx, operator, f.entity.Number, sl.EUID)
	if count() != before {
		t.Error("a refused change wrote an audit event or a notice")
	}

	// The operator's approval of a passport holder's TOTP, told by e-mail
	// when no mobile is registered; a login with neither is not told.
	foreign, foreignMe := f.staff(t, "staff22", storage.IDPassport)
	if _, err := f.pg.Pool().Exec(ctx, `UPDATE staff_logins SET mobile = '' WHERE id = $1`, foreign.ID); err != nil {
		t.Fatal(err)
	}
	en, err := f.svc.BeginTOTP(ctx, foreignMe, foreign.EUID)
	if err != nil {
		t.Fatal(err)
	}
	before = count()
	if _, err := f.svc.ConfirmTOTP(ctx, foreignMe, foreign.EUID, code(t, en.Secret, f.now)); err != nil {
		t.Fatal(err)
	}
	f.now = f.now.Add(time.Minute)
	if _, err := f.svc.ApproveTOTP(ctx, operator, f.entity.Number, foreign.EUID, code(t, en.Secret, f.now)); err != nil {
		t.Fatal(err)
	}
	if after := count(); after.audits != before.audits+2 || after.notices != before.notices+2 {
		t.Errorf("confirm and approve: %+v → %+v", before, after)
	}
	var mails []string
	rows, err := f.pg.Pool().Query(ctx, `SELECT channel || ' ' || recipient FROM outbox WHERE entity_id = $1 ORDER BY id DESC LIMIT 2`, f.entity.ID)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var s string
		_ = rows.Scan(&s)
		mails = append(mails, s)
	}
	if !slices.Equal(mails, []string{"email staff22@example.mo", "email staff22@example.mo"}) {
		t.Errorf("notices of a login without a mobile went to %v", mails)
	}

	silent, silentMe := f.staff(t, "staff23", storage.IDMacauPermanent)
	if _, err := f.pg.Pool().Exec(ctx, `UPDATE staff_logins SET mobile = '', email = '' WHERE id = $1`, silent.ID); err != nil {
		t.Fatal(err)
	}
	before = count()
	f.enrol(t, silentMe, webauthntest.New(t, origin), "Phone")
	if after := count(); after.audits != before.audits+1 || after.notices != before.notices {
		t.Errorf("a login without contact: %+v → %+v; want an audit event and no notice", before, after)
	}
}

// toolChanges checks what the tool changes of the fixture's entity wrote:
// audit events and notices (TestToolsChangesAuditedAndTold).
type toolChanges struct{ f *fixture }

type changeCounts struct{ audits, notices int }

// count counts the entity's tool audit events and its notices (outbox
// messages that are no activation code).
func (c toolChanges) count(t *testing.T) changeCounts {
	t.Helper()
	var n changeCounts
	err := c.f.pg.Pool().QueryRow(t.Context(), `SELECT
		(SELECT count(*) FROM audit_events WHERE entity_id = $1 AND action LIKE 'tool.%'),
		(SELECT count(*) FROM outbox WHERE entity_id = $1 AND activation_code_id IS NULL)`, c.f.entity.ID).Scan(&n.audits, &n.notices)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// step runs change and checks that it wrote one audit event named action
// and notices notices, the last of them holding want (lastNotice).
func (c toolChanges) step(t *testing.T, action string, notices int, want string, change func() error) {
	t.Helper()
	before, woken := c.count(t), c.f.woken.Load()
	if err := change(); err != nil {
		t.Fatalf("%s: %v", action, err)
	}
	after := c.count(t)
	if after.audits != before.audits+1 || after.notices != before.notices+notices {
		t.Errorf("%s wrote %d audit events and %d notices; want 1 and %d", action,
			after.audits-before.audits, after.notices-before.notices, notices)
	}
	if got := actions(t, c.f.pg, c.f.entity.ID); len(got) == 0 || !strings.HasPrefix(got[0], action+" ") {
		t.Errorf("%s: audit %v", action, got)
	}
	if notices == 0 {
		return
	}
	if c.f.woken.Load() != woken+1 {
		t.Errorf("%s: the outbox worker was not woken", action)
	}
	c.lastNotice(t, action, want)
}

// lastNotice checks the entity's last notice, about action: it opens with
// the outbox sealer, is in the login's language (pt), holds want, the
// username staff21 and the entity number, and goes by SMS to its mobile.
func (c toolChanges) lastNotice(t *testing.T, action, want string) {
	t.Helper()
	ctx := t.Context()
	var id int64
	if err := c.f.pg.Pool().QueryRow(ctx, `SELECT max(id) FROM outbox WHERE entity_id = $1`, c.f.entity.ID).Scan(&id); err != nil {
		t.Fatal(err)
	}
	m, err := c.f.pg.OutboxMessage(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	text, err := c.f.outbox.Open(m)
	if err != nil {
		t.Fatalf("%s: the notice does not open with the outbox sealer: %v", action, err)
	}
	if m.Language != "pt" || !strings.Contains(text.Text, want) || !strings.Contains(text.Text, "staff21") || !strings.Contains(text.Text, c.f.entity.Number) {
		t.Errorf("%s: notice %+v: %q", action, m, text.Text)
	}
	if want := storage.ChannelSMS; m.Channel != want || m.Recipient != "+85366123456" {
		t.Errorf("%s: notice to %s %s", action, m.Channel, m.Recipient)
	}
}

// TestPasskeyOptionsAreBrowserJSON: the options are the JSON form the
// browser parses (PublicKeyCredential.parseCreationOptionsFromJSON):
// binaries as base64url strings, under "publicKey".
func TestPasskeyOptionsAreBrowserJSON(t *testing.T) {
	f := newFixture(t).withPasskeys(t)
	_, me := f.staff(t, "staff24", storage.IDMacauPermanent)
	opts, _, err := f.svc.BeginPasskey(t.Context(), me, me.ID)
	if err != nil {
		t.Fatal(err)
	}
	var raw map[string]map[string]any
	if err := json.Unmarshal(opts, &raw); err != nil {
		t.Fatal(err)
	}
	pk := raw["publicKey"]
	user, _ := pk["user"].(map[string]any)
	for what, v := range map[string]any{"challenge": pk["challenge"], "user.id": user["id"]} {
		s, ok := v.(string)
		if _, err := webauthntest.B64.DecodeString(s); !ok || err != nil {
			t.Errorf("%s = %v is not base64url", what, v)
		}
	}
	params, _ := pk["pubKeyCredParams"].([]any)
	if len(params) == 0 {
		t.Errorf("no pubKeyCredParams: %s", opts)
	}
}
