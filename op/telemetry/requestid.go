package telemetry

import (
	"context"
	"crypto/rand"
	"encoding/base32"
	"log/slog"
	"net/http"
)

// A request id ties together what one request left behind: the
// X-Request-ID response header, every log line logged with the request's
// context, and the reference an error page shows, which a person can quote
// to the help desk. It lives here rather than in login because the
// provider's endpoints need it as much as our pages, and the logger set up
// by cmd/idp reads it from the context: this package is the one both op and
// login may import.

// RequestIDHeader is the header that carries the id in both directions.
const RequestIDHeader = "X-Request-ID"

const maxRequestIDLen = 64

type requestIDKey struct{}

// RequestID gives every request an id. With trustProxy (IDP_TRUST_PROXY: a
// proxy of ours sets the request headers) a well-formed X-Request-ID from
// the request is kept, so the proxy's logs and ours share it; otherwise, or
// when it is malformed, a new one is made. Only 1–64 characters of
// A–Z a–z 0–9 . _ - are kept: the id goes into logs and pages, so nothing
// that could forge a log line or mark-up gets through.
func RequestID(trustProxy bool) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			id := ""
			if trustProxy {
				if v := r.Header.Get(RequestIDHeader); ValidRequestID(v) {
					id = v
				}
			}
			if id == "" {
				id = NewRequestID()
			}
			w.Header().Set(RequestIDHeader, id)
			next.ServeHTTP(w, r.WithContext(WithRequestID(r.Context(), id)))
		})
	}
}

// ValidRequestID reports whether id may be taken from a trusted proxy.
func ValidRequestID(id string) bool {
	if len(id) == 0 || len(id) > maxRequestIDLen {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '.' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// NewRequestID returns 16 random bytes in base32 (26 characters of A–Z and
// 2–7, with no 0/O or 1/I to confuse when read out over the phone).
func NewRequestID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand never fails on supported platforms
	return base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b[:])
}

// WithRequestID returns ctx carrying id.
func WithRequestID(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, requestIDKey{}, id)
}

// RequestIDFrom returns the id ctx carries, or "".
func RequestIDFrom(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey{}).(string)
	return id
}

// LogHandler wraps h so that every record logged with a context carrying a
// request id gets a request_id attribute.
func LogHandler(h slog.Handler) slog.Handler { return logHandler{h} }

type logHandler struct{ slog.Handler }

func (l logHandler) Handle(ctx context.Context, rec slog.Record) error {
	if id := RequestIDFrom(ctx); id != "" {
		// Records share their attributes with copies; add to a clone.
		rec = rec.Clone()
		rec.AddAttrs(slog.String("request_id", id))
	}
	return l.Handler.Handle(ctx, rec)
}

func (l logHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return logHandler{l.Handler.WithAttrs(attrs)}
}

func (l logHandler) WithGroup(name string) slog.Handler {
	return logHandler{l.Handler.WithGroup(name)}
}
