package storage

import "time"

// AuthRequest is an OIDC authorization request between /authorize and the
// token endpoint. The first block is what the RP asked for; the second is set
// once, atomically, when someone has authenticated for it.
type AuthRequest struct {
	ID                  string   `json:"id"`
	ClientID            string   `json:"client_id"`
	RedirectURI         string   `json:"redirect_uri"`
	Scopes              []string `json:"scopes"`
	State               string   `json:"state,omitempty"`
	Nonce               string   `json:"nonce,omitempty"`
	ResponseType        string   `json:"response_type"`
	ResponseMode        string   `json:"response_mode,omitempty"`
	CodeChallenge       string   `json:"code_challenge,omitempty"`
	CodeChallengeMethod string   `json:"code_challenge_method,omitempty"`
	Prompt              []string `json:"prompt,omitempty"`
	MaxAge              *uint    `json:"max_age,omitempty"`
	LoginHint           string   `json:"login_hint,omitempty"`
	UILocales           []string `json:"ui_locales,omitempty"`
	ACRValues           []string `json:"acr_values,omitempty"`
	HintSubject         string   `json:"hint_subject,omitempty"` // sub of a valid id_token_hint
	// RequiredLevel is the assurance the sign-in must reach: the highest of
	// the e-service's minimum, acr_values and an acr of the claims parameter.
	RequiredLevel Level `json:"required_level,omitempty"`
	// ACREssential: the client asked for the acr as an essential claim, so
	// a sign-in that cannot reach it answers unmet_authentication_requirements.
	ACREssential bool      `json:"acr_essential,omitempty"`
	CreatedAt    time.Time `json:"created_at"`

	Done bool `json:"done"`
	Authentication
}

// Authentication is who signed in, how and when. It travels from the login
// page into the auth request, then into access and refresh tokens, so that
// refreshed ID tokens keep the original auth_time, amr and acr.
type Authentication struct {
	Subject      string    `json:"sub,omitempty"`
	LoginID      int64     `json:"login_id,omitempty"`
	EntityNumber string    `json:"entity_number,omitempty"`
	AuthTime     time.Time `json:"auth_time,omitzero"`
	AMR          []string  `json:"amr,omitempty"`
	ACR          string    `json:"acr,omitempty"`
	SessionID    string    `json:"sid,omitempty"` // public session id (the sid claim), not the cookie secret
}

// Session is a browser single-sign-on session. The cookie carries a secret;
// the store keys the session by a hash of it, so a Redis dump cannot be replayed.
type Session struct {
	Kind PrincipalKind `json:"kind"`
	Authentication
	// ToolAt is when an electronic identity tool was last proven in this
	// session (zero: never): max_age applies to it as to AuthTime.
	ToolAt time.Time `json:"tool_at,omitzero"`
	// PasswordAt is when the account's password was last typed in this
	// session, at sign-in or again on the identity-tool pages (zero: never,
	// a session opened with a passkey alone). Changes of identity tools
	// ask for it (PasswordTypedWithin).
	PasswordAt time.Time `json:"password_at,omitzero"`
	CreatedAt  time.Time `json:"created_at"`
	LastSeenAt time.Time `json:"last_seen_at"`
	ExpiresAt  time.Time `json:"expires_at"` // absolute expiry
	// Device is where the session was opened, for 已登入的裝置: kept
	// short (see CleanDevice), as the record is read on every request.
	Device Device `json:"dev,omitzero"`
}

// LiveSession is a live browser session as its holder sees it in
// 已登入的裝置: the session, and the clients that received tokens in it
// (the e-services it signed in to), from the record back-channel logout
// keeps of them.
type LiveSession struct {
	Session
	ClientIDs []string
}

// AccessToken is the server-side record of an issued access token. Userinfo
// and introspection honour a token only while its record exists.
type AccessToken struct {
	ID        string    `json:"id"`
	ClientID  string    `json:"client_id"`
	Subject   string    `json:"sub"`
	Audience  []string  `json:"aud"`
	Scopes    []string  `json:"scopes"`
	GrantID   string    `json:"grant_id"` // auth request id or refresh family: what to revoke on code replay
	IssuedAt  time.Time `json:"iat"`
	ExpiresAt time.Time `json:"exp"`
	// Department is set on a machine client's token (client_credentials):
	// the code of the department it acts for. Such a token has no user.
	Department string `json:"department,omitempty"`
	Authentication
}

// RefreshToken is the record behind an opaque refresh token. Tokens of one
// family replace each other on every use; presenting a replaced one revokes the family.
type RefreshToken struct {
	FamilyID  string    `json:"family_id"`
	ClientID  string    `json:"client_id"`
	Subject   string    `json:"sub"`
	Audience  []string  `json:"aud"`
	Scopes    []string  `json:"scopes"`
	IssuedAt  time.Time `json:"iat"`
	ExpiresAt time.Time `json:"exp"` // absolute end of the family
	// AccessTokenID is the access token issued together with this refresh token.
	AccessTokenID string `json:"at_id"`
	Authentication
	// Generation is the place of the token presented in its family (1 for
	// the first), as the store's lookup found it; the rotation that follows
	// the lookup checks that it is still the current one. Not stored.
	Generation int64 `json:"-"`
}
