package storage

import (
	"errors"
	"fmt"
	"testing"
)

func TestCodeOf(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want ErrorCode
	}{
		{nil, ""},
		{Errorf(EConflict, "taken"), EConflict},
		{fmt.Errorf("wrapped: %w", Errorf(EInvalid, "bad").WithField("mobile")), EInvalid},
		{fmt.Errorf("postgres: x: %w: %w", ErrUnavailable, errors.New("dial")), EUnavailable},
		{fmt.Errorf("postgres: x: %w", ErrInvalid), EInvalid},
		{ErrForbidden, EForbidden},
		{fmt.Errorf("x: %w", ErrNotFound), ENotFound},
		{ErrAlreadyExists, EConflict},
		{ErrConflict, EConflict},
		{errors.New("something nobody classified"), EInternal},
	} {
		if got := CodeOf(tc.err); got != tc.want {
			t.Errorf("CodeOf(%v) = %q, want %q", tc.err, got, tc.want)
		}
	}
	if m := MessageOf(errors.New("pq: secret detail")); m != "Internal error." {
		t.Errorf("an internal fault's message leaks: %q", m)
	}
	if m := MessageOf(Errorf(EConflict, "The login is already deleted.")); m != "The login is already deleted." {
		t.Errorf("MessageOf = %q", m)
	}
}
