package main

import (
	"context"
	"encoding/json"
	"errors"

	"github.com/entity-account/idp/login/signin"
	"github.com/entity-account/idp/login/tools"
	"github.com/entity-account/idp/storage"
	"github.com/entity-account/idp/storage/postgres"
)

// factors gives the sign-in's second step the identity-tool use cases.
type factors struct {
	*tools.Service
	pg *postgres.Store
}

var _ signin.Factors = factors{}

var errNoPasskeys = &storage.Error{Code: storage.ENotFound, Message: "Passkeys are not available."}

func (f factors) Usable(ctx context.Context, loginID int64) (signin.FactorStatus, error) {
	sl, err := f.pg.StaffLogin(ctx, loginID)
	if err != nil {
		return signin.FactorStatus{}, err
	}
	ts, err := f.pg.Tools(ctx, loginID)
	if err != nil {
		return signin.FactorStatus{}, err
	}
	st := signin.FactorStatus{SelfEnrol: storage.SelfConfirmsTools(sl)}
	for _, t := range ts {
		switch {
		case t.Kind == storage.ToolTOTP && t.State == storage.ToolActive:
			st.TOTP = true
		case t.Kind == storage.ToolTOTP && t.State == storage.ToolPending:
			st.TOTPPending = true
		}
	}
	return st, nil
}

func (factors) BeginPasskeyCheck(context.Context, int64) (json.RawMessage, string, error) {
	return nil, "", errNoPasskeys
}
func (factors) FinishPasskeyCheck(context.Context, int64, string, []byte) ([]string, error) {
	return nil, errNoPasskeys
}
func (factors) BeginPasskeySignIn(context.Context) (json.RawMessage, string, error) {
	return nil, "", errors.New("passkeys are not available")
}
func (factors) FinishPasskeySignIn(context.Context, string, []byte) (int64, string, []string, error) {
	return 0, "", nil, errNoPasskeys
}
