package redis_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/entity-account/idp/storage"
	rstore "github.com/entity-account/idp/storage/redis"
	"github.com/entity-account/idp/storage/storagetest"
)

// The defaults of config (IDP_AUTHORIZE_PER_IP_*, IDP_AUTHORIZE_PER_BROWSER,
// IDP_AUTH_REQUEST_BUDGET, IDP_AUTH_REQUEST_GRACE, IDP_AUTH_REQUEST_TTL).
var defaultLimits = storage.AuthRequestLimits{
	PerAddressMinute: 600, PerAddressBurst: 200, PerBrowser: 10,
	Budget: 50_000, Grace: 5 * time.Minute, TTL: 30 * time.Minute,
}

// admissions drives a store on a clock of its own, storing every admitted
// request as the provider does.
type admissions struct {
	t   *testing.T
	s   *rstore.Store
	l   storage.AuthRequestLimits
	mu  sync.Mutex
	now time.Time
	// admittedAt: when each stored request was admitted.
	admittedAt map[string]time.Time
}

func newAdmissions(t *testing.T, l storage.AuthRequestLimits) *admissions {
	a := &admissions{t: t, s: storagetest.NewRedis(t), l: l, now: time.Date(2030, 1, 2, 8, 55, 0, 0, time.UTC), admittedAt: map[string]time.Time{}}
	a.s.Now = func() time.Time { a.mu.Lock(); defer a.mu.Unlock(); return a.now }
	return a
}

func (a *admissions) advance(d time.Duration) { a.mu.Lock(); a.now = a.now.Add(d); a.mu.Unlock() }

// admit admits one request from address (and browser) and stores it.
func (a *admissions) admit(address, browser string) storage.Admitted {
	a.t.Helper()
	ctx := context.Background()
	res, err := a.s.AdmitAuthRequest(ctx, storage.Admission{Address: address, Browser: browser}, a.l)
	mustNoErr(a.t, err)
	if res.Refused == "" {
		if res.ID == "" {
			a.t.Fatal("admitted without an id")
		}
		ar := sampleAuthRequest(res.ID)
		mustNoErr(a.t, a.s.SaveAuthRequest(ctx, ar, a.l.TTL))
		a.mu.Lock()
		a.admittedAt[res.ID] = a.now
		a.mu.Unlock()
	}
	return res
}

// stored counts the request records in Redis, and their bytes and the
// admission's bookkeeping bytes (MEMORY USAGE).
func (a *admissions) stored() (records int, recordBytes, bookkeepingBytes int64) {
	a.t.Helper()
	ctx := context.Background()
	rdb := a.s.Client()
	iter := rdb.Scan(ctx, 0, a.s.Prefix()+"*", 1000).Iterator()
	for iter.Next(ctx) {
		k := iter.Val()
		n, err := rdb.MemoryUsage(ctx, k).Result()
		if err != nil {
			continue // expired meanwhile
		}
		switch rest := strings.TrimPrefix(k, a.s.Prefix()); {
		case strings.HasPrefix(rest, "arq:"):
			bookkeepingBytes += n
		case strings.HasPrefix(rest, "ar:"):
			if !strings.Contains(rest, "}:") {
				records++
			}
			recordBytes += n
		}
	}
	mustNoErr(a.t, iter.Err())
	return
}

func (a *admissions) exists(id string) bool {
	_, err := a.s.AuthRequest(context.Background(), id)
	return err == nil
}

