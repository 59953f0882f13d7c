// Package neon is the runbook plugin for Neon serverless Postgres (API v2):
// point-in-time restore of a branch with its old state kept under a new name,
// waiting for operations, reading branches and getting connection URIs.
//
// It talks to the API with a small typed client (Client) that retries what
// Neon documents as transient (423 while another operation runs, 429, 5xx,
// network failures) with capped exponential backoff, then gives up with a
// retryable error so the step's retry policy takes over. The base URL is a
// setting, so `runbook drill` and the tests point it at neonemu.
//
// restore_branch is destructive and not idempotent, yet safe to repeat with
// the same idempotency key: the name that keeps the old state is derived
// from the key, and a branch of that name that Neon marks as the old state
// of the target (restored_as) proves the restore happened, so neither a
// retry nor Reconcile after a crash restores twice.
package neon

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/alpha-orion/runbook/engine/catalog"
	"github.com/alpha-orion/runbook/plugins/sdk"
)

// Plugin is the neon plugin.
type Plugin struct {
	sdk.Base

	mu  sync.RWMutex
	cfg config
}

// config is the plugin's configuration with defaults applied.
type config struct {
	projectID      string
	apiKey         string
	baseURL        string
	database       string
	role           string
	retries        int
	retryDelay     time.Duration
	pollInterval   time.Duration
	requestTimeout time.Duration
}

// New returns an unconfigured neon plugin.
func New() sdk.Plugin { return &Plugin{} }

// Spec returns the plugin's catalogue entry.
func (*Plugin) Spec() catalog.Plugin { return Spec }

// httpClient is shared by every call; requests carry their own timeouts.
var httpClient = &http.Client{}

// Configure checks and keeps the configuration.
func (p *Plugin) Configure(_ context.Context, m map[string]any) error {
	c := config{
		baseURL: DefaultBaseURL, database: DefaultDatabase, role: DefaultRole, retries: DefaultRetries,
		retryDelay: DefaultRetryDelay, pollInterval: DefaultPollInterval, requestTimeout: DefaultRequestTimeout,
	}
	c.projectID, _ = m["project_id"].(string)
	c.apiKey, _ = m["api_key"].(string)
	setString(&c.baseURL, m, "base_url")
	setString(&c.database, m, "database_name")
	setString(&c.role, m, "role_name")
	if v, ok := m["retries"].(int); ok {
		c.retries = v
	}
	setDuration(&c.retryDelay, m, "retry_delay")
	setDuration(&c.pollInterval, m, "poll_interval")
	setDuration(&c.requestTimeout, m, "request_timeout")
	c.baseURL = strings.TrimRight(c.baseURL, "/")
	switch {
	case strings.TrimSpace(c.projectID) == "":
		return sdk.BadInput("neon: configure: project_id is empty")
	case strings.TrimSpace(c.apiKey) == "":
		return sdk.BadInput("neon: configure: api_key is empty (pass ${{ secrets.NEON_API_KEY }})")
	case !strings.HasPrefix(c.baseURL, "http://") && !strings.HasPrefix(c.baseURL, "https://"):
		return sdk.BadInput("neon: configure: base_url must start with https:// (or http:// for an emulator)")
	case c.retries < 0 || c.retries > 50:
		return sdk.BadInput("neon: configure: retries must be from 0 to 50, not %d", c.retries)
	case c.retryDelay <= 0 || c.pollInterval <= 0 || c.requestTimeout <= 0:
		return sdk.BadInput("neon: configure: retry_delay, poll_interval and request_timeout must be positive")
	}
	p.mu.Lock()
	p.cfg = c
	p.mu.Unlock()
	return nil
}

func setString(dst *string, m map[string]any, key string) {
	if v, ok := m[key].(string); ok && v != "" {
		*dst = v
	}
}

func setDuration(dst *time.Duration, m map[string]any, key string) {
	if v, ok := m[key].(time.Duration); ok {
		*dst = v
	}
}

// session is one step's view of the plugin: its configuration and a client
// whose retries are logged to the step.
type session struct {
	cfg    config
	client *Client
	log    sdk.Logger
	req    sdk.Request
}

// session returns a session for req, or an error when Configure never succeeded.
func (p *Plugin) session(req sdk.Request, log sdk.Logger) (*session, error) {
	p.mu.RLock()
	c := p.cfg
	p.mu.RUnlock()
	if c.apiKey == "" {
		return nil, sdk.BadInput("neon: the plugin is not configured: set project_id and api_key under plugins.neon")
	}
	if log == nil {
		log = nopLogger{}
	}
	return &session{cfg: c, client: newClient(c, log), log: log, req: req}, nil
}

