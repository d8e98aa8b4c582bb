// Command idp is the entity-account OpenID provider: one binary for the
// server and the operator's tasks.
//
//	idp serve                     run a provider node (migrates first)
//	idp migrate                   apply database migrations
//	idp demo [--json]             seed the demo entity, e-service and clients
//	idp entity create             open an entity with its entity account and admin staff logins
//	idp entity show               an entity, its entity account and its staff logins
//	idp entity close              close an entity: its accounts can no longer sign in
//	idp entity reopen             open a closed entity again: its accounts may sign in again
//	idp service create            register a department's e-service and its groups
//	idp service level             set an e-service's minimum assurance level
//	idp service policy            set an e-service's access policy (assigned or enrolled)
//	idp service enroll            open an e-service to an entity
//	idp service close             close an e-service to an entity
//	idp service assignments       who of an entity is assigned to an e-service
//	idp service assign            assign a staff login to an e-service (and a group)
//	idp service unassign          take a staff login off an e-service, or out of a group
//	idp service group add         add a group to an e-service
//	idp service group rename      rename a group of an e-service
//	idp service group remove      remove a group of an e-service, with its memberships
//	idp department create         register a department
//	idp department rename         change a department's names
//	idp department list           list the departments
//	idp department changes        a department's recent changes
//	idp client create             register an OIDC client for an e-service, or a department's machine client
//	idp client list               list the clients
//	idp client show ID            show one client (never a secret)
//	idp client rotate-secret      give a client a new secret; the old one works for a grace period
//	idp client disable            disable a client: refused everywhere, its tokens stop at once
//	idp client enable             enable a disabled client again
//	idp keys rotate               make a new signing key active
//	idp code resend               send a new activation code to a not-yet-activated account
//	idp logout deliveries         list recent back-channel logout deliveries
//	idp staff create              register a staff login of an entity and send its activation code
//	idp staff delete              delete a staff login
//	idp staff restore             set a deleted staff login active again
//	idp login signout             end every session and token of a staff login (強制登出)
//	idp login unlock              lift a staff login's lockout after failed sign-ins (解除鎖定)
//	idp admin grant               give admin rights to a staff login
//	idp admin remove              take admin rights away from a staff login
//	idp tools approve             approve a staff login's pending 安全驗證碼
//	idp tools reset               remove a staff login's identity tools
//	idp tools enable              switch passkeys on again for a staff login
//	idp password reset            send a reset code to a login's (or the entity account's) registered mobile
//	idp history                   an entity's sign-in history (登入記錄), as lines or CSV
//	idp audit                     search the audit trail (who did what, for which entity), as lines, JSON or CSV
//	idp officer create            create an officer of 行政公職局 (the first one: a supervisor, by whoever holds the database)
//	idp officer list              the officers and their roles
//	idp officer disable           disable an officer
//	idp officer reset             clear an officer's password and 安全驗證碼 and send a new activation code
//	idp officer enable            enable a disabled officer again
//	idp officer role              change an officer's role (never leaving no active supervisor)
//
// Every command that writes, or reads personal data, acts for a named
// officer of 行政公職局: --officer LOGIN or IDP_OFFICER, an active officer
// whose role allows the command (storage.OfficerMay: a counter officer
// opens entities, sends codes, approves and resets identity tools, resets
// passwords, signs logins out, unlocks them and reads, the audit trail
// too; a supervisor does
// everything). The audit trail names the officer. Otherwise the command
// is refused and writes nothing. Needing no officer: help, serve, migrate,
// demo (it seeds as the demo supervisor, demo.supervisor, which it creates
// in a database without officers), department list, client list and
// client show (no personal data, never a secret), and officer create for
// the very first officer, a supervisor.
//
// Run "idp help" for the list with more detail, "idp <command> -h" for a
// command's flags. Configuration comes from IDP_* environment variables
// (see the README).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/entity-account/idp/config"
	"github.com/entity-account/idp/op/telemetry"
	"github.com/entity-account/idp/storage"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "idp:", err)
		os.Exit(1)
	}
}

// command is one of idp's subcommands: its name (one to three words), the
// operands it takes besides its flags, what it does (continuation lines are
// indented under it in the usage), and the function that parses its flags
// and runs it.
type command struct {
	name, operands, synopsis string
	run                      func(args []string) error
	// act is what the command does as the operator: it runs only for a
	// named officer (--officer or IDP_OFFICER) whom the rule book allows
	// it (storage.OfficerMay). "" for the commands that need no officer.
	act storage.OperatorAct
}

