package neon

import (
	"context"
	"maps"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/alpha-orion/runbook/engine/catalog"
	"github.com/alpha-orion/runbook/internal/apicontract"
	"github.com/alpha-orion/runbook/internal/pgserver/pgtest"
	"github.com/alpha-orion/runbook/plugins/internal/plugintest"
	"github.com/alpha-orion/runbook/plugins/neon/neonemu"
	"github.com/alpha-orion/runbook/plugins/sdk"
)

// The test binary serves the plugin when the host re-executes it, as the
// runbook binary serves its built-ins: every action test below goes through
// a real plugin process.
func TestMain(m *testing.M) {
	plugintest.ServeIfPlugin(map[string]func() sdk.Plugin{Name: New})
	pgtest.Main(m)
}

// canaryKey is the emulator's API key in every test: it must never appear
// in an error, a step log line or the plugin's own log.
const canaryKey = "neon-canary-7c1e5a93-must-not-leak"

var testCatalog = catalog.MustNew(Spec)

// fixture is an emulator with one project and a plugin process configured
// for it; the harness fails the test when canaryKey (or another api_key)
// shows anywhere.
type fixture struct {
	*plugintest.Harness
	emu      *neonemu.Emulator
	contract *apicontract.Checker
	url      string
	project  neonemu.Project
	main     neonemu.Branch
}

// newFixture starts an emulator (with opts, the canary key), seeds a
// project with spec and a snapshot, and configures the plugin with cfg
// over the test defaults.
func newFixture(t *testing.T, opts neonemu.Options, spec neonemu.ProjectSpec, cfg map[string]any) *fixture {
	t.Helper()
	opts.APIKey = canaryKey
	emu := neonemu.New(opts)
	contract := apicontract.Watch(t, "neon")
	plugintest.StartEmulator(t, emu) // emu.URL() stays for direct calls
	srv := httptest.NewServer(contract.Handler(emu))
	t.Cleanup(srv.Close)
	url := srv.URL + neonemu.BasePath // every call of the plugin is checked against the contract
	p, b, err := emu.Seed(context.Background(), spec)
	if err != nil {
		t.Fatalf("Seed: %v", err)
	}
	conf := map[string]any{
		"project_id": p.ID, "api_key": canaryKey, "base_url": url,
		"retries": 6, "retry_delay": 5 * time.Millisecond, "poll_interval": 5 * time.Millisecond,
		"request_timeout": 5 * time.Second,
	}
	maps.Copy(conf, cfg)
	h := plugintest.Start(t, plugintest.Options{Name: Name, Catalog: testCatalog, Config: conf, Canaries: []string{canaryKey}})
	return &fixture{Harness: h, emu: emu, contract: contract, url: url, project: p, main: b}
}
