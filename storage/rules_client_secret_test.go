package storage

import (
	"testing"
	"time"
)

// TestClientSecretRules: only the operator rotates a secret or disables a
// client; only a client with a secret has one to rotate, with a grace
// between 0 and 30 days; the previous secret works before its expiry only;
// a disabled client's tokens issued before it was disabled stay ended.
func TestClientSecretRules(t *testing.T) {
	op := OperatorActor("safp")
	counter := OfficerActor(Officer{ID: 2, Login: "chan.tm", Role: RoleCounter, Status: OfficerActive})
	supervisor := OfficerActor(Officer{ID: 3, Login: "lei.sv", Role: RoleSupervisor, Status: OfficerActive})
	secret := Client{ID: "w", SecretHash: make([]byte, 32)}
	for _, tc := range []struct {
		name  string
		actor Actor
		c     Client
		grace time.Duration
		want  ErrorCode // "" allowed
	}{
		{"operator, default method", op, secret, DefaultSecretGrace, ""},
		{"operator, grace 0", op, secret, 0, ""},
		{"operator, 30 days", op, secret, MaxSecretGrace, ""},
		{"operator, over 30 days", op, secret, MaxSecretGrace + time.Second, EInvalid},
		{"operator, negative grace", op, secret, -time.Second, EInvalid},
		{"operator, basic", op, Client{ID: "b", TokenAuth: TokenAuthBasic}, time.Hour, ""},
		{"operator, public client", op, Client{ID: "n", Public: true}, time.Hour, EInvalid},
		{"operator, private_key_jwt", op, Client{ID: "k", TokenAuth: TokenAuthPrivateKeyJWT}, time.Hour, EInvalid},
		{"department", DepartmentActor("m", 7, "192.0.2.1"), secret, time.Hour, EForbidden},
		{"admin staff login", Actor{Kind: ActorStaff, ID: "CU1", EntityID: 1, Admin: true, Active: true}, secret, time.Hour, EForbidden},
		{"counter officer", counter, secret, time.Hour, EForbidden},
		{"supervisor", supervisor, secret, time.Hour, ""},
	} {
		err := MayRotateSecret(tc.actor, tc.c, tc.grace)
		if got := ErrorCode(""); err != nil {
			got = CodeOf(err)
			if got != tc.want {
				t.Errorf("%s: MayRotateSecret = %v, want %q", tc.name, err, tc.want)
			}
		} else if tc.want != "" {
			t.Errorf("%s: MayRotateSecret allowed, want %q", tc.name, tc.want)
		}
	}
	if MaySetClientDisabled(op) != nil || MaySetClientDisabled(supervisor) != nil || CodeOf(MaySetClientDisabled(counter)) != EForbidden ||
		CodeOf(MaySetClientDisabled(DepartmentActor("m", 7, "192.0.2.1"))) != EForbidden {
		t.Error("MaySetClientDisabled: the operator only")
	}

	now := time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)
	rotated := Client{PreviousSecretHash: make([]byte, 32), PreviousSecretExpiresAt: now.Add(time.Second)}
	if !rotated.AcceptsPreviousSecret(now) || rotated.AcceptsPreviousSecret(now.Add(time.Second)) || (Client{}).AcceptsPreviousSecret(now) {
		t.Error("AcceptsPreviousSecret: before its expiry only, and never without one")
	}
	disabled := Client{TokensValidAfter: now}
	if disabled.HonoursTokenIssuedAt(now.Add(-time.Millisecond)) || !disabled.HonoursTokenIssuedAt(now) || !(Client{}).HonoursTokenIssuedAt(now) {
		t.Error("HonoursTokenIssuedAt: not a token issued before the client was disabled")
	}
}
