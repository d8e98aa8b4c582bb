package config_test

import (
	"strings"
	"testing"
	"time"
)

func TestActivationDefaults(t *testing.T) {
	c, err := load(nil)
	if err != nil {
		t.Fatal(err)
	}
	a := c.Activation
	if a.CodeTTL != 336*time.Hour || a.MaxAttempts != 5 || a.SMSSender != "console" || a.EmailSender != "console" ||
		a.SMTPTLS != "starttls" || a.ResendLimit != 3 || a.ResendWindow != time.Hour || a.OutboxPoll != 2*time.Second {
		t.Fatalf("activation defaults: %+v", a)
	}
}

func TestActivationSenders(t *testing.T) {
	c, err := load(map[string]string{
		"IDP_SMS_SENDER": "http", "IDP_SMS_URL": "https://sms.example.mo/send", "IDP_SMS_AUTH_HEADER": "Authorization: Bearer x",
		"IDP_SMS_BODY_TEMPLATE": `{"to":"{{.To}}","text":"{{.Text}}","id":"{{.ID}}"}`,
		"IDP_EMAIL_SENDER":      "smtp", "IDP_SMTP_HOST": "smtp.example.mo", "IDP_SMTP_FROM": "no-reply@example.mo", "IDP_SMTP_TLS": "tls",
		"IDP_ACTIVATION_CODE_TTL": "72h", "IDP_ACTIVATION_MAX_ATTEMPTS": "3",
	})
	if err != nil {
		t.Fatal(err)
	}
	if a := c.Activation; a.SMSURL != "https://sms.example.mo/send" || a.SMTPTLS != "tls" || a.CodeTTL != 72*time.Hour || a.MaxAttempts != 3 {
		t.Fatalf("%+v", a)
	}
	if _, err := load(map[string]string{"IDP_SMS_SENDER": "http", "IDP_SMS_URL": "http://127.0.0.1:9000/sms"}); err != nil {
		t.Errorf("http gateway on loopback refused: %v", err)
	}

	_, err = load(map[string]string{
		"IDP_SMS_SENDER": "http", "IDP_SMS_URL": "http://sms.example.mo/send", "IDP_SMS_AUTH_HEADER": "Bearer x",
		"IDP_SMS_BODY_TEMPLATE": "{{.Phone}}", "IDP_EMAIL_SENDER": "smtp", "IDP_SMTP_TLS": "maybe",
		"IDP_ACTIVATION_CODE_TTL": "two weeks", "IDP_ACTIVATION_MAX_ATTEMPTS": "0",
	})
	if err == nil {
		t.Fatal("bad activation configuration accepted")
	}
	for _, name := range []string{"IDP_SMS_URL", "IDP_SMS_AUTH_HEADER", "IDP_SMS_BODY_TEMPLATE", "IDP_SMTP_HOST", "IDP_SMTP_FROM",
		"IDP_SMTP_TLS", "IDP_ACTIVATION_CODE_TTL", "IDP_ACTIVATION_MAX_ATTEMPTS"} {
		if !strings.Contains(err.Error(), name) {
			t.Errorf("error does not name %s:\n%v", name, err)
		}
	}
	if _, err := load(map[string]string{"IDP_SMS_SENDER": "pigeon", "IDP_EMAIL_SENDER": "fax"}); err == nil ||
		!strings.Contains(err.Error(), "IDP_SMS_SENDER") || !strings.Contains(err.Error(), "IDP_EMAIL_SENDER") {
		t.Errorf("unknown senders: %v", err)
	}
}

func TestResetCodeTTL(t *testing.T) {
	c, err := load(nil)
	if err != nil || c.Activation.ResetCodeTTL != 15*time.Minute {
		t.Fatalf("default IDP_RESET_CODE_TTL: %v, %v", c.Activation.ResetCodeTTL, err)
	}
	if c, err := load(map[string]string{"IDP_RESET_CODE_TTL": "30m"}); err != nil || c.Activation.ResetCodeTTL != 30*time.Minute {
		t.Fatalf("IDP_RESET_CODE_TTL=30m: %v", err)
	}
	for _, bad := range []string{"0", "30s", "48h", "soon", "-5m"} {
		if _, err := load(map[string]string{"IDP_RESET_CODE_TTL": bad}); err == nil || !strings.Contains(err.Error(), "IDP_RESET_CODE_TTL") {
			t.Errorf("IDP_RESET_CODE_TTL=%s: %v", bad, err)
		}
	}
}
