package redis

import (
	"context"
	"sync"
)

// A request's memo of auth requests. One browser request may answer the
// provider's own redirects in place (the sign-in page, the library's
// callback; see edge.Hops), each a step that reads the auth request the
// step before it read or wrote. The memo holds the auth requests this
// request read or wrote, as Redis holds them, so that the next step reads
// them without a round trip.
//
// What the memo returns is what Redis would: an auth request is written
// once, then completed once (SET NX), then deleted, and the steps of one
// request read it only before and after their own completion. The memo
// takes the completion from this request's own successful write, and
// forgets the request when a write of ours fails or loses (a completion
// that finds one already there: someone else's, read from Redis next). It
// lives as long as the request: nothing is kept between requests.

type memoKey struct{}

type authMemo struct {
	mu sync.Mutex
	m  map[string]memoEntry
}

// memoEntry is an auth request's two keys as stored.
type memoEntry struct{ request, auth string }

// WithAuthRequestMemo returns ctx with an empty memo for one request and
// the hops it answers in place.
func WithAuthRequestMemo(ctx context.Context) context.Context {
	return context.WithValue(ctx, memoKey{}, &authMemo{})
}

func memoOf(ctx context.Context) *authMemo {
	m, _ := ctx.Value(memoKey{}).(*authMemo)
	return m
}

func (m *authMemo) get(id string) (memoEntry, bool) {
	if m == nil {
		return memoEntry{}, false
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	e, ok := m.m[id]
	return e, ok
}

// put records the request as this request just stored it (no completion
// yet) or read it from Redis.
func (m *authMemo) put(id string, e memoEntry) {
	if m == nil {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.m == nil {
		m.m = make(map[string]memoEntry, 1)
	}
	m.m[id] = e
}

// completed records this request's completion of id, when the memo knows
// the request.
func (m *authMemo) completed(id, auth string) {
	if m == nil {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if e, ok := m.m[id]; ok {
		e.auth = auth
		m.m[id] = e
	}
}

// forget drops id: Redis says next.
func (m *authMemo) forget(id string) {
	if m == nil {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.m, id)
}
