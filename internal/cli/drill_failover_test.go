package cli

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/alpha-orion/runbook/internal/testenv"

	"github.com/alpha-orion/runbook/internal/pgserver"
	"gopkg.in/yaml.v3"
)

// End-to-end drills of runbooks/render-region-failover.yaml (plan 4.1) and
// runbooks/jwt-secret-rotation.yaml (plan 5.1): stage the incident, run the
// real runbook through the CLI, check the end state. Each has a variant
// with a plausible mistake, which the drill must report as FAILED.

// drillNeeds skips the test when a program a drill needs is missing, or
// fails it under CI=true, where a skip would hide a hole.
func drillNeeds(t *testing.T, program string) {
	t.Helper()
	var err error
	switch program {
	case "terraform":
		_, err = exec.LookPath("terraform")
	case "postgres":
		_, err = pgserver.FindBinDir("")
	}
	testenv.Missing(t, program, err)
}

func repoRunbooks(t *testing.T) string {
	t.Helper()
	dir, err := filepath.Abs("../../runbooks")
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

// runbookVariant copies runbooks/NAME.yaml into a fresh folder, changed by
// edit on its YAML tree, and returns the folder for drill --dir.
func runbookVariant(t *testing.T, name string, edit func(doc *yaml.Node)) string {
	t.Helper()
	src, err := os.ReadFile(filepath.Join(repoRunbooks(t), name+".yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(src, &doc); err != nil {
		t.Fatal(err)
	}
	edit(doc.Content[0])
	out, err := yaml.Marshal(&doc)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, name+".yaml"), out, 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

// yamlKey returns the value of key in mapping m, or nil.
func yamlKey(m *yaml.Node, key string) *yaml.Node {
	if m == nil || m.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i+1]
		}
	}
	return nil
}

// yamlStep returns the main step with id, failing the test when there is none.
func yamlStep(t *testing.T, doc *yaml.Node, id string) *yaml.Node {
	t.Helper()
	for _, s := range yamlKey(doc, "steps").Content {
		if v := yamlKey(s, "id"); v != nil && v.Value == id {
			return s
		}
	}
	t.Fatalf("the runbook has no step %q", id)
	return nil
}

// setScalar sets the scalar at path (mapping keys) below n.
func setScalar(t *testing.T, n *yaml.Node, value string, path ...string) {
	t.Helper()
	for _, k := range path {
		if n = yamlKey(n, k); n == nil {
			t.Fatalf("no %s in the runbook", strings.Join(path, "."))
		}
	}
	n.Value, n.Tag, n.Style = value, "", 0
}

func drillPassed(t *testing.T, dir, name string) string {
	t.Helper()
	code, out, errOut := cli(t, t.TempDir(), nil, "drill", "--dir", dir, name)
	if code != ExitOK || !strings.Contains(out, "drill "+name+" PASSED") {
		t.Fatalf("drill %s: exit %d, want 0 and PASSED\n%s\n%s", name, code, out, errOut)
	}
	return out
}

func drillFailed(t *testing.T, dir, name string, failedChecks ...string) string {
	t.Helper()
	code, out, errOut := cli(t, t.TempDir(), nil, "drill", "--dir", dir, name)
	if code != ExitFailed || !strings.Contains(out, "drill "+name+" FAILED") {
		t.Fatalf("drill %s: exit %d, want %d and FAILED\n%s\n%s", name, code, ExitFailed, out, errOut)
	}
	for _, c := range failedChecks {
		if !strings.Contains(out, "FAIL "+c) {
			t.Errorf("no failed check %q in the report:\n%s", c, out)
		}
	}
	return out
}

func TestDrillRenderRegionFailover(t *testing.T) {
	t.Parallel()
	drillNeeds(t, "terraform")
	out := drillPassed(t, repoRunbooks(t), "render-region-failover")
	for _, want := range []string{
		`main.tf: variable "region" default "oregon" -> "frankfurt"`,
		"forgot terraform_data.service (the object itself is left as it is)",
		"Plan: 4 to add, 0 to change, 1 to destroy.", // nothing in oregon is destroyed
		"ok      verify-dns",
		"ok   Render runs both services in frankfurt (Render API)",
		"ok   api.alpha-orion.com is a custom domain of the frankfurt API service (Render API)",
		"ok   DNS answers the frankfurt service's host",
		"ok   the API is healthy through its public name, on the frankfurt service",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("drill output lacks %q:\n%s", want, out)
		}
	}
}

