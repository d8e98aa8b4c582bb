package main

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"time"

	"github.com/gorilla/mux"
	goredis "github.com/redis/go-redis/v9"
	zop "github.com/zitadel/oidc/v3/pkg/op"
	"golang.org/x/text/language"

	"github.com/entity-account/idp/config"
	"github.com/entity-account/idp/login"
	"github.com/entity-account/idp/login/activation"
	"github.com/entity-account/idp/login/deptapi"
	"github.com/entity-account/idp/login/edge"
	"github.com/entity-account/idp/login/entitydesk"
	"github.com/entity-account/idp/login/history"
	"github.com/entity-account/idp/login/kit"
	"github.com/entity-account/idp/login/manage"
	"github.com/entity-account/idp/login/notify"
	"github.com/entity-account/idp/login/password"
	"github.com/entity-account/idp/login/portal"
	"github.com/entity-account/idp/login/recovery"
	"github.com/entity-account/idp/login/tools"
	idpop "github.com/entity-account/idp/op"
	"github.com/entity-account/idp/op/telemetry"
	"github.com/entity-account/idp/storage"
	"github.com/entity-account/idp/storage/postgres"
	rstore "github.com/entity-account/idp/storage/redis"
	"github.com/entity-account/idp/templates"
)

// app is one provider node: its stores, keys and HTTP handler.
type app struct {
	cfg      *config.Config
	pg       *postgres.Store
	redis    *rstore.Store
	rdb      goredis.UniversalClient
	keys     *idpop.Keys
	hasher   *password.Hasher
	provider *zop.Provider
	st       *idpop.Storage // the protocol storage, with its client and claims caches
	handler  http.Handler

	activation *activation.Service // activation codes (cmd/idp/activation.go)
	outbox     *notify.Worker      // delivers them; started by serve (startOutbox)
	manage     *manage.Service     // entity administration use cases
	tools      *tools.Service      // 電子身份識別工具 use cases
	history    *history.Recorder   // the sign-in history's queue; its writer started by serve (startHistory)
	desk       http.Handler        // the operator's desk, served on its own listener (IDP_DESK_LISTEN)
}

// openStores connects to Postgres (migrating it) and Redis.
func openStores(ctx context.Context, cfg *config.Config) (*postgres.Store, *rstore.Store, goredis.UniversalClient, error) {
	pg, err := postgres.Open(ctx, cfg.DatabaseURL)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("IDP_DATABASE_URL: %w", err)
	}
	if err := postgres.Migrate(ctx, pg.Pool()); err != nil {
		pg.Close()
		return nil, nil, nil, fmt.Errorf("migrate database: %w", err)
	}
	rs, rdb, err := rstore.Open(cfg.RedisURL, cfg.RedisPrefix)
	if err != nil {
		pg.Close()
		return nil, nil, nil, fmt.Errorf("IDP_REDIS_URL: %w", err)
	}
	if err := rs.Ping(ctx); err != nil {
		pg.Close()
		rdb.Close()
		return nil, nil, nil, fmt.Errorf("IDP_REDIS_URL: redis does not answer: %w", err)
	}
	return pg, rs, rdb, nil
}

