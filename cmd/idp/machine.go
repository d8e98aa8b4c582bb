package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/entity-account/idp/login/register"
	"github.com/entity-account/idp/storage"
)

// The operator's department commands: register a department, and give it
// machine clients (client_credentials) for its back end.

// departmentCodePattern is the departments.code CHECK of the schema.
var departmentCodePattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_-]{0,31}$`)

type departmentOutput struct {
	ID     int64  `json:"id"`
	Code   string `json:"code"`
	NameZH string `json:"name_zh"`
	NamePT string `json:"name_pt,omitempty"`
	NameEN string `json:"name_en,omitempty"`
}

func departmentCreate(args []string) error {
	fs := newFlags("department create")
	code := fs.String("code", "", "department code, e.g. DSAT (letters, digits, '-' and '_', at most 32)")
	nameZH := fs.String("name-zh", "", "name in Chinese")
	namePT := fs.String("name-pt", "", "name in Portuguese")
	nameEN := fs.String("name-en", "", "name in English")
	asJSON := fs.Bool("json", false, "print JSON")
	if err := parseFlags(fs, args, "code", "name-zh"); err != nil {
		return err
	}
	if !departmentCodePattern.MatchString(*code) {
		return fmt.Errorf("department create: --code %q: use 1 to 32 letters, digits, '-' or '_', starting with a letter or digit", *code)
	}
	for flagName, v := range map[string]string{"name-zh": *nameZH, "name-pt": *namePT, "name-en": *nameEN} {
		if !storage.CleanText(v, 200) {
			return fmt.Errorf("department create: --%s: at most 200 characters of text", flagName)
		}
	}
	return withOperator(fs, func(ctx context.Context, u *useCases) error {
		d := storage.Department{Code: *code, NameZH: *nameZH, NamePT: *namePT, NameEN: *nameEN}
		if err := u.register.Department(ctx, u.actor, &d); err != nil {
			if errors.Is(err, storage.ErrAlreadyExists) {
				return fmt.Errorf("department create: a department with code %s already exists", *code)
			}
			return commandError("department create", err)
		}
		out := departmentOutput{ID: d.ID, Code: d.Code, NameZH: d.NameZH, NamePT: d.NamePT, NameEN: d.NameEN}
		if *asJSON {
			return printJSON(out)
		}
		fmt.Printf("department %s created\n", d.Code)
		return nil
	})
}

// clientCreateCommand is "idp client create": a machine client of a
// department with --kind machine (or --department), else a web or native
// client of an e-service (clientCreate; --kind native is --public).
func clientCreateCommand(args []string) error {
	kind, rest, err := takeKindFlag(args)
	if err != nil {
		return err
	}
	if kind == string(storage.ClientMachine) || (kind == "" && hasFlag(rest, "department")) {
		return machineClientCreate(rest)
	}
	switch kind {
	case "", string(storage.ClientWeb):
	case string(storage.ClientNative):
		rest = append(rest, "--public")
	default:
		return fmt.Errorf("client create: --kind must be web, native or machine")
	}
	return clientCreate(rest)
}

// takeKindFlag removes --kind (either form, one or two dashes) from args.
func takeKindFlag(args []string) (string, []string, error) {
	var kind string
	var rest []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		name, value, hasValue := strings.Cut(strings.TrimLeft(a, "-"), "=")
		if !strings.HasPrefix(a, "-") || name != "kind" {
			rest = append(rest, a)
			continue
		}
		if !hasValue {
			if i+1 >= len(args) {
				return "", nil, errors.New("client create: --kind needs a value: web, native or machine")
			}
			i++
			value = args[i]
		}
		kind = value
	}
	return kind, rest, nil
}

func hasFlag(args []string, name string) bool {
	return slices.ContainsFunc(args, func(a string) bool {
		n, _, _ := strings.Cut(strings.TrimLeft(a, "-"), "=")
		return strings.HasPrefix(a, "-") && n == name
	})
}

type machineClientOutput struct {
	ClientID     string   `json:"client_id"`
	ClientSecret string   `json:"client_secret,omitempty"` // none for private_key_jwt
	Kind         string   `json:"kind"`
	Department   string   `json:"department"`
	Scopes       []string `json:"scopes"`
	TokenAuth    string   `json:"token_endpoint_auth_method"`
}

func machineClientCreate(args []string) error {
	fs := newFlags("client create")
	dept := fs.String("department", "", "code of the department the machine client belongs to")
	name := fs.String("name", "", "display name (defaults to the department's)")
	id := fs.String("id", "", "client id (default: generated from the department's code)")
	asJSON := fs.Bool("json", false, "print JSON")
	var scopes multiFlag
	fs.Var(&scopes, "scope", "a scope the client may ask for: "+strings.Join(storage.MachineScopes, " or ")+
		" (repeatable; default "+storage.ScopeDepartmentRead+")")
	for _, f := range []string{"service", "redirect-uri", "post-logout-redirect-uri", "backchannel-logout-uri"} {
		fs.String(f, "", "not for a machine client")
	}
	fs.Bool("public", false, "not for a machine client")
	authFlags := addTokenAuthFlags(fs)
	if err := parseFlags(fs, args, "department"); err != nil {
		return err
	}
	auth, err := authFlags.resolve(false)
	if err != nil {
		return fmt.Errorf("client create: %w", err)
	}
	var refused []string
	fs.Visit(func(f *flag.Flag) {
		switch f.Name {
		case "service", "redirect-uri", "post-logout-redirect-uri", "backchannel-logout-uri", "public":
			refused = append(refused, "--"+f.Name)
		}
	})
	if len(refused) > 0 {
		return fmt.Errorf("client create: a machine client belongs to a department and has no addresses: drop %s",
			strings.Join(refused, ", "))
	}
	if len(scopes) == 0 {
		scopes = multiFlag{storage.ScopeDepartmentRead}
	}
	var registered []string
	for _, sc := range scopes {
		if !slices.Contains(storage.MachineScopes, sc) {
			return fmt.Errorf("client create: --scope %q: a machine client's scopes are %s", sc, strings.Join(storage.MachineScopes, " and "))
		}
		if !slices.Contains(registered, sc) {
			registered = append(registered, sc)
		}
	}
	return withOperator(fs, func(ctx context.Context, u *useCases) error {
		r, err := u.register.MachineClient(ctx, u.actor, register.Client{DepartmentCode: *dept, Client: storage.Client{
			ID: *id, Name: *name, Scopes: registered, TokenAuth: auth.method, JWKS: auth.jwks, JWKSURI: auth.jwksURI}})
		switch {
		case errors.Is(err, register.ErrNoDepartment):
			return fmt.Errorf("client create: no department %s (idp department create --code %s …)", *dept, *dept)
		case errors.Is(err, storage.ErrAlreadyExists):
			return fmt.Errorf("client create: a client with id %s already exists", r.Client.ID)
		case errors.Is(err, storage.ErrInvalid):
			return fmt.Errorf("client create: client id %q: use letters, digits, '.', '_', '~' or '-' (no ':')", r.Client.ID)
		case err != nil:
			return commandError("client create", err)
		}
		c, secret := r.Client, r.Secret
		out := machineClientOutput{ClientID: c.ID, ClientSecret: secret, Kind: string(c.Kind), Department: c.DepartmentCode, Scopes: c.Scopes,
			TokenAuth: c.AuthMethodName()}
		if *asJSON {
			return printJSON(out)
		}
		fmt.Printf("client_id:     %s\n", out.ClientID)
		if out.ClientSecret != "" {
			fmt.Printf("client_secret: %s   (shown once; only its hash is stored)\n", out.ClientSecret)
		}
		fmt.Printf("authenticates: %s\n", out.TokenAuth)
		fmt.Printf("department %s, scopes %s; grant: client_credentials\n", out.Department, strings.Join(out.Scopes, " "))
		return nil
	})
}
