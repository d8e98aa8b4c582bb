package notify

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/entity-account/idp/storage"
)

// LogoutSigner signs the logout token of one back-channel delivery with the
// provider's current signing key.
type LogoutSigner interface {
	SignLogoutToken(ctx context.Context, d storage.LogoutDelivery) (string, error)
}

// Backchannel delivers logout tokens (OpenID Connect Back-Channel Logout 1.0
// §2.5): an HTTP POST of logout_token=… as application/x-www-form-urlencoded
// to the client's back-channel logout URI. The token is signed at each
// attempt, so its exp is fresh however late the attempt; its jti is the
// delivery's, the same on every attempt. 2xx is delivery; network errors,
// 408, 425, 429 and 5xx are retried; any other answer (the specification's
// 400 for a token the relying party rejects, a redirect) gives it up.
type Backchannel struct {
	signer LogoutSigner
	client *http.Client
}

// NewBackchannel returns the back-channel sender. client nil means one with
// a 10 s timeout that follows no redirect: a logout token goes only to the
// registered address.
func NewBackchannel(signer LogoutSigner, client *http.Client) *Backchannel {
	if client == nil {
		client = &http.Client{
			Timeout:       10 * time.Second,
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		}
	}
	return &Backchannel{signer: signer, client: client}
}

// Send signs and posts the logout token of m.
func (b *Backchannel) Send(ctx context.Context, m Message) error {
	if m.Logout == nil {
		return Permanent(errors.New("back-channel message without a logout delivery"))
	}
	token, err := b.signer.SignLogoutToken(ctx, *m.Logout)
	if err != nil {
		return fmt.Errorf("sign logout token: %w", err)
	}
	body := url.Values{"logout_token": {token}}.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, m.To, strings.NewReader(body))
	if err != nil {
		return Permanent(fmt.Errorf("back-channel logout URI: %w", err))
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := b.client.Do(req)
	if err != nil {
		return fmt.Errorf("relying party %s: %w", m.Logout.ClientID, err)
	}
	return httpOutcome("relying party "+m.Logout.ClientID, resp)
}
