// Package postgres is the runbook plugin for PostgreSQL. It queries a
// database and returns typed rows for guards (`check: outputs.rows[0].users
// > 0`), runs changes, checks that a server is up, creates databases, and
// restores pg_dump dumps with the real client tools: psql for plain SQL,
// pg_restore for the archive formats, always in one transaction with
// ON_ERROR_STOP so that a failed or truncated restore changes nothing.
//
// Connection URLs hold passwords: the plugin never prints one (every
// message, its own and the client tools', is masked), and the client
// tools receive it in PGPASSWORD rather than on their command line.
package postgres

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/alpha-orion/runbook/engine/catalog"
	"github.com/alpha-orion/runbook/plugins/sdk"
)

// defaultConnectTimeout bounds one connection attempt unless the URL or
// the plugin's configuration says otherwise.
const defaultConnectTimeout = 10 * time.Second

// Plugin is the postgres plugin.
type Plugin struct {
	sdk.Base

	mu             sync.Mutex
	url            string
	binDir         string
	connectTimeout time.Duration
}

// New returns the postgres plugin.
func New() sdk.Plugin { return &Plugin{connectTimeout: defaultConnectTimeout} }

// Spec returns the plugin's catalogue entry.
func (*Plugin) Spec() catalog.Plugin { return Spec }

// Configure keeps the default URL, the client tools' folder and the
// connection timeout.
func (p *Plugin) Configure(_ context.Context, cfg map[string]any) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.url, _ = cfg["url"].(string)
	p.binDir, _ = cfg["bin_dir"].(string)
	if d, ok := cfg["connect_timeout"].(time.Duration); ok && d > 0 {
		p.connectTimeout = d
	}
	return nil
}

// target resolves the step's connection: its url input, else the plugin's.
func (p *Plugin) target(req sdk.Request) (*target, error) {
	p.mu.Lock()
	raw, timeout := p.url, p.connectTimeout
	p.mu.Unlock()
	if u, ok := req.Inputs["url"].(string); ok && u != "" {
		raw = u
	}
	return newTarget(raw, timeout)
}

func (p *Plugin) tools() *toolFinder {
	p.mu.Lock()
	defer p.mu.Unlock()
	return &toolFinder{dir: p.binDir}
}

// Plan says what a step would do, touching nothing.
func (p *Plugin) Plan(_ context.Context, req sdk.Request) (sdk.Plan, error) {
	t, err := p.target(req)
	if err != nil {
		// In a dry run the URL may come from a step that has not run.
		t = &target{where: "the database (URL not known yet)", mask: func(s string) string { return s }}
	}
	sql := firstLine(str(req.Inputs, "sql"))
	switch req.Action {
	case "query":
		return sdk.Plan{Summary: fmt.Sprintf("would query %s: %s", t.where, sql)}, nil
	case "exec":
		return sdk.Plan{Summary: fmt.Sprintf("would change %s: %s", t.where, sql)}, nil
	case "ping", "wait_ready":
		return sdk.Plan{Summary: fmt.Sprintf("would connect to %s", t.where)}, nil
	case "create_database":
		name := str(req.Inputs, "name")
		return sdk.Plan{Summary: fmt.Sprintf("would create database %q on %s unless it exists", name, t.where),
			Outputs: map[string]any{"name": name}}, nil
	case "restore_dump":
		return p.planRestore(req, t), nil
	}
	return p.Base.Plan(context.Background(), req)
}

// Execute runs one attempt of a step.
func (p *Plugin) Execute(ctx context.Context, req sdk.Request, log sdk.Logger) (map[string]any, error) {
	t, err := p.target(req)
	if err != nil {
		return nil, err
	}
	log = maskedLogger{log, t.mask}
	switch req.Action {
	case "query":
		return query(ctx, t, req.Inputs)
	case "exec":
		return execSQL(ctx, t, req.Inputs)
	case "ping":
		return ping(ctx, t)
	case "wait_ready":
		return waitReady(ctx, t, req.Inputs, log)
	case "create_database":
		return createDatabase(ctx, t, req.Inputs, log)
	case "restore_dump":
		return p.restore(ctx, t, req, log)
	}
	return nil, sdk.Errorf(sdk.KindUnimplemented, "postgres: no action %q", req.Action)
}

// Reconcile tells whether a step already took effect: create_database by
// the database's existence, restore_dump by the marker it writes in the
// same transaction as the restore. The other actions are idempotent or
// cannot tell.
func (p *Plugin) Reconcile(ctx context.Context, req sdk.Request) (sdk.Reconciliation, error) {
	switch req.Action {
	case "create_database", "restore_dump":
	default:
		return p.Base.Reconcile(ctx, req)
	}
	t, err := p.target(req)
	if err != nil {
		return sdk.Reconciliation{}, err
	}
	if req.Action == "create_database" {
		return reconcileCreate(ctx, t, req.Inputs)
	}
	return reconcileRestore(ctx, t, req)
}

// maskedLogger masks the password in every line, whatever the SDK masks.
type maskedLogger struct {
	sdk.Logger
	mask func(string) string
}

// Printf writes an informational line, masked.
func (l maskedLogger) Printf(format string, args ...any) {
	l.Logger.Printf("%s", l.mask(fmt.Sprintf(format, args...)))
}

// Warnf writes a warning, masked.
func (l maskedLogger) Warnf(format string, args ...any) {
	l.Logger.Warnf("%s", l.mask(fmt.Sprintf(format, args...)))
}

func str(m map[string]any, k string) string { s, _ := m[k].(string); return s }

func boolOr(m map[string]any, k string, def bool) bool {
	if b, ok := m[k].(bool); ok {
		return b
	}
	return def
}

func intOr(m map[string]any, k string, def int) int {
	if n, ok := m[k].(int); ok {
		return n
	}
	return def
}

func durationOr(m map[string]any, k string, def time.Duration) time.Duration {
	if d, ok := m[k].(time.Duration); ok && d > 0 {
		return d
	}
	return def
}

// firstLine shortens SQL for a one-line summary.
func firstLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = strings.TrimSpace(s[:i]) + " …"
	}
	if len(s) > 120 {
		s = s[:117] + "…"
	}
	return s
}
