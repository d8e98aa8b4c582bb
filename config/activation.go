package config

import (
	"io"
	"net"
	"net/url"
	"strings"
	"text/template"
	"time"
)

// Activation configures activation codes and the delivery of the messages
// that carry them.
type Activation struct {
	CodeTTL          time.Duration // IDP_ACTIVATION_CODE_TTL: life of an activation code
	MaxAttempts      int           // IDP_ACTIVATION_MAX_ATTEMPTS: wrong tries before a code is void
	ResendLimit      int           // IDP_RESEND_LIMIT: resend requests per (entity, registration facts) per window
	ResendLimitPerIP int           // IDP_RESEND_LIMIT_PER_IP: resend requests per client IP per window
	ResendWindow     time.Duration // IDP_RESEND_WINDOW
	ResetCodeTTL     time.Duration // IDP_RESET_CODE_TTL: life of a password reset code (忘記密碼, 重設密碼)
	OutboxPoll       time.Duration // IDP_OUTBOX_POLL: how often a node looks for messages to deliver

	SMSSender       string // IDP_SMS_SENDER: console (logs the SMS; development) or http
	SMSURL          string // IDP_SMS_URL: the gateway's endpoint (http sender)
	SMSAuthHeader   string // IDP_SMS_AUTH_HEADER: "Name: value", e.g. "Authorization: Bearer …"
	SMSBodyTemplate string // IDP_SMS_BODY_TEMPLATE: text/template of the JSON body; .To .Text .ID are JSON-escaped

	EmailSender  string // IDP_EMAIL_SENDER: console or smtp
	SMTPHost     string // IDP_SMTP_HOST
	SMTPPort     int    // IDP_SMTP_PORT: 0 = by IDP_SMTP_TLS (587, 465 or 25)
	SMTPUsername string // IDP_SMTP_USERNAME: empty = no authentication
	SMTPPassword string // IDP_SMTP_PASSWORD
	SMTPFrom     string // IDP_SMTP_FROM: From address
	SMTPTLS      string // IDP_SMTP_TLS: starttls (required), tls (implicit) or none
}

// activation reads and checks the Activation variables.
func (r *reader) activation() Activation {
	a := Activation{
		CodeTTL:          r.duration("IDP_ACTIVATION_CODE_TTL", 14*24*time.Hour),
		MaxAttempts:      r.integer("IDP_ACTIVATION_MAX_ATTEMPTS", 5, 1, 100),
		ResendLimit:      r.integer("IDP_RESEND_LIMIT", 3, 1, 1000),
		ResendLimitPerIP: r.integer("IDP_RESEND_LIMIT_PER_IP", 20, 1, 1_000_000),
		ResendWindow:     r.duration("IDP_RESEND_WINDOW", time.Hour),
		ResetCodeTTL:     r.duration("IDP_RESET_CODE_TTL", 15*time.Minute),
		OutboxPoll:       r.duration("IDP_OUTBOX_POLL", 2*time.Second),
		SMSSender:        r.str("IDP_SMS_SENDER", "console"),
		SMSURL:           r.str("IDP_SMS_URL", ""),
		SMSAuthHeader:    r.str("IDP_SMS_AUTH_HEADER", ""),
		SMSBodyTemplate:  r.str("IDP_SMS_BODY_TEMPLATE", ""),
		EmailSender:      r.str("IDP_EMAIL_SENDER", "console"),
		SMTPHost:         r.str("IDP_SMTP_HOST", ""),
		SMTPPort:         r.integer("IDP_SMTP_PORT", 0, 1, 65535),
		SMTPUsername:     r.str("IDP_SMTP_USERNAME", ""),
		SMTPPassword:     r.str("IDP_SMTP_PASSWORD", ""),
		SMTPFrom:         r.str("IDP_SMTP_FROM", ""),
		SMTPTLS:          r.str("IDP_SMTP_TLS", "starttls"),
	}
	for name, d := range map[string]time.Duration{
		"IDP_ACTIVATION_CODE_TTL": a.CodeTTL, "IDP_RESEND_WINDOW": a.ResendWindow, "IDP_OUTBOX_POLL": a.OutboxPoll,
	} {
		r.check(d > 0, name, "must be a positive duration, e.g. 336h")
	}
	// A reset code is a key to an activated login: short-lived, but long
	// enough for an SMS to arrive and be typed.
	r.check(a.ResetCodeTTL >= time.Minute && a.ResetCodeTTL <= 24*time.Hour, "IDP_RESET_CODE_TTL",
		"must be a duration from 1m to 24h, e.g. 15m")

	switch a.SMSSender {
	case "console":
	case "http":
		r.check(secureOrLoopback(a.SMSURL), "IDP_SMS_URL", "must be the gateway's https URL (http only on loopback) when IDP_SMS_SENDER=http")
	default:
		r.fail("IDP_SMS_SENDER", "must be console or http")
	}
	if h := a.SMSAuthHeader; h != "" {
		name, _, ok := strings.Cut(h, ":")
		r.check(ok && strings.TrimSpace(name) != "" && !strings.ContainsAny(name, " \t"), "IDP_SMS_AUTH_HEADER",
			`must be "Name: value", e.g. "Authorization: Bearer token"`)
	}
	if a.SMSBodyTemplate != "" {
		tmpl, err := template.New("sms").Option("missingkey=error").Parse(a.SMSBodyTemplate)
		if err == nil {
			err = tmpl.Execute(io.Discard, struct{ To, Text, ID string }{})
		}
		if err != nil {
			r.fail("IDP_SMS_BODY_TEMPLATE", "must be a text/template using .To, .Text and .ID: "+err.Error())
		}
	}

	switch a.EmailSender {
	case "console":
	case "smtp":
		r.check(a.SMTPHost != "", "IDP_SMTP_HOST", "is required when IDP_EMAIL_SENDER=smtp")
		r.check(strings.Contains(a.SMTPFrom, "@"), "IDP_SMTP_FROM", "must be an e-mail address when IDP_EMAIL_SENDER=smtp")
	default:
		r.fail("IDP_EMAIL_SENDER", "must be console or smtp")
	}
	r.check(a.SMTPTLS == "starttls" || a.SMTPTLS == "tls" || a.SMTPTLS == "none", "IDP_SMTP_TLS", "must be starttls, tls or none")
	return a
}

// secureOrLoopback reports whether s is an https URL, or an http URL on a loopback host.
func secureOrLoopback(s string) bool {
	u, err := url.Parse(s)
	if err != nil || u.Host == "" {
		return false
	}
	switch u.Scheme {
	case "https":
		return true
	case "http":
		ip := net.ParseIP(u.Hostname())
		return u.Hostname() == "localhost" || ip != nil && ip.IsLoopback()
	}
	return false
}
