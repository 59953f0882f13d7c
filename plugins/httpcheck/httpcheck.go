// Package httpcheck is the runbook plugin "http": one HTTP request whose
// answer must have the expected status and body, for the health checks a
// DR runbook makes after a restore, a restart or a failover.
//
// A mismatch is a retryable failure, as are a refused connection, a
// timeout and a name that does not resolve: a service coming back answers
// 503 for a while, and the step's retry polls until it answers 200.
// Request header values are declared secret, so the SDK masks them.
package httpcheck

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/alpha-orion/runbook/engine/catalog"
	"github.com/alpha-orion/runbook/plugins/sdk"
)

// Plugin is the http plugin.
type Plugin struct {
	sdk.Base

	mu       sync.RWMutex
	base     *url.URL
	timeout  time.Duration
	follow   *http.Client
	noFollow *http.Client
}

// New returns the http plugin.
func New() sdk.Plugin {
	p := &Plugin{}
	_ = p.Configure(context.Background(), nil)
	return p
}

// Spec returns the plugin's catalogue entry.
func (*Plugin) Spec() catalog.Plugin { return Spec }

// Configure keeps the base URL and timeout and builds the HTTP clients.
func (p *Plugin) Configure(_ context.Context, cfg map[string]any) error {
	var base *url.URL
	if s, _ := cfg["base_url"].(string); s != "" {
		u, err := url.Parse(s)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return sdk.BadInput("http: base_url %q is not an http(s) URL", redactURL(s))
		}
		base = u
	}
	timeout := DefaultTimeout
	if d, ok := cfg["timeout"].(time.Duration); ok {
		if d <= 0 {
			return sdk.BadInput("http: timeout must be positive, got %s", d)
		}
		timeout = d
	}
	insecure, _ := cfg["tls_insecure_skip_verify"].(bool)
	tr := http.DefaultTransport.(*http.Transport).Clone()
	if insecure {
		tr.TLSClientConfig = &tls.Config{InsecureSkipVerify: true} //nolint:gosec // asked for, for drills
	}
	follow := &http.Client{Transport: tr, CheckRedirect: func(req *http.Request, via []*http.Request) error {
		if len(via) >= maxRedirects {
			return fmt.Errorf("stopped after %d redirects", maxRedirects)
		}
		return nil
	}}
	noFollow := &http.Client{Transport: tr, CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}}
	p.mu.Lock()
	p.base, p.timeout, p.follow, p.noFollow = base, timeout, follow, noFollow
	p.mu.Unlock()
	return nil
}

// Plan says which request the step would send.
func (p *Plugin) Plan(_ context.Context, req sdk.Request) (sdk.Plan, error) {
	c, err := p.check(req)
	if err != nil {
		return sdk.Plan{}, err
	}
	return sdk.Plan{Summary: fmt.Sprintf("would send %s and expect %s", c.what(), c.status)}, nil
}

// Execute sends the request and checks the answer.
func (p *Plugin) Execute(ctx context.Context, req sdk.Request, log sdk.Logger) (map[string]any, error) {
	if req.Action != "check" {
		return nil, sdk.Errorf(sdk.KindUnimplemented, "http: no action %q", req.Action)
	}
	c, err := p.check(req)
	if err != nil {
		return nil, err
	}
	res, err := c.do(ctx)
	if err != nil {
		return nil, err
	}
	log.Printf("%s: %d in %s (%d bytes)", c.what(), res.status, res.latency.Round(time.Millisecond), res.size)
	if err := c.verify(res); err != nil {
		return nil, err
	}
	return map[string]any{
		"status":    res.status,
		"body":      string(res.body),
		"truncated": res.truncated,
		"latency":   res.latency,
		"headers":   res.headers,
	}, nil
}

// check is one request and what its answer must be, from a step's inputs.
type check struct {
	client  *http.Client
	method  string
	url     *url.URL
	headers map[string]string
	body    string
	timeout time.Duration
	status  statusSet
	substr  string
	re      *regexp.Regexp
}

func (p *Plugin) check(req sdk.Request) (*check, error) {
	in := req.Inputs
	p.mu.RLock()
	base, timeout, client := p.base, p.timeout, p.follow
	if f, ok := in["follow_redirects"].(bool); ok && !f {
		client = p.noFollow
	}
	p.mu.RUnlock()
	c := &check{client: client, timeout: timeout, method: http.MethodGet}
	if m := strings.TrimSpace(str(in["method"])); m != "" {
		c.method = strings.ToUpper(m)
		if strings.ContainsAny(c.method, " \t\r\n") {
			return nil, sdk.BadInput("http: method %q is not an HTTP method", m)
		}
	}
	u, err := resolve(base, str(in["url"]))
	if err != nil {
		return nil, err
	}
	c.url = u
	if h, ok := in["headers"].(map[string]any); ok {
		c.headers = map[string]string{}
		for k, v := range h {
			c.headers[k] = fmt.Sprint(v)
		}
	}
	c.body = str(in["body"])
	if d, ok := in["timeout"].(time.Duration); ok {
		if d <= 0 {
			return nil, sdk.BadInput("http: timeout must be positive, got %s", d)
		}
		c.timeout = d
	}
	if c.status, err = parseStatus(in["expect_status"]); err != nil {
		return nil, sdk.BadInput("http: expect_status: %v", err)
	}
	c.substr = str(in["expect_body"])
	if r := str(in["expect_body_regex"]); r != "" {
		if c.re, err = regexp.Compile(r); err != nil {
			return nil, sdk.BadInput("http: expect_body_regex: %v", err)
		}
	}
	return c, nil
}

