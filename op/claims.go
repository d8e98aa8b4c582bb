package op

import (
	"context"
	"errors"
	"slices"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	"golang.org/x/text/language"

	"github.com/entity-account/idp/storage"
)

// Claims we add to the standard set (advertised in discovery).
var customClaims = []string{"euid", "entity_number", "entity_name", "service_groups", "sid"}

// ACR values. Password only today; a second factor will add a higher one.
const (
	ACRPassword = "urn:entity-account:acr:password"
	AMRPassword = "pwd"
)

// fillClaims is the one place that turns an account into claims (DESIGN §5),
// for the ID token, userinfo and introspection alike. service_groups are the
// login's groups in the e-service of clientID. known, when not nil, is the
// account as loaded earlier in the same request (the refresh grant), so it is
// not queried twice.
func (s *Storage) fillClaims(ctx context.Context, info *oidc.UserInfo, subject, clientID string, scopes []string, auth storage.Authentication, known *storage.Principal) error {
	p, err := s.principal(ctx, subject, known)
	if errors.Is(err, storage.ErrNotFound) {
		return errors.New("the account no longer exists")
	}
	if err != nil {
		return err
	}
	if p.Kind != storage.KindStaff || !p.CanSignIn() {
		return errors.New("the account may not use e-services")
	}
	c, err := s.Client(ctx, clientID)
	if err != nil {
		return err
	}
	access, err := s.dir.ServiceAccess(ctx, p.ID, c.ServiceID)
	if err != nil {
		return err
	}
	if !access.Allows() {
		return errors.New("the staff login no longer has access to this e-service")
	}

	info.Subject = p.Subject // the library drops sub from the ID token unless it is set here
	info.PreferredUsername = p.Username
	info.Name = firstNonEmpty(p.NameZH, p.NameForeign)
	if tag, err := language.Parse(p.Language); err == nil {
		info.Locale = oidc.NewLocale(tag)
	}
	if slices.Contains(scopes, oidc.ScopeEmail) && p.Email != "" {
		info.Email = p.Email
		info.EmailVerified = false // registered by an admin, never proven by the person
	}
	if slices.Contains(scopes, oidc.ScopePhone) && p.Mobile != "" {
		info.PhoneNumber = p.Mobile
	}
	info.AppendClaims("euid", p.Subject)
	info.AppendClaims("entity_number", p.EntityNumber)
	info.AppendClaims("entity_name", firstNonEmpty(p.EntityNameZH, p.EntityNamePT))
	info.AppendClaims("service_groups", access.Groups)
	// Registered ID-token fields win over these when the library sets them;
	// on refresh it leaves acr empty, and userinfo has none of them.
	if auth.ACR != "" {
		info.AppendClaims("acr", auth.ACR)
	}
	if len(auth.AMR) > 0 {
		info.AppendClaims("amr", auth.AMR)
	}
	if !auth.AuthTime.IsZero() {
		info.AppendClaims("auth_time", auth.AuthTime.Unix())
	}
	if auth.SessionID != "" {
		info.AppendClaims("sid", auth.SessionID)
	}
	return nil
}

// principal returns known if it is the account of subject, else loads it.
func (s *Storage) principal(ctx context.Context, subject string, known *storage.Principal) (storage.Principal, error) {
	if known != nil && known.Subject == subject {
		return *known, nil
	}
	return s.dir.PrincipalBySubject(ctx, subject)
}

func firstNonEmpty(vals ...string) string {
	for _, v := range vals {
		if v != "" {
			return v
		}
	}
	return ""
}
