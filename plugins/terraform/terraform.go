// Package terraform is the runbook plugin "terraform", for the DR plan's
// region failover (section 4.1): set variable "region" to frankfurt in
// main.tf, then terraform apply. It drives the real terraform binary with
// github.com/hashicorp/terraform-exec and edits .tf files with
// github.com/hashicorp/hcl/v2, so a change is exactly what an operator
// would have typed.
//
// Every command runs with -json, so Terraform's diagnostics (summary,
// detail, file:line) come back in the step's error and its progress in the
// step's log. Sensitive outputs are returned apart, in a secret output,
// and secret variables travel in a private var file, never on a command
// line. Commands of one plugin run one at a time: they share a state.
//
// An apply leaves a small marker in the working directory's .terraform
// folder with its variables (never secret values), so that after a crash
// Reconcile can plan again with the same variables and tell whether the
// apply finished.
package terraform

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"

	"github.com/alpha-orion/runbook/engine/catalog"
	"github.com/alpha-orion/runbook/plugins/sdk"
	"github.com/hashicorp/terraform-exec/tfexec"
)

// Plugin is the terraform plugin.
type Plugin struct {
	sdk.Base

	mu      sync.RWMutex
	dir     string // absolute
	dirName string // as configured, for messages
	binary  string // absolute

	run sync.Mutex // held by every terraform command and file edit
}

// New returns the terraform plugin.
func New() sdk.Plugin { return &Plugin{} }

// Spec returns the plugin's catalogue entry.
func (*Plugin) Spec() catalog.Plugin { return Spec }

// Configure checks the working directory and finds the binary. The env
// settings become the plugin process's own environment, which terraform
// inherits: terraform-exec accepts TF_VAR_ variables no other way.
// CHECKPOINT_DISABLE is set unless given: no update checks.
func (p *Plugin) Configure(_ context.Context, cfg map[string]any) error {
	dirName, _ := cfg["dir"].(string)
	if strings.TrimSpace(dirName) == "" {
		return sdk.BadInput("terraform: dir is required: the folder holding the configuration (main.tf)")
	}
	dir, err := filepath.Abs(dirName)
	if err != nil {
		return sdk.BadInput("terraform: dir %s: %v", dirName, err)
	}
	if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
		return sdk.BadInput("terraform: dir %s is not a folder", dirName)
	}
	binary, err := FindBinary(str(cfg["binary"]))
	if err != nil {
		return sdk.BadInput("%v", err)
	}
	env, err := environment(cfg)
	if err != nil {
		return err
	}
	if _, set := os.LookupEnv("CHECKPOINT_DISABLE"); !set {
		env["CHECKPOINT_DISABLE"] = "1" // no update checks from a DR tool
	}
	for _, k := range sortedKeys(env) {
		if err := os.Setenv(k, env[k]); err != nil {
			return sdk.BadInput("terraform: env %s: %v", k, err)
		}
	}
	p.mu.Lock()
	p.dir, p.dirName, p.binary = dir, dirName, binary
	p.mu.Unlock()
	return nil
}

// ErrNotInstalled reports that the terraform binary is missing. Terraform
// is not in any package registry the project uses: it must be on the machine.
var ErrNotInstalled = errors.New("terraform binary not found: install Terraform on this machine " +
	"(it is not fetched automatically) or set the plugin's binary setting")

// FindBinary returns the absolute path of bin (default "terraform" on
// PATH); the error wraps ErrNotInstalled.
func FindBinary(bin string) (string, error) {
	if bin == "" {
		bin = DefaultBinary
	}
	p, err := exec.LookPath(bin)
	if err != nil {
		return "", fmt.Errorf("terraform: %w (looked for %s)", ErrNotInstalled, bin)
	}
	abs, err := filepath.Abs(p)
	if err != nil {
		return "", fmt.Errorf("terraform: %s: %w", p, err)
	}
	return abs, nil
}

// environment merges env and secret_env, refusing the variables that
// terraform-exec sets itself.
func environment(cfg map[string]any) (map[string]string, error) {
	out := map[string]string{}
	for _, setting := range []string{"env", "secret_env"} {
		m, _ := cfg[setting].(map[string]any)
		for k, v := range m {
			if k == "" || strings.ContainsAny(k, "= \t\n") {
				return nil, sdk.BadInput("terraform: %s: %q is not an environment variable name", setting, k)
			}
			if managed(k) {
				return nil, sdk.BadInput("terraform: %s: %s is set by the plugin and cannot be changed", setting, k)
			}
			if _, dup := out[k]; dup {
				return nil, sdk.BadInput("terraform: %s is in both env and secret_env", k)
			}
			out[k] = render(v)
		}
	}
	return out, nil
}

