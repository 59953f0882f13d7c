package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/alpha-orion/runbook/plugins/host"
)

// externalPlugin installs a third-party plugin binary in dir.
func externalPlugin(t *testing.T, dir, name, body string) string {
	t.Helper()
	path := filepath.Join(dir, host.ExternalPrefix+name)
	if err := os.WriteFile(path, []byte(body), 0o755); err != nil {
		t.Fatal(err)
	}
	return path
}

// defaultPluginDir makes a run use the default plugin folder of its working directory.
var defaultPluginDir = []string{"RUNBOOK_PLUGIN_DIR="}

func TestExternalPluginPinValidateRun(t *testing.T) {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	work := t.TempDir()
	pdir := filepath.Join(work, "runbook-plugins")
	os.MkdirAll(pdir, 0o755)
	// The third-party plugin: a script that makes the test binary serve the
	// test plugin under the name "extern" (see TestMain).
	script := "#!/bin/sh\nexec '" + exe + "' " + host.PluginArg + " extern\n"
	path := externalPlugin(t, pdir, "extern", script)
	code, out, errOut := cli(t, work, defaultPluginDir, "plugin", "pin", "extern")
	if code != ExitOK || !strings.Contains(out, "pinned extern at sha256") {
		t.Fatalf("pin: exit %d\n%s\n%s", code, out, errOut)
	}
	if _, err := os.Stat(filepath.Join(pdir, LockFileName)); err != nil {
		t.Fatal(err)
	}
	rb := filepath.Join(work, "ext.yaml")
	os.WriteFile(rb, []byte("apiVersion: runbook/v1\nkind: Runbook\nmetadata: {name: ext}\nsteps:\n  - {id: a, uses: extern.echo, with: {n: 41}}\n  - {id: b, uses: log, with: {message: \"got ${{ steps.a.outputs.n }}\"}}\n"), 0o644)
	if code, out, errOut := cli(t, work, defaultPluginDir, "validate", "ext.yaml"); code != ExitOK {
		t.Fatalf("validate with a pinned plugin: exit %d\n%s\n%s", code, out, errOut)
	}
	code, out, errOut = cli(t, work, defaultPluginDir, "run", "ext.yaml")
	if code != ExitOK || !strings.Contains(out, "got 41") {
		t.Fatalf("run with a pinned plugin: exit %d\n%s\n%s", code, out, errOut)
	}
	// Changing the binary after pinning: refused by preflight, before any step.
	os.WriteFile(path, []byte(script+"# tampered\n"), 0o755)
	code, out, errOut = cli(t, work, defaultPluginDir, "run", "ext.yaml")
	if code != ExitUsage || !strings.Contains(errOut, "nothing was changed") || !strings.Contains(errOut, "SHA-256") {
		t.Fatalf("a tampered plugin ran or was not named: exit %d\n%s\n%s", code, out, errOut)
	}
	if code, out, _ := cli(t, work, defaultPluginDir, "plugin", "list"); code != ExitOK || !strings.Contains(out, "extern") || !strings.Contains(out, "external") {
		t.Errorf("plugin list: %d\n%s", code, out)
	}
}
