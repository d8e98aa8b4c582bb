// Package storage holds the domain of the entity-account identity provider:
// the types every other package speaks (entities, staff logins, e-services,
// clients, sessions, tokens), the errors stores return, and the rules of who
// may sign in where. Besides the standard library it imports only
// golang.org/x/text/width (to fold full-width input to its narrow form
// before it becomes a key): no package of ours, no database driver and no
// net/http.
//
// Durable state lives in Postgres (package storage/postgres); short-lived
// state lives in Redis (package storage/redis). Both implement the interfaces
// declared here, and both are tested against the real servers.
package storage

import (
	"errors"
	"time"
)

// Errors returned by every store. Backends translate driver errors into these;
// anything else is an internal fault.
var (
	// ErrNotFound: the thing asked for does not exist (or has expired).
	ErrNotFound = errors.New("not found")
	// ErrAlreadyExists: a unique value (entity number, username, client id) is taken.
	ErrAlreadyExists = errors.New("already exists")
	// ErrConflict: a compare-and-swap lost, e.g. an auth request already completed.
	ErrConflict = errors.New("conflict")
	// ErrCodeReused: an authorization code was presented a second time.
	ErrCodeReused = errors.New("authorization code already used")
	// ErrRefreshTokenReused: a rotated-out refresh token was presented again;
	// the store has revoked its whole family.
	ErrRefreshTokenReused = errors.New("refresh token reuse detected")
	// ErrUnavailable: the store could not be reached or could not serve the
	// request now (connection refused or lost, timeout, shutting down, out of
	// resources). Only this error means "try again shortly" (503): backends
	// mark a failure as unavailable positively, so that an error nobody
	// classified (a bug, a value the store refuses) is never mistaken for
	// an outage.
	ErrUnavailable = errors.New("store unavailable")
	// ErrInvalid: the store refused a value (bytes it cannot hold, a value a
	// constraint forbids). Validation at the edge should have caught it.
	ErrInvalid = errors.New("invalid value")
)

// PrincipalKind tells the two kinds of account that can sign in apart.
type PrincipalKind string

const (
	// KindStaff is a staff login (工作人員登入號), admin or not. Its subject is its EUID.
	KindStaff PrincipalKind = "staff"
	// KindEntityAccount is the entity account (實體使用者帳戶). It may sign in to the
	// portal only, never to an e-service.
	KindEntityAccount PrincipalKind = "entity_account"
)

// AssociationStatus is a staff login's 關聯狀態 with its entity.
type AssociationStatus string

const (
	StatusActive  AssociationStatus = "active"  // 生效中
	StatusDeleted AssociationStatus = "deleted" // 已刪除
)

// Entity is an organisation holding one entity account and many staff logins.
type Entity struct {
	ID        int64
	Number    string // 實體編號, e.g. 02-000021
	NameZH    string
	NamePT    string
	Kind      string // company, association, sole_trader, building_management, ...
	Status    string // active, closed
	CreatedAt time.Time
}

// EntityAccount is the single 實體使用者帳戶 of an entity.
type EntityAccount struct {
	ID                int64
	EntityID          int64
	Subject           string // stable subject, never an EUID (prefix EA)
	ApplicationNumber string // 申請編號, from the operator's receipt; used at activation
	Username          string // empty until activation; immutable afterwards
	PasswordHash      string // empty until activation
	Mobile            string
	Email             string
	Language          string // zh-Hant, pt or en
	ActivatedAt       *time.Time
	CreatedAt         time.Time
}

// StaffLogin is a 工作人員登入號. Every field of the registration form is here.
type StaffLogin struct {
	ID              int64
	EUID            string // CU + 9 digits, assigned by the database, never reused
	EntityID        int64
	Username        string // empty until activation; immutable afterwards
	PasswordHash    string // empty until activation
	NameZH          string // 中文姓名
	NameForeign     string // 葡文/外文姓名
	IDDocType       string // 身份證明文件類別, e.g. macau_permanent_id
	IDDocNumber     string // 身份證明文件編號
	IDDocIssuePlace string // 身份證明文件發出地
	BirthDate       time.Time
	Mobile          string // 澳門流動電話號碼
	Email           string // 電子信箱
	Language        string // 使用語言: zh-Hant, pt or en
	Admin           bool   // 工作人員登入號（管理員）
	ServiceAdmin    bool   // 服務管理員
	Status          AssociationStatus
	ActivatedAt     *time.Time
	CreatedAt       time.Time
	UpdatedAt       time.Time
}

