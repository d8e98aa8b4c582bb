package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"os"
	"strings"
	"time"

	idpop "github.com/entity-account/idp/op"
	"github.com/entity-account/idp/storage"
)

// The operator's view of clients and departments, and how a client
// authenticates (--token-auth, with --jwks or --jwks-uri).

// tokenAuth is a client's registered method of client authentication and,
// for private_key_jwt, its keys.
type tokenAuth struct {
	method  storage.TokenAuthMethod
	jwks    []byte // the checked JWKS, public keys only
	jwksURI string
}

type tokenAuthFlags struct {
	method, jwksFile, jwksURI *string
}

func addTokenAuthFlags(fs *flag.FlagSet) tokenAuthFlags {
	return tokenAuthFlags{
		method: fs.String("token-auth", "", "hold the client to one method of client authentication: basic (client_secret_basic), "+
			"post (client_secret_post) or private_key_jwt (with --jwks or --jwks-uri; no secret); default: its secret, Basic or in the body"),
		jwksFile: fs.String("jwks", "", "file with the client's public keys (a JSON Web Key Set), for --token-auth private_key_jwt"),
		jwksURI:  fs.String("jwks-uri", "", "https address where the client publishes its public keys, for --token-auth private_key_jwt"),
	}
}

// resolve checks the flags: a public client takes none of them, keys go
// with private_key_jwt only, and private_key_jwt needs exactly one source
// of keys. The JWKS file is read and checked (idpop.ParseClientJWKS).
func (f tokenAuthFlags) resolve(public bool) (tokenAuth, error) {
	var a tokenAuth
	switch *f.method {
	case "":
	case "basic", string(storage.TokenAuthBasic):
		a.method = storage.TokenAuthBasic
	case "post", string(storage.TokenAuthPost):
		a.method = storage.TokenAuthPost
	case string(storage.TokenAuthPrivateKeyJWT):
		a.method = storage.TokenAuthPrivateKeyJWT
	default:
		return a, fmt.Errorf("--token-auth %q: use basic, post or private_key_jwt", *f.method)
	}
	if public && (a.method != "" || *f.jwksFile != "" || *f.jwksURI != "") {
		return a, errors.New("a public client has no secret and no keys: it sends its client_id and PKCE; drop --token-auth, --jwks and --jwks-uri")
	}
	keys := *f.jwksFile != "" || *f.jwksURI != ""
	switch {
	case a.method != storage.TokenAuthPrivateKeyJWT && keys:
		return a, errors.New("--jwks and --jwks-uri go with --token-auth private_key_jwt")
	case a.method == storage.TokenAuthPrivateKeyJWT && (*f.jwksFile == "") == (*f.jwksURI == ""):
		return a, errors.New("--token-auth private_key_jwt needs the client's public keys: either --jwks FILE or --jwks-uri https://…")
	}
	if *f.jwksURI != "" {
		u, err := url.Parse(*f.jwksURI)
		if err != nil || u.Scheme != "https" || u.Host == "" || u.Fragment != "" || len(*f.jwksURI) > 2048 {
			return a, fmt.Errorf("--jwks-uri %q: an https address is required (the keys are fetched from it)", *f.jwksURI)
		}
		a.jwksURI = *f.jwksURI
	}
	if *f.jwksFile != "" {
		file, err := os.Open(*f.jwksFile)
		if err != nil {
			return a, fmt.Errorf("--jwks: %w", err)
		}
		defer file.Close()
		data, err := io.ReadAll(io.LimitReader(file, 64<<10+1))
		if err != nil {
			return a, fmt.Errorf("--jwks: %w", err)
		}
		if len(data) > 64<<10 {
			return a, errors.New("--jwks: the file is larger than 64 KiB")
		}
		set, err := idpop.ParseClientJWKS(data)
		if err != nil {
			return a, fmt.Errorf("--jwks %s: %w", *f.jwksFile, err)
		}
		// Stored as go-jose writes it back: the public keys, nothing else of the file.
		if a.jwks, err = json.Marshal(set); err != nil {
			return a, fmt.Errorf("--jwks: %w", err)
		}
	}
	return a, nil
}

