package terraform

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/alpha-orion/runbook/engine/catalog"
	"github.com/alpha-orion/runbook/plugins/dnscheck"
	"github.com/alpha-orion/runbook/plugins/internal/plugintest"
	"github.com/alpha-orion/runbook/plugins/sdk"
)

// TestFailover walks the DR plan's section 4.1 against the real binary:
// init, plan, apply in Oregon, change the region's default in main.tf,
// plan and apply again, and read the new endpoint.
func TestFailover(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	original := f.read("main.tf")

	out := f.must("init", "k-init", nil)
	if v, _ := out["version"].(string); v == "" {
		t.Fatalf("init outputs = %v, want a version", out)
	}

	out = f.must("plan", "k-plan1", nil)
	if file, _ := out["plan_file"].(string); file == "" || len(fmt.Sprint(out["plan_sha256"])) != 64 {
		t.Fatalf("plan keeps no plan file with its digest: %v", out)
	}
	delete(out, "plan_file")
	delete(out, "plan_sha256")
	want := map[string]any{"changes": true, "summary": "2 to add, 0 to change, 0 to destroy", "add": 2, "change": 0, "destroy": 0,
		"resource_changes": []any{"create terraform_data.blockchain_monitor", "create terraform_data.user_api"}}
	if !reflect.DeepEqual(out, want) {
		t.Fatalf("first plan:\n got %v\nwant %v", out, want)
	}

	out = f.must("apply", "k-apply1", nil)
	if out["summary"] != "2 added, 0 changed, 0 destroyed" || out["changes"] != true {
		t.Fatalf("first apply = %v", out)
	}
	values := out["outputs"].(map[string]any)
	if values["region"] != "oregon" || values["instances"] != 2 || values["api_endpoint"] != "user-api-oregon.onrender.com" {
		t.Fatalf("outputs after the first apply = %v", values)
	}
	if _, leaked := values["deploy_hook_url"]; leaked {
		t.Fatalf("a sensitive output is among the plain outputs: %v", values)
	}
	if hook := out["sensitive_outputs"].(map[string]any)["deploy_hook_url"]; hook != "https://api.render.com/deploy/srv-oregon?key=none" {
		t.Fatalf("sensitive output = %v", hook)
	}
	if strings.Contains(f.logText(), "srv-oregon?key") {
		t.Fatalf("a log line shows the sensitive output:\n%s", f.logText())
	}

	// Step 1 of the plan: modify main.tf to change the region.
	out = f.must("set_default", "k-region", map[string]any{"variable": "region", "value": "frankfurt"})
	want = map[string]any{"previous": "oregon", "previous_expr": `"oregon"`, "changed": true, "file": "main.tf"}
	if !reflect.DeepEqual(out, want) {
		t.Fatalf("set_default:\n got %v\nwant %v", out, want)
	}
	wantFile := strings.Replace(original, `default     = "oregon" #`, `default     = "frankfurt" #`, 1)
	if got := f.read("main.tf"); got != wantFile {
		t.Fatalf("main.tf after set_default:\n%s\nwant only the default changed:\n%s", got, wantFile)
	}
	// Another attempt of the same step reports what the first one replaced.
	if out := f.must("set_default", "k-region", map[string]any{"variable": "region", "value": "frankfurt"}); !reflect.DeepEqual(out, want) {
		t.Fatalf("set_default again:\n got %v\nwant %v", out, want)
	}
	rec := f.reconcileWith("set_default", "k-region", map[string]any{"variable": "region", "value": "frankfurt"})
	if rec.State != sdk.Applied || !reflect.DeepEqual(rec.Outputs, want) {
		t.Fatalf("Reconcile set_default = %v %v", rec.State, rec.Outputs)
	}
	// In process, with the key only: the marker is enough.
	p := New()
	if err := p.Configure(context.Background(), map[string]any{"dir": f.dir}); err != nil {
		t.Fatal(err)
	}
	rec, err := p.Reconcile(context.Background(), sdk.Request{Action: "set_default", IdempotencyKey: "k-region"})
	if err != nil || rec.State != sdk.Applied || !reflect.DeepEqual(rec.Outputs, want) {
		t.Fatalf("Reconcile set_default with the key only = %v %v %v", rec.State, rec.Outputs, err)
	}
	if rec, err := p.Reconcile(context.Background(), sdk.Request{Action: "set_default", IdempotencyKey: "never"}); err != nil || rec.State != sdk.NotApplied {
		t.Fatalf("Reconcile set_default that never ran = %v %v", rec.State, err)
	}
	// Another step finds nothing to change.
	out = f.must("set_default", "k-other", map[string]any{"variable": "region", "value": "frankfurt", "file": "main.tf"})
	if out["changed"] != false || out["previous"] != "frankfurt" {
		t.Fatalf("set_default with the value it has = %v", out)
	}

	plan, err := f.mgr.Plan(context.Background(), Name, f.request("apply", "", nil))
	if err != nil {
		t.Fatal(err)
	}
	wantSummary := "would apply in " + f.dir + ": 1 to add, 1 to change, 1 to destroy " +
		"(replace terraform_data.blockchain_monitor, update terraform_data.user_api)"
	if plan.Summary != wantSummary {
		t.Fatalf("dry run of apply:\n got %s\nwant %s", plan.Summary, wantSummary)
	}

	// Step 2: apply (with one more instance).
	out = f.must("apply", "k-apply2", map[string]any{"vars": map[string]any{"instances": 3}})
	if out["summary"] != "1 added, 1 changed, 1 destroyed" {
		t.Fatalf("second apply = %v", out)
	}
	if v := out["outputs"].(map[string]any); v["region"] != "frankfurt" || v["instances"] != 3 {
		t.Fatalf("outputs after the failover = %v", v)
	}

	// Step 3 reads the endpoint the DNS check expects.
	out = f.must("output", "k-out", map[string]any{"name": "api_endpoint"})
	if out["value"] != "user-api-frankfurt.onrender.com" || out["sensitive"] != false {
		t.Fatalf("output api_endpoint = %v", out)
	}
	out = f.must("output", "k-out", map[string]any{"name": "deploy_hook_url"})
	if out["secret_value"] != "https://api.render.com/deploy/srv-frankfurt?key=none" || out["sensitive"] != true || out["value"] != nil {
		t.Fatalf("output deploy_hook_url = %v", out)
	}
	_, err = f.exec("output", "k-out", map[string]any{"name": "nope"})
	plugintest.WantKind(t, err, sdk.KindNotFound, `has no output "nope"; it has api_endpoint, deploy_hook_url, instances, region`)

	// Nothing left to do.
	out = f.must("plan", "k-plan3", map[string]any{"vars": map[string]any{"instances": 3}})
	if out["changes"] != false || out["summary"] != "0 to add, 0 to change, 0 to destroy" {
		t.Fatalf("plan after the failover = %v", out)
	}
}