// newApp builds a node over open stores: its keys, the activation codes
// and their outbox, the protocol engine, the pages with their use cases,
// and the HTTP handler in front of them all.
func newApp(ctx context.Context, cfg *config.Config, pg *postgres.Store, rs *rstore.Store, rdb goredis.UniversalClient) (*app, error) {
	keys, err := idpop.NewKeys(ctx, pg, cfg.MasterKey, cfg.SigningAlgorithm, cfg.KeyRefresh)
	if err != nil {
		return nil, err
	}
	acts, outbox, err := newActivation(cfg, pg)
	if err != nil {
		return nil, err
	}
	// Every session end, whoever causes it, tells the relying parties.
	sessions := withBackchannelLogout(cfg, keys, pg, rs, outbox)
	st, provider, err := newProtocol(cfg, pg, sessions, keys)
	if err != nil {
		return nil, err
	}
	hasher := password.NewHasher(password.Params{
		MemoryKiB: cfg.Argon2MemoryKiB, Iterations: cfg.Argon2Iterations, Threads: cfg.Argon2Threads,
	}, cfg.HashConcurrency, cfg.HashQueueWait)
	releaseAfterBursts(hasher)
	pages, err := login.New(login.Config{
		Issuer: cfg.Issuer, BasePath: cfg.IssuerPath(), SecureCookies: cfg.SecureCookies(), CSRFKey: idpop.DeriveKey(cfg.MasterKey, "csrf"),
		LogoutKey:   idpop.DeriveKey(cfg.MasterKey, "logout-redirect"),
		SessionIdle: cfg.SessionIdle, SessionMax: cfg.SessionMax,
		FailuresPerAccount: cfg.LoginFailuresPerAccount, FailuresPerIP: cfg.LoginFailuresPerIP,
		FailureWindow: cfg.LoginFailureWindow, TrustProxyHeaders: cfg.TrustProxyHeaders,
		ToolsReauth:     cfg.ToolsReauth,
		EntityMemoryKey: idpop.DeriveKey(cfg.MasterKey, "remembered-entities"),
	}, pg, sessions, hasher, idpop.NewInteraction(provider, st, cfg.Issuer))
	if err != nil {
		return nil, err
	}
	if err := pages.EnableActivation(activationPages(cfg, acts, rs)); err != nil {
		return nil, err
	}
	if err := followChanges(ctx, rs, st); err != nil {
		return nil, err
	}
	admin, toolsSvc, rec, err := enableUseCasePages(ctx, cfg, pg, rs, sessions, pages, acts, outbox, hasher)
	if err != nil {
		return nil, err
	}
	recorder := history.NewRecorder(pg, historyQueue)
	pages.EnableHistory(recorder, history.NewService(pg))
	r, api := newRouter(cfg, pg, rs, sessions, st, provider, pages)
	countStoreTraffic(pg, rs)
	deskPages, err := newDesk(cfg, pg, rs, deskUseCases{intake: acts, entities: entitydesk.New(pg, admin, acts, rec), tools: toolsSvc,
		hasher: hasher, wake: outbox.Wake})
	if err != nil {
		return nil, err
	}
	return &app{desk: deskPages.Router(), cfg: cfg, pg: pg, redis: rs, rdb: rdb, keys: keys, hasher: hasher, provider: provider, st: st,
		handler:    instrument(api.Front(cfg.IssuerPath(), r), []*mux.Router{r, api.Router()}, provider, cfg.IssuerPath(), cfg.TrustProxyHeaders, ownHops(cfg.Issuer, cfg.IssuerPath(), provider).Follow),
		activation: acts, outbox: outbox, manage: admin, tools: toolsSvc, history: recorder}, nil
}

// newProtocol builds the protocol storage and the provider (the library's
// OpenID engine) over the stores. The protocol storage sees them through
// observers that mark a request whose store call failed; StoreOutageGuard
// (newRouter) turns the library's error answer to such a request into 503
// temporarily_unavailable.
func newProtocol(cfg *config.Config, pg *postgres.Store, sessions storage.ShortLived, keys *idpop.Keys) (*idpop.Storage, *zop.Provider, error) {
	dir, state := idpop.ObserveStoreFailures(pg, sessions)
	st := idpop.NewStorage(dir, state, keys, idpop.Lifetimes{
		AuthRequest: cfg.AuthRequestTTL, Code: cfg.CodeTTL, AccessToken: cfg.AccessTokenTTL,
		IDToken: cfg.IDTokenTTL, RefreshToken: cfg.RefreshTokenTTL, ClaimsCache: cfg.ClaimsCacheTTL,
	}, cfg.IssuerPath()+"/login")
	var langs []language.Tag
	for _, l := range templates.Languages {
		langs = append(langs, language.MustParse(l))
	}
	provider, err := idpop.NewProvider(idpop.ProviderConfig{
		Issuer: cfg.Issuer, MasterKey: cfg.MasterKey, LoggedOutURL: cfg.Issuer + "/logged-out",
		AllowInsecure:  !cfg.SecureCookies(),
		SupportedLangs: langs,
	}, st)
	if err != nil {
		return nil, nil, fmt.Errorf("create provider: %w", err)
	}
	return st, provider, nil
}

