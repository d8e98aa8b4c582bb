// Command idp is the entity-account OpenID provider: one binary for the
// server and the operator's tasks.
//
//	idp serve                       run a provider node (migrates first)
//	idp migrate                     apply database migrations
//	idp demo [--json]               seed the demo entity, e-service and clients
//	idp entity create ...           open an entity with its entity account and admin staff login
//	idp service create ...          register a department's e-service and its groups
//	idp service enroll ...          open an e-service to an entity
//	idp service level ...           set an e-service's minimum assurance level
//	idp service assign ...          assign a staff login to an e-service (and a group)
//	idp service unassign ...        take a staff login off an e-service, or out of a group
//	idp department create ...       register a department
//	idp department list             list the departments
//	idp client create ...           register an OIDC client for an e-service, or a department's machine client
//	idp client list / show ID       list the clients / show one (never a secret)
//	idp keys rotate                 make a new signing key active
//	idp code resend ...             send a new activation code to a not-yet-activated login
//	idp logout deliveries ...       list recent back-channel logout deliveries
//
// Configuration comes from IDP_* environment variables (see the README).
package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/entity-account/idp/config"
	"github.com/entity-account/idp/op/telemetry"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "idp:", err)
		os.Exit(1)
	}
}

const usage = `usage: idp <command> [flags]

commands:
  serve             run a provider node
  migrate           apply database migrations
  demo [--json]     seed the demo entity 02-000021, e-service "demo" and its clients
  entity create     open an entity with its entity account and admin staff logins; sends activation codes
  service create    register an e-service of a registered department, and its groups; --min-acr: its minimum assurance level
  service level     set an e-service's minimum assurance level: --service CODE --min-acr URN|none [--json]
                    (urn:entity-account:acr:tool: the password and an identity tool; none: the password is enough)
  service enroll    open an e-service to an entity
  service assign    assign a staff login to an e-service and optionally a group
  service unassign  take a staff login off an e-service (and its groups there), or out of one group
  department create register a department (code and names)
  department list   the departments (code and names)
  client create     register an OIDC client for an e-service, or (--kind machine --department CODE) a department's
                    machine client for the client_credentials grant; --token-auth basic|post|private_key_jwt
                    (with --jwks FILE or --jwks-uri https://…) holds it to one method of client authentication
  client list       the clients: id, kind, e-service or department, how each authenticates
  client show ID    one client: e-service, kind, redirect URIs, auth method, grant types (never a secret)
  keys rotate       make a new signing key active (the old one stays published)
  code resend       send a new activation code to a not-yet-activated login
  logout deliveries list recent back-channel logout deliveries to relying parties and their state
  entity show       an entity, its entity account and its staff logins
  entity close      close an entity: its accounts can no longer sign in; their sessions and tokens end
  service group add|rename|remove  an e-service's groups (as the department API does)
  service close     close an e-service to an entity: its assignments and group memberships there go
  service assignments  who of an entity is assigned to an e-service (EUIDs and group codes)
  department changes   a department's recent changes (its clients' and about its e-services)
  staff create      register a staff login of an entity (--admin: an admin) and send its activation code
  staff delete      delete a staff login (關聯狀態 已刪除): sessions, tokens and its open activation code end
  staff restore     set a deleted staff login active again (生效中)
  admin grant       give admin rights to a staff login (only the operator can)
  admin remove      take admin rights away from a staff login
  tools approve     approve a staff login's pending 安全驗證碼 after checking its document in person (--code: the app's code)
  tools reset       remove a staff login's identity tools, passkeys included (a lost phone)
  tools enable      switch passkeys on again for a staff login whose holder switched them off (in person)

Run "idp <command> -h" for a command's flags. Configuration: IDP_* environment variables.`

func run(args []string) error {
	if len(args) == 0 {
		fmt.Fprintln(os.Stderr, usage)
		return errors.New("no command given")
	}
	cmd, rest := args[0], args[1:]
	if len(rest) > 0 && (cmd == "entity" || cmd == "service" || cmd == "client" || cmd == "keys" || cmd == "code" || cmd == "logout" ||
		cmd == "staff" || cmd == "admin" || cmd == "department" || cmd == "tools") {
		cmd, rest = cmd+" "+rest[0], rest[1:]
	}
	switch cmd {
	case "serve":
		return serve()
	case "migrate":
		return migrate()
	case "demo":
		return demo(rest)
	case "entity create":
		return entityCreate(rest)
	case "service create":
		return serviceCreate(rest)
	case "service enroll":
		return serviceEnroll(rest)
	case "service level":
		return serviceLevel(rest)
	case "service assign":
		return serviceAssign(rest)
	case "service unassign":
		return serviceUnassign(rest)
	case "department create":
		return departmentCreate(rest)
	case "department list":
		return departmentList(rest, os.Stdout)
	case "client create":
		return clientCreateCommand(rest)
	case "client list":
		return clientList(rest, os.Stdout)
	case "client show":
		return clientShow(rest, os.Stdout)
	case "keys rotate":
		return keysRotate(rest)
	case "code resend":
		return codeResend(rest)
	case "logout deliveries":
		return logoutDeliveries(rest, os.Stdout)
	case "entity show":
		return entityShow(rest, os.Stdout)
	case "entity close":
		return entityClose(rest)
	case "service group":
		if len(rest) > 0 {
			switch sub, more := rest[0], rest[1:]; sub {
			case "add":
				return serviceGroupAdd(more)
			case "rename":
				return serviceGroupRename(more)
			case "remove":
				return serviceGroupRemove(more)
			}
		}
		return fmt.Errorf("service group: add, rename or remove")
	case "department changes":
		return departmentChanges(rest)
	case "service close":
		return serviceClose(rest)
	case "service assignments":
		return serviceAssignments(rest)
	case "staff create":
		return staffCreate(rest)
	case "staff delete":
		return staffDelete(rest)
	case "staff restore":
		return staffRestore(rest)
	case "admin grant":
		return adminGrant(rest)
	case "admin remove":
		return adminRemove(rest)
	case "tools approve":
		return toolsApprove(rest)
	case "tools reset":
		return toolsReset(rest)
	case "tools enable":
		return toolsEnable(rest)
	case "help", "-h", "--help":
		fmt.Println(usage)
		return nil
	}
	fmt.Fprintln(os.Stderr, usage)
	return fmt.Errorf("unknown command %q", cmd)
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