// TestReconcileApply checks what Reconcile says about an apply with a
// given idempotency key: applied when a plan with its variables shows no
// changes, not applied when it shows some or the apply never started.
func TestReconcileApply(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	f.must("init", "", nil)
	if rec := f.reconcile("apply", "never-ran"); rec.State != sdk.NotApplied {
		t.Fatalf("apply that never ran: %v", rec.State)
	}
	frankfurt := map[string]any{"vars": map[string]any{"region": "frankfurt"}}
	f.must("apply", "k-fra", frankfurt)
	rec := f.reconcile("apply", "k-fra")
	if rec.State != sdk.Applied {
		t.Fatalf("finished apply: %v", rec.State)
	}
	if rec.Outputs["summary"] != "2 added, 0 changed, 0 destroyed" || rec.Outputs["outputs"].(map[string]any)["region"] != "frankfurt" {
		t.Fatalf("reconciled outputs = %v", rec.Outputs)
	}
	// The state moves on (another step applies oregon): the first apply's
	// variables now plan changes, so running it again is what it takes.
	f.must("apply", "k-ore", map[string]any{"vars": map[string]any{"region": "oregon"}})
	if rec := f.reconcile("apply", "k-fra"); rec.State != sdk.NotApplied {
		t.Fatalf("apply whose effect is gone: %v", rec.State)
	}
	// Secret values are not kept: without the step's inputs the plugin
	// cannot plan for that step; with them (as the engine resumes) it can.
	secret := map[string]any{"secret_vars": map[string]any{"deploy_hook_token": canary}}
	f.must("apply", "k-secret", secret)
	if rec := f.reconcile("apply", "k-secret"); rec.State != sdk.Unknown {
		t.Fatalf("apply with secret variables, no inputs: %v", rec.State)
	}
	if rec := f.reconcileWith("apply", "k-secret", secret); rec.State != sdk.Applied {
		t.Fatalf("apply with secret variables, given the inputs: %v", rec.State)
	}
	markers, _ := filepath.Glob(filepath.Join(f.dir, markerDir, "*"))
	for _, m := range markers {
		b, _ := os.ReadFile(m)
		if strings.Contains(string(b), canary) {
			t.Fatalf("marker %s holds a secret: %s", m, b)
		}
	}
	if rec := f.reconcile("plan", "any"); rec.State != sdk.NotApplied {
		t.Fatalf("plan: %v, want not applied (it changes nothing)", rec.State)
	}
}

