package notify_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/entity-account/idp/login/notify"
	"github.com/entity-account/idp/storage"
	"github.com/entity-account/idp/storage/postgres"
	"github.com/entity-account/idp/storage/storagetest"
)

var operator = storage.Actor{Kind: "operator", ID: "test"}

// queue writes n activation messages to the outbox of a fresh database,
// sealed with sealer, and returns their ids.
func queue(t *testing.T, pg *postgres.Store, sealer *notify.Sealer, n int) []int64 {
	t.Helper()
	ctx := context.Background()
	e := storage.Entity{Number: "06-000001", NameZH: "工人", Kind: "company"}
	if err := pg.CreateEntity(ctx, operator, &e, &storage.EntityAccount{ApplicationNumber: "A"}); err != nil {
		t.Fatal(err)
	}
	var ids []int64
	for i := range n {
		sl := storage.StaffLogin{EntityID: e.ID, NameZH: "員工", IDDocType: "passport", IDDocNumber: fmt.Sprint("D", i),
			BirthDate: time.Date(1990, 1, 1, 0, 0, 0, 0, time.UTC), Mobile: fmt.Sprintf("+8536600%04d", i)}
		if err := pg.CreateStaffLogin(ctx, operator, &sl); err != nil {
			t.Fatal(err)
		}
		body, err := sealer.Seal(storage.ChannelSMS, sl.Mobile, notify.Content{Text: fmt.Sprint("message ", i)})
		if err != nil {
			t.Fatal(err)
		}
		issue := &storage.CodeIssue{
			Code:    storage.ActivationCode{Hash: bytes.Repeat([]byte{byte(i)}, 32), Channel: storage.ChannelSMS, ExpiresAt: time.Now().Add(time.Hour), MaxAttempts: 5},
			Message: storage.OutboxMessage{Recipient: sl.Mobile, Language: "en", Body: body},
		}
		if err := pg.IssueActivationCode(ctx, operator, storage.AccountRef{Kind: storage.KindStaff, ID: sl.ID}, issue); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, issue.Message.ID)
	}
	return ids
}

// flakyGateway fails every message's first attempts (per message id) until
// it is switched on, and counts accepted sends per message id.
type flakyGateway struct {
	up       atomic.Bool
	mu       sync.Mutex
	accepted map[string]int
	refused  int
}

func (g *flakyGateway) Send(_ context.Context, m notify.Message) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	if !g.up.Load() {
		g.refused++
		return errors.New("gateway down")
	}
	g.accepted[m.ID]++
	return nil
}

// TestWorkersDeliverOnce: several workers (as on several nodes) share the
// outbox; while the gateway is down nothing is lost, and once it is up each
// message is accepted exactly once.
func TestWorkersDeliverOnce(t *testing.T) {
	t.Parallel()
	pg := storagetest.NewPostgres(t)
	sealer, _ := notify.NewSealer(bytes.Repeat([]byte{1}, 32))
	ids := queue(t, pg, sealer, 12)
	gw := &flakyGateway{accepted: map[string]int{}}

	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for range 3 {
		w := notify.NewWorker(pg, sealer, map[storage.Channel]notify.Sender{storage.ChannelSMS: gw})
		w.Poll, w.Batch, w.MinBackoff, w.MaxBackoff = 10*time.Millisecond, 4, 10*time.Millisecond, 40*time.Millisecond
		wg.Go(func() { w.Run(ctx) })
	}
	defer func() { cancel(); wg.Wait() }()

	time.Sleep(300 * time.Millisecond)
	gw.mu.Lock()
	refused := gw.refused
	gw.mu.Unlock()
	if refused < len(ids) {
		t.Fatalf("only %d attempts while the gateway was down", refused)
	}
	gw.up.Store(true)
	deadline := time.Now().Add(15 * time.Second)
	for {
		gw.mu.Lock()
		n := len(gw.accepted)
		gw.mu.Unlock()
		if n == len(ids) || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	time.Sleep(200 * time.Millisecond) // more rounds: nothing may be sent again
	gw.mu.Lock()
	defer gw.mu.Unlock()
	for _, id := range ids {
		if n := gw.accepted[fmt.Sprint(id)]; n != 1 {
			t.Errorf("message %d accepted %d times, want 1", id, n)
		}
		m, err := pg.OutboxMessage(context.Background(), id)
		if err != nil || m.DeliveredAt == nil || m.Body != nil || m.Attempts < 2 {
			t.Errorf("message %d: %+v, %v", id, m, err)
		}
	}
}

// TestWorkerGivesUp: a permanent refusal, a body that cannot be opened and
// a retryable error each end as they should.
func TestWorkerGivesUp(t *testing.T) {
	t.Parallel()
	pg := storagetest.NewPostgres(t)
	sealer, _ := notify.NewSealer(bytes.Repeat([]byte{2}, 32))
	ids := queue(t, pg, sealer, 3)
	ctx := context.Background()
	// Message 2 was sealed under another key (the master key changed).
	if _, err := pg.Pool().Exec(ctx, `UPDATE outbox SET body_sealed = $2 WHERE id = $1`, ids[1], bytes.Repeat([]byte{9}, 60)); err != nil {
		t.Fatal(err)
	}
	rec := &notify.Recorder{Fail: func(m notify.Message) error {
		switch m.ID {
		case fmt.Sprint(ids[0]):
			return notify.Permanent(errors.New("invalid number"))
		case fmt.Sprint(ids[2]):
			return errors.New("timeout")
		}
		return nil
	}}
	w := notify.NewWorker(pg, sealer, map[storage.Channel]notify.Sender{storage.ChannelSMS: rec})
	if n, err := w.RunOnce(ctx); err != nil || n != 3 {
		t.Fatalf("RunOnce = %d, %v", n, err)
	}
	for i, want := range []string{"failed", "failed", "pending"} {
		m, _ := pg.OutboxMessage(ctx, ids[i])
		state := "pending"
		switch {
		case m.FailedAt != nil:
			state = "failed"
		case m.DeliveredAt != nil:
			state = "delivered"
		}
		if state != want || m.LastError == "" || (state == "failed") != (m.Body == nil) {
			t.Errorf("message %d: %s (%q, body %d bytes), want %s", i, state, m.LastError, len(m.Body), want)
		}
		if want == "pending" && !m.NextAttemptAt.After(time.Now().Add(5*time.Second)) {
			t.Errorf("retry scheduled at %v, want a backoff", m.NextAttemptAt)
		}
	}
	if len(rec.Messages()) != 0 {
		t.Errorf("recorded %v", rec.Messages())
	}
}
