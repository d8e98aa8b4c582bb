package notify_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"math/big"
	"mime"
	"mime/quotedprintable"
	"net"
	"net/http"
	"net/http/httptest"
	"net/mail"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"

	"github.com/entity-account/idp/login/notify"
	"github.com/entity-account/idp/storage"
)

func TestSealer(t *testing.T) {
	s, err := notify.NewSealer(bytes.Repeat([]byte{7}, 32))
	if err != nil {
		t.Fatal(err)
	}
	c := notify.Content{Subject: "主題", Text: "啟動碼：ABCDE-FGHJK"}
	body, err := s.Seal(storage.ChannelSMS, "+85366000001", c)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(body, []byte("ABCDE")) {
		t.Fatal("sealed body holds the text in clear")
	}
	got, err := s.Open(storage.OutboxMessage{Channel: storage.ChannelSMS, Recipient: "+85366000001", Body: body})
	if err != nil || got != c {
		t.Fatalf("Open = %+v, %v", got, err)
	}
	// Bound to its recipient and channel, and to the key.
	for name, m := range map[string]storage.OutboxMessage{
		"other recipient": {Channel: storage.ChannelSMS, Recipient: "+85366000002", Body: body},
		"other channel":   {Channel: storage.ChannelEmail, Recipient: "+85366000001", Body: body},
		"no body":         {Channel: storage.ChannelSMS, Recipient: "+85366000001"},
	} {
		if _, err := s.Open(m); err == nil {
			t.Errorf("%s: opened", name)
		}
	}
	other, _ := notify.NewSealer(bytes.Repeat([]byte{8}, 32))
	if _, err := other.Open(storage.OutboxMessage{Channel: storage.ChannelSMS, Recipient: "+85366000001", Body: body}); err == nil {
		t.Error("opened under another key")
	}
	if _, err := notify.NewSealer([]byte("short")); err == nil {
		t.Error("short key accepted")
	}
}

func TestTexts(t *testing.T) {
	texts, err := notify.LoadTexts()
	if err != nil {
		t.Fatal(err)
	}
	v := notify.ActivationVars{Code: "ABCDE-FGHJK", EntityNumber: "02-000123", URL: "https://id.example.gov.mo/activate/staff",
		Expires: time.Date(2026, 3, 1, 16, 30, 0, 0, time.UTC)}
	for _, lang := range []string{"zh-Hant", "pt", "en", "xx"} {
		for _, kind := range []storage.PrincipalKind{storage.KindStaff, storage.KindEntityAccount} {
			sms := texts.Activation(lang, kind, storage.ChannelSMS, v)
			for _, want := range []string{v.Code, v.EntityNumber, v.URL, "2026-03-02 00:30"} { // Macau time
				if !strings.Contains(sms.Text, want) {
					t.Errorf("%s %s SMS lacks %q: %s", lang, kind, want, sms.Text)
				}
			}
			if strings.Contains(sms.Text, "{") {
				t.Errorf("%s %s SMS has an unfilled placeholder: %s", lang, kind, sms.Text)
			}
			mail := texts.Activation(lang, kind, storage.ChannelEmail, v)
			if mail.Subject == "" || !strings.HasPrefix(mail.Text, sms.Text) {
				t.Errorf("%s %s e-mail = %+v", lang, kind, mail)
			}
		}
	}
	if pt := texts.Activation("pt", storage.KindStaff, storage.ChannelSMS, v); !strings.Contains(pt.Text, "Código de activação") {
		t.Errorf("pt SMS not in Portuguese: %s", pt.Text)
	}
}