// TestDiagnostics checks that Terraform's errors come back with their
// diagnostics (summary, file:line, detail), classified.
func TestDiagnostics(t *testing.T) {
	t.Parallel()
	t.Run("before init", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t, nil)
		_, err := f.exec("plan", "", nil)
		plugintest.WantKind(t, err, sdk.KindPermanent, "terraform: plan in "+f.dir+": Error: ", "terraform init")
	})
	t.Run("undeclared reference", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t, nil)
		f.must("init", "", nil)
		src := f.read("main.tf")
		line := strings.Count(src[:strings.Index(src, "triggers_replace = var.region")], "\n") + 1
		f.write("main.tf", strings.Replace(src, "triggers_replace = var.region", "triggers_replace = var.regin", 1))
		_, err := f.exec("plan", "", nil)
		where := fmt.Sprintf("(main.tf:%d)", line)
		plugintest.WantKind(t, err, sdk.KindPermanent, "terraform: plan in "+f.dir+": Error: Reference to undeclared input variable "+where+": "+
			`An input variable with the name "regin" has not been declared. Did you mean "region"?`)
		_, err = f.exec("apply", "k", nil)
		plugintest.WantKind(t, err, sdk.KindPermanent, "terraform: apply in", where)
	})
	t.Run("undeclared variable", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t, nil)
		f.must("init", "", nil)
		_, err := f.exec("plan", "", map[string]any{"vars": map[string]any{"regoin": "frankfurt"}})
		plugintest.WantKind(t, err, sdk.KindPermanent, `Error: Value for undeclared variable: A variable named "regoin" was assigned on the command line`)
	})
	t.Run("secret of the wrong type", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t, nil)
		f.must("init", "", nil)
		_, err := f.exec("apply", "k", map[string]any{"secret_vars": map[string]any{"instances": canary}})
		if err == nil || !strings.Contains(err.Error(), "Error: ") {
			t.Fatalf("err = %v, want Terraform's diagnostic", err)
		}
		f.noLeak(err)
	})
	t.Run("bad inputs", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t, nil)
		_, err := f.exec("plan", "", map[string]any{"vars": map[string]any{"region": "a"}, "secret_vars": map[string]any{"region": canary}})
		plugintest.WantKind(t, err, sdk.KindBadInput, "variable region is in both vars and secret_vars")
		f.noLeak(err)
	})
}

// TestSecretsNeverLeak applies with a secret variable that ends up in a
// sensitive output: the value is returned in sensitive_outputs only.
func TestSecretsNeverLeak(t *testing.T) {
	t.Parallel()
	f := newFixture(t, map[string]any{"secret_env": map[string]any{"TF_VAR_region": "frankfurt"}})
	f.must("init", "", nil)
	out := f.must("apply", "k", map[string]any{"secret_vars": map[string]any{"deploy_hook_token": canary}})
	if hook := out["sensitive_outputs"].(map[string]any)["deploy_hook_url"]; hook != "https://api.render.com/deploy/srv-frankfurt?key="+canary {
		t.Fatalf("sensitive output = %v", hook)
	}
	if out["outputs"].(map[string]any)["region"] != "frankfurt" {
		t.Fatalf("TF_VAR_region from secret_env was not used: %v", out["outputs"])
	}
	f.noLeak(nil)
	plan, err := f.mgr.Plan(context.Background(), Name, f.request("plan", "", map[string]any{"secret_vars": map[string]any{"deploy_hook_token": canary}}))
	if err != nil || plan.Summary != "would run terraform plan in "+f.dir+" with secret deploy_hook_token" {
		t.Fatalf("plan summary = %q, %v", plan.Summary, err)
	}
}

