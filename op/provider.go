package op

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"net/url"
	"strings"

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
		// Client authentication is read by our interceptor
		// (clientauth.go), which hands the library every method as Basic.
		AuthMethodPost:        true,
		GrantTypeRefreshToken: true,
		SupportedUILocales:    cfg.SupportedLangs,
		SupportedClaims:       supportedClaims,
		// The department API's scopes are listed too, but only a machine
		// client gets them (client_credentials, within its registered
		// scopes); a web or native client asking for them at /authorize
		// gets none (client.IsScopeAllowed).
		SupportedScopes: append([]string{oidc.ScopeOpenID, oidc.ScopeProfile, oidc.ScopeEmail, oidc.ScopePhone, oidc.ScopeOfflineAccess},
			storage.MachineScopes...),
	}
	copy(conf.CryptoKey[:], cryptoKey)
	opts := []op.Option{
		// No CORS: our RPs are server-side web apps and native apps, never
		// browser scripts; the library's default would reflect any origin.
		op.WithCORSOptions(nil),
		op.WithHttpInterceptors(sessionInterceptor(cookiePathOf(cfg.Issuer), !cfg.AllowInsecure), claimsParameter,
			authorizeParameters, s.clientAuthentication),
	}
	if cfg.AllowInsecure {
		opts = append(opts, op.WithAllowInsecure())
	}
	p, err := op.NewProvider(conf, s, op.StaticIssuer(cfg.Issuer), opts...)
	if err != nil {
		return nil, err
	}
	s.tokenCrypto = p.Crypto()
	return p, nil
}

type sessionKey struct{}

// browserSession is the SSO cookie a protocol request came with, and
// whether the request ended its session (end_session), in which case the
// answer also clears the cookie in the browser.
type browserSession struct {
	secret string
	ended  bool
}

// sessionInterceptor hands the SSO cookie to the storage (the library passes
// only a context), and clears the cookie in the browser when the storage
// ended its session.
func sessionInterceptor(cookiePath string, secure bool) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			c, err := r.Cookie(SessionCookie)
			if err != nil || c.Value == "" {
				next.ServeHTTP(w, r)
				return
			}
			bs := &browserSession{secret: c.Value}
			cw := &clearOnEnd{ResponseWriter: w, session: bs, cookie: &http.Cookie{Name: SessionCookie, Path: cookiePath,
				MaxAge: -1, HttpOnly: true, Secure: secure, SameSite: http.SameSiteLaxMode}}
			next.ServeHTTP(cw, r.WithContext(context.WithValue(r.Context(), sessionKey{}, bs)))
		})
	}
}

// clearOnEnd adds an expired session cookie to the answer of a request
// whose session ended.
//
// Why a wrapper: the storage call that ends the session (end_session) has
// no access to the answer, and the library offers no hook to add a header
// to it; the cookie must be set before the library writes its status.
type clearOnEnd struct {
	http.ResponseWriter
	session *browserSession
	cookie  *http.Cookie
	wrote   bool
}

func (c *clearOnEnd) Unwrap() http.ResponseWriter { return c.ResponseWriter }

func (c *clearOnEnd) WriteHeader(status int) {
	if !c.wrote && c.session.ended {
		http.SetCookie(c.ResponseWriter, c.cookie)
	}
	c.wrote = true
	c.ResponseWriter.WriteHeader(status)
}

func (c *clearOnEnd) Write(p []byte) (int, error) {
	if !c.wrote {
		c.WriteHeader(http.StatusOK)
	}
	return c.ResponseWriter.Write(p)
}

// sessionEnded records that the request ended the browser's session.
func sessionEnded(ctx context.Context) {
	if bs, _ := ctx.Value(sessionKey{}).(*browserSession); bs != nil {
		bs.ended = true
	}
}

func sessionSecretFromContext(ctx context.Context) string {
	if bs, _ := ctx.Value(sessionKey{}).(*browserSession); bs != nil {
		return bs.secret
	}
	return ""
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

// RememberClaims hands the token exchange that follows a sign-in what the
// sign-in read moments ago: the account and its access to the e-service
// (see Storage.RememberClaims).
func (i *Interaction) RememberClaims(p storage.Principal, serviceID int64, access storage.ServiceAccess) {
	i.storage.RememberClaims(p, serviceID, access)
}

// cookiePathOf is the path of the issuer's cookies: its path, or "/".
func cookiePathOf(issuer string) string {
	u, err := url.Parse(issuer)
	if err != nil || strings.TrimSuffix(u.Path, "/") == "" {
		return "/"
	}
	return strings.TrimSuffix(u.Path, "/") + "/"
}