// followChanges makes a change made on any node reach this node's caches
// at once: of claims (an assignment, a name), and of an e-service (its
// minimum assurance level, by a node or the operator's command: its
// clients are loaded afresh).
func followChanges(ctx context.Context, rs *rstore.Store, st *idpop.Storage) error {
	if err := rs.SubscribeClaimsChanged(context.WithoutCancel(ctx), st.ForgetClaims); err != nil {
		return err
	}
	if err := rs.SubscribeClientsChanged(context.WithoutCancel(ctx), st.ForgetClients); err != nil {
		return err
	}
	return rs.SubscribeServicesChanged(context.WithoutCancel(ctx), st.ForgetServices)
}

// enableUseCasePages gives the pages their use cases: entity
// administration and 電子身份識別工具 (the portal's pages and the sign-in's
// second step), and the recovery use cases the desk calls too. Passkeys need a host name as the issuer's host (browsers
// take no IP address as the WebAuthn relying party).
func enableUseCasePages(ctx context.Context, cfg *config.Config, pg *postgres.Store, rs *rstore.Store, sessions storage.ShortLived,
	pages *login.Handler, acts *activation.Service, outbox *notify.Worker, hasher *password.Hasher) (*manage.Service, *tools.Service, *recovery.Service, error) {
	toolsSvc, err := newTools(cfg, pg, rs, outbox.Wake)
	if err != nil {
		return nil, nil, nil, err
	}
	admin := manage.New(pg, sessions)
	admin.Tools = toolsSvc // an admin's change of a document voids the login's tools, and tells its holder
	notices, err := accountNotices(cfg, outbox.Wake)
	if err != nil {
		return nil, nil, nil, err
	}
	admin.Notices = notices
	// What locks a login: shown and lifted on the staff pages.
	admin.SignInFailures = cfg.LoginFailuresPerAccount
	// Recovery: 忘記密碼, 忘記用戶名稱, 重設密碼; a reset proves the login's identity tool.
	rec, err := newRecovery(cfg, pg, sessions, hasher, toolsSvc, notices)
	if err != nil {
		return nil, nil, nil, err
	}
	if err := pages.EnableRecovery(recoveryPages(cfg, rec, rs), notices); err != nil {
		return nil, nil, nil, err
	}
	pages.EnableAdministration(portal.Administration{Manage: admin, Activation: acts, Recovery: rec})
	portalTools := portal.Tools{TOTP: toolsSvc}
	if err := enablePasskeys(toolsSvc, cfg, rs); err != nil {
		slog.InfoContext(ctx, "passkeys are off", "reason", err.Error())
	} else {
		portalTools.Passkeys = toolsSvc
	}
	pages.EnableTools(portalTools)
	pages.EnableFactors(toolsSvc)
	return admin, toolsSvc, rec, nil
}

// newRouter routes the node's addresses: health, the pages, the protocol
// endpoints behind their guards; and returns the department API, which
// stands in front of it.
func newRouter(cfg *config.Config, pg *postgres.Store, rs *rstore.Store, sessions storage.ShortLived, st *idpop.Storage,
	provider *zop.Provider, pages *login.Handler) (*mux.Router, *deptapi.API) {
	base := cfg.IssuerPath()
	r := mux.NewRouter()
	r.Use(login.SecurityHeaders)
	r.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) {
		kit.WriteJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	r.HandleFunc("/readyz", readiness(pg, rs))
	sub := r
	if base != "" {
		sub = r.PathPrefix(base).Subrouter()
	}
	pages.Mount(sub)
	// The department API, in front of the site's router (Front says why).
	api := departmentAPI(deptapi.Config{
		Issuer: cfg.Issuer, TokenURL: cfg.Issuer + provider.TokenEndpoint().Relative(),
		TrustProxyHeaders: cfg.TrustProxyHeaders,
	}, st, pg, sessions)
	st.SetLogoutConfirmation(pages.LogoutConfirmationURL)
	protocol := protocolHandler(cfg, provider, pages)
	if base != "" {
		sub.PathPrefix("/").Handler(http.StripPrefix(base, protocol))
	} else {
		sub.PathPrefix("/").Handler(protocol)
	}
	return r, api
}