// StaffQuery selects one page of an entity's staff list.
type StaffQuery struct {
	EntityID int64
	Search   string // username, name, EUID or document number, any part, any case
	Offset   int
	Limit    int // 1–500; 0: 50
	// UnusedSince, when set, keeps only the logins not signed in since
	// then (never signed in included): the filter 「N 日內未登入」.
	UnusedSince time.Time
}

// StaffListRow is one line of the staff list (工作人員登入號列表).
type StaffListRow struct {
	StaffLogin           // without its password hash
	CodeOutstanding bool // 啟動碼: an activation code is live
	// LastSignInAt is 最後登入時間 (nil: never), as the sign-in history's
	// writer last moved it.
	LastSignInAt *time.Time
}

// Principal is what the login page needs to know about whoever owns
// (entity number, username): a staff login or the entity account.
type Principal struct {
	Kind         PrincipalKind
	ID           int64 // staff_logins.id or entity_accounts.id
	Subject      string
	EntityID     int64
	EntityNumber string
	EntityNameZH string
	EntityNamePT string
	EntityActive bool
	Username     string
	PasswordHash string
	NameZH       string
	NameForeign  string
	Email        string
	Mobile       string
	Language     string
	Activated    bool
	Status       AssociationStatus // always active for an entity account
	Admin        bool              // a staff login's 管理員 flag (false for an entity account)
	ServiceAdmin bool              // a staff login's 服務管理員 flag
}

// Department owns e-services.
type Department struct {
	ID     int64
	Code   string
	NameZH string
	NamePT string
	NameEN string
}

// AccessPolicy says which staff logins of an enrolled entity may use an e-service.
type AccessPolicy string

const (
	// PolicyAssigned: only staff logins assigned to the e-service.
	PolicyAssigned AccessPolicy = "assigned"
	// PolicyEnrolled: any active staff login of an entity the e-service is opened to.
	PolicyEnrolled AccessPolicy = "enrolled"
)

// Service is a department's e-service (電子服務). Each OIDC client belongs to one.
type Service struct {
	ID           int64
	Code         string
	DepartmentID int64
	NameZH       string
	NamePT       string
	NameEN       string
	AccessPolicy AccessPolicy
	// MinLevel is the lowest assurance level a sign-in to the e-service
	// must reach. LevelNone and LevelPassword demand nothing beyond the
	// password; LevelTool demands an identity tool as well. Set by its
	// department or the operator (CanSetServiceMinLevel).
	MinLevel Level
}

// Group is a group (群組) inside an e-service, e.g. admin or operator.
type Group struct {
	ID        int64
	ServiceID int64
	Code      string
	NameZH    string
	NamePT    string
	NameEN    string // "" : English falls back to the Portuguese name
}

// ServiceAccess is what the database knows about one staff login and one e-service.
type ServiceAccess struct {
	Policy   AccessPolicy
	Enrolled bool     // the e-service is opened to the login's entity
	Assigned bool     // the login is assigned to the e-service
	Groups   []string // codes of the login's groups in the e-service, sorted; never nil
}

// ClientKind is what sort of program a client is.
type ClientKind string

const (
	// ClientWeb is a department's server-side web app: a secret, the
	// authorization code flow.
	ClientWeb ClientKind = "web"
	// ClientNative is a mobile or desktop app: no secret, PKCE S256.
	ClientNative ClientKind = "native"
	// ClientMachine is a department's back end acting for the department
	// itself (no user): a secret, the client_credentials grant only. It
	// belongs to a department, not to an e-service.
	ClientMachine ClientKind = "machine"
)

// OAuth 2.0 grant types a client may be allowed.
const (
	GrantAuthorizationCode = "authorization_code"
	GrantRefreshToken      = "refresh_token"
	GrantClientCredentials = "client_credentials"
)

// Scopes a machine client may be registered with (the department API's).
const (
	ScopeDepartmentRead  = "department.read"
	ScopeDepartmentWrite = "department.write"
)

// MachineScopes are the scopes a machine client may hold.
var MachineScopes = []string{ScopeDepartmentRead, ScopeDepartmentWrite}

// DefaultGrantTypes are the grants a client of kind k is allowed.
func DefaultGrantTypes(k ClientKind) []string {
	if k == ClientMachine {
		return []string{GrantClientCredentials}
	}
	return []string{GrantAuthorizationCode, GrantRefreshToken}
}