// resolve makes raw absolute against base and checks it is http(s).
func resolve(base *url.URL, raw string) (*url.URL, error) {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil {
		return nil, sdk.BadInput("http: url %q: %v", redactURL(raw), errors.Unwrap(err))
	}
	if !u.IsAbs() {
		if base == nil {
			return nil, sdk.BadInput("http: url %q is relative and no base_url is configured", redactURL(raw))
		}
		u = base.ResolveReference(u)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, sdk.BadInput("http: url %q is not an http(s) URL", u.Redacted())
	}
	return u, nil
}

// what names the request in messages: method and URL, password redacted.
func (c *check) what() string { return c.method + " " + c.url.Redacted() }

// response is what came back.
type response struct {
	status    int
	body      []byte
	size      int
	truncated bool
	latency   time.Duration
	headers   map[string]any
}

// do sends the request and reads up to MaxBody bytes of the answer.
func (c *check) do(parent context.Context) (*response, error) {
	ctx, cancel := context.WithTimeout(parent, c.timeout)
	defer cancel()
	var body io.Reader
	if c.body != "" {
		body = strings.NewReader(c.body)
	}
	req, err := http.NewRequestWithContext(ctx, c.method, c.url.String(), body)
	if err != nil {
		return nil, sdk.BadInput("http: %s: %v", c.what(), errors.Unwrap(err))
	}
	for k, v := range c.headers {
		if strings.EqualFold(k, "Host") {
			req.Host = v
			continue
		}
		req.Header.Set(k, v)
	}
	start := time.Now()
	resp, err := c.client.Do(req)
	if err != nil {
		return nil, c.sendError(parent, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, MaxBody+1))
	if err != nil {
		return nil, c.sendError(parent, err)
	}
	res := &response{status: resp.StatusCode, latency: time.Since(start), size: len(b), headers: headerMap(resp.Header)}
	if len(b) > MaxBody {
		b, res.truncated = b[:MaxBody], true
	}
	res.body = b
	return res, nil
}

// sendError classifies a request that got no answer.
func (c *check) sendError(parent context.Context, err error) error {
	if perr := parent.Err(); perr != nil {
		return perr // the step was cancelled or ran out of time
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err // its text repeats the URL, password included
	}
	var unknown x509.UnknownAuthorityError
	var invalid x509.CertificateInvalidError
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		return sdk.Retryable(fmt.Errorf("http: %s: no answer within %s", c.what(), c.timeout))
	case errors.As(err, &unknown), errors.As(err, &invalid):
		return sdk.Permanent(fmt.Errorf("http: %s: %v (tls_insecure_skip_verify accepts it, for drills only)", c.what(), err))
	}
	return sdk.Retryable(fmt.Errorf("http: %s: %v", c.what(), err))
}

// verify checks the answer against the expectations.
func (c *check) verify(res *response) error {
	var why string
	switch {
	case !c.status.has(res.status):
		why = fmt.Sprintf("expected status %s, got %d", c.status, res.status)
	case c.substr != "" && !strings.Contains(string(res.body), c.substr):
		why = fmt.Sprintf("expected the body to contain %q", c.substr)
	case c.re != nil && !c.re.Match(res.body):
		why = fmt.Sprintf("expected the body to match /%s/", c.re)
	default:
		return nil
	}
	return sdk.Retryable(fmt.Errorf("http: %s from %s (status %d, body: %s)", why, c.what(), res.status, excerpt(res.body)))
}

// excerpt quotes the start of a body on one line.
func excerpt(b []byte) string {
	s := strings.Join(strings.Fields(string(b)), " ")
	if len(s) > excerptLen {
		return strconv.Quote(s[:excerptLen]) + "…"
	}
	return strconv.Quote(s)
}

// hidden are response headers whose values never reach the outputs.
var hidden = map[string]bool{"Set-Cookie": true, "Authorization": true, "Proxy-Authorization": true, "Cookie": true}

func headerMap(h http.Header) map[string]any {
	out := make(map[string]any, len(h))
	for k, vs := range h {
		if hidden[k] {
			out[k] = "***"
			continue
		}
		out[k] = strings.Join(vs, ", ")
	}
	return out
}

// redactURL hides a password in a URL that may not parse.
func redactURL(s string) string {
	if u, err := url.Parse(s); err == nil {
		return u.Redacted()
	}
	if i := strings.LastIndex(s, "@"); i >= 0 {
		if j := strings.Index(s, "://"); j >= 0 && j < i {
			return s[:j+3] + "***" + s[i:]
		}
	}
	return s
}

func str(v any) string {
	s, _ := v.(string)
	return s
}
