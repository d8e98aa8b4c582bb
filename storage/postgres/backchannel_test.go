package postgres_test

import (
	"sync"
	"testing"

	"github.com/entity-account/idp/storage"
)

// TestEnqueueLogouts: a delivery is queued only for an enabled client with a
// back-channel logout URI, once per (session, client) even when several
// nodes queue the same end at once, with the registered URI and its own jti.
func TestEnqueueLogouts(t *testing.T) {
	t.Parallel()
	s, ctx := newStore(t)
	sv := createService(t, s, "bcl", storage.PolicyAssigned)
	for id, uri := range map[string]string{"bc-one": "https://one.gov.mo/bcl", "bc-two": "https://two.gov.mo/bcl", "bc-none": "", "bc-off": "https://off.gov.mo/bcl"} {
		c := storage.Client{ID: id, ServiceID: sv.ID, Name: id, Public: true, RedirectURIs: []string{"https://rp.gov.mo/cb"}, BackchannelLogoutURI: uri}
		if err := s.CreateClient(ctx, operator, &c); err != nil {
			t.Fatal(err)
		}
	}
	if got, err := s.Client(ctx, "bc-one"); err != nil || got.BackchannelLogoutURI != "https://one.gov.mo/bcl" {
		t.Fatalf("Client(bc-one) = %+v, %v", got, err)
	}
	if err := s.DisableClient(ctx, operator, "bc-off"); err != nil {
		t.Fatal(err)
	}
	party := func(sid, client string) storage.SessionParty {
		return storage.SessionParty{SessionID: sid, Subject: "CU000000100", ClientID: client}
	}
	parties := []storage.SessionParty{party("s1", "bc-one"), party("s1", "bc-two"), party("s1", "bc-none"),
		party("s1", "bc-off"), party("s1", "unknown"), party("s2", "bc-one")}

	var wg sync.WaitGroup
	counts := make([]int, 4)
	for i := range counts {
		wg.Go(func() {
			n, err := s.EnqueueLogouts(ctx, parties)
			if err != nil {
				t.Errorf("EnqueueLogouts: %v", err)
			}
			counts[i] = n
		})
	}
	wg.Wait()
	if total := counts[0] + counts[1] + counts[2] + counts[3]; total != 3 {
		t.Errorf("queued %v deliveries in all, want 3 (s1 to bc-one and bc-two, s2 to bc-one)", counts)
	}

	all, err := s.LogoutDeliveries(ctx, "", 0)
	if err != nil || len(all) != 3 {
		t.Fatalf("LogoutDeliveries = %+v, %v", all, err)
	}
	jtis := map[string]bool{}
	for _, m := range all {
		if m.Logout == nil || m.Channel != storage.ChannelBackchannel || m.State() != storage.DeliveryPending || m.Body != nil ||
			m.Recipient != map[string]string{"bc-one": "https://one.gov.mo/bcl", "bc-two": "https://two.gov.mo/bcl"}[m.Logout.ClientID] {
			t.Errorf("delivery %+v", m)
			continue
		}
		jtis[m.Logout.JTI] = true
	}
	if len(jtis) != 3 {
		t.Errorf("jti not unique per delivery: %v", jtis)
	}
	if one, _ := s.LogoutDeliveries(ctx, "bc-one", 1); len(one) != 1 || one[0].Logout.SessionID != "s2" {
		t.Errorf("the newest delivery to bc-one = %+v, want the one for s2", one)
	}
	if n, err := s.EnqueueLogouts(ctx, nil); n != 0 || err != nil {
		t.Errorf("EnqueueLogouts(nil) = %d, %v", n, err)
	}
}