// commands are idp's subcommands, in the order the usage lists them. The
// package doc lists them too (TestPackageDocListsCommands keeps it so).
var commands []command

func init() {
	commands = []command{
		{"serve", "", "run a provider node", func([]string) error { return serve() }, ""},
		{"migrate", "", "apply database migrations", func([]string) error { return migrate() }, ""},
		{"demo", "[--json]", `seed the demo entity 02-000021, e-service "demo" and its clients`, demo, ""},
		{"entity create", "", "open an entity with its entity account and admin staff logins; sends activation codes", entityCreate, storage.ActOpenEntity},
		{"entity show", "", "an entity, its entity account and its staff logins", func(a []string) error { return entityShow(a, os.Stdout) }, storage.ActReadEntities},
		{"entity close", "", "close an entity: its accounts can no longer sign in; their sessions and tokens end", entityClose, storage.ActCloseEntity},
		{"entity reopen", "", "open a closed entity again (--entity N --reason TEXT): its accounts may sign in again with their passwords", entityReopen, storage.ActCloseEntity},
		{"service create", "", "register an e-service of a registered department, and its groups; --min-acr: its minimum assurance level", serviceCreate, storage.ActRegisterService},
		{"service level", "", "set an e-service's minimum assurance level: --service CODE --min-acr URN|none [--json]\n" +
			"(urn:entity-account:acr:tool: the password and an identity tool; none: the password is enough)", serviceLevel, storage.ActRegisterService},
		{"service policy", "", "set an e-service's access policy: --service CODE --policy assigned|enrolled [--json]\n" +
			"(assigned: only the staff logins assigned to it; enrolled: every active staff login of an entity it is opened to)", servicePolicy, storage.ActRegisterService},
		{"service enroll", "", "open an e-service to an entity", serviceEnroll, storage.ActRegisterService},
		{"service close", "", "close an e-service to an entity: its assignments and group memberships there go", serviceClose, storage.ActRegisterService},
		{"service assignments", "", "who of an entity is assigned to an e-service (EUIDs and group codes)", serviceAssignments, storage.ActReadEntities},
		{"service assign", "", "assign a staff login to an e-service and optionally a group", serviceAssign, storage.ActRegisterService},
		{"service unassign", "", "take a staff login off an e-service (and its groups there), or out of one group", serviceUnassign, storage.ActRegisterService},
		{"service group add", "", "add a group to an e-service (as the department API does)", serviceGroupAdd, storage.ActRegisterService},
		{"service group rename", "", "rename a group of an e-service", serviceGroupRename, storage.ActRegisterService},
		{"service group remove", "", "remove a group of an e-service, with its memberships", serviceGroupRemove, storage.ActRegisterService},
		{"department create", "", "register a department (code and names)", departmentCreate, storage.ActRegisterDepartment},
		{"department rename", "", "change a department's names: --code CODE [--name-zh] [--name-pt] [--name-en] (those given are set)", departmentRename, storage.ActRegisterDepartment},
		{"department list", "", "the departments (code and names)", func(a []string) error { return departmentList(a, os.Stdout) }, ""},
		{"department changes", "", "a department's recent changes (its clients' and about its e-services)", departmentChanges, storage.ActReadOperations},
		{"client create", "", "register an OIDC client for an e-service, or (--kind machine --department CODE) a department's\n" +
			"machine client for the client_credentials grant; --token-auth basic|post|private_key_jwt\n" +
			"(with --jwks FILE or --jwks-uri https://…) holds it to one method of client authentication", clientCreateCommand, storage.ActRegisterClient},
		{"client list", "", "the clients: id, kind, e-service or department, how each authenticates", func(a []string) error { return clientList(a, os.Stdout) }, ""},
		{"client show", "ID", "one client: e-service, kind, redirect URIs, auth method, grant types (never a secret)",
			func(a []string) error { return clientShow(a, os.Stdout) }, ""},
		{"client rotate-secret", "", "give a client a new secret (shown once): --client ID [--grace 24h] [--json]; the old one\n" +
			"keeps working for the grace (0: stops at once; at most 720h), for the department to deploy the new one", clientRotateSecret, storage.ActRegisterClient},
		{"client disable", "", "disable a client (--client ID): refused at /authorize and the token endpoint; its tokens stop at once", clientDisable, storage.ActRegisterClient},
		{"client enable", "", "enable a disabled client again (--client ID)", clientEnable, storage.ActRegisterClient},
		{"keys rotate", "", "make a new signing key active (the old one stays published)", keysRotate, storage.ActRotateKeys},
		{"code resend", "", "send a new activation code to a not-yet-activated login", codeResend, storage.ActSendCode},
		{"logout deliveries", "", "list recent back-channel logout deliveries to relying parties and their state",
			func(a []string) error { return logoutDeliveries(a, os.Stdout) }, storage.ActReadOperations},
		{"staff create", "", "register a staff login of an entity (--admin: an admin) and send its activation code", staffCreate, storage.ActManageStaff},
		{"staff delete", "", "delete a staff login (關聯狀態 已刪除): sessions, tokens and its open activation code end", staffDelete, storage.ActManageStaff},
		{"staff restore", "", "set a deleted staff login active again (生效中)", staffRestore, storage.ActManageStaff},
		{"login signout", "", "end every session and token of a staff login (強制登出); its e-services are told", loginSignOut, storage.ActSignOutLogin},
		{"login unlock", "", "lift a staff login's lockout after too many failed sign-ins (解除鎖定)", loginUnlock, storage.ActUnlockLogin},
		{"admin grant", "", "give admin rights to a staff login (only the operator can)", adminGrant, storage.ActGrantAdmin},
		{"admin remove", "", "take admin rights away from a staff login", adminRemove, storage.ActGrantAdmin},
		{"tools approve", "", "approve a staff login's pending 安全驗證碼 after checking its document in person (--code: the app's code)", toolsApprove, storage.ActApproveTools},
		{"tools reset", "", "remove a staff login's identity tools, passkeys included (a lost phone)", toolsReset, storage.ActResetTools},
		{"tools enable", "", "switch passkeys on again for a staff login whose holder switched them off (in person)", toolsEnable, storage.ActApproveTools},
		{"password reset", "", "send a reset code to the registered mobile (else e-mail) of a staff login (--euid or --username)\n" +
			"or of the entity account (--entity-account); the holder sets the new password with it", passwordReset, storage.ActResetPassword},
		{"history", "", "an entity's sign-in history (登入記錄): --entity N [--euid EUID] [--outcome O] [--from --to YYYY-MM-DD]\n" +
			"[--csv: every matching event as CSV, formula cells escaped]", func(a []string) error { return historyCommand(a, os.Stdout) }, storage.ActReadEntities},
		{"audit", "", "search the audit trail, newest first: [--entity N] [--actor ID] [--target T] [--action A|prefix.]\n" +
			"[--from --to YYYY-MM-DD: at most 366 days; default the last 30] [--limit N] [--json | --csv: every match]",
			func(a []string) error { return auditCommand(a, os.Stdout) }, storage.ActReadAudit},
		{"officer create", "", "create an officer of 行政公職局: --name LOGIN --display-name NAME --role counter|supervisor\n" +
			"[--mobile M] [--email E]; with no officer yet, the first (a supervisor) needs no --officer", officerCreate, storage.ActManageOfficers},
		{"officer list", "", "the officers: login name, name, role, status, activated at the desk, last sign-in there", func(a []string) error { return officerList(a, os.Stdout) }, storage.ActReadOperations},
		{"officer disable", "", "disable an officer (--name LOGIN): never oneself, never the last active supervisor", officerDisable, storage.ActManageOfficers},
		{"officer reset", "", "lost phone or forgotten password: clear an officer's password and 安全驗證碼, end its desk sessions\n" +
			"and send a new activation code to its mobile (else e-mail) (--name LOGIN); never oneself", officerReset, storage.ActManageOfficers},
		{"officer enable", "", "enable a disabled officer again (--name LOGIN)", officerEnable, storage.ActManageOfficers},
		{"officer role", "", "change an officer's role (--name LOGIN --role counter|supervisor): never leaving no active supervisor",
			officerRole, storage.ActManageOfficers},
	}
}

