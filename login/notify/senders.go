package notify

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"text/template"
	"time"

	mail "github.com/wneessen/go-mail"
)

// Console is the development sender: it logs the whole message (code
// included) instead of delivering it, so that `make run` shows the SMS in
// the log. Never use it in production.
type Console struct {
	Logger *slog.Logger // nil: slog.Default()
}

// Send logs m at level info.
func (c Console) Send(ctx context.Context, m Message) error {
	l := c.Logger
	if l == nil {
		l = slog.Default()
	}
	attrs := []any{"id", m.ID, "channel", string(m.Channel), "to", m.To, "language", m.Language}
	if m.Subject != "" {
		attrs = append(attrs, "subject", m.Subject)
	}
	l.InfoContext(ctx, "notification (console sender: logged, not delivered)", append(attrs, "text", m.Text)...)
	return nil
}

// DefaultSMSBodyTemplate is the request body HTTPSMS sends unless configured otherwise.
const DefaultSMSBodyTemplate = `{"to":"{{.To}}","text":"{{.Text}}","reference":"{{.ID}}"}`

// HTTPSMS sends SMS through a gateway's HTTP API: one POST per message,
// with the body made from a text/template whose fields .To, .Text and .ID
// are JSON-escaped (put them inside quotes), the configured authorization
// header, Content-Type application/json, and the outbox id as
// Idempotency-Key. A 2xx answer is delivery;
// 408, 425, 429 and 5xx (and network errors) are retried; any other answer
// is a permanent refusal.
type HTTPSMS struct {
	url         string
	headerName  string
	headerValue string
	body        *template.Template
	client      *http.Client
}

// NewHTTPSMS returns an HTTP SMS sender. authHeader is "Name: value" (e.g.
// "Authorization: Bearer x") or empty; bodyTemplate empty means
// DefaultSMSBodyTemplate; client nil means one with a 15 s timeout.
func NewHTTPSMS(url, authHeader, bodyTemplate string, client *http.Client) (*HTTPSMS, error) {
	if bodyTemplate == "" {
		bodyTemplate = DefaultSMSBodyTemplate
	}
	tmpl, err := ParseSMSBodyTemplate(bodyTemplate)
	if err != nil {
		return nil, err
	}
	s := &HTTPSMS{url: url, body: tmpl, client: client}
	if authHeader != "" {
		name, value, ok := strings.Cut(authHeader, ":")
		if !ok || strings.TrimSpace(name) == "" {
			return nil, errors.New(`notify: SMS auth header must look like "Name: value"`)
		}
		s.headerName, s.headerValue = strings.TrimSpace(name), strings.TrimSpace(value)
	}
	if s.client == nil {
		s.client = &http.Client{Timeout: 15 * time.Second}
	}
	return s, nil
}

// ParseSMSBodyTemplate parses an SMS body template and tries it once, so a
// bad one is reported at start-up.
func ParseSMSBodyTemplate(text string) (*template.Template, error) {
	tmpl, err := template.New("sms").Option("missingkey=error").Parse(text)
	if err == nil {
		err = tmpl.Execute(io.Discard, smsFields{To: "+85366000000", Text: "text", ID: "1"})
	}
	if err != nil {
		return nil, fmt.Errorf("notify: SMS body template: %w", err)
	}
	return tmpl, nil
}

type smsFields struct{ To, Text, ID string }

// jsonEscape returns s escaped for use inside a JSON string (no quotes).
func jsonEscape(s string) string {
	b, _ := json.Marshal(s)
	return string(b[1 : len(b)-1])
}

