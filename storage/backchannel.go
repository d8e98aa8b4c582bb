package storage

// Back-channel logout (OpenID Connect Back-Channel Logout 1.0): when a
// browser session ends, every client that received tokens in it is told, by
// a logout token posted to its back-channel logout URI. The deliveries wait
// in the outbox on their own channel.

// ChannelBackchannel is the outbox channel of logout tokens to relying parties.
const ChannelBackchannel Channel = "backchannel"

// SessionParty is a client that received tokens under a browser session,
// for the subject the session belongs to.
type SessionParty struct {
	SessionID string // public sid
	Subject   string
	ClientID  string
}

// LogoutDelivery is what an outbox row of ChannelBackchannel delivers: a
// logout token for one client about one session. JTI is chosen when the row
// is written and kept across retries, so that a relying party can drop a
// token it has already acted on.
type LogoutDelivery struct {
	SessionParty
	JTI string
}

// Delivery states of an outbox message, as operators see them.
const (
	DeliveryPending   = "pending"
	DeliveryDelivered = "delivered"
	DeliveryGivenUp   = "given up"
	DeliveryCancelled = "cancelled"
)

// State tells where a message stands.
func (m OutboxMessage) State() string {
	switch {
	case m.DeliveredAt != nil:
		return DeliveryDelivered
	case m.FailedAt != nil:
		return DeliveryGivenUp
	case m.CancelledAt != nil:
		return DeliveryCancelled
	}
	return DeliveryPending
}