// TestToolsTexts: every identity-tool notice, in every language, names the
// entity, the login and the Macau time, and the passkey for passkey events,
// with no placeholder left; the e-mail is the SMS text with a subject.
func TestToolsTexts(t *testing.T) {
	texts, err := notify.LoadTexts()
	if err != nil {
		t.Fatal(err)
	}
	v := notify.ToolVars{EntityNumber: "02-000123", Username: "staff09", Name: "辦公室 YubiKey",
		At: time.Date(2026, 3, 1, 16, 30, 0, 0, time.UTC)}
	events := []notify.ToolEvent{notify.ToolTOTPAdded, notify.ToolTOTPPending, notify.ToolTOTPApproved, notify.ToolPasskeyAdded,
		notify.ToolPasskeyRemoved, notify.ToolPasskeysOff, notify.ToolPasskeysOn, notify.ToolsReset}
	for _, lang := range []string{"zh-Hant", "pt", "en", "xx"} {
		seen := map[string]bool{}
		for _, ev := range events {
			sms := texts.Tool(lang, ev, storage.ChannelSMS, v)
			want := []string{v.EntityNumber, v.Username, "2026-03-02 00:30"}
			if ev == notify.ToolPasskeyAdded || ev == notify.ToolPasskeyRemoved {
				want = append(want, v.Name)
			}
			for _, w := range want {
				if !strings.Contains(sms.Text, w) {
					t.Errorf("%s %s SMS lacks %q: %s", lang, ev, w, sms.Text)
				}
			}
			if strings.ContainsAny(sms.Text, "{}") || seen[sms.Text] {
				t.Errorf("%s %s SMS has a placeholder left or repeats another event's: %s", lang, ev, sms.Text)
			}
			seen[sms.Text] = true
			mail := texts.Tool(lang, ev, storage.ChannelEmail, v)
			if !strings.Contains(mail.Subject, v.EntityNumber) || !strings.HasPrefix(mail.Text, sms.Text) || len(mail.Text) <= len(sms.Text) {
				t.Errorf("%s %s e-mail = %+v", lang, ev, mail)
			}
		}
	}
	if pt := texts.Tool("pt", notify.ToolPasskeyAdded, storage.ChannelSMS, v); !strings.Contains(pt.Text, "chave de acesso") {
		t.Errorf("pt notice not in Portuguese: %s", pt.Text)
	}
}

func TestConsoleLogsTheWholeMessage(t *testing.T) {
	var buf bytes.Buffer
	c := notify.Console{Logger: slog.New(slog.NewTextHandler(&buf, nil))}
	m := notify.Message{ID: "42", Channel: storage.ChannelSMS, To: "+85366000001", Text: "啟動碼：ABCDE-FGHJK，網址 https://x/activate/staff"}
	if err := c.Send(context.Background(), m); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"ABCDE-FGHJK", "+85366000001", "https://x/activate/staff", "id=42"} {
		if !strings.Contains(buf.String(), want) {
			t.Errorf("log lacks %q: %s", want, buf.String())
		}
	}
}

// TestHTTPSMS: the gateway gets the configured auth header, the body made
// from the template (JSON-escaped) and the idempotency key; its answers
// decide between delivered, retry and give up.
func TestHTTPSMS(t *testing.T) {
	var (
		mu     sync.Mutex
		status = http.StatusAccepted
		got    []*http.Request
		bodies []map[string]any
	)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var b map[string]any
		raw, _ := io.ReadAll(r.Body)
		if err := json.Unmarshal(raw, &b); err != nil {
			t.Errorf("body is not JSON: %v: %s", err, raw)
		}
		mu.Lock()
		defer mu.Unlock()
		got, bodies = append(got, r), append(bodies, b)
		w.WriteHeader(status)
		_, _ = w.Write([]byte(`{"error":"whatever"}`))
	}))
	defer srv.Close()

	s, err := notify.NewHTTPSMS(srv.URL+"/v1/sms", "X-Api-Key:  k3y",
		`{"recipients":["{{.To}}"],"content":{"text":"{{.Text}}"},"client_ref":"{{.ID}}","sender":"GOV"}`, nil)
	if err != nil {
		t.Fatal(err)
	}
	text := "引號 \"x\" 與\n換行 \\ <b>"
	m := notify.Message{ID: "77", Channel: storage.ChannelSMS, To: "+85366000001", Text: text}
	if err := s.Send(context.Background(), m); err != nil {
		t.Fatalf("Send: %v", err)
	}
	r, b := got[0], bodies[0]
	if r.Method != http.MethodPost || r.URL.Path != "/v1/sms" || r.Header.Get("X-Api-Key") != "k3y" ||
		r.Header.Get("Idempotency-Key") != "77" || r.Header.Get("Content-Type") != "application/json" {
		t.Errorf("request %s %s headers %v", r.Method, r.URL.Path, r.Header)
	}
	if b["client_ref"] != "77" || b["sender"] != "GOV" || b["content"].(map[string]any)["text"] != text ||
		b["recipients"].([]any)[0] != "+85366000001" {
		t.Errorf("body = %v", b)
	}

	for _, c := range []struct {
		status    int
		ok, final bool
	}{
		{http.StatusOK, true, false},
		{http.StatusServiceUnavailable, false, false},
		{http.StatusTooManyRequests, false, false},
		{http.StatusBadRequest, false, true},
		{http.StatusUnauthorized, false, true},
	} {
		mu.Lock()
		status = c.status
		mu.Unlock()
		err := s.Send(context.Background(), m)
		if (err == nil) != c.ok || notify.IsPermanent(err) != c.final {
			t.Errorf("answer %d: err %v (permanent %v)", c.status, err, notify.IsPermanent(err))
		}
	}
	srv.Close()
	if err := s.Send(context.Background(), m); err == nil || notify.IsPermanent(err) {
		t.Errorf("gateway down: %v, want a retryable error", err)
	}

	for _, bad := range []struct{ header, tmpl string }{
		{"no colon", ""}, {"", "{{.Nope}}"}, {"", "{{"},
	} {
		if _, err := notify.NewHTTPSMS("http://127.0.0.1/", bad.header, bad.tmpl, nil); err == nil {
			t.Errorf("accepted header %q template %q", bad.header, bad.tmpl)
		}
	}
	if d, err := notify.NewHTTPSMS("http://127.0.0.1/", "", "", nil); err != nil || d == nil {
		t.Errorf("default template: %v", err)
	}
}

