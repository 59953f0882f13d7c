package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/alpha-orion/runbook/plugins/providers"
)

const module = "github.com/alpha-orion/runbook"

// standIns are the packages of the drill's stand-ins and of tests: only
// runbook-sandbox (and tests) may link them.
var standIns = []string{
	module + "/internal/drill",
	module + "/internal/pgserver",
	module + "/internal/redisserver",
	module + "/internal/testenv",
	module + "/plugins/neon/neonemu",
	module + "/plugins/render/renderemu",
	module + "/plugins/internal/emukit",
	module + "/plugins/contract/chain",
	module + "/plugins/dnscheck/dnsserver",
	module + "/plugins/testplugin",
	"github.com/fsouza/fake-gcs-server/fakestorage",
	"github.com/ethereum/go-ethereum/ethclient/simulated",
	"github.com/cockroachdb/pebble",
}

// testOnly are packages for tests alone: nothing that is built, not even
// runbook-sandbox, may link them.
var testOnly = []string{
	module + "/internal/apicontract",
	"github.com/getkin/kin-openapi",
}

// providerSDKs are what the core must not link: the providers' own
// packages (their *spec packages are fine) and their client libraries.
var providerSDKs = []string{
	"cloud.google.com/go/storage",
	"github.com/ethereum/go-ethereum",
	"github.com/redis/go-redis/v9",
	"github.com/miekg/dns",
	"github.com/zclconf/go-cty",
}

// deps lists the packages pkg links (go list -deps).
func deps(t *testing.T, pkg string) []string {
	t.Helper()
	out, err := exec.Command("go", "list", "-deps", pkg).Output()
	if err != nil {
		t.Fatalf("go list -deps %s: %v", pkg, err)
	}
	return strings.Fields(string(out))
}

// links reports the packages of list that are prefix or below it.
func links(list []string, prefix string) []string {
	var hits []string
	for _, p := range list {
		if p == prefix || strings.HasPrefix(p, prefix+"/") {
			hits = append(hits, p)
		}
	}
	return hits
}

// TestLeanCore checks that the core and every provider link none of the
// stand-ins, and that the core links no provider or provider SDK. The
// sandbox must link every stand-in, so a renamed package cannot make the
// test pass by no longer matching.
func TestLeanCore(t *testing.T) {
	sandbox := deps(t, module+"/cmd/runbook-sandbox")
	for _, s := range standIns {
		if s == module+"/plugins/testplugin" || s == module+"/internal/testenv" {
			continue // test-only: linked by nothing that is built
		}
		if len(links(sandbox, s)) == 0 {
			t.Errorf("runbook-sandbox does not link %s: is the stand-in list stale?", s)
		}
	}
	cmds := []string{module + "/cmd/runbook"}
	for _, name := range providers.Names() {
		cmds = append(cmds, module+"/cmd/runbook-plugin-"+name)
	}
	for _, cmd := range cmds {
		list := deps(t, cmd)
		for _, s := range standIns {
			if hits := links(list, s); len(hits) > 0 {
				t.Errorf("%s links the stand-in %s", cmd, hits[0])
			}
		}
		for _, s := range testOnly {
			if hits := links(list, s); len(hits) > 0 {
				t.Errorf("%s links the test-only %s", cmd, hits[0])
			}
		}
	}
	for _, s := range testOnly {
		if hits := links(sandbox, s); len(hits) > 0 {
			t.Errorf("runbook-sandbox links the test-only %s", hits[0])
		}
	}
	core := deps(t, module+"/cmd/runbook")
	for _, name := range providers.Names() {
		dir := providerDir(t, name)
		if slices.Contains(core, module+"/plugins/"+dir) {
			t.Errorf("the core links the %s provider's package plugins/%s", name, dir)
		}
	}
	for _, sdk := range providerSDKs {
		if hits := links(core, sdk); len(hits) > 0 {
			t.Errorf("the core links the provider SDK %s", hits[0])
		}
	}
}

// providerDir is the folder under plugins/ of a provider's package, read
// from its executable's import.
func providerDir(t *testing.T, name string) string {
	t.Helper()
	src, err := os.ReadFile(filepath.Join("..", "runbook-plugin-"+name, "main.go"))
	if err != nil {
		t.Fatalf("provider %s has no cmd/runbook-plugin-%s: %v", name, name, err)
	}
	for _, line := range strings.Split(string(src), "\n") {
		dir, ok := strings.CutPrefix(strings.TrimSpace(line), `"`+module+`/plugins/`)
		if dir = strings.TrimSuffix(dir, `"`); ok && dir != "sdk" {
			return dir
		}
	}
	t.Fatalf("cmd/runbook-plugin-%s imports no provider package", name)
	return ""
}

// TestEveryProviderHasAnExecutable checks that cmd/ has one
// runbook-plugin-NAME per shipped provider, and no other.
func TestEveryProviderHasAnExecutable(t *testing.T) {
	entries, err := os.ReadDir("..")
	if err != nil {
		t.Fatal(err)
	}
	var have []string
	for _, e := range entries {
		if name, ok := strings.CutPrefix(e.Name(), "runbook-plugin-"); ok {
			have = append(have, name)
		}
	}
	want := slices.Sorted(slices.Values(providers.Names()))
	if !slices.Equal(have, want) {
		t.Errorf("cmd/runbook-plugin-*: %v, providers: %v", have, want)
	}
	if slices.Contains(want, "test") {
		t.Error("the test plugin is a shipped provider")
	}
}