// usage is the list of commands, as "idp help" prints it.
func usage() string {
	var b strings.Builder
	b.WriteString("usage: idp <command> [flags]\n\ncommands:\n")
	for _, c := range commands {
		name := strings.TrimSpace(c.name + " " + c.operands)
		lines := strings.Split(c.synopsis, "\n")
		fmt.Fprintf(&b, "  %-22s %s\n", name, lines[0])
		for _, l := range lines[1:] {
			fmt.Fprintf(&b, "  %-22s %s\n", "", l)
		}
	}
	b.WriteString("\nRun \"idp <command> -h\" for a command's flags. Configuration: IDP_* environment variables.")
	return b.String()
}

// lookup finds the command args start with (the longest name that
// matches) and returns it with the rest of args.
func lookup(args []string) (command, []string, bool) {
	for n := min(3, len(args)); n > 0; n-- {
		name := strings.Join(args[:n], " ")
		for _, c := range commands {
			if c.name == name {
				return c, args[n:], true
			}
		}
	}
	return command{}, nil, false
}

// newFlags is the flag set of the command name: every command declares
// its flags on one, so that "idp <command> -h" shows its synopsis and
// flags alike.
func newFlags(name string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	if actOf(name) != "" {
		fs.String(officerFlag, os.Getenv("IDP_OFFICER"), "the officer who acts (login name; default $IDP_OFFICER)")
	}
	fs.Usage = func() {
		out := fs.Output()
		for _, c := range commands {
			if c.name == name {
				fmt.Fprintf(out, "usage: idp %s [flags]\n\n%s\n\nflags:\n", strings.TrimSpace(name+" "+c.operands), c.synopsis)
			}
		}
		fs.PrintDefaults()
	}
	return fs
}

