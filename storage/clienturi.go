package storage

import (
	"net"
	"net/url"
	"strings"
)

// The rule for a client's addresses: where the provider sends a browser
// (redirect URIs, post-logout redirect URIs) or a logout token (the
// back-channel logout URI). It is checked when a client is registered, so
// that the operator learns at once what the protocol engine would refuse
// later, and so that no stored address can carry a browser elsewhere.

// ForbiddenURIPart names what an address may never hold (RFC 6749 §3.1.2):
// a fragment ("#", even an empty one), or userinfo ("user@host"), which
// makes an address look like it leads to one host while it leads to another
// and which browsers strip or warn about. "" when there is neither; an
// address that cannot be parsed at all is "unparsable".
func ForbiddenURIPart(raw string) string {
	if strings.Contains(raw, "#") {
		return "a fragment"
	}
	u, err := url.Parse(raw)
	if err != nil {
		return "unparsable"
	}
	if u.User != nil {
		return "userinfo"
	}
	return ""
}

// IsLoopbackHost reports whether host (without a port) names this machine:
// localhost or a loopback IP address.
func IsLoopbackHost(host string) bool {
	return host == "localhost" || net.ParseIP(host).IsLoopback()
}

// CheckClientURI checks one of a client's addresses; what names it in the
// error ("redirect URI"). An address must be absolute, without a fragment or
// userinfo, and https, or http on a loopback host (a native app's local
// listener, RFC 8252 §7.3; its port may vary at run time and is not part of
// the match). native allows a native app's private-use scheme in reverse
// DNS form (RFC 8252 §7.1, "mo.gov.app:/cb"). The error is EInvalid.
func CheckClientURI(what, raw string, native bool) error {
	invalid := func(format string, args ...any) error {
		e := Errorf(EInvalid, format, args...)
		e.Err = ErrInvalid
		return e
	}
	if !CleanText(raw, 2048) {
		return invalid("%s must be at most 2048 characters of text", what)
	}
	switch part := ForbiddenURIPart(raw); part {
	case "":
	case "unparsable":
		return invalid("%s %q is not a URI", what, raw)
	default:
		return invalid("%s %q must have no %s", what, raw, strings.TrimPrefix(part, "a "))
	}
	u, _ := url.Parse(raw)
	switch {
	case u.Scheme == "":
		return invalid("%s %q must be absolute", what, raw)
	case u.Scheme == "https" && u.Host != "":
	case u.Scheme == "http" && u.Host != "" && IsLoopbackHost(u.Hostname()):
	case native && u.Scheme != "http" && u.Scheme != "https" && u.Host == "" && strings.Contains(u.Scheme, "."):
		// private-use scheme of a native app, reverse DNS (RFC 8252 §7.1)
	case native:
		return invalid("%s %q: use https (http only on loopback; native apps may use a reverse-DNS scheme)", what, raw)
	default:
		return invalid("%s %q: use https (http only on loopback)", what, raw)
	}
	return nil
}

// CheckClientAddresses checks every address of a client as CheckClientURI
// does: a native (public) client may use a private-use scheme for its
// redirect and post-logout redirect URIs; the back-channel logout URI is
// called by the provider itself, over https (http only on loopback).
func CheckClientAddresses(c *Client) error {
	native := c.Public || c.Kind == ClientNative
	for _, u := range c.RedirectURIs {
		if err := CheckClientURI("redirect URI", u, native); err != nil {
			return err
		}
	}
	for _, u := range c.PostLogoutRedirectURIs {
		if err := CheckClientURI("post-logout redirect URI", u, native); err != nil {
			return err
		}
	}
	if c.BackchannelLogoutURI != "" {
		return CheckClientURI("back-channel logout URI", c.BackchannelLogoutURI, false)
	}
	return nil
}
