package neon

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/alpha-orion/runbook/engine/catalog"
	"github.com/alpha-orion/runbook/internal/pgserver/pgtest"
	"github.com/alpha-orion/runbook/plugins/host"
	"github.com/alpha-orion/runbook/plugins/neon/neonemu"
	"github.com/alpha-orion/runbook/plugins/sdk"
)

// The test binary serves the plugin when the host re-executes it, as the
// runbook binary serves its built-ins: every action test below goes through
// a real plugin process.
func TestMain(m *testing.M) {
	if served, err := host.ServeIfPlugin(os.Args[1:], map[string]func() sdk.Plugin{Name: New}); served {
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
		os.Exit(0)
	}
	pgtest.Main(m)
}

// canaryKey is the emulator's API key in every test: it must never appear
// in an error, a step log line or the plugin's own log.
const canaryKey = "neon-canary-7c1e5a93-must-not-leak"

var testCatalog = catalog.MustNew(Spec)

// fixture is an emulator with one project and a plugin process configured for it.
type fixture struct {
	t       *testing.T
	emu     *neonemu.Emulator
	url     string
	project neonemu.Project
	main    neonemu.Branch
	mgr     *host.Manager
	hostLog *syncBuffer
	secrets []string // values that must never be printed
}

// newFixture starts an emulator (with opts, the canary key), seeds a
// project with spec and a snapshot, and configures the plugin with cfg
// over the test defaults.
func newFixture(t *testing.T, opts neonemu.Options, spec neonemu.ProjectSpec, cfg map[string]any) *fixture {
	t.Helper()
	opts.APIKey = canaryKey
	emu := neonemu.New(opts)
	url, err := emu.Start("")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := emu.Close(); err != nil {
			t.Errorf("emulator Close: %v", err)
		}
	})
	p, b, err := emu.Seed(context.Background(), spec)
	if err != nil {
		t.Fatalf("Seed: %v", err)
	}
	f := &fixture{t: t, emu: emu, url: url, project: p, main: b, hostLog: &syncBuffer{}, secrets: []string{canaryKey}}
	f.mgr = f.manager(cfg)
	return f
}

// manager starts a plugin manager with the test configuration plus cfg.
func (f *fixture) manager(cfg map[string]any) *host.Manager {
	conf := map[string]any{
		"project_id": f.project.ID, "api_key": canaryKey, "base_url": f.url,
		"retries": 6, "retry_delay": 5 * time.Millisecond, "poll_interval": 5 * time.Millisecond,
		"request_timeout": 5 * time.Second,
	}
	for k, v := range cfg {
		conf[k] = v
		if k == "api_key" {
			f.secrets = append(f.secrets, fmt.Sprint(v))
		}
	}
	exe, err := os.Executable()
	if err != nil {
		f.t.Fatal(err)
	}
	m := host.New(host.Options{Executable: exe, Builtins: []string{Name}, Config: map[string]map[string]any{Name: conf},
		Catalog: testCatalog, Log: f.hostLog})
	f.t.Cleanup(func() { _ = m.Close() })
	return m
}

// result is one call's answer and what it printed.
type result struct {
	out   map[string]any
	err   error
	lines []string
}

// exec runs action through the plugin process with idempotency key key.
func (f *fixture) exec(action string, in map[string]any, key string) result {
	f.t.Helper()
	return f.execCtx(context.Background(), action, in, key)
}

func (f *fixture) execCtx(ctx context.Context, action string, in map[string]any, key string) result {
	f.t.Helper()
	var mu sync.Mutex
	var lines []string
	req := sdk.Request{RunID: "run-1", StepID: action, Action: action, Inputs: in, IdempotencyKey: key, Attempt: 1}
	out, err := f.mgr.Execute(ctx, Name, req, func(l sdk.LogLine) {
		mu.Lock()
		lines = append(lines, l.Level.String()+": "+l.Message)
		mu.Unlock()
	})
	mu.Lock()
	defer mu.Unlock()
	r := result{out: out, err: err, lines: lines}
	f.noLeaks(r)
	return r
}

// reconcile asks the plugin process whether the step with key took effect.
func (f *fixture) reconcile(action string, in map[string]any, key string) (sdk.Reconciliation, error) {
	f.t.Helper()
	rec, err := f.mgr.Reconcile(context.Background(), Name, sdk.Request{RunID: "run-1", StepID: action, Action: action, Inputs: in, IdempotencyKey: key, Attempt: 2})
	f.noLeaks(result{err: err})
	return rec, err
}

// must runs action and fails the test on an error.
func (f *fixture) must(action string, in map[string]any, key string) map[string]any {
	f.t.Helper()
	r := f.exec(action, in, key)
	if r.err != nil {
		f.t.Fatalf("%s: %v\nlog:\n%s", action, r.err, strings.Join(r.lines, "\n"))
	}
	return r.out
}

// noLeaks fails the test when a secret shows in an error, a log line or the plugin's log.
func (f *fixture) noLeaks(r result) {
	f.t.Helper()
	texts := append([]string{f.hostLog.String()}, r.lines...)
	if r.err != nil {
		texts = append(texts, r.err.Error())
	}
	for _, s := range f.secrets {
		for _, text := range texts {
			if strings.Contains(text, s) {
				f.t.Fatalf("secret %q leaked: %s", s, text)
			}
		}
	}
}

// wantKind fails the test unless err has kind and mentions each of words.
func wantKind(t *testing.T, err error, kind sdk.Kind, words ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("no error, want %s", kind)
	}
	if got := sdk.KindOf(err); got != kind {
		t.Errorf("kind = %s, want %s (%v)", got, kind, err)
	}
	for _, w := range words {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error %q does not mention %q", err, w)
		}
	}
}

// syncBuffer is a bytes.Buffer safe for the host's concurrent writers.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