func run(args []string) error {
	if len(args) == 0 {
		fmt.Fprintln(os.Stderr, usage())
		return errors.New("no command given")
	}
	switch args[0] {
	case "help", "-h", "--help":
		fmt.Println(usage())
		return nil
	}
	if c, rest, ok := lookup(args); ok {
		return c.run(rest)
	}
	if len(args) >= 2 && args[0] == "service" && args[1] == "group" {
		return fmt.Errorf("service group: add, rename or remove")
	}
	name := args[0]
	if len(args) > 1 && strings.HasPrefix(commandNames(), " "+args[0]+" ") {
		name += " " + args[1]
	}
	fmt.Fprintln(os.Stderr, usage())
	return fmt.Errorf("unknown command %q", name)
}

// commandNames is every word of every command's name, each between spaces.
func commandNames() string {
	var b strings.Builder
	b.WriteString(" ")
	for _, c := range commands {
		if first, _, ok := strings.Cut(c.name, " "); ok {
			b.WriteString(first + " ")
		}
	}
	return b.String()
}

func loadConfig() (*config.Config, error) {
	cfg, err := config.Load()
	if err != nil {
		return nil, fmt.Errorf("configuration:\n%w", err)
	}
	level := map[string]slog.Level{"debug": slog.LevelDebug, "info": slog.LevelInfo, "warn": slog.LevelWarn, "error": slog.LevelError}[cfg.LogLevel]
	// Lines logged with a request's context carry its request_id.
	slog.SetDefault(slog.New(telemetry.LogHandler(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))))
	return cfg, nil
}

func serve() error {
	cfg, err := loadConfig()
	if err != nil {
		return err
	}
	if cfg.DevMasterKey {
		slog.Warn("IDP_MASTER_KEY is not set: using the public development key; never do this in production")
	}
	limitMemory(cfg)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	pg, rs, rdb, err := openStores(ctx, cfg)
	if err != nil {
		return err
	}
	a, err := newApp(ctx, cfg, pg, rs, rdb)
	if err != nil {
		pg.Close()
		rdb.Close()
		return err
	}
	defer a.Close()
	stopOutbox := a.startOutbox(ctx) // delivers activation codes (the outbox); stopped before a.Close
	defer stopOutbox()
	stopHistory := a.startHistory(ctx) // the sign-in history's writer and retention; stopped after the server
	defer stopHistory()

	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return fmt.Errorf("IDP_LISTEN: %w", err)
	}
	srv := &http.Server{
		Handler:           a.handler,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       15 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    32 << 10,
	}
	if cfg.PprofListen != "" {
		stopPprof, err := servePprof(cfg.PprofListen)
		if err != nil {
			return err
		}
		defer stopPprof()
	}
	if cfg.MetricsListen != "" {
		_, stopMetrics, err := serveMetrics(cfg.MetricsListen, a.pg.OutboxBacklog)
		if err != nil {
			return err
		}
		defer stopMetrics()
	}
	if cfg.DeskListen != "" {
		stopDesk, err := serveDesk(cfg, a.desk)
		if err != nil {
			return err
		}
		defer stopDesk()
	}
	slog.Info("provider ready", "issuer", cfg.Issuer, "listen", ln.Addr().String(),
		"discovery", cfg.Issuer+"/.well-known/openid-configuration")
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	slog.Info("shutting down")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	return srv.Shutdown(shutdownCtx)
}

func migrate() error {
	cfg, err := loadConfig()
	if err != nil {
		return err
	}
	ctx := context.Background()
	pg, _, rdb, err := openStores(ctx, cfg)
	if err != nil {
		return err
	}
	rdb.Close()
	pg.Close()
	fmt.Println("database is up to date")
	return nil
}
