package render

import (
	"maps"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/alpha-orion/runbook/engine/catalog"
	"github.com/alpha-orion/runbook/internal/apicontract"
	"github.com/alpha-orion/runbook/plugins/internal/plugintest"
	"github.com/alpha-orion/runbook/plugins/render/renderemu"
	"github.com/alpha-orion/runbook/plugins/sdk"
)

// The test binary serves the plugin when the host re-executes it, as the
// runbook binary serves its built-ins: every action test below goes through
// a real plugin process.
func TestMain(m *testing.M) {
	plugintest.ServeOrRun(m, map[string]func() sdk.Plugin{Name: New})
}

// canaryKey is the emulator's API key in every test: it must never appear
// in an error, a step log line or the plugin's own log.
const canaryKey = "render-canary-2f8d6b41-must-not-leak"

var testCatalog = catalog.MustNew(Spec)

// fixture is an emulator with the Alpha-Orion estate and a plugin process
// configured for it; the harness fails the test when canaryKey (or another
// api_key, or a value a test adds) shows anywhere.
type fixture struct {
	*plugintest.Harness
	emu      *renderemu.Emulator
	contract *apicontract.Checker
	url      string
	estate   renderemu.AlphaOrion
}

// newFixture starts an emulator (with opts, the canary key), seeds the
// Alpha-Orion estate, and configures the plugin with cfg over the test defaults.
func newFixture(t *testing.T, opts renderemu.Options, cfg map[string]any) *fixture {
	t.Helper()
	opts.APIKey = canaryKey
	emu := renderemu.New(opts)
	contract := apicontract.Watch(t, "render")
	plugintest.StartEmulator(t, emu) // emu.URL() stays for direct calls
	srv := httptest.NewServer(contract.Handler(emu))
	t.Cleanup(srv.Close)
	url := srv.URL + renderemu.BasePath // every call of the plugin is checked against the contract
	estate, err := emu.SeedAlphaOrion("")
	if err != nil {
		t.Fatalf("SeedAlphaOrion: %v", err)
	}
	conf := map[string]any{
		"api_key": canaryKey, "base_url": url,
		"retries": 6, "retry_delay": 5 * time.Millisecond, "poll_interval": 5 * time.Millisecond,
		"request_timeout": 5 * time.Second,
	}
	maps.Copy(conf, cfg)
	h := plugintest.Start(t, plugintest.Options{Name: Name, Catalog: testCatalog, Config: conf, Canaries: []string{canaryKey}})
	return &fixture{Harness: h, emu: emu, contract: contract, url: url, estate: estate}
}
