package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"time"
)

// maxBody caps how much of an answer is read; our pages and JSON are far smaller.
const maxBody = 1 << 20

// newTransport returns a keep-alive transport for up to conns connections to
// the provider. HTTP/1.1 like most browsers' first visit; no compression, so
// neither side spends CPU on it.
func newTransport(conns int) *http.Transport {
	return &http.Transport{
		Proxy:               nil,
		DialContext:         (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:        conns,
		MaxIdleConnsPerHost: conns,
		IdleConnTimeout:     90 * time.Second,
		DisableCompression:  true,
		ForceAttemptHTTP2:   false,
	}
}

// browser is one user agent: an HTTP client that does not follow redirects
// (each hop is checked and timed as part of the flow) and, for browser
// journeys, a cookie jar of its own. It refuses any URL off loopback.
type browser struct {
	hc       *http.Client
	requests *int // counts requests sent, for req/s; shared by a worker's browsers
}

func newBrowser(tr http.RoundTripper, timeout time.Duration, withJar bool, requests *int) *browser {
	hc := &http.Client{
		Transport:     tr,
		Timeout:       timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	if withJar {
		hc.Jar, _ = cookiejar.New(nil) // never fails without options
	}
	return &browser{hc: hc, requests: requests}
}

// response is an answer with its body read.
type response struct {
	status int
	header http.Header
	body   []byte
	url    *url.URL
}

// location is the resolved redirect target of a 302/303, or "".
func (r *response) location() string {
	if r.status != http.StatusFound && r.status != http.StatusSeeOther {
		return ""
	}
	u, err := r.url.Parse(r.header.Get("Location"))
	if err != nil {
		return ""
	}
	return u.String()
}

func (r *response) isRefusal() bool {
	return (r.status == http.StatusTooManyRequests || r.status == http.StatusServiceUnavailable) &&
		r.header.Get("Retry-After") != ""
}

// oauthError is the "error" member of a JSON error answer, or "".
func (r *response) oauthError() string {
	if !strings.HasPrefix(r.header.Get("Content-Type"), "application/json") {
		return ""
	}
	var e struct {
		Error string `json:"error"`
	}
	_ = json.Unmarshal(r.body, &e)
	return e.Error
}

func (b *browser) do(req *http.Request) (*response, error) {
	if err := onLoopback(req.URL); err != nil {
		return nil, err
	}
	*b.requests++
	resp, err := b.hc.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		return nil, err
	}
	return &response{status: resp.StatusCode, header: resp.Header, body: body, url: resp.Request.URL}, nil
}

func (b *browser) get(ctx context.Context, u string, header http.Header) (*response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	for k, v := range header {
		req.Header[k] = v
	}
	return b.do(req)
}

func (b *browser) post(ctx context.Context, u string, form url.Values, header http.Header) (*response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, strings.NewReader(form.Encode()))
	if err != nil {
		return nil, err
	}
	for k, v := range header {
		req.Header[k] = v
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return b.do(req)
}

// onLoopback refuses any target but this machine: the bench generates load
// and must never send it elsewhere.
func onLoopback(u *url.URL) error {
	h := u.Hostname()
	if h == "localhost" {
		return nil
	}
	if ip := net.ParseIP(h); ip != nil && ip.IsLoopback() {
		return nil
	}
	return &failure{kind: "protocol", detail: fmt.Sprintf("refusing to send a request off loopback: %s", u.Redacted())}
}