// ---- SMTP against a real server ----

// mailServer is an SMTP server (emersion/go-smtp) requiring AUTH PLAIN, over
// STARTTLS or implicit TLS with a certificate of its own CA.
type mailServer struct {
	addr  string
	roots *x509.CertPool
	mu    sync.Mutex
	mails []receivedMail
}

type receivedMail struct {
	from string
	to   []string
	data string
	tls  bool
}

type mailSession struct {
	srv  *mailServer
	conn *smtp.Conn
	auth bool
	m    receivedMail
}

func (s *mailSession) AuthMechanisms() []string { return []string{sasl.Plain} }
func (s *mailSession) Auth(string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(_, user, pass string) error {
		if user != "idp" || pass != "s3cret" {
			return errors.New("bad credentials")
		}
		s.auth = true
		return nil
	}), nil
}
func (s *mailSession) Mail(from string, _ *smtp.MailOptions) error {
	if !s.auth {
		return smtp.ErrAuthRequired
	}
	s.m.from = from
	return nil
}
func (s *mailSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	if strings.HasPrefix(to, "nobody@") {
		return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "no such user"}
	}
	s.m.to = append(s.m.to, to)
	return nil
}
func (s *mailSession) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	s.m.data = string(b)
	_, s.m.tls = s.conn.TLSConnectionState()
	s.srv.mu.Lock()
	s.srv.mails = append(s.srv.mails, s.m)
	s.srv.mu.Unlock()
	return nil
}
func (s *mailSession) Reset()        { s.m = receivedMail{} }
func (s *mailSession) Logout() error { return nil }

func startMailServer(t *testing.T, implicitTLS bool) *mailServer {
	t.Helper()
	cert, roots := selfSigned(t)
	ms := &mailServer{roots: roots}
	srv := smtp.NewServer(smtp.BackendFunc(func(c *smtp.Conn) (smtp.Session, error) {
		return &mailSession{srv: ms, conn: c}, nil
	}))
	srv.Domain = "localhost"
	srv.TLSConfig = &tls.Config{Certificates: []tls.Certificate{cert}}
	srv.ReadTimeout, srv.WriteTimeout = 10*time.Second, 10*time.Second
	var ln net.Listener
	var err error
	if implicitTLS {
		ln, err = tls.Listen("tcp", "127.0.0.1:0", srv.TLSConfig)
	} else {
		ln, err = net.Listen("tcp", "127.0.0.1:0")
	}
	if err != nil {
		t.Fatal(err)
	}
	ms.addr = ln.Addr().String()
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	return ms
}

// selfSigned makes a CA-less certificate for 127.0.0.1 and a pool trusting it.
func selfSigned(t *testing.T) (tls.Certificate, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "127.0.0.1"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, DNSNames: []string{"localhost"},
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IsCA: true, BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	leaf, _ := x509.ParseCertificate(der)
	pool := x509.NewCertPool()
	pool.AddCert(leaf)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, pool
}