// protocolHandler is the library's endpoints as served: outermost the
// token-grant metrics (so the edge's refusals count too), then the edge
// (bounds, bad bytes, client authentication as advertised), discovery as
// it really is, our pages for refusals, and the outage guard around the
// library.
func protocolHandler(cfg *config.Config, provider *zop.Provider, pages *login.Handler) http.Handler {
	guarded := idpop.GuardPathsOf(provider)
	return telemetry.TokenGrants(pages.ProtocolEdge(
		idpop.HonestDiscovery(pages.ProtocolErrorPages(idpop.StoreOutageGuard(provider, guarded, pages.Unavailable), guarded.Browser)),
		login.Endpoints{
			Authorize: provider.AuthorizationEndpoint().Relative(), EndSession: provider.EndSessionEndpoint().Relative(),
			Token: provider.TokenEndpoint().Relative(), Introspect: provider.IntrospectionEndpoint().Relative(),
			Revoke: provider.RevocationEndpoint().Relative(), Userinfo: provider.UserinfoEndpoint().Relative(),
		},
		login.EdgeLimits{AuthRequests: storage.AuthRequestLimits{
			PerAddressMinute: cfg.AuthorizePerIPMinute, PerAddressBurst: cfg.AuthorizePerIPBurst,
			PerBrowser: cfg.AuthorizePerBrowser, Budget: cfg.AuthRequestBudget, Grace: cfg.AuthRequestGrace,
			TTL: cfg.AuthRequestTTL,
		}}),
		provider.TokenEndpoint().Relative())
}

// countStoreTraffic puts the stores' round trips on the metrics endpoint
// (read by idp-bench too).
func countStoreTraffic(pg *postgres.Store, rs *rstore.Store) {
	rt, pt := rs.Traffic(), pg.Traffic()
	if rt == nil || pt == nil {
		return
	}
	rt.CountRequests(telemetry.InRequest)
	pt.CountRequests(telemetry.InRequest)
	telemetry.SetStoreTraffic(func() (all, requests telemetry.StoreTraffic) {
		counts := func(r rstore.TrafficCounts, p postgres.TrafficCounts) telemetry.StoreTraffic {
			return telemetry.StoreTraffic{RedisCommands: r.Commands, RedisScripts: r.Scripts, RedisRoundTrips: r.RoundTrips,
				PostgresQueries: p.Queries, PostgresRoundTrips: p.RoundTrips}
		}
		return counts(rt.All(), pt.All()), counts(rt.Requests(), pt.Requests())
	})
}

func (a *app) Close() {
	a.rdb.Close()
	a.pg.Close()
}

// ownHops are the provider's redirects to itself that a request answers in
// place: the sign-in's to the library's callback and, with an SSO session,
// /authorize's to the sign-in page.
func ownHops(issuer, base string, provider *zop.Provider) edge.Hops {
	u, _ := url.Parse(issuer) // validated by config.Load
	return edge.Hops{
		Origin:        u.Scheme + "://" + u.Host,
		Callback:      base + provider.AuthorizationEndpoint().Relative() + "/callback",
		Login:         base + "/login",
		SessionCookie: idpop.SessionCookie,
		Scope:         rstore.WithAuthRequestMemo,
	}
}

// readiness answers 200 only when both stores answer within a second.
func readiness(pg *postgres.Store, rs *rstore.Store) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), time.Second)
		defer cancel()
		status := map[string]string{"postgres": "ok", "redis": "ok"}
		code := http.StatusOK
		if err := pg.Ping(ctx); err != nil {
			status["postgres"], code = "unreachable", http.StatusServiceUnavailable
			slog.WarnContext(ctx, "readiness: postgres", "err", err)
		}
		if err := rs.Ping(ctx); err != nil {
			status["redis"], code = "unreachable", http.StatusServiceUnavailable
			slog.WarnContext(ctx, "readiness: redis", "err", err)
		}
		kit.WriteJSON(w, code, status)
	}
}