// Client is a registered OAuth/OIDC client: a relying party of one e-service
// (web or native), or a department's machine client.
type Client struct {
	ID   string
	Kind ClientKind
	// ServiceID and ServiceCode: the e-service of a web or native client
	// (0 and "" for a machine client).
	ServiceID   int64
	ServiceCode string
	// DepartmentID and DepartmentCode: the department of a machine client
	// (0 and "" for the others).
	DepartmentID   int64
	DepartmentCode string
	// GrantTypes are the grants the client may use (GrantAuthorizationCode, ...).
	GrantTypes []string
	// Scopes are a machine client's registered scopes: what it may ask
	// for, and what it gets when it asks for none. Empty for the others.
	Scopes []string
	// ServiceName is its e-service's name in zh-Hant, pt and en (pt and en
	// may be empty): what the sign-in page names.
	ServiceName Names
	// MinLevel is its e-service's Service.MinLevel: the lowest assurance
	// level a sign-in for this client must reach (LevelNone for a machine
	// client). Read through a cache, a change reaches sign-ins on every
	// node at once when published (ShortLived.PublishServicesChanged),
	// else within the cache's lifetime (op's clientCache, 30 s).
	MinLevel               Level
	Name                   string
	SecretHash             []byte // SHA-256 of the secret; nil for a public client
	Public                 bool   // native/mobile app: no secret, PKCE S256 required
	RedirectURIs           []string
	PostLogoutRedirectURIs []string
	// BackchannelLogoutURI receives a logout token whenever a session in
	// which the client got tokens ends; "" when the client takes none.
	BackchannelLogoutURI string
	// TokenAuth is how a confidential client authenticates at the token,
	// introspection and revocation endpoints (see AcceptsAuth);
	// TokenAuthSecret, the default, takes its secret either way.
	TokenAuth TokenAuthMethod
	// JWKS (a JSON Web Key Set, inline) or JWKSURI (https, fetched) holds
	// the public keys of a private_key_jwt client; both empty otherwise.
	JWKS    []byte
	JWKSURI string
	// PreviousSecretHash is the SHA-256 of the secret before the last
	// rotation: it authenticates the client too until
	// PreviousSecretExpiresAt (the rotation's grace). nil when none.
	PreviousSecretHash      []byte
	PreviousSecretExpiresAt time.Time
	// Disabled: the operator disabled the client. Only the operator's
	// list shows a disabled client; to the provider it is unknown.
	Disabled bool
	// TokensValidAfter is the second after the client was last disabled
	// (token issue times are kept to the second): no token of it issued
	// before then is honoured (zero: never disabled).
	TokensValidAfter time.Time
	CreatedAt        time.Time
}

// AllowsGrant reports whether the client may use the grant type g.
func (c Client) AllowsGrant(g string) bool {
	for _, have := range c.GrantTypes {
		if have == g {
			return true
		}
	}
	return false
}

// Names is a name in the three languages of the pages.
type Names struct{ ZH, PT, EN string }

// In returns the name in language lang (zh-Hant, pt, en). A name missing in
// Portuguese falls back to the Chinese one. A name missing in English falls
// back to the Portuguese one, then the Chinese: Chinese and Portuguese are
// Macau's official languages, so every official name exists in at least
// one of them, and a reader who chose English reads the Latin script of
// the Portuguese name (which is also what Macau's signs and documents show
// beside the Chinese) far more surely than Chinese characters.
func (n Names) In(lang string) string {
	switch {
	case lang == "pt" && n.PT != "":
		return n.PT
	case lang == "en" && n.EN != "":
		return n.EN
	case lang == "en" && n.PT != "":
		return n.PT
	}
	return n.ZH
}

// SigningKey is a token-signing key as stored: the private key is sealed with
// the operator's master key before it reaches the store.
type SigningKey struct {
	ID               string // kid
	Algorithm        string // RS256, ES256
	PrivateKeySealed []byte
	PublicJWK        []byte // JSON Web Key of the public half
	CreatedAt        time.Time
	ActivatedAt      *time.Time // nil: published but not yet signing
	RetiredAt        *time.Time // set: no longer signs, still published until ExpiresAt
	ExpiresAt        *time.Time // after this the key leaves the JWKS
}

// AuditEvent records who did what, for which entity, from where.
type AuditEvent struct {
	ID        int64
	At        time.Time
	ActorKind string // operator, staff, entity_account, system
	ActorID   string // EUID, entity account subject, operator name
	EntityID  *int64
	// EntityNumber is the entity's number, filled by the audit search
	// (SearchAuditEvents) only.
	EntityNumber string
	Action       string // e.g. entity.create, staff.create, client.create
	Target       string
	IP           string
	Details      map[string]any
}

// AuditNames are the names of what an audit trail records by code or id,
// so that it can be read in the words people know: e-services and their
// groups by code, departments by the id of their machine client (the
// actor of what a department's back end did).
type AuditNames struct {
	Services    map[string]Names            // by e-service code
	Groups      map[string]map[string]Names // by e-service code, then group code
	Departments map[string]Names            // by machine client id
}
