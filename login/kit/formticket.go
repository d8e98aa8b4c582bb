package kit

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"time"

	"github.com/entity-account/idp/storage"
)

// TicketStore keeps short-lived tickets (storage/redis).
type TicketStore interface {
	CreateTicket(ctx context.Context, purpose string, value []byte, ttl time.Duration) (string, error)
	Ticket(ctx context.Context, purpose, secret string) ([]byte, error)
	DeleteTicket(ctx context.Context, purpose, secret string) error
}

// FormTicket carries what the first step of a two-step form verified (an
// activation code, a reset code) to its second step: stored server side
// under a random ticket, which the second step's form posts back with a
// CSRF token bound to it, so that only the browser that passed the first
// step can use it, and only until it expires or is spent.
type FormTicket struct {
	Store   TicketStore
	Purpose string        // what the ticket is for: its key's purpose, and its CSRF binding's
	TTL     time.Duration // time to complete the second step
	// Gone is the refusal of a ticket missing, forged or expired: the
	// first step must be done again.
	Gone *Failure
}

// Issue stores v under a new ticket and returns it.
func (t FormTicket) Issue(ctx context.Context, v any) (string, error) {
	raw, err := json.Marshal(v)
	if err != nil {
		return "", err
	}
	return t.Store.CreateTicket(ctx, t.Purpose, raw, t.TTL)
}

// CSRF is the CSRF token of the second step's form for ticket tk.
func (t FormTicket) CSRF(k *Kit, w http.ResponseWriter, r *http.Request, tk string) string {
	return k.CSRFToken(w, r, t.binding(tk))
}

func (t FormTicket) binding(tk string) string { return t.Purpose + "-ticket\x00" + tk }

// Posted reads a second step's form: parsed, its CSRF token this
// browser's for its ticket; it fills v with what the first step stored
// and returns the ticket. Anything amiss is t.Gone.
func (t FormTicket) Posted(k *Kit, w http.ResponseWriter, r *http.Request, v any) (string, error) {
	if err := ParseForm(w, r); err != nil {
		return "", t.Gone
	}
	tk := r.PostForm.Get("ticket")
	if tk == "" || !k.CSRFValid(r, t.binding(tk), r.PostForm.Get("csrf_token")) {
		return "", t.Gone
	}
	raw, err := t.Store.Ticket(r.Context(), t.Purpose, tk)
	if errors.Is(err, storage.ErrNotFound) {
		return "", t.Gone
	}
	if err != nil {
		return "", err
	}
	if err := json.Unmarshal(raw, v); err != nil {
		return "", err
	}
	return tk, nil
}

// Spend deletes ticket tk (its second step is done, or can never be).
func (t FormTicket) Spend(ctx context.Context, tk string) {
	_ = t.Store.DeleteTicket(context.WithoutCancel(ctx), t.Purpose, tk)
}