// TestAdmissionOfficeBehindOneAddress: with the defaults, 2,000 staff behind
// one address (each a first visit: no browser cookie yet) sign in within
// ten minutes, arriving 50 in one second every 15 seconds: none is refused.
// The same address sending 300 at once gets its burst (200) and is then
// told to wait a tenth of a second, the sustained rate's interval.
func TestAdmissionOfficeBehindOneAddress(t *testing.T) {
	t.Parallel()
	a := newAdmissions(t, defaultLimits)
	for burst := range 40 {
		for i := range 50 {
			if res := a.admit("203.0.113.7", ""); res.Refused != "" {
				t.Fatalf("person %d refused: %+v", burst*50+i+1, res)
			}
			a.advance(time.Second / 50)
		}
		a.advance(14 * time.Second)
	}
	if n, _, _ := a.stored(); n != 2000 {
		t.Fatalf("%d requests stored, want 2000", n)
	}

	b := newAdmissions(t, defaultLimits)
	admitted, refused := 0, storage.Admitted{}
	for range 300 {
		if res := b.admit(storage.AddressKey("2001:db8:1:2:3:4:5:6"), ""); res.Refused == "" {
			admitted++
		} else {
			refused = res
		}
	}
	if admitted != defaultLimits.PerAddressBurst {
		t.Errorf("%d of 300 at once admitted, want the burst %d", admitted, defaultLimits.PerAddressBurst)
	}
	if refused.Refused != storage.RefusedAddress || refused.Wait <= 0 || refused.Wait > 100*time.Millisecond {
		t.Errorf("refusal %+v, want address and a wait of at most 100ms", refused)
	}
	// The same /64 is the same address; another address is not held back.
	if res := b.admit(storage.AddressKey("2001:db8:1:2:ffff::1"), ""); res.Refused != storage.RefusedAddress {
		t.Errorf("same /64: %+v, want refused", res)
	}
	if res := b.admit("198.51.100.1", ""); res.Refused != "" {
		t.Errorf("another address: %+v, want admitted", res)
	}
	b.advance(100 * time.Millisecond)
	if res := b.admit(storage.AddressKey("2001:db8:1:2::9"), ""); res.Refused != "" {
		t.Errorf("after the interval: %+v, want admitted", res)
	}
}

// TestAdmissionOneBrowserFlood: one browser holds at most PerBrowser open
// requests whatever it sends: its newest push out its oldest (whose
// records are deleted), and requests sent faster than BrowserRoom allows
// are refused. Nothing it sends refuses another browser.
func TestAdmissionOneBrowserFlood(t *testing.T) {
	t.Parallel()
	a := newAdmissions(t, defaultLimits)
	browser := "bRowser0000000000000aA"
	first := a.admit("192.0.2.1", browser)
	for range 9 {
		if res := a.admit("192.0.2.1", browser); res.Refused != "" {
			t.Fatalf("within the browser's limit: %+v", res)
		}
	}
	res := a.admit("192.0.2.1", browser)
	if res.Refused != storage.RefusedBrowser || res.Wait <= 0 || res.Wait > storage.BrowserRoom {
		t.Fatalf("11th at once: %+v, want refused for the browser", res)
	}
	if res := a.admit("192.0.2.1", "another0000000000000aA"); res.Refused != "" {
		t.Fatalf("another browser behind the same address: %+v", res)
	}
	// Now 1,000 more, one a second: each pushes out the browser's oldest.
	a.advance(storage.BrowserRoom)
	dropped := 0
	for i := range 1000 {
		res := a.admit("192.0.2.1", browser)
		if res.Refused != "" {
			t.Fatalf("request %d: %+v", i, res)
		}
		dropped += res.DroppedByBrowser
		a.advance(time.Second)
	}
	if dropped != 1000 {
		t.Errorf("%d dropped, want 1000", dropped)
	}
	if a.exists(first.ID) {
		t.Error("the browser's first request is still stored")
	}
	records, recordBytes, bookkeeping := a.stored()
	if records != 10+1 {
		t.Errorf("%d records stored, want the browser's 10 and the other browser's 1", records)
	}
	t.Logf("one browser, 1,010 requests: %d records (%d bytes), bookkeeping %d bytes", records, recordBytes, bookkeeping)
}

// TestAdmissionBudgetUnderFlood: a flood from as many addresses as it likes
// never makes Redis hold more than the budget; a request is dropped only
// once it has lived the grace (so a person typing a password keeps it);
// while every request is younger, newcomers wait, told for how long.
func TestAdmissionBudgetUnderFlood(t *testing.T) {
	t.Parallel()
	l := defaultLimits
	l.Budget = 200
	a := newAdmissions(t, l)
	person := a.admit("198.51.100.200", "person00000000000000aA")
	var maxRecords int
	refusedBudget, droppedBudget := 0, 0
	for i := range 3000 {
		res := a.admit(fmt.Sprintf("10.%d.%d.%d", i>>16&255, i>>8&255, i&255), "")
		switch res.Refused {
		case "":
			droppedBudget += res.DroppedByBudget
		case storage.RefusedBudget:
			refusedBudget++
			if res.Wait <= 0 || res.Wait > l.Grace {
				t.Fatalf("budget refusal with wait %v", res.Wait)
			}
		default:
			t.Fatalf("request %d: %+v", i, res)
		}
		if i == 598 && !a.exists(person.ID) {
			t.Fatal("a person's request was dropped within its grace")
		}
		if i%100 == 0 {
			if n, _, _ := a.stored(); n > maxRecords {
				maxRecords = n
			}
		}
		a.advance(500 * time.Millisecond)
	}
	records, recordBytes, bookkeeping := a.stored()
	maxRecords = max(maxRecords, records)
	if maxRecords > l.Budget {
		t.Errorf("%d records stored, budget %d", maxRecords, l.Budget)
	}
	if refusedBudget == 0 || droppedBudget == 0 {
		t.Errorf("refused %d, dropped %d: the flood should have met both", refusedBudget, droppedBudget)
	}
	// Everything admitted within the grace is still there.
	a.mu.Lock()
	now := a.now
	a.mu.Unlock()
	for id, at := range a.admittedAt {
		if now.Sub(at) < l.Grace && !a.exists(id) {
			t.Fatalf("a request admitted %v ago was dropped", now.Sub(at))
		}
	}
	t.Logf("3,000 requests from 3,000 addresses, budget %d: max %d records; at the end %d records (%d bytes), bookkeeping %d bytes; %d refused, %d dropped",
		l.Budget, maxRecords, records, recordBytes, bookkeeping, refusedBudget, droppedBudget)
}

