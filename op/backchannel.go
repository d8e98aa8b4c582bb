package op

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"slices"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/zitadel/oidc/v3/pkg/oidc"

	"github.com/entity-account/idp/storage"
)

// Back-channel logout (OpenID Connect Back-Channel Logout 1.0). Every end of
// a browser session goes through the short-lived store's EndSessionByID or
// EndAllForSubject, whoever calls them (the logout endpoint and page, the
// portal, a password change, a refused refresh, an operator); NotifyLogouts
// wraps those two so that each end queues one logout token per client that
// received tokens in the session. The outbox worker signs and posts them
// (LogoutTokens, login/notify.Backchannel), so no user waits for a relying
// party's answer.

// BackchannelLogoutEvent is the event a logout token carries (§2.4).
const BackchannelLogoutEvent = "http://schemas.openid.net/event/backchannel-logout"

// SessionParties is the part of the short-lived store that knows which
// clients received tokens under which session (storage/redis).
type SessionParties interface {
	// SessionParties returns the clients that received tokens under the given sessions.
	SessionParties(ctx context.Context, sids ...string) ([]storage.SessionParty, error)
	// SubjectSessions returns the sids of a subject's sessions.
	SubjectSessions(ctx context.Context, subject string) ([]string, error)
}

// LogoutQueue holds pending back-channel deliveries (storage/postgres): at
// most one per client and session, however often it is asked.
type LogoutQueue interface {
	EnqueueLogouts(ctx context.Context, parties []storage.SessionParty) (int, error)
}

// LogoutNotice is what NotifyLogouts needs besides the store it wraps.
type LogoutNotice struct {
	Parties SessionParties
	Queue   LogoutQueue
	Wake    func()       // tells this node's outbox worker that deliveries wait; may be nil
	Logger  *slog.Logger // nil: slog.Default()
}

// NotifyLogouts returns state with back-channel logout added to its session
// ends. Before a session ends, the clients that received tokens in it are
// read and their deliveries queued; after it has ended they are read again,
// for a client whose tokens were issued meanwhile. A failure to read or
// queue is logged at error level with what is lost, and never stops the
// session from ending: ending it is what protects the user.
func NotifyLogouts(state storage.ShortLived, n LogoutNotice) storage.ShortLived {
	if n.Logger == nil {
		n.Logger = slog.Default()
	}
	return &logoutNotifier{ShortLived: state, LogoutNotice: n}
}

type logoutNotifier struct {
	storage.ShortLived
	LogoutNotice
}

func (n *logoutNotifier) EndSessionByID(ctx context.Context, sid string) error {
	if sid == "" {
		return n.ShortLived.EndSessionByID(ctx, sid)
	}
	sids := []string{sid}
	told := n.announce(ctx, sids, nil)
	err := n.ShortLived.EndSessionByID(ctx, sid)
	n.announce(ctx, sids, told)
	return err
}

func (n *logoutNotifier) EndAllForSubject(ctx context.Context, subject string) error {
	sids, err := n.Parties.SubjectSessions(ctx, subject)
	if err != nil {
		n.Logger.ErrorContext(ctx, "back-channel logout: cannot read the sessions of a subject; their relying parties will not be told",
			"subject", subject, "err", err)
	}
	told := n.announce(ctx, sids, nil)
	err = n.ShortLived.EndAllForSubject(ctx, subject)
	n.announce(ctx, sids, told)
	return err
}

// announce queues deliveries for the parties of sids not already in told,
// and returns the parties it read (with told).
func (n *logoutNotifier) announce(ctx context.Context, sids []string, told []storage.SessionParty) []storage.SessionParty {
	if len(sids) == 0 {
		return told
	}
	read, err := n.Parties.SessionParties(ctx, sids...)
	if err != nil {
		n.Logger.ErrorContext(ctx, "back-channel logout: cannot read the relying parties of ending sessions; they will not be told",
			"sessions", sids, "err", err)
		return told
	}
	var fresh []storage.SessionParty
	for _, p := range read {
		if !slices.Contains(told, p) {
			fresh = append(fresh, p)
		}
	}
	if len(fresh) == 0 {
		return told
	}
	queued, err := n.Queue.EnqueueLogouts(ctx, fresh)
	if err != nil {
		lost := make([]string, len(fresh))
		for i, p := range fresh {
			lost[i] = p.ClientID + " sid=" + p.SessionID + " sub=" + p.Subject
		}
		n.Logger.ErrorContext(ctx, "back-channel logout: cannot queue the logout tokens; these relying parties will not be told",
			"lost", lost, "err", err)
	} else if queued > 0 && n.Wake != nil {
		n.Wake()
	}
	return append(told, fresh...)
}

// LogoutTokens signs logout tokens (§2.4) with the provider's current
// signing key: the key, algorithm and kid of the ID tokens, so that a
// relying party verifies them with the same JWKS, and header typ
// logout+jwt, so that a logout token can never pass for an ID token.
type LogoutTokens struct {
	keys   *Keys
	issuer string
	ttl    time.Duration
	now    func() time.Time
}

// NewLogoutTokens returns a signer for issuer whose tokens expire ttl after
// they are signed.
func NewLogoutTokens(keys *Keys, issuer string, ttl time.Duration) *LogoutTokens {
	return &LogoutTokens{keys: keys, issuer: issuer, ttl: ttl, now: time.Now}
}

// SignLogoutToken returns the compact JWS of the logout token of d: iss,
// aud (the client), iat, exp, jti (d's, the same on every attempt), sub,
// sid and the back-channel logout event; never a nonce (§2.4 forbids it).
func (l *LogoutTokens) SignLogoutToken(ctx context.Context, d storage.LogoutDelivery) (string, error) {
	key, err := l.keys.Signing(ctx)
	if err != nil {
		return "", err
	}
	signer, err := jose.NewSigner(jose.SigningKey{
		Algorithm: key.SignatureAlgorithm(),
		Key:       &jose.JSONWebKey{Key: key.Key(), KeyID: key.ID()},
	}, (&jose.SignerOptions{}).WithType("logout+jwt"))
	if err != nil {
		return "", fmt.Errorf("logout token signer: %w", err)
	}
	now := l.now()
	payload, err := json.Marshal(&oidc.LogoutTokenClaims{
		Issuer:     l.issuer,
		Subject:    d.Subject,
		Audience:   oidc.Audience{d.ClientID},
		IssuedAt:   oidc.FromTime(now),
		Expiration: oidc.FromTime(now.Add(l.ttl)),
		JWTID:      d.JTI,
		Events:     map[string]any{BackchannelLogoutEvent: struct{}{}},
		SessionID:  d.SessionID,
	})
	if err != nil {
		return "", fmt.Errorf("logout token claims: %w", err)
	}
	jws, err := signer.Sign(payload)
	if err != nil {
		return "", fmt.Errorf("sign logout token: %w", err)
	}
	return jws.CompactSerialize()
}