// managed reports whether terraform-exec controls the variable k (TF_VAR_
// variables are the user's to set).
func managed(k string) bool {
	if strings.HasPrefix(k, "TF_VAR_") {
		return false
	}
	return len(tfexec.ProhibitedEnv(map[string]string{k: ""})) > 0
}

// settings returns the configured directory and binary.
func (p *Plugin) settings() (dir, dirName, binary string, err error) {
	p.mu.RLock()
	defer p.mu.RUnlock()
	if p.dir == "" {
		return "", "", "", sdk.BadInput("terraform: the plugin is not configured (dir)")
	}
	return p.dir, p.dirName, p.binary, nil
}

// session is one step's use of the working directory.
type session struct {
	dir     string
	dirName string
	binary  string
	log     sdk.Logger
}

func (p *Plugin) session(log sdk.Logger) (*session, error) {
	dir, dirName, binary, err := p.settings()
	if err != nil {
		return nil, err
	}
	if log == nil {
		log = discard{}
	}
	return &session{dir: dir, dirName: dirName, binary: binary, log: log}, nil
}

// tf returns a terraform-exec handle; each command gets its own, since
// stdout is set per handle.
func (s *session) tf() (*tfexec.Terraform, error) {
	tf, err := tfexec.NewTerraform(s.dir, s.binary)
	if err != nil {
		return nil, sdk.Permanent(fmt.Errorf("terraform: %v", err))
	}
	return tf, nil
}

// Plan says what a step would do; for apply it runs terraform plan, which
// changes nothing.
func (p *Plugin) Plan(ctx context.Context, req sdk.Request) (sdk.Plan, error) {
	s, err := p.session(nil)
	if err != nil {
		return sdk.Plan{}, err
	}
	switch req.Action {
	case "init":
		return sdk.Plan{Summary: "would run terraform init in " + s.dirName}, nil
	case "output":
		return sdk.Plan{Summary: "would read the outputs of " + s.dirName}, nil
	case "plan":
		vs, err := readVars(req.Inputs)
		if err != nil {
			return sdk.Plan{}, err
		}
		return sdk.Plan{Summary: fmt.Sprintf("would run terraform plan in %s%s", s.dirName, vs.describe())}, nil
	case "apply":
		return p.planApply(ctx, s, req)
	case "set_default":
		p.run.Lock()
		defer p.run.Unlock()
		return s.planSetDefault(req.Inputs)
	case "state_rm":
		p.run.Lock()
		defer p.run.Unlock()
		return s.planStateRm(ctx, req.Inputs)
	}
	return sdk.Plan{}, sdk.Errorf(sdk.KindUnimplemented, "terraform: no action %q", req.Action)
}

// Execute runs the named action.
func (p *Plugin) Execute(ctx context.Context, req sdk.Request, log sdk.Logger) (map[string]any, error) {
	s, err := p.session(log)
	if err != nil {
		return nil, err
	}
	p.run.Lock()
	defer p.run.Unlock()
	switch req.Action {
	case "init":
		return s.init(ctx, req.Inputs)
	case "plan":
		vs, err := readVars(req.Inputs)
		if err != nil {
			return nil, err
		}
		res, err := s.keptPlan(ctx, vs, req.IdempotencyKey)
		if err != nil {
			return nil, err
		}
		return res.outputs(), nil
	case "apply":
		return s.apply(ctx, req)
	case "output":
		return s.output(ctx, str(req.Inputs["name"]))
	case "set_default":
		return s.setDefault(req)
	case "state_rm":
		return s.stateRm(ctx, req.Inputs)
	}
	return nil, sdk.Errorf(sdk.KindUnimplemented, "terraform: no action %q", req.Action)
}

// Reconcile tells whether an apply or a set_default with the step's
// idempotency key took effect (see the package doc); the other actions
// change nothing and may always run again.
func (p *Plugin) Reconcile(ctx context.Context, req sdk.Request) (sdk.Reconciliation, error) {
	s, err := p.session(nil)
	if err != nil {
		return sdk.Reconciliation{}, err
	}
	p.run.Lock()
	defer p.run.Unlock()
	switch req.Action {
	case "apply":
		return s.reconcileApply(ctx, req)
	case "set_default":
		return s.reconcileSetDefault(req)
	}
	return sdk.Reconciliation{State: sdk.NotApplied}, nil
}

// discard is a Logger that drops every line.
type discard struct{}

func (discard) Printf(string, ...any) {}
func (discard) Warnf(string, ...any)  {}

func str(v any) string {
	s, _ := v.(string)
	return s
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
