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
	"github.com/entity-account/idp/login/kit"
	"github.com/entity-account/idp/login/manage"
	"github.com/entity-account/idp/login/notify"
	"github.com/entity-account/idp/login/password"
	"github.com/entity-account/idp/login/portal"
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

// newApp builds a node over open stores.
func newApp(ctx context.Context, cfg *config.Config, pg *postgres.Store, rs *rstore.Store, rdb goredis.UniversalClient) (*app, error) {
	keys, err := idpop.NewKeys(ctx, pg, cfg.MasterKey, cfg.SigningAlgorithm, cfg.KeyRefresh)
	if err != nil {
		return nil, err
	}
	base := cfg.IssuerPath()
	acts, outbox, err := newActivation(cfg, pg)
	if err != nil {
		return nil, err
	}
	// Every session end, whoever causes it, tells the relying parties.
	sessions := withBackchannelLogout(cfg, keys, pg, rs, outbox)
	// The protocol storage sees the stores through observers that mark a
	// request whose store call failed; StoreOutageGuard below turns the
	// library's error answer to such a request into 503 temporarily_unavailable.
	dir, state := idpop.ObserveStoreFailures(pg, sessions)
	st := idpop.NewStorage(dir, state, keys, idpop.Lifetimes{
		AuthRequest: cfg.AuthRequestTTL, Code: cfg.CodeTTL, AccessToken: cfg.AccessTokenTTL,
		IDToken: cfg.IDTokenTTL, RefreshToken: cfg.RefreshTokenTTL, ClaimsCache: cfg.ClaimsCacheTTL,
	}, base+"/login")
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
		return nil, fmt.Errorf("create provider: %w", err)
	}
	hasher := password.NewHasher(password.Params{
		MemoryKiB: cfg.Argon2MemoryKiB, Iterations: cfg.Argon2Iterations, Threads: cfg.Argon2Threads,
	}, cfg.HashConcurrency, cfg.HashQueueWait)
	releaseAfterBursts(hasher)
	pages, err := login.New(login.Config{
		Issuer: cfg.Issuer, BasePath: base, SecureCookies: cfg.SecureCookies(), CSRFKey: idpop.DeriveKey(cfg.MasterKey, "csrf"),
		LogoutKey:   idpop.DeriveKey(cfg.MasterKey, "logout-redirect"),
		SessionIdle: cfg.SessionIdle, SessionMax: cfg.SessionMax,
		FailuresPerAccount: cfg.LoginFailuresPerAccount, FailuresPerIP: cfg.LoginFailuresPerIP,
		FailureWindow: cfg.LoginFailureWindow, TrustProxyHeaders: cfg.TrustProxyHeaders,
		ToolsReauth: cfg.ToolsReauth,
	}, pg, sessions, hasher, idpop.NewInteraction(provider, st, cfg.Issuer))
	if err != nil {
		return nil, err
	}
	if err := pages.EnableActivation(activationPages(cfg, acts, rs)); err != nil {
		return nil, err
	}
	// A change of claims made on any node (an assignment, a name) reaches
	// this node's claims cache at once.
	if err := rs.SubscribeClaimsChanged(context.WithoutCancel(ctx), st.ForgetClaims); err != nil {
		return nil, err
	}
	// So does a change of an e-service (its minimum assurance level) made
	// on any node or by the operator's command: its clients are loaded afresh.
	if err := rs.SubscribeServicesChanged(context.WithoutCancel(ctx), st.ForgetServices); err != nil {
		return nil, err
	}
	// 電子身份識別工具: the use cases behind the portal's pages and the
	// sign-in's second step. Passkeys need a host name as the issuer's host
	// (browsers take no IP address as the WebAuthn relying party).
	toolsSvc, err := newTools(cfg, pg, rs, outbox.Wake)
	if err != nil {
		return nil, err
	}
	admin := manage.New(pg, sessions)
	admin.Tools = toolsSvc // an admin's change of a document voids the login's tools, and tells its holder
	pages.EnableAdministration(portal.Administration{Manage: admin, Activation: acts})
	portalTools := portal.Tools{TOTP: toolsSvc}
	if err := enablePasskeys(toolsSvc, cfg, rs); err != nil {
		slog.InfoContext(ctx, "passkeys are off", "reason", err.Error())
	} else {
		portalTools.Passkeys = toolsSvc
	}
	pages.EnableTools(portalTools)
	pages.EnableFactors(toolsSvc)

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
	guarded := idpop.GuardPathsOf(provider)
	// Outermost the token-grant metrics (so the edge's refusals count too),
	// then the edge (bounds, bad bytes, client authentication as advertised),
	// discovery as it really is, our pages for refusals, and the outage guard
	// around the library.
	protocol := telemetry.TokenGrants(pages.ProtocolEdge(
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
	if base != "" {
		sub.PathPrefix("/").Handler(http.StripPrefix(base, protocol))
	} else {
		sub.PathPrefix("/").Handler(protocol)
	}
	// The stores' round trips, on the metrics endpoint (and read by idp-bench).
	if rt, pt := rs.Traffic(), pg.Traffic(); rt != nil && pt != nil {
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
	return &app{cfg: cfg, pg: pg, redis: rs, rdb: rdb, keys: keys, hasher: hasher, provider: provider, st: st,
		handler:    instrument(api.Front(base, r), []*mux.Router{r, api.Router()}, provider, base, cfg.TrustProxyHeaders, ownHops(cfg.Issuer, base, provider).Follow),
		activation: acts, outbox: outbox, manage: admin, tools: toolsSvc}, nil
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
