package op

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"net/http"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"
	"golang.org/x/text/language"

	"github.com/entity-account/idp/storage"
)

// SessionCookie names the browser SSO session cookie. The login pages set
// it; end_session reads and clears it.
const SessionCookie = "idp_session"

// ProviderConfig is what the protocol engine needs beyond the storage.
type ProviderConfig struct {
	Issuer         string
	MasterKey      []byte
	LoggedOutURL   string // absolute URL shown after logout without a valid post_logout_redirect_uri
	AllowInsecure  bool   // http issuer: development only
	SupportedLangs []language.Tag
}

// NewProvider builds the zitadel/oidc provider over our storage. Mount it under
// the issuer's path with http.StripPrefix.
func NewProvider(cfg ProviderConfig, s *Storage) (*op.Provider, error) {
	cryptoKey := DeriveKey(cfg.MasterKey, "oidc-code-and-token-encryption")
	kid := sha256.Sum256(cryptoKey)
	conf := &op.Config{
		CryptoKeyId:              base64.RawURLEncoding.EncodeToString(kid[:8]),
		DefaultLogoutRedirectURI: cfg.LoggedOutURL,
		CodeMethodS256:           true,
		AuthMethodPost:           false,
		GrantTypeRefreshToken:    true,
		SupportedUILocales:       cfg.SupportedLangs,
		SupportedClaims:          supportedClaims,
		SupportedScopes:          []string{oidc.ScopeOpenID, oidc.ScopeProfile, oidc.ScopeEmail, oidc.ScopePhone, oidc.ScopeOfflineAccess},
	}
	copy(conf.CryptoKey[:], cryptoKey)
	opts := []op.Option{
		// No CORS: our RPs are server-side web apps and native apps, never
		// browser scripts; the library's default would reflect any origin.
		op.WithCORSOptions(nil),
		op.WithHttpInterceptors(sessionInterceptor),
	}
	if cfg.AllowInsecure {
		opts = append(opts, op.WithAllowInsecure())
	}
	return op.NewProvider(conf, s, op.StaticIssuer(cfg.Issuer), opts...)
}

type sessionKey struct{}

// sessionInterceptor hands the SSO cookie to the storage (the library passes
// only a context). An ended session's cookie is left to expire: it names a
// session that no longer exists.
func sessionInterceptor(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := r.Cookie(SessionCookie)
		if err != nil || c.Value == "" {
			next.ServeHTTP(w, r)
			return
		}
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), sessionKey{}, c.Value)))
	})
}

func sessionSecretFromContext(ctx context.Context) string {
	s, _ := ctx.Value(sessionKey{}).(string)
	return s
}

// Interaction is what the hosted login pages need from the protocol engine:
// where to send the browser after sign-in, and how to answer the RP with an
// OAuth error.
type Interaction struct {
	provider *op.Provider
	storage  *Storage
	issuer   string
}

// NewInteraction ties the login pages to a provider.
func NewInteraction(p *op.Provider, s *Storage, issuer string) *Interaction {
	return &Interaction{provider: p, storage: s, issuer: issuer}
}

// CallbackURL is where the browser goes once the auth request is done; the
// library there issues the code and redirects to the RP.
func (i *Interaction) CallbackURL(id string) string {
	return op.AuthCallbackURL(i.provider)(op.ContextWithIssuer(context.Background(), i.issuer), id)
}

// Fail answers the RP's redirect URI with an OAuth error (login_required,
// access_denied, ...), keeping its state.
func (i *Interaction) Fail(w http.ResponseWriter, r *http.Request, ar *storage.AuthRequest, err *oidc.Error) {
	op.AuthRequestError(w, r, authRequest{ar}, err, i.provider)
}

// Client returns a registered client through the storage's cache.
func (i *Interaction) Client(ctx context.Context, id string) (storage.Client, error) {
	c, err := i.storage.Client(ctx, id)
	if err != nil {
		return storage.Client{}, err
	}
	return c.Client, nil
}
