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
// from the key, and Neon documents that a restore saves the old state under
// that name, so a branch of that name proves the restore happened and
// neither a retry nor Reconcile after a crash restores twice. It relies on
// no field Neon documents as snapshot-only or possibly empty (restored_as,
// restored_from, restore_status, parent_timestamp).
package neon

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/alpha-orion/runbook/engine/catalog"
	"github.com/alpha-orion/runbook/plugins/internal/httpapi"
	"github.com/alpha-orion/runbook/plugins/neon/neonspec"
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
	httpapi.Settings
	projectID string
	database  string
	role      string
}

// defaults returns the configuration before any key is read.
func defaults() config {
	return config{Settings: httpapi.Settings{BaseURL: neonspec.DefaultBaseURL, Retries: neonspec.DefaultRetries, RetryDelay: neonspec.DefaultRetryDelay,
		PollInterval: neonspec.DefaultPollInterval, RequestTimeout: neonspec.DefaultRequestTimeout}, database: neonspec.DefaultDatabase, role: neonspec.DefaultRole}
}

// New returns an unconfigured neon plugin.
func New() sdk.Plugin { return &Plugin{} }

// Spec returns the plugin's catalogue entry.
func (*Plugin) Spec() catalog.Plugin { return Spec }

// Configure checks and keeps the configuration.
func (p *Plugin) Configure(_ context.Context, m map[string]any) error {
	c := defaults()
	c.Read(m)
	c.projectID, _ = m["project_id"].(string)
	httpapi.SetString(&c.database, m, "database_name")
	httpapi.SetString(&c.role, m, "role_name")
	if strings.TrimSpace(c.projectID) == "" {
		return sdk.BadInput("neon: configure: project_id is empty")
	}
	if err := c.Check(Name, "${{ secrets.NEON_API_KEY }}"); err != nil {
		return err
	}
	p.mu.Lock()
	p.cfg = c
	p.mu.Unlock()
	return nil
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
	if c.APIKey == "" {
		return nil, sdk.BadInput("neon: the plugin is not configured: set project_id and api_key under plugins.neon")
	}
	if log == nil {
		log = nopLogger{}
	}
	return &session{cfg: c, client: newClient(c, log), log: log, req: req}, nil
}

// NewClient returns a client of the Neon API at baseURL (neonspec.DefaultBaseURL
// when empty) for one project, with the default retries and timeouts.
func NewClient(baseURL, apiKey, projectID string) *Client {
	c := defaults()
	c.APIKey, c.projectID = apiKey, projectID
	if baseURL != "" {
		c.BaseURL = strings.TrimRight(baseURL, "/")
	}
	return newClient(c, nil)
}

// newClient returns a client for the configured project whose retries are
// logged to log.
func newClient(c config, log sdk.Logger) *Client {
	a := &httpapi.Client{Provider: Name, KeyScope: "project", BaseURL: c.BaseURL, Key: c.APIKey,
		Retries: c.Retries, Delay: c.RetryDelay, MaxDelay: maxRetryDelay, RequestTimeout: c.RequestTimeout, Log: log,
		RetryStatuses: []int{http.StatusLocked}, ErrorMessage: errorMessage}
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

// Plan says what a step would do, changing nothing; for restore_branch it
// reads the branch and its connection URI (GETs) to predict the outputs
// later steps use.
func (p *Plugin) Plan(ctx context.Context, req sdk.Request) (sdk.Plan, error) {
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
		outputs, name := p.predictRestore(ctx, req, r)
		return sdk.Plan{Summary: fmt.Sprintf("would restore branch %s of project %s to %s of %s, keeping its current state as %s",
			r.branch, project, r.pointText(), r.sourceText(), r.preserveFor(name)), Outputs: outputs}, nil
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
