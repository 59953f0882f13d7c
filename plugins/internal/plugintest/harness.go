package plugintest

import (
	"context"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/alpha-orion/runbook/engine/catalog"
	"github.com/alpha-orion/runbook/plugins/host"
	"github.com/alpha-orion/runbook/plugins/providers"
	"github.com/alpha-orion/runbook/plugins/sdk"
)

// Options configures a Harness.
type Options struct {
	// Name is the built-in plugin the test binary serves (see ServeOrRun).
	Name string
	// Catalog holds the plugin's entry; each plugin process's description
	// of itself is checked against it, and the configuration keys it marks
	// secret hold canaries.
	Catalog *catalog.Catalog
	// Config is the plugin's configuration.
	Config map[string]any
	// Canaries are further values that must never be printed.
	Canaries []string
}

// Harness drives one built-in plugin through real plugin processes, as the
// engine does, and fails the test when a canary shows in an error, a step's
// log line or the host's log.
type Harness struct {
	// Mgr is the manager Start started, with Options.Config.
	Mgr *host.Manager
	// HostLog is what every manager of the harness logged.
	HostLog *Buffer
	// Canaries are the values no error or log line may show.
	Canaries Canaries

	t    *testing.T
	opts Options
}

// Result is one call's answer and the step's log lines, "LEVEL: message".
type Result struct {
	Out   map[string]any
	Err   error
	Lines []string
}

// Start returns a harness whose Mgr runs the plugin with opts.Config; its
// managers are closed when the test ends.
func Start(t *testing.T, opts Options) *Harness {
	t.Helper()
	h := &Harness{HostLog: &Buffer{}, t: t, opts: opts}
	h.Canaries.Add(opts.Canaries...)
	h.Mgr = h.Manager(nil)
	return h
}

// Manager starts another manager of the plugin, configured with cfg over
// Options.Config; the values of secret keys in cfg become canaries too.
func (h *Harness) Manager(cfg map[string]any) *host.Manager {
	h.t.Helper()
	conf := map[string]any{}
	for _, m := range []map[string]any{h.opts.Config, cfg} {
		for k, v := range m {
			conf[k] = v
			if h.secretKey(k) {
				h.Canaries.Add(fmt.Sprint(v))
			}
		}
	}
	exe, err := os.Executable()
	if err != nil {
		h.t.Fatal(err)
	}
	m := host.New(host.Options{Executable: exe, Builtins: []string{h.opts.Name},
		Config: map[string]map[string]any{h.opts.Name: conf}, Catalog: h.opts.Catalog, Log: h.HostLog,
		Env: providers.Env()}) // the environment the CLI gives each provider
	h.t.Cleanup(func() { _ = m.Close() })
	return m
}

// secretKey reports whether the catalogue marks configuration key k secret.
func (h *Harness) secretKey(k string) bool {
	p, ok := h.opts.Catalog.Plugin(h.opts.Name)
	if !ok {
		return false
	}
	f, ok := p.ConfigField(k)
	return ok && f.Secret
}

// Exec runs action through the plugin process with idempotency key key.
func (h *Harness) Exec(action string, in map[string]any, key string) Result {
	h.t.Helper()
	return h.ExecCtx(context.Background(), action, in, key)
}

// ExecCtx is Exec with a context.
func (h *Harness) ExecCtx(ctx context.Context, action string, in map[string]any, key string) Result {
	h.t.Helper()
	var mu sync.Mutex
	var lines []string
	req := sdk.Request{RunID: "run-1", StepID: action, Action: action, Inputs: in, IdempotencyKey: key, Attempt: 1}
	out, err := h.Mgr.Execute(ctx, h.opts.Name, req, func(l sdk.LogLine) {
		mu.Lock()
		lines = append(lines, l.Level.String()+": "+l.Message)
		mu.Unlock()
	})
	mu.Lock()
	defer mu.Unlock()
	h.NoLeaks(err, lines...)
	return Result{Out: out, Err: err, Lines: lines}
}

// Reconcile asks the plugin process whether the step with key took effect.
func (h *Harness) Reconcile(action string, in map[string]any, key string) (sdk.Reconciliation, error) {
	h.t.Helper()
	req := sdk.Request{RunID: "run-1", StepID: action, Action: action, Inputs: in, IdempotencyKey: key, Attempt: 2}
	rec, err := h.Mgr.Reconcile(context.Background(), h.opts.Name, req)
	h.NoLeaks(err)
	return rec, err
}

// Must runs action and fails the test on an error.
func (h *Harness) Must(action string, in map[string]any, key string) map[string]any {
	h.t.Helper()
	r := h.Exec(action, in, key)
	if r.Err != nil {
		h.t.Fatalf("%s: %v\nlog:\n%s", action, r.Err, strings.Join(r.Lines, "\n"))
	}
	return r.Out
}

// NoLeaks fails the test when a canary shows in err, one of lines or the host's log.
func (h *Harness) NoLeaks(err error, lines ...string) {
	h.t.Helper()
	texts := append([]string{h.HostLog.String()}, lines...)
	if err != nil {
		texts = append(texts, err.Error())
	}
	h.Canaries.Check(h.t, texts...)
}

// Emulator is a provider emulator that serves its API on a local port, such
// as neonemu.Emulator or renderemu.Emulator.
type Emulator interface {
	Start(addr string) (string, error)
	Close() error
}

// StartEmulator starts emu on a free loopback port, closes it when the test
// ends, and returns its base URL.
func StartEmulator(t testing.TB, emu Emulator) string {
	t.Helper()
	url, err := emu.Start("")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := emu.Close(); err != nil {
			t.Errorf("emulator Close: %v", err)
		}
	})
	return url
}
