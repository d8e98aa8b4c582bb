package storage

import (
	"context"
	"encoding/base64"
	"net/netip"
	"sync"
	"time"
)

// Admission of authorization requests. Every /authorize that reaches the
// protocol engine makes us store a request until it expires, and anyone may
// send one; so each is admitted first, under three bounds, before it may be
// stored:
//
//   - per client address, a rate (a token bucket: a sustained rate and a
//     burst). It is a high ceiling, not the everyday limit: an office, a
//     school or a company of a few thousand staff signs in from one public
//     address, all at nine o'clock. It stops one address (or one bot that
//     ignores cookies) from taking the budget for itself.
//   - per browser (our opaque browser cookie), at most PerBrowser requests
//     open at once: a browser's newest request pushes out its oldest, so a
//     person never sees a refusal for opening one tab too many, and a flood
//     from one browser holds no more than PerBrowser requests whatever its
//     rate. Only a request older than BrowserRoom is pushed out: a browser
//     that opens PerBrowser requests within seconds (no person does) waits.
//   - globally, across every node, at most Budget requests not yet signed
//     in. When the budget is full, the oldest open request is dropped to
//     make room, but only once it has lived Grace: a flood from however
//     many addresses can never take a request from a person sooner than
//     Grace after it was made, which is time enough to type a password. If
//     every request in the budget is younger than Grace, newcomers are
//     refused (a busy page, "try again in N seconds") until one is old
//     enough. That is the trade-off: memory stays bounded and the people
//     already signing in keep their requests; the price of a flood beyond
//     Budget/Grace requests a second is paid by newcomers, who wait.
//
// A signed-in request leaves the budget at once: it waits only for the
// code exchange and is never dropped.

// AuthRequestLimits are the bounds of admission.
type AuthRequestLimits struct {
	PerAddressMinute int           // sustained requests per minute per client address
	PerAddressBurst  int           // requests an address may make at once
	PerBrowser       int           // open requests per browser
	Budget           int           // open requests across all nodes
	Grace            time.Duration // the least life of a request the budget may drop
	TTL              time.Duration // the life of a request (IDP_AUTH_REQUEST_TTL)
}

// BrowserRoom is how old a browser's oldest open request must be before
// that browser's newest pushes it out. Much more than the time a request
// takes to be stored after its admission, so that a push-out never races
// the record it removes; much less than any person needs to open PerBrowser
// sign-ins.
const BrowserRoom = 10 * time.Second

// ValidBrowserID reports whether v is what our browser cookie holds: 16
// random bytes, 22 base64url characters. Anything else is no browser id
// and must not become a key.
func ValidBrowserID(v string) bool {
	if len(v) != 22 {
		return false
	}
	_, err := base64.RawURLEncoding.DecodeString(v)
	return err == nil
}

// Admission is one authorization request to admit.
type Admission struct {
	Address string // the client address as a limit key (AddressKey)
	Browser string // our browser cookie's id; "" when the browser sent none
}

// Why an admission was refused.
const (
	RefusedAddress = "address" // the address's rate
	RefusedBrowser = "browser" // the browser opened PerBrowser requests within BrowserRoom
	RefusedBudget  = "budget"  // every request in the budget is younger than Grace
)

// Admitted is the answer to an admission.
type Admitted struct {
	// ID is the id the admitted request is to be stored under; "" when refused.
	ID string
	// Refused says why not ("" when admitted), and Wait until when.
	Refused string
	Wait    time.Duration
	// Requests dropped to make room: the browser's own oldest, and the
	// budget's oldest.
	DroppedByBrowser, DroppedByBudget int
}

// AdmissionTicket carries an admitted request's id from the edge, through
// the protocol engine, to the storage that stores the request under it.
type AdmissionTicket struct {
	mu    sync.Mutex
	id    string
	taken bool
}

type admissionKey struct{}

// WithAdmission returns ctx carrying the admitted id.
func WithAdmission(ctx context.Context, id string) (context.Context, *AdmissionTicket) {
	t := &AdmissionTicket{id: id}
	return context.WithValue(ctx, admissionKey{}, t), t
}

// TakeAdmission returns the admitted id of ctx, once: the request stored
// under it is the one admitted. ok is false when ctx carries none (or it was
// taken), e.g. when admission was not checked because Redis failed.
func TakeAdmission(ctx context.Context) (id string, ok bool) {
	t, _ := ctx.Value(admissionKey{}).(*AdmissionTicket)
	if t == nil {
		return "", false
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.taken {
		return "", false
	}
	t.taken = true
	return t.id, true
}

// Unused reports whether no request was stored under the ticket's id (the
// engine refused the request before storing it): its place in the budget
// is to be given back.
func (t *AdmissionTicket) Unused() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return !t.taken
}

// AddressKey is a client address as a limit key: an IPv4 address as it
// is (an IPv4-mapped IPv6 address as IPv4), an IPv6 address as its /64,
// the smallest block a subscriber is given, so that one host cannot make
// itself 2^64 addresses. Anything that is no address (a proxy's bad header)
// shares the one key "invalid".
func AddressKey(ip string) string {
	a, err := netip.ParseAddr(ip)
	if err != nil {
		return "invalid"
	}
	a = a.Unmap().WithZone("")
	if a.Is4() {
		return a.String()
	}
	p, err := a.Prefix(64)
	if err != nil {
		return "invalid"
	}
	return p.String()
}
