package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/entity-account/idp/config"
	"github.com/entity-account/idp/login/password"
	"github.com/entity-account/idp/login/register"
	"github.com/entity-account/idp/storage"
	"github.com/entity-account/idp/storage/postgres"
)

func newHasher(cfg *config.Config) *password.Hasher {
	return password.NewHasher(password.Params{
		MemoryKiB: cfg.Argon2MemoryKiB, Iterations: cfg.Argon2Iterations, Threads: cfg.Argon2Threads,
	}, cfg.HashConcurrency, time.Minute)
}

type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, ",") }
func (m *multiFlag) Set(v string) error { *m = append(*m, v); return nil }

// parseFlags parses and reports the first missing required flag by name.
func parseFlags(fs *flag.FlagSet, args []string, required ...string) error {
	if err := fs.Parse(args); err != nil {
		return err
	}
	for _, name := range required {
		if f := fs.Lookup(name); f == nil || f.Value.String() == "" {
			return fmt.Errorf("%s: --%s is required", fs.Name(), name)
		}
	}
	return nil
}

func printJSON(v any) error { return writeJSONTo(os.Stdout, v) }

func writeJSONTo(out io.Writer, v any) error {
	enc := json.NewEncoder(out)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// ---- service create / enroll (assign and unassign: services.go) ----

func serviceCreate(args []string) error {
	fs := newFlags("service create")
	code := fs.String("code", "", "e-service code, e.g. social-services")
	nameZH := fs.String("name-zh", "", "name in Chinese")
	namePT := fs.String("name-pt", "", "name in Portuguese")
	nameEN := fs.String("name-en", "", "name in English")
	dept := fs.String("department", "", "owning department code (registered first: idp department create)")
	policy := fs.String("policy", "assigned", "who may sign in: assigned (assigned staff only) or enrolled (any staff of an enrolled entity)")
	minACR := fs.String("min-acr", "none", "the assurance level a sign-in must reach: "+storage.ACRTool+
		" (the password and an identity tool), "+storage.ACRPassword+" (the password), or none")
	var groups multiFlag
	fs.Var(&groups, "group", "group as CODE=中文名稱 (repeatable)")
	if err := parseFlags(fs, args, "code", "name-zh", "department"); err != nil {
		return err
	}
	if *policy != string(storage.PolicyAssigned) && *policy != string(storage.PolicyEnrolled) {
		return errors.New("--policy must be assigned or enrolled")
	}
	level, err := minLevelFlag(*minACR)
	if err != nil {
		return fmt.Errorf("service create: %w", err)
	}
	in := register.Service{DepartmentCode: *dept, Service: storage.Service{Code: *code, NameZH: *nameZH, NamePT: *namePT, NameEN: *nameEN,
		AccessPolicy: storage.AccessPolicy(*policy), MinLevel: level}}
	for _, g := range groups {
		gc, gname, _ := strings.Cut(g, "=")
		in.Groups = append(in.Groups, storage.Group{Code: gc, NameZH: gname})
	}
	return withOperator(fs, func(ctx context.Context, u *useCases) error {
		sv, err := u.register.Service(ctx, u.actor, in)
		if errors.Is(err, register.ErrNoDepartment) {
			return fmt.Errorf("service create: there is no department %s; register it first with idp department create --code %s --name-zh …", *dept, *dept)
		}
		if err != nil {
			return err
		}
		fmt.Printf("e-service %s created; it %s\n", sv.Code, levelWords(sv.MinLevel))
		return nil
	})
}

// ensureDepartment finds or registers a department as the demo supervisor
// (the demo's seed and the tests'; an officer registers departments with
// idp department create).
func ensureDepartment(ctx context.Context, pg *postgres.Store, code, nameZH string) (storage.Department, error) {
	u, err := demoUseCases(ctx, pg)
	if err != nil {
		return storage.Department{}, err
	}
	return u.register.EnsureDepartment(ctx, u.actor, code, nameZH)
}

// ---- client create ----

type clientOutput struct {
	ClientID               string   `json:"client_id"`
	ClientSecret           string   `json:"client_secret,omitempty"`
	RedirectURIs           []string `json:"redirect_uris,omitempty"`
	PostLogoutRedirectURIs []string `json:"post_logout_redirect_uris,omitempty"`
	BackchannelLogoutURI   string   `json:"backchannel_logout_uri,omitempty"`
	Public                 bool     `json:"public"`
	// TokenAuth is how the client authenticates at the token endpoint
	// ("client_secret_basic or client_secret_post" by default).
	TokenAuth string `json:"token_endpoint_auth_method,omitempty"`
}

func clientCreate(args []string) error {
	fs := newFlags("client create")
	code := fs.String("service", "", "e-service code the client belongs to")
	name := fs.String("name", "", "display name (defaults to the e-service's)")
	id := fs.String("id", "", "client id (default: generated)")
	public := fs.Bool("public", false, "public client (mobile/native app): no secret, PKCE S256 required")
	asJSON := fs.Bool("json", false, "print JSON")
	var redirects, postLogout multiFlag
	fs.Var(&redirects, "redirect-uri", "redirect URI, matched exactly (repeatable)")
	fs.Var(&postLogout, "post-logout-redirect-uri", "post-logout redirect URI (repeatable)")
	backchannel := fs.String("backchannel-logout-uri", "", "where the client receives logout tokens when a session it got tokens in ends (https; http only on loopback)")
	authFlags := addTokenAuthFlags(fs)
	if err := parseFlags(fs, args, "service", "redirect-uri"); err != nil {
		return err
	}
	auth, err := authFlags.resolve(*public)
	if err != nil {
		return fmt.Errorf("client create: %w", err)
	}
	for _, u := range append(append([]string{}, redirects...), postLogout...) {
		if err := checkRedirectURI(u, *public); err != nil {
			return err
		}
	}
	if *backchannel != "" {
		if err := checkClientURI("back-channel logout URI", *backchannel, false); err != nil {
			return err
		}
	}
	return withOperator(fs, func(ctx context.Context, u *useCases) error {
		out, err := registerServiceClient(ctx, u, *code, *id, *name, *public, redirects, postLogout, *backchannel, "", auth)
		if err != nil {
			return err
		}
		if *asJSON {
			return printJSON(out)
		}
		fmt.Printf("client_id:     %s\n", out.ClientID)
		if out.ClientSecret != "" {
			fmt.Printf("client_secret: %s   (shown once; only its hash is stored)\n", out.ClientSecret)
		}
		fmt.Printf("authenticates: %s\n", out.TokenAuth)
		return nil
	})
}

// registerClient registers a web or native client of the e-service sv as
// the demo supervisor (the demo's seeding and the tests use it). An empty secret
// means "generate one" for a confidential client; an empty backchannel
// means no back-channel logout.
func registerClient(ctx context.Context, pg *postgres.Store, sv storage.Service, id, name string, public bool, redirects, postLogout []string, backchannel, secret string) (clientOutput, error) {
	u, err := demoUseCases(ctx, pg)
	if err != nil {
		return clientOutput{}, err
	}
	return registerServiceClient(ctx, u, sv.Code, id, name, public, redirects, postLogout, backchannel, secret, tokenAuth{})
}

// registerServiceClient is registerClient for the e-service serviceCode,
// held to a method of client authentication (auth; the zero value is the
// default).
func registerServiceClient(ctx context.Context, u *useCases, serviceCode, id, name string, public bool, redirects, postLogout []string, backchannel, secret string, auth tokenAuth) (clientOutput, error) {
	r, err := u.register.ServiceClient(ctx, u.actor, register.Client{ServiceCode: serviceCode, Secret: secret, Client: storage.Client{
		ID: id, Name: name, Public: public, RedirectURIs: redirects, PostLogoutRedirectURIs: postLogout, BackchannelLogoutURI: backchannel,
		TokenAuth: auth.method, JWKS: auth.jwks, JWKSURI: auth.jwksURI}})
	if err != nil {
		return clientOutput{}, err
	}
	c := r.Client
	return clientOutput{ClientID: c.ID, ClientSecret: r.Secret, RedirectURIs: redirects, PostLogoutRedirectURIs: postLogout,
		BackchannelLogoutURI: backchannel, Public: public, TokenAuth: c.AuthMethodName()}, nil
}

// checkRedirectURI refuses what the protocol engine would refuse later, so
// the operator learns it now (storage.CheckClientURI: no fragment or
// userinfo, https or loopback http, a reverse-DNS scheme for native apps).
func checkRedirectURI(raw string, public bool) error {
	return checkClientURI("redirect URI", raw, public)
}

// checkClientURI checks one of a client's addresses (what names it in
// errors); native allows a native app's private-use scheme.
func checkClientURI(what, raw string, native bool) error {
	return storage.CheckClientURI(what, raw, native)
}

// ---- keys rotate ----

func keysRotate(args []string) error {
	fs := newFlags("keys rotate")
	keep := fs.Duration("keep-old", 24*time.Hour, "how long the previous key stays published (at least the longest token lifetime)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	return withOperator(fs, func(ctx context.Context, u *useCases) error {
		if min := max(u.cfg.IDTokenTTL, u.cfg.AccessTokenTTL); *keep < min {
			return fmt.Errorf("--keep-old must be at least the longest token lifetime (%s)", min)
		}
		keys, err := u.signingKeys(ctx)
		if err != nil {
			return err
		}
		kid, err := keys.Rotate(ctx, time.Now().Add(*keep))
		if err != nil {
			return err
		}
		fmt.Printf("new signing key %s is active; nodes pick it up within a minute\n", kid)
		return nil
	})
}
