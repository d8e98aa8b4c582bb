package main

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/entity-account/idp/config"
	"github.com/entity-account/idp/login/password"
	"github.com/entity-account/idp/login/register"
	"github.com/entity-account/idp/login/seed"
	"github.com/entity-account/idp/storage"
	"github.com/entity-account/idp/storage/postgres"
)

// The demo world: entity 02-000021 with an entity account, an admin and two
// staff logins, and the e-service "demo" with a web and a mobile client.
const (
	demoEntityNumber = "02-000021"
	demoService      = "demo"
	demoWebClient    = "demo-web"
	demoMobileClient = "demo-mobile"
)

type demoLogin struct {
	Username string   `json:"username"`
	Password string   `json:"password"`
	EUID     string   `json:"euid"`
	Admin    bool     `json:"admin"`
	Groups   []string `json:"groups"`
}

type demoOutput struct {
	Issuer        string            `json:"issuer"`
	EntityNumber  string            `json:"entity_number"`
	EntityAccount map[string]string `json:"entity_account"`
	Logins        []demoLogin       `json:"logins"`
	Clients       []clientOutput    `json:"clients"`
}

func demo(args []string) error {
	fs := newFlags("demo")
	asJSON := fs.Bool("json", false, "print JSON")
	rpURL := fs.String("rp-url", envOr("IDP_DEMO_RP_URL", "http://localhost:8081"), "base URL of the demo department app")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	return withPostgres(func(ctx context.Context, u *useCases) error {
		out, err := seedDemo(ctx, u.cfg, u.pg, newHasher(u.cfg), *rpURL)
		if err != nil {
			return err
		}
		if *asJSON {
			return printJSON(out)
		}
		printDemo(os.Stdout, out)
		return nil
	})
}

