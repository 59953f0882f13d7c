// Package render is the runbook plugin for Render (API v1): scaling,
// suspending, resuming and restarting services, deploying and waiting until
// a deploy is live, setting service and environment-group variables, and
// reading a service. Services and groups are named by name or ID.
//
// Its small typed client (Client) retries 429, 5xx and network failures
// with capped exponential backoff, then gives up with a retryable error so
// the step's retry policy takes over. The base URL is a setting, so
// `runbook drill` and the tests point it at renderemu.
//
// Variable values are never printed: not in log lines, not in errors (an
// API message quoting one is masked), and not in outputs, which say only
// whether a value was set before.
package render

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/alpha-orion/runbook/engine/catalog"
	"github.com/alpha-orion/runbook/plugins/internal/httpapi"
	"github.com/alpha-orion/runbook/plugins/render/renderspec"
	"github.com/alpha-orion/runbook/plugins/sdk"
)

// Plugin is the render plugin.
type Plugin struct {
	sdk.Base

	mu  sync.RWMutex
	cfg config
}

// config is the plugin's configuration with defaults applied.
type config struct {
	httpapi.Settings
}

// defaults returns the configuration before any key is read.
func defaults() config {
	return config{httpapi.Settings{BaseURL: renderspec.DefaultBaseURL, Retries: DefaultRetries, RetryDelay: DefaultRetryDelay,
		PollInterval: DefaultPollInterval, RequestTimeout: DefaultRequestTimeout}}
}

// New returns an unconfigured render plugin.
func New() sdk.Plugin { return &Plugin{} }

// Spec returns the plugin's catalogue entry.
func (*Plugin) Spec() catalog.Plugin { return Spec }

// Configure checks and keeps the configuration.
func (p *Plugin) Configure(_ context.Context, m map[string]any) error {
	c := defaults()
	c.Read(m)
	if err := c.Check(Name, "${{ secrets.RENDER_API_KEY }}"); err != nil {
		return err
	}
	p.mu.Lock()
	p.cfg = c
	p.mu.Unlock()
	return nil
}

// session is one step's view of the plugin.
type session struct {
	cfg    config
	client *Client
	log    sdk.Logger
	in     inputs
	req    sdk.Request
}

// session returns a session for req, or an error when Configure never succeeded.
func (p *Plugin) session(req sdk.Request, log sdk.Logger) (*session, error) {
	p.mu.RLock()
	c := p.cfg
	p.mu.RUnlock()
	if c.APIKey == "" {
		return nil, sdk.BadInput("render: the plugin is not configured: set api_key under plugins.render")
	}
	if log == nil {
		log = nopLogger{}
	}
	in := inputs(req.Inputs)
	client := newClient(c, log)
	if v, _ := req.Inputs["value"].(string); len(v) >= 4 {
		client.api.Hide = []string{v}
	}
	return &session{cfg: c, client: client, log: log, in: in, req: req}, nil
}

// NewClient returns a client of the Render API at baseURL (renderspec.DefaultBaseURL
// when empty), with the default retries and timeouts.
func NewClient(baseURL, apiKey string) *Client {
	c := defaults()
	c.APIKey = apiKey
	if baseURL != "" {
		c.BaseURL = strings.TrimRight(baseURL, "/")
	}
	return newClient(c, nil)
}

// newClient returns a client whose retries are logged to log.
func newClient(c config, log sdk.Logger) *Client {
	return &Client{api: &httpapi.Client{Provider: Name, KeyScope: "workspace", BaseURL: c.BaseURL, Key: c.APIKey,
		Retries: c.Retries, Delay: c.RetryDelay, MaxDelay: maxRetryDelay, RequestTimeout: c.RequestTimeout, Log: log,
		ErrorMessage: errorMessage}}
}

// Execute runs one of the plugin's actions.
func (p *Plugin) Execute(ctx context.Context, req sdk.Request, log sdk.Logger) (map[string]any, error) {
	s, err := p.session(req, log)
	if err != nil {
		return nil, err
	}
	switch req.Action {
	case "scale":
		return s.scale(ctx)
	case "suspend":
		return s.setSuspended(ctx, true)
	case "resume":
		return s.setSuspended(ctx, false)
	case "restart":
		return s.restart(ctx)
	case "deploy":
		return s.deploy(ctx)
	case "set_env", "set_group_env":
		return s.setEnv(ctx)
	case "get_service":
		return s.getService(ctx)
	}
	return nil, sdk.Errorf(sdk.KindUnimplemented, "render: no action %q", req.Action)
}

