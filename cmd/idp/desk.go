package main

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"time"

	"github.com/entity-account/idp/config"
	"github.com/entity-account/idp/login/activation"
	"github.com/entity-account/idp/login/desk"
	"github.com/entity-account/idp/login/entitydesk"
	"github.com/entity-account/idp/login/guide"
	"github.com/entity-account/idp/login/kit"
	"github.com/entity-account/idp/login/manage"
	"github.com/entity-account/idp/login/officers"
	"github.com/entity-account/idp/login/password"
	"github.com/entity-account/idp/login/register"
	"github.com/entity-account/idp/login/tools"
	idpop "github.com/entity-account/idp/op"
	"github.com/entity-account/idp/storage/postgres"
	rstore "github.com/entity-account/idp/storage/redis"
)

// newDesk builds the operator's desk over the node's stores: a kit of its
// own (its own CSRF cookie and key, pages at the listener's root) and the
// use cases the officers act through, the same the idp commands call.
func newDesk(cfg *config.Config, pg *postgres.Store, rs *rstore.Store, u deskUseCases) (*desk.Handler, error) {
	k, err := kit.New(kit.Config{
		CSRFKey: idpop.DeriveKey(cfg.MasterKey, "desk-csrf"), CSRFCookie: "idp_desk_csrf",
		SecureCookies: deskSecureCookies(cfg.DeskListen), TrustProxyHeaders: cfg.TrustProxyHeaders,
	}, pg, rs)
	if err != nil {
		return nil, err
	}
	svc, err := newOfficers(cfg, pg, rs, u.hasher, u.wake)
	if err != nil {
		return nil, err
	}
	if pk, ok := deskPasskeyConfig(cfg); ok && rs != nil && u.hasher != nil {
		if err := svc.EnablePasskeys(pk, pg, rs); err != nil {
			return nil, err
		}
	}
	return desk.New(k, desk.Deps{Officers: svc, Sessions: rs, Intake: u.intake, Entities: u.entities, Tools: u.tools,
		Register: register.New(pg, rs), Departments: manage.NewDepartments(pg, rs), ClientKeeper: register.NewClientKeeper(pg, rs),
		Registry: pg, Guide: cfg.Issuer + guide.Path + "/officer"}), nil
}

// deskUseCases are the use cases of the desk's areas, built with the
// node's (newApp): the same the portal and the idp commands call.
type deskUseCases struct {
	intake   *activation.Service // 申請開立實體使用者帳戶: opening an entity
	entities *entitydesk.Service // 實體: search, an entity's page and its acts
	tools    *tools.Service      // 安全驗證碼 approved in person; the node's, which wakes its outbox
	hasher   *password.Hasher    // the officers' passwords
	wake     func()              // the outbox worker, for the officers' codes
}

// newOfficers is the officers' use cases over pg, sending activation codes
// through the outbox (wake, when set, delivers them at once); with rs and
// hasher, also signing officers in at the desk.
func newOfficers(cfg *config.Config, pg *postgres.Store, rs *rstore.Store, hasher *password.Hasher, wake func()) (*officers.Service, error) {
	sealer, err := outboxSealer(cfg)
	if err != nil {
		return nil, err
	}
	in := officers.SignIn{
		CodeKey: idpop.DeriveKey(cfg.MasterKey, "officer-code"), TOTPKey: idpop.DeriveKey(cfg.MasterKey, "officer-totp"),
		TicketKey: idpop.DeriveKey(cfg.MasterKey, "officer-signin"), Sealer: sealer,
		CodeTTL: officerCodeTTL, MaxAttempts: cfg.Activation.MaxAttempts, Wake: wake,
	}
	if rs != nil && hasher != nil {
		in.Hasher, in.Counters = hasher, rs
		in.FailuresPerLogin, in.FailuresPerIP, in.FailureWindow = cfg.LoginFailuresPerAccount, cfg.LoginFailuresPerIP, cfg.LoginFailureWindow
	}
	svc := officers.New(pg)
	if err := svc.EnableSignIn(in); err != nil {
		return nil, err
	}
	return svc, nil
}

// deskPasskeyConfig is the WebAuthn relying party of the desk's passkeys:
// the host of IDP_DESK_ORIGIN is the RP ID, the origin the one origin. No
// origin, or an IP address as its host (browsers refuse one as RP ID): no
// passkeys at the desk.
func deskPasskeyConfig(cfg *config.Config) (officers.PasskeyConfig, bool) {
	u, err := url.Parse(cfg.DeskOrigin)
	if cfg.DeskOrigin == "" || err != nil || u.Hostname() == "" || net.ParseIP(u.Hostname()) != nil {
		return officers.PasskeyConfig{}, false
	}
	return officers.PasskeyConfig{RPID: u.Hostname(), Origins: []string{u.Scheme + "://" + u.Host},
		CeremonyKey: idpop.DeriveKey(cfg.MasterKey, "officer-webauthn")}, true
}

// officerCodeTTL is the life of an officer's activation code: three days,
// from the supervisor's create or reset to the officer at the desk.
const officerCodeTTL = 72 * time.Hour

// deskSecureCookies: the desk's cookies are Secure unless it listens on a
// loopback address. On an internal network it must be reached over HTTPS
// (a proxy in front of it): browsers give the camera that scans a QR code
// only to a secure context, and a loopback address is one.
func deskSecureCookies(listen string) bool {
	host, _, _ := net.SplitHostPort(listen)
	if host == "localhost" {
		return false
	}
	ip := net.ParseIP(host)
	return ip == nil || !ip.IsLoopback()
}

// serveDesk serves the desk on cfg.DeskListen until ctx ends; the returned
// stop waits for it to shut down.
func serveDesk(cfg *config.Config, h http.Handler) (func(), error) {
	ln, err := net.Listen("tcp", cfg.DeskListen)
	if err != nil {
		return nil, fmt.Errorf("IDP_DESK_LISTEN: %w", err)
	}
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       15 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    32 << 10,
	}
	slog.Info("operator's desk ready", "listen", ln.Addr().String())
	go func() {
		if err := srv.Serve(ln); err != nil && err != http.ErrServerClosed {
			slog.Error("operator's desk stopped", "err", err)
		}
	}()
	return func() {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
	}, nil
}