// NewClient returns a client of the Neon API at baseURL (DefaultBaseURL
// when empty) for one project, with the default retries and timeouts.
func NewClient(baseURL, apiKey, projectID string) *Client {
	if baseURL == "" {
		baseURL = DefaultBaseURL
	}
	return newClient(config{projectID: projectID, apiKey: apiKey, baseURL: strings.TrimRight(baseURL, "/"), retries: DefaultRetries,
		retryDelay: DefaultRetryDelay, requestTimeout: DefaultRequestTimeout}, nil)
}

// newClient returns a client for the configured project whose retries are
// logged to log.
func newClient(c config, log sdk.Logger) *Client {
	a := &api{base: c.baseURL, key: c.apiKey, client: httpClient, retries: c.retries, delay: c.retryDelay,
		maxDelay: maxRetryDelay, requestTimeout: c.requestTimeout, log: log}
	return &Client{api: a, projectID: c.projectID}
}

// Execute runs one of the plugin's actions.
func (p *Plugin) Execute(ctx context.Context, req sdk.Request, log sdk.Logger) (map[string]any, error) {
	s, err := p.session(req, log)
	if err != nil {
		return nil, err
	}
	switch req.Action {
	case "restore_branch":
		return s.restoreBranch(ctx)
	case "wait_operations":
		return s.waitOperations(ctx)
	case "list_branches":
		return s.listBranches(ctx)
	case "get_branch":
		return s.getBranch(ctx)
	case "connection_uri":
		return s.connectionURI(ctx)
	}
	return nil, sdk.Errorf(sdk.KindUnimplemented, "neon: no action %q", req.Action)
}

// Reconcile tells whether a restore_branch step already took effect; the
// other actions only read, so running them again is the answer.
func (p *Plugin) Reconcile(ctx context.Context, req sdk.Request) (sdk.Reconciliation, error) {
	if req.Action != "restore_branch" {
		return sdk.Reconciliation{State: sdk.NotApplied}, nil
	}
	s, err := p.session(req, nil)
	if err != nil {
		return sdk.Reconciliation{}, err
	}
	return s.reconcileRestore(ctx)
}

// Plan says what a step would do, without calling the API.
func (p *Plugin) Plan(_ context.Context, req sdk.Request) (sdk.Plan, error) {
	p.mu.RLock()
	project := p.cfg.projectID
	p.mu.RUnlock()
	in := inputs(req.Inputs)
	switch req.Action {
	case "restore_branch":
		r, err := restoreParams(req)
		if err != nil {
			return sdk.Plan{}, err
		}
		return sdk.Plan{Summary: fmt.Sprintf("would restore branch %s of project %s to %s of %s, keeping its current state as %s",
			r.branch, project, r.pointText(), r.sourceText(), r.preserveFor(r.branch))}, nil
	case "wait_operations":
		return sdk.Plan{Summary: "would wait for Neon operations of project " + project + " to finish"}, nil
	case "list_branches":
		return sdk.Plan{Summary: "would list the branches of project " + project}, nil
	case "get_branch":
		return sdk.Plan{Summary: fmt.Sprintf("would read branch %s of project %s", in.str("branch"), project)}, nil
	case "connection_uri":
		b := in.str("branch")
		if b == "" {
			b = "the default branch"
		}
		return sdk.Plan{Summary: fmt.Sprintf("would get the connection URI of %s of project %s", b, project)}, nil
	}
	return sdk.Plan{}, sdk.Errorf(sdk.KindUnimplemented, "neon: no action %q", req.Action)
}

// inputs reads a step's typed inputs.
type inputs map[string]any

func (in inputs) str(k string) string { s, _ := in[k].(string); return strings.TrimSpace(s) }

func (in inputs) boolOr(k string, def bool) bool {
	if b, ok := in[k].(bool); ok {
		return b
	}
	return def
}

func (in inputs) durationOr(k string, def time.Duration) time.Duration {
	if d, ok := in[k].(time.Duration); ok && d > 0 {
		return d
	}
	return def
}

// conn returns the connection parameters of a step, defaults from the configuration.
func (s *session) conn(branchID string) ConnParams {
	in := inputs(s.req.Inputs)
	p := ConnParams{BranchID: branchID, DatabaseName: in.str("database_name"), RoleName: in.str("role_name"), Pooled: in.boolOr("pooled", false)}
	if p.DatabaseName == "" {
		p.DatabaseName = s.cfg.database
	}
	if p.RoleName == "" {
		p.RoleName = s.cfg.role
	}
	return p
}

// nopLogger discards lines, for calls that have no step log (Reconcile).
type nopLogger struct{}

func (nopLogger) Printf(string, ...any) {}
func (nopLogger) Warnf(string, ...any)  {}
