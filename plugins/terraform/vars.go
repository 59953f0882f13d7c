package terraform

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/alpha-orion/runbook/engine/catalog"
	"github.com/alpha-orion/runbook/plugins/sdk"
	"github.com/hashicorp/terraform-exec/tfexec"
)

// varSet is the variables, var files and targets of a plan or an apply.
type varSet struct {
	vars    map[string]string // rendered for -var
	secret  map[string]any    // written to a private var file
	files   []string
	targets []string
}

func readVars(in map[string]any) (*varSet, error) {
	vs := &varSet{vars: map[string]string{}, secret: map[string]any{}}
	if m, ok := in["vars"].(map[string]any); ok {
		for k, v := range m {
			if err := checkVarName(k); err != nil {
				return nil, err
			}
			vs.vars[k] = render(v)
		}
	}
	if m, ok := in["secret_vars"].(map[string]any); ok {
		for k, v := range m {
			if err := checkVarName(k); err != nil {
				return nil, err
			}
			if _, dup := vs.vars[k]; dup {
				return nil, sdk.BadInput("terraform: variable %s is in both vars and secret_vars", k)
			}
			vs.secret[k] = catalog.DurationsAsText(v)
		}
	}
	var err error
	if vs.files, err = strList(in["var_files"], "var_files"); err != nil {
		return nil, err
	}
	if vs.targets, err = strList(in["targets"], "targets"); err != nil {
		return nil, err
	}
	return vs, nil
}

func checkVarName(k string) error {
	if k == "" || strings.ContainsAny(k, "= \t\n\"") {
		return sdk.BadInput("terraform: %q is not a variable name", k)
	}
	return nil
}

func strList(v any, input string) ([]string, error) {
	list, _ := v.([]any)
	out := make([]string, 0, len(list))
	for _, e := range list {
		s, ok := e.(string)
		if !ok || strings.TrimSpace(s) == "" {
			return nil, sdk.BadInput("terraform: %s: %v is not a string", input, e)
		}
		out = append(out, s)
	}
	return out, nil
}

// render writes a value as -var takes it: strings as they are, numbers and
// booleans as literals, lists and maps as JSON (which HCL reads).
func render(v any) string {
	switch x := v.(type) {
	case nil:
		return "null"
	case string:
		return x
	case bool:
		return strconv.FormatBool(x)
	case int:
		return strconv.Itoa(x)
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case time.Time:
		return x.Format(time.RFC3339Nano)
	case time.Duration:
		return x.String()
	}
	b, err := json.Marshal(catalog.DurationsAsText(v))
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

// args writes the secret var file into tmp and returns the options, in
// Terraform's order of precedence: var files, the secret file, then -var.
func (vs *varSet) args(tmp string) (files []*tfexec.VarFileOption, vars []*tfexec.VarOption, targets []*tfexec.TargetOption, err error) {
	for _, f := range vs.files {
		files = append(files, tfexec.VarFile(f))
	}
	if len(vs.secret) > 0 {
		b, err := json.Marshal(vs.secret)
		if err != nil {
			return nil, nil, nil, sdk.BadInput("terraform: secret_vars cannot be written as JSON")
		}
		path := filepath.Join(tmp, "secret.tfvars.json")
		if err := os.WriteFile(path, b, 0o600); err != nil {
			return nil, nil, nil, sdk.Permanent(fmt.Errorf("terraform: write the secret var file: %v", err))
		}
		files = append(files, tfexec.VarFile(path))
	}
	for _, k := range sortedKeys(vs.vars) {
		vars = append(vars, tfexec.Var(k+"="+vs.vars[k]))
	}
	for _, t := range vs.targets {
		targets = append(targets, tfexec.Target(t))
	}
	return files, vars, targets, nil
}

func (vs *varSet) planOptions(tmp string) ([]tfexec.PlanOption, error) {
	files, vars, targets, err := vs.args(tmp)
	var opts []tfexec.PlanOption
	for _, o := range files {
		opts = append(opts, o)
	}
	for _, o := range vars {
		opts = append(opts, o)
	}
	for _, o := range targets {
		opts = append(opts, o)
	}
	return opts, err
}

func (vs *varSet) applyOptions(tmp string) ([]tfexec.ApplyOption, error) {
	files, vars, targets, err := vs.args(tmp)
	var opts []tfexec.ApplyOption
	for _, o := range files {
		opts = append(opts, o)
	}
	for _, o := range vars {
		opts = append(opts, o)
	}
	for _, o := range targets {
		opts = append(opts, o)
	}
	return opts, err
}

// describe lists the variables for a summary: values of vars, names of
// secret ones.
func (vs *varSet) describe() string {
	var parts []string
	for _, k := range sortedKeys(vs.vars) {
		parts = append(parts, k+"="+vs.vars[k])
	}
	if len(vs.secret) > 0 {
		parts = append(parts, "secret "+strings.Join(sortedKeys(vs.secret), ", "))
	}
	if len(vs.files) > 0 {
		parts = append(parts, "var files "+strings.Join(vs.files, ", "))
	}
	if len(vs.targets) > 0 {
		parts = append(parts, "only "+strings.Join(vs.targets, ", "))
	}
	if len(parts) == 0 {
		return ""
	}
	return " with " + strings.Join(parts, ", ")
}

// tempDir makes a private folder for a plan file and a secret var file.
func tempDir() (string, func(), error) {
	dir, err := os.MkdirTemp("", "runbook-terraform-")
	if err != nil {
		return "", nil, sdk.Permanent(fmt.Errorf("terraform: %v", err))
	}
	return dir, func() { _ = os.RemoveAll(dir) }, nil
}