// TestAdmissionSignedInLeavesBudget: a signed-in request leaves the budget
// at once, so it is never dropped for room while it waits for its code
// exchange; an admitted id under which nothing was stored gives its place
// back.
func TestAdmissionSignedInLeavesBudget(t *testing.T) {
	t.Parallel()
	l := defaultLimits
	l.Budget, l.Grace = 3, time.Minute
	a := newAdmissions(t, l)
	ctx := context.Background()
	signedIn := a.admit("192.0.2.10", "")
	mustNoErr(t, a.s.CompleteAuthRequest(ctx, signedIn.ID, sampleAuthentication("CU000000001")))
	// An admission whose request the engine refused: released.
	unused, err := a.s.AdmitAuthRequest(ctx, storage.Admission{Address: "192.0.2.11", Browser: "unused00000000000000aA"}, l)
	mustNoErr(t, err)
	mustNoErr(t, a.s.ReleaseAuthRequest(ctx, unused.ID))
	for i := range 3 {
		if res := a.admit(fmt.Sprintf("192.0.2.%d", 20+i), ""); res.Refused != "" {
			t.Fatalf("open request %d of a budget of 3: %+v", i+1, res)
		}
	}
	if res := a.admit("192.0.2.30", ""); res.Refused != storage.RefusedBudget {
		t.Fatalf("fourth open request: %+v, want the budget's refusal", res)
	}
	a.advance(time.Minute)
	for i := range 3 {
		if res := a.admit(fmt.Sprintf("192.0.2.%d", 40+i), ""); res.Refused != "" || res.DroppedByBudget != 1 {
			t.Fatalf("after the grace, request %d: %+v, want admitted dropping one", i+1, res)
		}
	}
	if !a.exists(signedIn.ID) {
		t.Fatal("the signed-in request was dropped")
	}
	// Nothing of the released or settled ids is left in the bookkeeping.
	for k, v := range dump(t, a.s) {
		if strings.Contains(k, "arq:") && (strings.Contains(v, signedIn.ID) || strings.Contains(v, unused.ID)) {
			t.Errorf("%s still holds a settled id: %s", k, v)
		}
	}
}

// TestAdmissionKeysShareOneSlot: every key of the admission carries the hash
// tag {budget} as its first braces, so that its script runs in one Cluster
// slot; and caller input that is not an address or browser id never
// becomes part of a key.
func TestAdmissionKeysShareOneSlot(t *testing.T) {
	t.Parallel()
	a := newAdmissions(t, defaultLimits)
	a.admit("192.0.2.1", "slot0000000000000000aA")
	a.admit("}{evil\x00", "{not-an-id}")
	var n int
	for k := range dump(t, a.s) {
		rest := strings.TrimPrefix(k, a.s.Prefix())
		if !strings.HasPrefix(rest, "arq:") {
			continue
		}
		n++
		if open := strings.IndexByte(rest, '{'); open < 0 || !strings.HasPrefix(rest[open:], "{budget}") {
			t.Errorf("key %q: its hash tag is not {budget}", rest)
		}
		if strings.Count(rest, "{") != 1 || strings.Contains(rest, "evil") || strings.Contains(rest, "not-an-id") {
			t.Errorf("key %q holds caller input", rest)
		}
	}
	if n < 4 {
		t.Errorf("%d admission keys, want the budget, owners, a browser set and two address buckets", n)
	}
}