// Send posts m to the gateway.
func (s *HTTPSMS) Send(ctx context.Context, m Message) error {
	var body bytes.Buffer
	if err := s.body.Execute(&body, smsFields{To: jsonEscape(m.To), Text: jsonEscape(m.Text), ID: jsonEscape(m.ID)}); err != nil {
		return Permanent(fmt.Errorf("SMS body template: %w", err))
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.url, &body)
	if err != nil {
		return Permanent(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Idempotency-Key", m.ID)
	if s.headerName != "" {
		req.Header.Set(s.headerName, s.headerValue)
	}
	resp, err := s.client.Do(req)
	if err != nil {
		return fmt.Errorf("SMS gateway: %w", err)
	}
	return httpOutcome("SMS gateway", resp)
}

// httpOutcome reads (at most 512 bytes of) an answer to a delivery and
// closes it: nil for 2xx; a retryable error for 408, 425, 429 and 5xx,
// which say "not now"; a Permanent error for any other answer, which
// retrying would only repeat.
func httpOutcome(peer string, resp *http.Response) error {
	defer resp.Body.Close()
	answer, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	switch c := resp.StatusCode; {
	case c >= 200 && c < 300:
		return nil
	case c == http.StatusRequestTimeout, c == http.StatusTooEarly, c == http.StatusTooManyRequests, c >= 500:
		return fmt.Errorf("%s answered %d: %s", peer, c, strings.TrimSpace(string(answer)))
	default:
		return Permanent(fmt.Errorf("%s refused the message with %d: %s", peer, c, strings.TrimSpace(string(answer))))
	}
}

// SMTPConfig configures the e-mail sender.
type SMTPConfig struct {
	Host     string
	Port     int    // 0: 587 for starttls, 465 for tls, 25 for none
	Username string // empty: no authentication
	Password string
	From     string // the From address, e.g. "一戶通 <no-reply@example.gov.mo>"
	TLS      string // starttls (required, default), tls (implicit, port 465) or none
	// TLSConfig overrides the TLS settings (tests use it for their own CA).
	TLSConfig *tls.Config
	Timeout   time.Duration // 0: 30 s
}

// SMTP sends e-mail through an SMTP server (github.com/wneessen/go-mail),
// one connection per message. The Message-ID is derived from the outbox id,
// so a repeat can be recognised downstream.
type SMTP struct {
	cfg  SMTPConfig
	opts []mail.Option
}

// NewSMTP checks cfg and returns the sender.
func NewSMTP(cfg SMTPConfig) (*SMTP, error) {
	if cfg.Host == "" || cfg.From == "" {
		return nil, errors.New("notify: SMTP needs a host and a From address")
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = 30 * time.Second
	}
	opts := []mail.Option{mail.WithTimeout(cfg.Timeout)}
	port := cfg.Port
	switch cfg.TLS {
	case "", "starttls":
		opts = append(opts, mail.WithTLSPolicy(mail.TLSMandatory))
		port = orPort(port, 587)
	case "tls":
		opts = append(opts, mail.WithSSL())
		port = orPort(port, 465)
	case "none":
		opts = append(opts, mail.WithTLSPolicy(mail.NoTLS))
		port = orPort(port, 25)
	default:
		return nil, fmt.Errorf("notify: SMTP TLS mode %q: want starttls, tls or none", cfg.TLS)
	}
	opts = append(opts, mail.WithPort(port))
	if cfg.TLSConfig != nil {
		opts = append(opts, mail.WithTLSConfig(cfg.TLSConfig))
	}
	if cfg.Username != "" {
		opts = append(opts, mail.WithSMTPAuth(mail.SMTPAuthAutoDiscover),
			mail.WithUsername(cfg.Username), mail.WithPassword(cfg.Password))
	}
	return &SMTP{cfg: cfg, opts: opts}, nil
}

func orPort(p, def int) int {
	if p == 0 {
		return def
	}
	return p
}

// Send delivers m as a plain-text e-mail.
func (s *SMTP) Send(ctx context.Context, m Message) error {
	msg := mail.NewMsg()
	if err := msg.From(s.cfg.From); err != nil {
		return Permanent(fmt.Errorf("SMTP From address: %w", err))
	}
	if err := msg.To(m.To); err != nil {
		return Permanent(fmt.Errorf("e-mail address %q: %w", m.To, err))
	}
	msg.Subject(m.Subject)
	msg.SetBodyString(mail.TypeTextPlain, m.Text)
	msg.SetDate()
	msg.SetMessageIDWithValue("outbox-" + m.ID + domainOf(s.cfg.From))
	client, err := mail.NewClient(s.cfg.Host, s.opts...)
	if err != nil {
		return Permanent(fmt.Errorf("SMTP client: %w", err))
	}
	err = client.DialAndSendWithContext(ctx, msg)
	var se *mail.SendError
	if errors.As(err, &se) && !se.IsTemp() && se.Reason == mail.ErrSMTPRcptTo {
		return Permanent(fmt.Errorf("SMTP server refused the recipient: %w", err))
	}
	if err != nil {
		return fmt.Errorf("SMTP: %w", err)
	}
	return nil
}

// domainOf returns "@domain" of an address such as "Name <a@b.mo>", or "@idp".
func domainOf(from string) string {
	if i := strings.LastIndex(from, "@"); i >= 0 {
		return strings.TrimSuffix(from[i:], ">")
	}
	return "@idp"
}

// Recorder keeps every message it is given, for tests (and for tools that
// want to show messages instead of sending them). Fail, when set, decides
// the outcome of each Send instead of success.
type Recorder struct {
	mu      sync.Mutex
	msgs    []Message
	changed chan struct{}
	Fail    func(Message) error
}

// Send records m (unless Fail refuses it).
func (r *Recorder) Send(_ context.Context, m Message) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.Fail != nil {
		if err := r.Fail(m); err != nil {
			return err
		}
	}
	r.msgs = append(r.msgs, m)
	if r.changed != nil {
		close(r.changed)
		r.changed = nil
	}
	return nil
}

// Messages returns the messages recorded so far.
func (r *Recorder) Messages() []Message {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Message(nil), r.msgs...)
}

// Wait returns the n-th (from 1) recorded message, past or future, that
// match accepts, or ctx's error.
func (r *Recorder) Wait(ctx context.Context, n int, match func(Message) bool) (Message, error) {
	for {
		r.mu.Lock()
		seen := 0
		for _, m := range r.msgs {
			if match(m) {
				if seen++; seen == n {
					r.mu.Unlock()
					return m, nil
				}
			}
		}
		if r.changed == nil {
			r.changed = make(chan struct{})
		}
		ch := r.changed
		r.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return Message{}, ctx.Err()
		}
	}
}
