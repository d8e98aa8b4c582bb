package notify_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/entity-account/idp/login/notify"
	idpop "github.com/entity-account/idp/op"
	"github.com/entity-account/idp/storage"
	"github.com/entity-account/idp/storage/postgres"
	"github.com/entity-account/idp/storage/storagetest"
)

// logoutWorld is a fresh database with one e-service, and a worker whose
// back-channel sender signs with the database's real signing key.
type logoutWorld struct {
	pg      *postgres.Store
	service int64
	worker  *notify.Worker
}

func newLogoutWorld(t *testing.T) *logoutWorld {
	t.Helper()
	pg := storagetest.NewPostgres(t)
	ctx := context.Background()
	d := storage.Department{Code: "BC", NameZH: "部門"}
	if err := pg.CreateDepartment(ctx, operator, &d); err != nil {
		t.Fatal(err)
	}
	sv := storage.Service{Code: "bc", DepartmentID: d.ID, NameZH: "服務", AccessPolicy: storage.PolicyAssigned}
	if err := pg.CreateService(ctx, operator, &sv); err != nil {
		t.Fatal(err)
	}
	keys, err := idpop.NewKeys(ctx, pg, make([]byte, 32), "ES256", time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	signer := idpop.NewLogoutTokens(keys, "https://id.example.gov.mo", 2*time.Minute)
	w := notify.NewWorker(pg, nil, map[storage.Channel]notify.Sender{storage.ChannelBackchannel: notify.NewBackchannel(signer, nil)})
	w.MinBackoff, w.MaxBackoff = 10*time.Millisecond, 20*time.Millisecond
	return &logoutWorld{pg: pg, service: sv.ID, worker: w}
}

// logout registers a client taking logout tokens at uri and queues its
// delivery for one session; it returns the outbox id.
func (w *logoutWorld) logout(t *testing.T, clientID, uri string) int64 {
	t.Helper()
	ctx := context.Background()
	c := storage.Client{ID: clientID, ServiceID: w.service, Name: clientID, Public: true,
		RedirectURIs: []string{"https://rp.example.gov.mo/cb"}, BackchannelLogoutURI: uri}
	if err := w.pg.CreateClient(ctx, operator, &c); err != nil {
		t.Fatal(err)
	}
	party := storage.SessionParty{SessionID: "sid-" + clientID, Subject: "CU000000100", ClientID: clientID}
	for range 2 { // a second end of the same session queues nothing more
		if _, err := w.pg.EnqueueLogouts(ctx, []storage.SessionParty{party}); err != nil {
			t.Fatal(err)
		}
	}
	list, err := w.pg.LogoutDeliveries(ctx, clientID, 10)
	if err != nil || len(list) != 1 {
		t.Fatalf("deliveries of %s: %v %v", clientID, list, err)
	}
	return list[0].ID
}

// run lets the worker try until stop holds or 10 s pass.
func (w *logoutWorld) run(t *testing.T, stop func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !stop() && time.Now().Before(deadline) {
		if _, err := w.worker.RunOnce(context.Background()); err != nil {
			t.Fatal(err)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func (w *logoutWorld) message(t *testing.T, id int64) storage.OutboxMessage {
	t.Helper()
	m, err := w.pg.OutboxMessage(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// TestBackchannelSenderOutcomes: 2xx delivers; 400 and a redirect give up
// at once (the redirect is not followed); a relying party that keeps
// failing is given up at the end of the delivery window, its last error kept.
func TestBackchannelSenderOutcomes(t *testing.T) {
	t.Parallel()
	w := newLogoutWorld(t)
	var followed atomic.Int32
	target := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { followed.Add(1) }))
	defer target.Close()
	answer := func(status int) *httptest.Server {
		srv := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
			if r.Header.Get("Content-Type") != "application/x-www-form-urlencoded" || r.FormValue("logout_token") == "" {
				rw.WriteHeader(http.StatusUnsupportedMediaType)
				return
			}
			if status == http.StatusFound {
				rw.Header().Set("Location", target.URL)
			}
			rw.WriteHeader(status)
		}))
		t.Cleanup(srv.Close)
		return srv
	}
	okID := w.logout(t, "bc-ok", answer(http.StatusOK).URL)
	badID := w.logout(t, "bc-bad", answer(http.StatusBadRequest).URL)
	movedID := w.logout(t, "bc-moved", answer(http.StatusFound).URL)
	w.run(t, func() bool {
		return w.message(t, okID).DeliveredAt != nil && w.message(t, badID).FailedAt != nil && w.message(t, movedID).FailedAt != nil
	})
	if m := w.message(t, okID); m.State() != storage.DeliveryDelivered || m.Attempts != 1 {
		t.Errorf("200: %s after %d attempts", m.State(), m.Attempts)
	}
	for _, id := range []int64{badID, movedID} {
		if m := w.message(t, id); m.State() != storage.DeliveryGivenUp || m.Attempts != 1 || !strings.Contains(m.LastError, "refused") {
			t.Errorf("message %d: %s after %d attempts (%q), want given up at once", id, m.State(), m.Attempts, m.LastError)
		}
	}
	if followed.Load() != 0 {
		t.Error("the sender followed a redirect")
	}

	w.worker.GiveUpAfter[storage.ChannelBackchannel] = 300 * time.Millisecond
	downID := w.logout(t, "bc-down", answer(http.StatusServiceUnavailable).URL)
	w.run(t, func() bool { return w.message(t, downID).FailedAt != nil })
	m := w.message(t, downID)
	if m.State() != storage.DeliveryGivenUp || m.Attempts < 2 || !strings.Contains(m.LastError, "gave up after") || !strings.Contains(m.LastError, "503") {
		t.Errorf("RP down: %s after %d attempts (%q), want given up at the end of the window", m.State(), m.Attempts, m.LastError)
	}
}