// A runbook that "fails over" to the region that is down: main.tf does not
// change, nothing is forgotten or applied, and reading the API service from
// Render meets oregon's 503; DNS keeps answering oregon.
func TestDrillRenderRegionFailoverCatchesWrongRegion(t *testing.T) {
	t.Parallel()
	drillNeeds(t, "terraform")
	dir := runbookVariant(t, "render-region-failover", func(doc *yaml.Node) {
		setScalar(t, doc, "oregon", "params", "region", "default")
		setScalar(t, yamlStep(t, doc, "health-api"), "1", "retry", "attempts")
	})
	out := drillFailed(t, dir, "render-region-failover",
		"main.tf defaults region to frankfurt",
		"Terraform state in frankfurt",
		"Render runs both services in frankfurt (Render API)",
		"DNS answers the frankfurt service's host",
		"the API is healthy through its public name")
	for _, want := range []string{"skip    forget-old", "Plan: 0 to add, 0 to change, 0 to destroy", "FAILED  endpoint", "503 Service Unavailable"} {
		if !strings.Contains(out, want) {
			t.Errorf("drill output lacks %q:\n%s", want, out)
		}
	}
}

// Without forgetting the oregon services first, the apply has to destroy
// them, and oregon's API answers 503: the failover cannot complete.
func TestDrillRenderRegionFailoverNeedsForget(t *testing.T) {
	t.Parallel()
	drillNeeds(t, "terraform")
	dir := runbookVariant(t, "render-region-failover", func(doc *yaml.Node) {
		setScalar(t, doc, "false", "params", "forget_old", "default")
	})
	out := drillFailed(t, dir, "render-region-failover", "Render runs both services in frankfurt (Render API)",
		"the API is healthy through its public name")
	for _, want := range []string{"skip    forget-old", "to destroy", "FAILED  apply", "returned error: 503"} {
		if !strings.Contains(out, want) {
			t.Errorf("drill output lacks %q:\n%s", want, out)
		}
	}
}

// A failure after the apply: undo sets main.tf back to oregon while the
// services run in frankfurt, and the runbook warns not to apply main.tf; the
// drill reports the disagreement between main.tf and the state.
func TestDrillRenderRegionFailoverUndoAfterApply(t *testing.T) {
	t.Parallel()
	drillNeeds(t, "terraform")
	dir := runbookVariant(t, "render-region-failover", func(doc *yaml.Node) {
		health := yamlStep(t, doc, "health-api")
		setScalar(t, health, "418", "with", "expect_status")
		setScalar(t, health, "1", "retry", "attempts")
	})
	out := drillFailed(t, dir, "render-region-failover", "main.tf defaults region to frankfurt", "main.tf and the state agree")
	for _, want := range []string{"undone  set-region", "ok      warn-main-tf-drift", "ok   Terraform state in frankfurt"} {
		if !strings.Contains(out, want) {
			t.Errorf("drill output lacks %q:\n%s", want, out)
		}
	}
}

// longToken matches a run of base64url characters as long as the new
// 64-byte secret (86 characters); nothing else in the output is that long.
var longToken = regexp.MustCompile(`[A-Za-z0-9_-]{80,}`)

func TestDrillJWTSecretRotation(t *testing.T) {
	t.Parallel()
	drillNeeds(t, "postgres")
	out := drillPassed(t, repoRunbooks(t), "jwt-secret-rotation")
	for _, want := range []string{
		"ok   user-api-service rejects the leaked secret's token",
		"ok   user-api-service accepts a token signed with the new secret",
		"ok   blockchain-monitor rejects the leaked secret's token",
		"ok   no secret in the journal",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("drill output lacks %q:\n%s", want, out)
		}
	}
	if m := longToken.FindAllString(out, -1); len(m) > 0 {
		t.Errorf("the output holds what looks like the new secret: %q", m)
	}
}

// A runbook that sets the new secret but never restarts the services: the
// API keeps verifying with the leaked secret, which the runbook's own check
// and the drill both catch.
func TestDrillJWTSecretRotationCatchesMissingRestart(t *testing.T) {
	t.Parallel()
	drillNeeds(t, "postgres")
	dir := runbookVariant(t, "jwt-secret-rotation", func(doc *yaml.Node) {
		for _, id := range []string{"restart-api", "restart-monitor"} {
			setScalar(t, yamlStep(t, doc, id), "render.get_service", "uses")
		}
		setScalar(t, yamlStep(t, doc, "old-token-rejected"), "1", "retry", "attempts")
	})
	out := drillFailed(t, dir, "jwt-secret-rotation",
		"user-api-service rejects the leaked secret's token",
		"blockchain-monitor rejects the leaked secret's token",
		"user-api-service accepts a token signed with the new secret",
		"blockchain-monitor accepts a token signed with the new secret")
	if !strings.Contains(out, "FAILED  old-token-rejected") {
		t.Errorf("the runbook's own check should have failed:\n%s", out)
	}
	if !slices.ContainsFunc(strings.Split(out, "\n"), func(l string) bool { return strings.Contains(l, "ok   JWT_SECRET replaced") }) {
		t.Errorf("the env group should hold the new secret all the same:\n%s", out)
	}
}
