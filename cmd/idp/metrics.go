package main

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/gorilla/mux"
	"github.com/zitadel/oidc/v3/pkg/oidc"
	zop "github.com/zitadel/oidc/v3/pkg/op"

	"github.com/entity-account/idp/op/telemetry"
)

// serveMetrics serves /metrics on addr (IDP_METRICS_LISTEN) on its own
// listener and mux, never on the provider's: the numbers are for the
// operator, not for the internet. backlog counts the outbox at each scrape.
// It returns the address it listens on and a func that stops it.
func serveMetrics(addr string, backlog func(context.Context) (int64, error)) (net.Addr, func(), error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, nil, fmt.Errorf("IDP_METRICS_LISTEN: %w", err)
	}
	m := http.NewServeMux()
	m.Handle("GET /metrics", telemetry.Handler(backlog))
	srv := &http.Server{Handler: m, ReadHeaderTimeout: 5 * time.Second, WriteTimeout: 30 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	slog.Info("metrics listener on", "listen", ln.Addr().String(), "path", "/metrics")
	return ln.Addr(), func() { _ = srv.Close() }, nil
}

// instrument gives the node's handler its request ids and latency metrics:
// outermost, so that the provider's endpoints get them as much as our pages.
// h is the node's handler and routers the routers in it whose routes name
// the requests (the site's, whose catch-all route base+"/" hands requests
// to the provider, and the department API's).
func instrument(h http.Handler, routers []*mux.Router, provider *zop.Provider, base string, trustProxy bool, hops func(http.Handler) http.Handler) http.Handler {
	for _, r := range routers {
		r.Use(telemetry.RouteFromMux(base + "/"))
	}
	var endpoints []string
	for _, p := range []string{
		oidc.DiscoveryEndpoint,
		provider.AuthorizationEndpoint().Relative(),
		provider.AuthorizationEndpoint().Relative() + "/callback",
		provider.TokenEndpoint().Relative(),
		provider.IntrospectionEndpoint().Relative(),
		provider.UserinfoEndpoint().Relative(),
		provider.RevocationEndpoint().Relative(),
		provider.EndSessionEndpoint().Relative(),
		provider.KeysEndpoint().Relative(),
	} {
		endpoints = append(endpoints, base+p)
	}
	return telemetry.RequestID(trustProxy)(telemetry.HTTPMetrics(hops(h), endpoints))
}
