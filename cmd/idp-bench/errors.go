package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"syscall"
)

// failure is an iteration error already classified by kind:
//
//	timeout              no answer within -timeout
//	conn                 connection refused, reset or closed early
//	refused_429/_503     a quick refusal: 429 or 503 with Retry-After (or the busy page)
//	http_NNN             any other unexpected HTTP status
//	oauth_<error>        an OAuth error answer (token endpoint, or error= at the redirect URI)
//	protocol             a 2xx/3xx answer that is not what the flow expects
//	client_saturated     open-loop mode: no free worker at an arrival (the client fell behind)
type failure struct {
	kind   string
	detail string
}

func (f *failure) Error() string { return f.kind + ": " + f.detail }

func protocolError(format string, args ...any) error {
	return &failure{kind: "protocol", detail: fmt.Sprintf(format, args...)}
}

// classify returns the kind and a short detail of an iteration error.
func classify(err error) (kind, detail string) {
	var f *failure
	if errors.As(err, &f) {
		return f.kind, f.detail
	}
	detail = err.Error()
	var ne net.Error
	switch {
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, os.ErrDeadlineExceeded),
		errors.As(err, &ne) && ne.Timeout():
		return "timeout", detail
	case errors.Is(err, context.Canceled):
		return "canceled", detail
	case errors.Is(err, syscall.ECONNREFUSED), errors.Is(err, syscall.ECONNRESET),
		errors.Is(err, syscall.EPIPE), errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return "conn", detail
	}
	return "other", detail
}

// statusFailure classifies an unexpected HTTP answer. A 429 or 503 that says
// when to come back is a refusal, which the flood counts as the good outcome.
func statusFailure(step string, r *response) error {
	detail := fmt.Sprintf("%s: HTTP %d %s", step, r.status, snippet(r.body))
	if r.isRefusal() {
		return &failure{kind: fmt.Sprintf("refused_%d", r.status), detail: detail}
	}
	if code := r.oauthError(); code != "" {
		return &failure{kind: "oauth_" + code, detail: detail}
	}
	return &failure{kind: fmt.Sprintf("http_%d", r.status), detail: detail}
}

// snippet is the start of a body on one line, for error samples.
func snippet(b []byte) string {
	s := strings.Join(strings.Fields(string(b)), " ")
	if len(s) > 160 {
		s = s[:160] + "…"
	}
	return s
}