// ---- client list / show ----

// clientView is what the operator sees of a client: never a secret.
type clientView struct {
	ClientID               string   `json:"client_id"`
	Name                   string   `json:"name"`
	Kind                   string   `json:"kind"`
	Service                string   `json:"service,omitempty"`
	Department             string   `json:"department,omitempty"`
	RedirectURIs           []string `json:"redirect_uris"`
	PostLogoutRedirectURIs []string `json:"post_logout_redirect_uris"`
	BackchannelLogoutURI   string   `json:"backchannel_logout_uri,omitempty"`
	TokenAuth              string   `json:"token_endpoint_auth_method"`
	JWKSURI                string   `json:"jwks_uri,omitempty"`
	JWKSKeys               int      `json:"jwks_keys,omitempty"` // keys registered inline
	GrantTypes             []string `json:"grant_types"`
	Scopes                 []string `json:"scopes,omitempty"`
	Disabled               bool     `json:"disabled"`
	// PreviousSecretUntil: a rotated-out secret still works until then.
	PreviousSecretUntil string `json:"previous_secret_valid_until,omitempty"`
	CreatedAt           string `json:"created_at"`
}

func viewOfClient(c storage.Client) clientView {
	v := clientView{ClientID: c.ID, Name: c.Name, Kind: string(c.Kind), Service: c.ServiceCode, Department: c.DepartmentCode,
		RedirectURIs: c.RedirectURIs, PostLogoutRedirectURIs: c.PostLogoutRedirectURIs, BackchannelLogoutURI: c.BackchannelLogoutURI,
		TokenAuth: c.AuthMethodName(), JWKSURI: c.JWKSURI, GrantTypes: c.GrantTypes, Scopes: c.Scopes,
		Disabled: c.Disabled, CreatedAt: c.CreatedAt.UTC().Format("2006-01-02T15:04:05Z")}
	if c.AcceptsPreviousSecret(time.Now()) {
		v.PreviousSecretUntil = c.PreviousSecretExpiresAt.UTC().Format("2006-01-02T15:04:05Z")
	}
	if len(c.JWKS) > 0 {
		if set, err := idpop.ParseClientJWKS(c.JWKS); err == nil {
			v.JWKSKeys = len(set.Keys)
		}
	}
	return v
}

// state is the client's state in words: disabled, or a previous secret
// that still works; "" for neither.
func (v clientView) state() string {
	var parts []string
	if v.Disabled {
		parts = append(parts, "DISABLED")
	}
	if v.PreviousSecretUntil != "" {
		parts = append(parts, "previous secret valid until "+v.PreviousSecretUntil)
	}
	return strings.Join(parts, "; ")
}

// owner is the e-service or department a client belongs to, in words.
func (v clientView) owner() string {
	if v.Department != "" {
		return "department " + v.Department
	}
	return "e-service " + v.Service
}

func clientList(args []string, out io.Writer) error {
	fs := newFlags("client list")
	asJSON := fs.Bool("json", false, "print JSON")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	return withOperator(fs, func(ctx context.Context, u *useCases) error {
		clients, err := u.dir.Clients(ctx)
		if err != nil {
			return commandError("client list", err)
		}
		views := make([]clientView, len(clients))
		for i, c := range clients {
			views[i] = viewOfClient(c)
		}
		if *asJSON {
			return writeJSONTo(out, views)
		}
		for _, v := range views {
			fmt.Fprintln(out, strings.TrimRight(fmt.Sprintf("%-32s %-8s %-28s %-44s %s", v.ClientID, v.Kind, v.owner(), v.TokenAuth, v.state()), " "))
		}
		if len(views) == 0 {
			fmt.Fprintln(out, "no clients")
		}
		return nil
	})
}