func (ms *mailServer) sender(t *testing.T, mode, password string) *notify.SMTP {
	t.Helper()
	host, port, _ := net.SplitHostPort(ms.addr)
	p := 0
	for _, c := range port {
		p = p*10 + int(c-'0')
	}
	s, err := notify.NewSMTP(notify.SMTPConfig{
		Host: host, Port: p, Username: "idp", Password: password, From: "一戶通 <no-reply@id.example.gov.mo>", TLS: mode,
		TLSConfig: &tls.Config{RootCAs: ms.roots, ServerName: host, MinVersion: tls.VersionTLS12}, Timeout: 10 * time.Second,
	})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestSMTP(t *testing.T) {
	for _, mode := range []string{"starttls", "tls"} {
		t.Run(mode, func(t *testing.T) {
			ms := startMailServer(t, mode == "tls")
			s := ms.sender(t, mode, "s3cret")
			m := notify.Message{ID: "901", Channel: storage.ChannelEmail, To: "holder@example.mo",
				Subject: "工作人員登入號啟動碼（實體編號 02-000123）", Text: "啟動碼：ABCDE-FGHJK\nhttps://id.example.gov.mo/activate/staff"}
			if err := s.Send(context.Background(), m); err != nil {
				t.Fatalf("Send: %v", err)
			}
			ms.mu.Lock()
			defer ms.mu.Unlock()
			if len(ms.mails) != 1 {
				t.Fatalf("server received %d mails", len(ms.mails))
			}
			got := ms.mails[0]
			if !got.tls || got.from != "no-reply@id.example.gov.mo" || len(got.to) != 1 || got.to[0] != "holder@example.mo" {
				t.Errorf("envelope: tls %v from %q to %v", got.tls, got.from, got.to)
			}
			msg, err := mail.ReadMessage(strings.NewReader(got.data))
			if err != nil {
				t.Fatal(err)
			}
			subject, _ := new(mime.WordDecoder).DecodeHeader(msg.Header.Get("Subject"))
			body, _ := io.ReadAll(quotedprintable.NewReader(msg.Body))
			if id := msg.Header.Get("Message-Id"); id != "<outbox-901@id.example.gov.mo>" {
				t.Errorf("Message-ID = %q", id)
			}
			if subject != m.Subject || strings.TrimSpace(strings.ReplaceAll(string(body), "\r\n", "\n")) != m.Text {
				t.Errorf("subject %q body %q", subject, body)
			}
		})
	}

	ms := startMailServer(t, false)
	m := notify.Message{ID: "902", To: "nobody@example.mo", Subject: "s", Text: "t"}
	if err := ms.sender(t, "starttls", "s3cret").Send(context.Background(), m); !notify.IsPermanent(err) {
		t.Errorf("unknown recipient: %v, want a permanent error", err)
	}
	m.To = "holder@example.mo"
	if err := ms.sender(t, "starttls", "wrong").Send(context.Background(), m); err == nil || notify.IsPermanent(err) {
		t.Errorf("bad credentials: %v, want a retryable error (the operator fixes the configuration)", err)
	}
	// STARTTLS is required: a server without it is refused.
	plain := smtp.NewServer(smtp.BackendFunc(func(c *smtp.Conn) (smtp.Session, error) { return &mailSession{srv: ms, conn: c}, nil }))
	plain.AllowInsecureAuth = true
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	go func() { _ = plain.Serve(ln) }()
	defer plain.Close()
	ms2 := &mailServer{addr: ln.Addr().String(), roots: ms.roots}
	if err := ms2.sender(t, "starttls", "s3cret").Send(context.Background(), m); err == nil {
		t.Error("sent without TLS although starttls is required")
	}
	if _, err := notify.NewSMTP(notify.SMTPConfig{Host: "h", From: "a@b", TLS: "maybe"}); err == nil {
		t.Error("unknown TLS mode accepted")
	}
}

// TestSealerOpensEarlierBodies opens an outbox body sealed by an earlier
// release (before the cipher moved to package seal): the sealed form must
// never change, or bodies still in the outbox become unreadable.
func TestSealerOpensEarlierBodies(t *testing.T) {
	s, err := notify.NewSealer(bytes.Repeat([]byte{7}, 32))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := hex.DecodeString("5d9cd3d66c2480ee38558672e753b1ae17bf667f30cae7bacc47c01bce577d362aaa421c365c10c352a9fb02332095b2f3938133e8b350e05a749301f900721839cd068fa0b6aba3e1207de2b700c16b72455056")
	m := storage.OutboxMessage{Channel: storage.ChannelEmail, Recipient: "staff@example.mo", Body: body}
	got, err := s.Open(m)
	if want := (notify.Content{Subject: "啟動碼", Text: "啟動碼：ABCDE-FGHJK"}); err != nil || got != want {
		t.Fatalf("Open = %+v, %v; want %+v", got, err, want)
	}
	m.Recipient = "other@example.mo"
	if _, err := s.Open(m); err == nil {
		t.Error("the earlier body opened for another recipient")
	}
}
