// Package redis is the runbook plugin "redis", for the DR plan's cache row
// (Upstash Redis: "re-hydration from DB; non-critical data flushed"): it
// pings the server, reads keys, deletes keys by pattern with SCAN and
// UNLINK, and writes keys from database rows. It talks to the server with
// github.com/redis/go-redis/v9; Upstash's rediss:// URLs select TLS.
//
// The url setting is secret: errors name the server by host:port only.
// Refused connections, timeouts and a server that is loading or read-only
// are retryable; a wrong password is Unauthenticated.
package redis

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/alpha-orion/runbook/engine/catalog"
	"github.com/alpha-orion/runbook/plugins/sdk"
	goredis "github.com/redis/go-redis/v9"
	"github.com/redis/go-redis/v9/maintnotifications"
)

// Plugin is the redis plugin.
type Plugin struct {
	sdk.Base

	mu       sync.RWMutex
	client   *goredis.Client
	addr     string // host:port, for messages
	password string // scrubbed from every error, should a server echo it
}

// New returns the redis plugin.
func New() sdk.Plugin { return &Plugin{} }

// Spec returns the plugin's catalogue entry.
func (*Plugin) Spec() catalog.Plugin { return Spec }

// Configure parses the URL and makes the client; it connects on first use.
func (p *Plugin) Configure(_ context.Context, cfg map[string]any) error {
	raw, _ := cfg["url"].(string)
	opts, err := parseURL(raw)
	if err != nil {
		return err
	}
	timeout := DefaultTimeout
	if d, ok := cfg["timeout"].(time.Duration); ok {
		if d <= 0 {
			return sdk.BadInput("redis: timeout must be positive, got %s", d)
		}
		timeout = d
	}
	if insecure, _ := cfg["tls_insecure_skip_verify"].(bool); insecure {
		if opts.TLSConfig == nil {
			return sdk.BadInput("redis: tls_insecure_skip_verify needs a rediss:// url")
		}
		opts.TLSConfig.InsecureSkipVerify = true //nolint:gosec // asked for, for drills
	}
	opts.DialTimeout, opts.ReadTimeout, opts.WriteTimeout = timeout, timeout, timeout
	opts.ContextTimeoutEnabled = true
	opts.MaxRetries = 1
	opts.DisableIdentity = true // Upstash and older servers lack CLIENT SETINFO
	opts.MaintNotificationsConfig = &maintnotifications.Config{Mode: maintnotifications.ModeDisabled}
	client := goredis.NewClient(opts)
	p.mu.Lock()
	old := p.client
	p.client, p.addr, p.password = client, opts.Addr, opts.Password
	p.mu.Unlock()
	if old != nil {
		_ = old.Close()
	}
	return nil
}

// parseURL checks a redis:// or rediss:// URL without ever quoting it: it
// holds the password.
func parseURL(raw string) (*goredis.Options, error) {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil || (u.Scheme != "redis" && u.Scheme != "rediss") || u.Host == "" {
		return nil, sdk.BadInput("redis: url must be redis://[user:password@]host:port[/db] or rediss://… (TLS)")
	}
	opts, err := goredis.ParseURL(u.String())
	if err != nil {
		return nil, sdk.BadInput("redis: url of %s: %v", u.Host, err)
	}
	return opts, nil
}

// conn returns the client and the server's address.
func (p *Plugin) conn() (*goredis.Client, string, error) {
	p.mu.RLock()
	defer p.mu.RUnlock()
	if p.client == nil {
		return nil, "", sdk.BadInput("redis: no url configured")
	}
	return p.client, p.addr, nil
}

// newSession starts a step's use of the server.
func (p *Plugin) newSession(log sdk.Logger) (*session, error) {
	c, addr, err := p.conn()
	if err != nil {
		return nil, err
	}
	p.mu.RLock()
	defer p.mu.RUnlock()
	return &session{c: c, addr: addr, password: p.password, log: log}, nil
}