// TestEnv passes a variable through the env setting, as TF_VAR_ does.
func TestEnv(t *testing.T) {
	t.Parallel()
	f := newFixture(t, map[string]any{"env": map[string]any{"TF_VAR_instances": "7"}})
	f.must("init", "", nil)
	out := f.must("apply", "k", nil)
	if got := out["outputs"].(map[string]any)["instances"]; got != 7 {
		t.Fatalf("instances = %v, want 7 from TF_VAR_instances", got)
	}
}

func TestConfigure(t *testing.T) {
	t.Parallel()
	requireTerraform(t)
	dir := t.TempDir()
	tests := []struct {
		cfg  map[string]any
		want string
	}{
		{map[string]any{}, "dir is required"},
		{map[string]any{"dir": filepath.Join(dir, "missing")}, "is not a folder"},
		{map[string]any{"dir": dir, "binary": filepath.Join(dir, "terraform")}, "terraform binary not found"},
		{map[string]any{"dir": dir, "env": map[string]any{"TF_LOG": "TRACE"}}, "TF_LOG is set by the plugin"},
		{map[string]any{"dir": dir, "env": map[string]any{"TF_CLI_ARGS_plan": "-x"}}, "TF_CLI_ARGS_plan is set by the plugin"},
		{map[string]any{"dir": dir, "env": map[string]any{"A": "1"}, "secret_env": map[string]any{"A": "2"}}, "A is in both"},
	}
	for _, tt := range tests {
		err := (&Plugin{}).Configure(context.Background(), tt.cfg)
		if sdk.KindOf(err) != sdk.KindBadInput || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Configure(%v) = %v, want bad input saying %q", tt.cfg, err, tt.want)
		}
	}
}

func TestExampleRunbookLints(t *testing.T) {
	t.Parallel()
	plugintest.LintsClean(t, catalog.MustNew(Spec, dnscheck.Spec), "testdata/region-failover.yaml")
}

func ExampleFindBinary() {
	_, err := FindBinary("/nonexistent/terraform")
	fmt.Println(err)
	// Output: terraform: terraform binary not found: install Terraform on this machine (it is not fetched automatically) or set the plugin's binary setting (looked for /nonexistent/terraform)
}

// TestApplySavedPlan: apply runs exactly the plan a person approved (its
// SHA-256 is in the apply's inputs, which the approval covers); a plan file
// that is not the approved one, or whose state has changed since (terraform's
// own "Saved plan is stale"), is refused and needs a new plan.
func TestApplySavedPlan(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		// edit changes the apply's inputs or the world after the plan.
		edit func(f *fixture, in map[string]any)
		err  string // "" means the apply succeeds
	}{
		{"the approved plan", func(*fixture, map[string]any) {}, ""},
		{"another digest", func(_ *fixture, in map[string]any) { in["plan_sha256"] = strings.Repeat("0", 64) }, "not the approved"},
		{"plan file changed", func(f *fixture, in map[string]any) {
			if err := os.WriteFile(in["plan_file"].(string), []byte("tampered"), 0o600); err != nil {
				f.t.Fatal(err)
			}
		}, "not the approved"},
		{"state changed since the plan", func(f *fixture, _ map[string]any) {
			f.must("apply", "k-other", map[string]any{"vars": map[string]any{"instances": 3}})
		}, "stale"},
		{"variables with a saved plan", func(_ *fixture, in map[string]any) { in["vars"] = map[string]any{"region": "frankfurt"} }, "not both"},
		{"digest missing", func(_ *fixture, in map[string]any) { delete(in, "plan_sha256") }, "go together"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, nil)
			f.must("init", "k-init", nil)
			pl := f.must("plan", "k-plan", nil)
			in := map[string]any{"plan_file": pl["plan_file"], "plan_sha256": pl["plan_sha256"]}
			tc.edit(f, in)
			out, err := f.exec("apply", "k-apply", in)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("apply = %v, %v; want an error with %q", out, err, tc.err)
				}
				return
			}
			if err != nil || out["summary"] != "2 added, 0 changed, 0 destroyed" {
				t.Fatalf("apply = %v, %v; want the plan's 2 additions", out, err)
			}
		})
	}
}
