package terraform

import (
	"context"
	"github.com/alpha-orion/runbook/internal/testenv"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/alpha-orion/runbook/engine/catalog"
	"github.com/alpha-orion/runbook/plugins/host"
	"github.com/alpha-orion/runbook/plugins/internal/plugintest"
	"github.com/alpha-orion/runbook/plugins/sdk"
)

// The test binary serves the plugin when the host re-executes it, so every
// action test goes through a real plugin process driving the real binary.
func TestMain(m *testing.M) {
	plugintest.ServeOrRun(m, map[string]func() sdk.Plugin{Name: New})
}

var testCatalog = catalog.MustNew(Spec)

// canary is a secret variable's value: it must never appear in an error or a log line.
const canary = "tf-canary-51d2-must-not-leak"

// requireTerraform skips the test when the terraform binary is missing, or
// fails it under CI (CI=true), where a skipped test would hide a hole:
// Terraform is in no package registry, the machine must have it.
func requireTerraform(t *testing.T) {
	t.Helper()
	_, err := FindBinary("")
	testenv.Missing(t, "terraform", err)
}

// fixture is a copy of testdata/failover in a temporary folder and a
// plugin process configured for it.
type fixture struct {
	t    *testing.T
	dir  string
	mgr  *host.Manager
	mu   sync.Mutex
	logs []string
}

func newFixture(t *testing.T, cfg map[string]any) *fixture {
	t.Helper()
	requireTerraform(t)
	dir := filepath.Join(t.TempDir(), "terraform")
	copyDir(t, "testdata/failover", dir)
	conf := map[string]any{"dir": dir}
	maps.Copy(conf, cfg)
	h := plugintest.Start(t, plugintest.Options{Name: Name, Catalog: testCatalog, Config: conf})
	return &fixture{t: t, dir: dir, mgr: h.Mgr}
}

func copyDir(t *testing.T, from, to string) {
	t.Helper()
	err := filepath.WalkDir(from, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(from, path)
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(to, rel), 0o755)
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(to, rel), b, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
}

func (f *fixture) request(action, key string, in map[string]any) sdk.Request {
	return sdk.Request{RunID: "r1", StepID: action, Action: action, Inputs: in, IdempotencyKey: key, Attempt: 1}
}

// exec runs one step through the plugin process.
func (f *fixture) exec(action, key string, in map[string]any) (map[string]any, error) {
	f.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	return f.mgr.Execute(ctx, Name, f.request(action, key, in), func(l sdk.LogLine) {
		f.mu.Lock()
		f.logs = append(f.logs, l.Level.String()+": "+l.Message)
		f.mu.Unlock()
	})
}

// must runs a step that has to succeed.
func (f *fixture) must(action, key string, in map[string]any) map[string]any {
	f.t.Helper()
	out, err := f.exec(action, key, in)
	if err != nil {
		f.t.Fatalf("%s: %v", action, err)
	}
	return out
}

func (f *fixture) reconcile(action, key string) sdk.Reconciliation {
	f.t.Helper()
	return f.reconcileWith(action, key, nil)
}

// reconcileWith asks with the step's inputs, as the engine does on resume.
func (f *fixture) reconcileWith(action, key string, in map[string]any) sdk.Reconciliation {
	f.t.Helper()
	rec, err := f.mgr.Reconcile(context.Background(), Name, f.request(action, key, in))
	if err != nil {
		f.t.Fatalf("Reconcile %s: %v", action, err)
	}
	return rec
}

func (f *fixture) logText() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return strings.Join(f.logs, "\n")
}

// noLeak fails the test if the canary shows in err or in any log line.
func (f *fixture) noLeak(err error) {
	f.t.Helper()
	if err != nil && strings.Contains(err.Error(), canary) {
		f.t.Fatalf("error shows a secret: %v", err)
	}
	if strings.Contains(f.logText(), canary) {
		f.t.Fatalf("a log line shows a secret:\n%s", f.logText())
	}
}

func (f *fixture) write(name, content string) {
	f.t.Helper()
	if err := os.WriteFile(filepath.Join(f.dir, name), []byte(content), 0o644); err != nil {
		f.t.Fatal(err)
	}
}

func (f *fixture) read(name string) string {
	f.t.Helper()
	b, err := os.ReadFile(filepath.Join(f.dir, name))
	if err != nil {
		f.t.Fatal(err)
	}
	return string(b)
}