// printDemo writes the demo world as text, one account or client a line.
// scripts/run.sh picks the "  entity account " and "  staff login " lines
// out of it with sed for the banner of `make run`: keep them in step.
func printDemo(w io.Writer, out demoOutput) {
	fmt.Fprintf(w, "demo entity %s seeded; issuer %s\n", out.EntityNumber, out.Issuer)
	fmt.Fprintf(w, "  entity account %-8s password %-16s (實體使用者帳戶: portal only, %s/account; it cannot sign in to e-services)\n",
		out.EntityAccount["username"], out.EntityAccount["password"], out.Issuer)
	for _, l := range out.Logins {
		fmt.Fprintf(w, "  staff login %-8s password %-16s EUID %s admin=%v groups=%v\n", l.Username, l.Password, l.EUID, l.Admin, l.Groups)
	}
	for _, c := range out.Clients {
		fmt.Fprintf(w, "  client %-12s secret %q public=%v redirect %v\n", c.ClientID, c.ClientSecret, c.Public, c.RedirectURIs)
	}
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

// seedDemo is seedDemoWith over pg (the tests' harness seeds with it).
// It seeds as the demo supervisor (demoOfficer), which it creates in a
// database without officers.
func seedDemo(ctx context.Context, cfg *config.Config, pg *postgres.Store, hasher *password.Hasher, rpURL string) (demoOutput, error) {
	u, err := demoUseCases(ctx, pg)
	if err != nil {
		return demoOutput{}, err
	}
	u.cfg = cfg
	return seedDemoWith(ctx, u, hasher, rpURL)
}

// seedDemoWith creates whatever of the demo world is missing and makes the
// printed passwords true, through the use cases, as u's officer.
// Passwords and the web client's secret are derived from the master key,
// so they stay the same from run to run without being written in the
// source.
func seedDemoWith(ctx context.Context, u *useCases, hasher *password.Hasher, rpURL string) (demoOutput, error) {
	cfg, seeder := u.cfg, u.seeder(hasher)
	out := demoOutput{Issuer: cfg.Issuer, EntityNumber: demoEntityNumber}
	derive := func(label string, n int) string {
		m := hmac.New(sha256.New, cfg.MasterKey)
		m.Write([]byte("demo " + label))
		return base64.RawURLEncoding.EncodeToString(m.Sum(nil))[:n]
	}

	sv, err := seedDemoService(ctx, u)
	if err != nil {
		return out, fmt.Errorf("demo e-service: %w", err)
	}

	entity, err := u.dir.EntityByNumber(ctx, demoEntityNumber)
	if errors.Is(err, storage.ErrNotFound) {
		entity = storage.Entity{Number: demoEntityNumber, NameZH: "公司19", NamePT: "Companhia 19", Kind: "company", Status: "active"}
		acct := &storage.EntityAccount{ApplicationNumber: "A2026-000021", Mobile: "+85366000021", Language: "zh-Hant"}
		err = seeder.Entity(ctx, u.actor, &entity, acct)
	}
	if err != nil {
		return out, fmt.Errorf("demo entity: %w", err)
	}
	acct, err := u.dir.EntityAccount(ctx, entity.ID)
	if err != nil {
		return out, err
	}
	acctPassword := "Demo-" + derive("entity-account", 10)
	if err := seeder.Activate(ctx, u.actor, seed.Account{Kind: storage.KindEntityAccount, ID: acct.ID, Username: acct.Username,
		PasswordHash: acct.PasswordHash}, "entity01", acctPassword); err != nil {
		return out, fmt.Errorf("demo entity account: %w", err)
	}
	out.EntityAccount = map[string]string{"username": "entity01", "password": acctPassword, "subject": acct.Subject}
	if _, err := u.departments.EnrollEntity(ctx, u.actor, sv.Code, entity.Number); err != nil {
		return out, err
	}

	if out.Logins, err = seedDemoStaff(ctx, u, seeder, entity, sv, derive); err != nil {
		return out, err
	}

	web, err := ensureClient(ctx, u, sv, demoWebClient, "示範部門網站", false,
		[]string{rpURL + "/callback"}, []string{rpURL + "/"}, derive("client "+demoWebClient, 32))
	if err != nil {
		return out, err
	}
	mobile, err := ensureClient(ctx, u, sv, demoMobileClient, "示範部門流動應用程式", true,
		[]string{"http://127.0.0.1/callback", "mo.gov.demo.app:/oauth2redirect"}, []string{"mo.gov.demo.app:/logout"}, "")
	if err != nil {
		return out, err
	}
	out.Clients = []clientOutput{web, mobile}
	return out, nil
}

// seedDemoService registers the department DEMO and its e-service "demo"
// with two groups, unless they are registered already.
func seedDemoService(ctx context.Context, u *useCases) (storage.Service, error) {
	dept, err := u.register.EnsureDepartment(ctx, u.actor, "DEMO", "示範部門")
	if err != nil {
		return storage.Service{}, err
	}
	sv, err := u.dir.ServiceByCode(ctx, demoService)
	if errors.Is(err, storage.ErrNotFound) {
		sv, err = u.register.Service(ctx, u.actor, register.Service{DepartmentCode: dept.Code,
			Service: storage.Service{Code: demoService, NameZH: "示範電子服務", NamePT: "Serviço electrónico de demonstração",
				NameEN: "Demo e-service", AccessPolicy: storage.PolicyAssigned},
			Groups: []storage.Group{{Code: "admin", NameZH: "管理員", NamePT: "Administrador"}, {Code: "operator", NameZH: "操作員", NamePT: "Operador"}}})
	}
	return sv, err
}

// seedDemoStaff registers the demo entity's staff logins that are missing,
// sets their passwords (derive makes them) and assigns them to sv.
func seedDemoStaff(ctx context.Context, u *useCases, seeder *seed.Seeder, entity storage.Entity, sv storage.Service, derive func(string, int) string) ([]demoLogin, error) {
	staff := []struct {
		username, nameZH, nameForeign, docNo, group string
		admin                                       bool
	}{
		{"admin01", "陳大文", "CHAN, Tai Man", "1000001(1)", "admin", true},
		{"staff01", "李小明", "LEI, Sio Meng", "1000002(2)", "operator", false},
		{"staff02", "黃美玲", "WONG, Mei Leng", "1000003(3)", "", false},
	}
	var logins []demoLogin
	for _, s := range staff {
		sl, err := u.dir.StaffLoginByUsername(ctx, entity.ID, s.username)
		if errors.Is(err, storage.ErrNotFound) {
			sl = storage.StaffLogin{EntityID: entity.ID, NameZH: s.nameZH, NameForeign: s.nameForeign, IDDocType: "macau_permanent_id",
				IDDocNumber: s.docNo, IDDocIssuePlace: "澳門", BirthDate: time.Date(1985, 1, 1, 0, 0, 0, 0, time.UTC),
				Mobile: "+8536600" + s.docNo[5:7] + "00", Email: s.username + "@company19.example.mo", Language: "zh-Hant", Admin: s.admin}
			err = seeder.StaffLogin(ctx, u.actor, &sl)
		}
		if err != nil {
			return logins, fmt.Errorf("demo staff login %s: %w", s.username, err)
		}
		pw := "Demo-" + derive("staff "+s.username, 10)
		if err := seeder.Activate(ctx, u.actor, seed.Account{Kind: storage.KindStaff, ID: sl.ID, Username: sl.Username,
			PasswordHash: sl.PasswordHash}, s.username, pw); err != nil {
			return logins, fmt.Errorf("demo staff login %s: %w", s.username, err)
		}
		if _, err := u.manage.AssignService(ctx, u.actor, sl.EntityID, sl.EUID, sv.Code, s.group); err != nil {
			return logins, fmt.Errorf("assign %s: %w", s.username, err)
		}
		access, err := u.dir.ServiceAccess(ctx, sl.ID, sv.ID)
		if err != nil {
			return logins, err
		}
		logins = append(logins, demoLogin{Username: s.username, Password: pw, EUID: sl.EUID, Admin: s.admin, Groups: access.Groups})
	}
	return logins, nil
}

// ensureActivated activates an account with username and password, or, if it
// is activated already, makes sure password is its password (the tests
// seed with it).
func ensureActivated(ctx context.Context, pg *postgres.Store, hasher *password.Hasher, kind storage.PrincipalKind, id int64, currentUsername, currentHash, username, pw string) error {
	u, err := demoUseCases(ctx, pg)
	if err != nil {
		return err
	}
	return u.seeder(hasher).Activate(ctx, u.actor, seed.Account{Kind: kind, ID: id, Username: currentUsername, PasswordHash: currentHash}, username, pw)
}

// ensureClient registers the client id of the e-service sv unless it is
// registered already.
func ensureClient(ctx context.Context, u *useCases, sv storage.Service, id, name string, public bool, redirects, postLogout []string, secret string) (clientOutput, error) {
	c, err := u.dir.Client(ctx, id)
	if errors.Is(err, storage.ErrNotFound) {
		return registerServiceClient(ctx, u, sv.Code, id, name, public, redirects, postLogout, "", secret, tokenAuth{})
	}
	if err != nil {
		return clientOutput{}, err
	}
	out := clientOutput{ClientID: c.ID, RedirectURIs: c.RedirectURIs, PostLogoutRedirectURIs: c.PostLogoutRedirectURIs, Public: c.Public}
	if !public {
		out.ClientSecret = secret
	}
	return out, nil
}