// clientShow is "idp client show CLIENT_ID [--json]" (flags before or after the id).
func clientShow(args []string, out io.Writer) error {
	fs := newFlags("client show")
	asJSON := fs.Bool("json", false, "print JSON")
	var id string
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		id, args = args[0], args[1:]
	}
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if id == "" && fs.NArg() == 1 {
		id = fs.Arg(0)
	} else if fs.NArg() > 0 || id == "" {
		return errors.New("client show: give one client id: idp client show CLIENT_ID [--json]")
	}
	return withOperator(fs, func(ctx context.Context, u *useCases) error {
		c, err := u.dir.ClientForOperator(ctx, id)
		if errors.Is(err, storage.ErrNotFound) {
			return fmt.Errorf("client show: there is no client %s (idp client list shows them)", id)
		}
		if err != nil {
			return commandError("client show", err)
		}
		v := viewOfClient(c)
		if *asJSON {
			return writeJSONTo(out, v)
		}
		fmt.Fprintf(out, "client_id:    %s\nname:         %s\nkind:         %s\nbelongs to:   %s\n", v.ClientID, v.Name, v.Kind, v.owner())
		fmt.Fprintf(out, "auth method:  %s\n", v.TokenAuth)
		if v.Disabled {
			fmt.Fprintln(out, "state:        disabled (idp client enable --client ID enables it again)")
		}
		if v.PreviousSecretUntil != "" {
			fmt.Fprintf(out, "old secret:   still works until %s (a rotation's grace)\n", v.PreviousSecretUntil)
		}
		if v.JWKSURI != "" {
			fmt.Fprintf(out, "jwks_uri:     %s\n", v.JWKSURI)
		}
		if v.JWKSKeys > 0 {
			fmt.Fprintf(out, "jwks:         %d key(s) registered inline\n", v.JWKSKeys)
		}
		fmt.Fprintf(out, "grant types:  %s\n", strings.Join(v.GrantTypes, " "))
		if len(v.Scopes) > 0 {
			fmt.Fprintf(out, "scopes:       %s\n", strings.Join(v.Scopes, " "))
		}
		for _, u := range v.RedirectURIs {
			fmt.Fprintf(out, "redirect URI: %s\n", u)
		}
		for _, u := range v.PostLogoutRedirectURIs {
			fmt.Fprintf(out, "post-logout:  %s\n", u)
		}
		if v.BackchannelLogoutURI != "" {
			fmt.Fprintf(out, "back-channel: %s\n", v.BackchannelLogoutURI)
		}
		fmt.Fprintf(out, "created:      %s\n", v.CreatedAt)
		return nil
	})
}

// ---- department list ----

func departmentList(args []string, out io.Writer) error {
	fs := newFlags("department list")
	asJSON := fs.Bool("json", false, "print JSON")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	return withOperator(fs, func(ctx context.Context, u *useCases) error {
		ds, err := u.dir.Departments(ctx)
		if err != nil {
			return commandError("department list", err)
		}
		views := make([]departmentOutput, len(ds))
		for i, d := range ds {
			views[i] = departmentOutput{ID: d.ID, Code: d.Code, NameZH: d.NameZH, NamePT: d.NamePT, NameEN: d.NameEN}
		}
		if *asJSON {
			return writeJSONTo(out, views)
		}
		for _, d := range views {
			fmt.Fprintf(out, "%-16s %s\n", d.Code, strings.Join(nonEmpty(d.NameZH, d.NamePT, d.NameEN), " / "))
		}
		if len(views) == 0 {
			fmt.Fprintln(out, "no departments (idp department create --code CODE --name-zh … registers one)")
		}
		return nil
	})
}

func nonEmpty(vs ...string) []string {
	var out []string
	for _, v := range vs {
		if v != "" {
			out = append(out, v)
		}
	}
	return out
}