// Reconcile tells whether a step already took effect, from the state it
// leaves: the instance count, the suspension, the variable's value, the
// deploy of the commit. A restart leaves an event, but any restart of the
// service would, and Reconcile does not know when the step's attempt
// began, so it is Unknown (within one attempt, Client.Restart reads the
// event log before sending again).
func (p *Plugin) Reconcile(ctx context.Context, req sdk.Request) (sdk.Reconciliation, error) {
	s, err := p.session(req, nil)
	if err != nil {
		return sdk.Reconciliation{}, err
	}
	switch req.Action {
	case "scale":
		return s.reconcileScale(ctx)
	case "suspend":
		return s.reconcileSuspended(ctx, true)
	case "resume":
		return s.reconcileSuspended(ctx, false)
	case "deploy":
		return s.reconcileDeploy(ctx)
	case "set_env", "set_group_env":
		return s.reconcileEnv(ctx)
	case "get_service":
		return sdk.Reconciliation{State: sdk.NotApplied}, nil
	}
	return sdk.Reconciliation{State: sdk.Unknown}, nil
}

// Plan says what a step would do, changing nothing. For scale, suspend and
// resume it reads the service (a GET) to predict the outputs an undo needs;
// when the API cannot be read, the plan has a summary only.
func (p *Plugin) Plan(ctx context.Context, req sdk.Request) (sdk.Plan, error) {
	in := inputs(req.Inputs)
	svc := in.str("service")
	switch req.Action {
	case "scale":
		pl, _ := plan("would scale service %s to %d instances", svc, in["instances"])
		if cur, ok := p.peek(ctx, req); ok {
			pl.Summary = fmt.Sprintf("would scale service %s from %d to %d instances", svc, cur.ServiceDetails.NumInstances, in["instances"])
			pl.Outputs = map[string]any{"service_id": cur.ID, "previous_instances": cur.ServiceDetails.NumInstances, "instances": in["instances"]}
		}
		return pl, nil
	case "suspend", "resume":
		pl, _ := plan("would %s service %s", req.Action, svc)
		if cur, ok := p.peek(ctx, req); ok {
			pl.Outputs = map[string]any{"service_id": cur.ID, "suspended": req.Action == "suspend", "was_suspended": cur.IsSuspended()}
		}
		return pl, nil
	case "restart":
		return plan("would %s service %s", req.Action, svc)
	case "deploy":
		what := "the latest commit"
		if c := in.str("commit_id"); c != "" {
			what = "commit " + c
		}
		if !in.boolOr("wait", true) {
			return plan("would deploy %s to service %s without waiting", what, svc)
		}
		return plan("would deploy %s to service %s and wait until it is live", what, svc)
	case "set_env", "set_group_env":
		target := "service " + svc
		if g := in.str("group"); g != "" {
			target = "environment group " + g
		}
		return plan("would set %s of %s (value not shown)", in.str("key"), target)
	case "get_service":
		return plan("would read service %s", svc)
	}
	return sdk.Plan{}, sdk.Errorf(sdk.KindUnimplemented, "render: no action %q", req.Action)
}

func plan(format string, args ...any) (sdk.Plan, error) {
	return sdk.Plan{Summary: fmt.Sprintf(format, args...)}, nil
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

// nopLogger discards lines, for calls that have no step log (Reconcile).
type nopLogger struct{}

func (nopLogger) Printf(string, ...any) {}
func (nopLogger) Warnf(string, ...any)  {}

// peek reads the step's service for a plan; false when it cannot.
func (p *Plugin) peek(ctx context.Context, req sdk.Request) (Service, bool) {
	s, err := p.session(req, nil)
	if err != nil {
		return Service{}, false
	}
	svc, err := s.service(ctx)
	return svc, err == nil
}

// The instance counts Render's manual scaling accepts (docs.render.com/scaling,
// read 2026-12-03; docs/providers.md).
const (
	minInstances = 1
	maxInstances = 100
)
