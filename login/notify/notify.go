// Package notify delivers notifications through an outbox: activation
// codes by SMS and e-mail, and logout tokens to relying parties
// (back-channel logout).
//
// The change that causes a notification writes it to the outbox table in its
// own transaction, sealed (Sealer); a Worker, which every provider node may
// run, claims due messages, opens them, hands them to the Sender of their
// channel and records the outcome: delivered (the body is cleared), retry
// later with exponential backoff (gateway down), or failed for good (the
// gateway refused the message). The outbox id travels with every attempt
// (the Idempotency-Key header of the SMS gateway, the Message-ID of an
// e-mail) so that a gateway can drop a repeat.
//
// Senders: Console (development: logs the whole message), HTTPSMS (an SMS
// gateway over HTTP), SMTP (e-mail), Backchannel (logout tokens posted to
// relying parties) and Recorder (tests).
package notify

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/entity-account/idp/login/seal"
	"github.com/entity-account/idp/storage"
)

// Message is one notification as a sender sees it.
type Message struct {
	ID       string // the outbox id: an idempotency key for the gateway
	Channel  storage.Channel
	To       string // mobile number or e-mail address
	Language string
	Subject  string // e-mail only
	Text     string
	// Logout is set on the back-channel channel, whose messages have no
	// text: the sender signs a logout token for this delivery (To is the
	// client's back-channel logout URI).
	Logout *storage.LogoutDelivery
}

// Sender delivers messages of one channel. Send returns nil once the gateway
// has accepted the message, a Permanent error when retrying cannot help
// (the gateway refused this message), and any other error when it may work
// later (gateway down, timeout, 5xx).
type Sender interface {
	Send(ctx context.Context, m Message) error
}

// permanentError marks a refusal that retrying will not change.
type permanentError struct{ err error }

func (e permanentError) Error() string { return "permanent: " + e.err.Error() }
func (e permanentError) Unwrap() error { return e.err }

// Permanent marks err as a refusal that retrying will not change.
func Permanent(err error) error { return permanentError{err} }

// IsPermanent reports whether err was marked with Permanent.
func IsPermanent(err error) bool {
	var p permanentError
	return errors.As(err, &p)
}

// Content is what a sealed outbox body holds.
type Content struct {
	Subject string `json:"subject,omitempty"`
	Text    string `json:"text"`
}

// Sealer encrypts outbox bodies at rest with AES-256-GCM (package seal).
// The channel and recipient are bound as additional data, so a body cannot
// be moved to another row's recipient.
type Sealer struct{ s *seal.Sealer }

// NewSealer returns a Sealer under a 32-byte key (derive it from the master
// key for this purpose only).
func NewSealer(key []byte) (*Sealer, error) {
	s, err := seal.New(key)
	if err != nil {
		return nil, fmt.Errorf("notify: %w", err)
	}
	return &Sealer{s: s}, nil
}

func additionalData(ch storage.Channel, recipient string) []byte {
	return []byte("idp outbox\x00" + string(ch) + "\x00" + recipient)
}

// Seal returns nonce || ciphertext of c for a message to recipient over ch.
func (s *Sealer) Seal(ch storage.Channel, recipient string, c Content) ([]byte, error) {
	plain, err := json.Marshal(c)
	if err != nil {
		return nil, err
	}
	return s.s.Seal(plain, additionalData(ch, recipient))
}

// Open returns the content of a sealed outbox message.
func (s *Sealer) Open(m storage.OutboxMessage) (Content, error) {
	var c Content
	plain, err := s.s.Open(m.Body, additionalData(m.Channel, m.Recipient))
	if errors.Is(err, seal.ErrTooShort) {
		return c, errors.New("notify: sealed body missing or too short")
	}
	if err != nil {
		return c, fmt.Errorf("notify: open sealed body (was the master key changed?): %w", err)
	}
	return c, json.Unmarshal(plain, &c)
}