// Plan says what a step would do; for delete_pattern it counts the keys,
// which only reads.
func (p *Plugin) Plan(ctx context.Context, req sdk.Request) (sdk.Plan, error) {
	_, addr, err := p.conn()
	if err != nil {
		return sdk.Plan{}, err
	}
	switch req.Action {
	case "ping":
		return sdk.Plan{Summary: "would ping " + addr}, nil
	case "get":
		return sdk.Plan{Summary: fmt.Sprintf("would read %s on %s", req.Inputs["key"], addr)}, nil
	case "delete_pattern":
		return p.planDelete(ctx, req, addr)
	case "set_from_rows":
		return p.planSet(req, addr)
	}
	return sdk.Plan{}, sdk.Errorf(sdk.KindUnimplemented, "redis: no action %q", req.Action)
}

// Execute runs the named action.
func (p *Plugin) Execute(ctx context.Context, req sdk.Request, log sdk.Logger) (map[string]any, error) {
	s, err := p.newSession(log)
	if err != nil {
		return nil, err
	}
	switch req.Action {
	case "ping":
		return s.ping(ctx)
	case "get":
		return s.get(ctx, req.Inputs)
	case "delete_pattern":
		return s.deletePattern(ctx, req.Inputs)
	case "set_from_rows":
		return s.setFromRows(ctx, req.Inputs)
	}
	return nil, sdk.Errorf(sdk.KindUnimplemented, "redis: no action %q", req.Action)
}

// session is one step's use of the server.
type session struct {
	c        *goredis.Client
	addr     string
	password string
	log      sdk.Logger
}

// fail classifies a failed command: op says what was being done.
func (s *session) fail(ctx context.Context, op string, err error) error {
	if ctxErr := ctx.Err(); ctxErr != nil {
		return ctxErr // the step was cancelled or ran out of time
	}
	cause := err.Error()
	if len(s.password) >= 4 {
		cause = strings.ReplaceAll(cause, s.password, "***")
	}
	msg := fmt.Errorf("redis: %s on %s: %s", op, s.addr, cause)
	var rerr goredis.Error
	if errors.As(err, &rerr) {
		return serverError(msg, cause)
	}
	var unknown x509.UnknownAuthorityError
	var invalid x509.CertificateInvalidError
	var hostname x509.HostnameError
	var recordErr tls.RecordHeaderError
	switch {
	case errors.As(err, &unknown), errors.As(err, &invalid), errors.As(err, &hostname):
		return sdk.Permanent(fmt.Errorf("%w (tls_insecure_skip_verify accepts it, for drills only)", msg))
	case errors.As(err, &recordErr):
		return sdk.Permanent(fmt.Errorf("%w (a rediss:// url to a server without TLS?)", msg))
	case errors.Is(err, syscall.ECONNREFUSED), errors.Is(err, syscall.ECONNRESET), errors.Is(err, io.EOF),
		errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, context.DeadlineExceeded), errors.Is(err, goredis.ErrPoolTimeout):
		return sdk.Retryable(msg)
	}
	var nerr net.Error
	if errors.As(err, &nerr) {
		return sdk.Retryable(msg)
	}
	return msg // unclassified: KindUnknown, which the engine retries
}

// serverError classifies an error reply by its code.
func serverError(msg error, reply string) error {
	code, _, _ := strings.Cut(reply, " ")
	switch code {
	case "WRONGPASS", "NOAUTH":
		return sdk.WithKind(sdk.KindUnauthenticated, msg)
	case "NOPERM":
		return sdk.WithKind(sdk.KindPermissionDenied, msg)
	case "LOADING", "BUSY", "TRYAGAIN", "MASTERDOWN", "READONLY", "CLUSTERDOWN", "MOVED", "ASK":
		return sdk.Retryable(msg)
	case "ERR":
		if strings.Contains(reply, "AUTH") || strings.Contains(reply, "password") {
			return sdk.WithKind(sdk.KindUnauthenticated, msg)
		}
	}
	return sdk.Permanent(msg)
}
