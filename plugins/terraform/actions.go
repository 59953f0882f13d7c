package terraform

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"path/filepath"
	"sort"
	"strings"

	"github.com/alpha-orion/runbook/plugins/sdk"
	"github.com/hashicorp/terraform-exec/tfexec"
	tfjson "github.com/hashicorp/terraform-json"
)

func (s *session) init(ctx context.Context, in map[string]any) (map[string]any, error) {
	tf, err := s.tf()
	if err != nil {
		return nil, err
	}
	var opts []tfexec.InitOption
	if b, _ := in["upgrade"].(bool); b {
		opts = append(opts, tfexec.Upgrade(true))
	}
	if b, _ := in["reconfigure"].(bool); b {
		opts = append(opts, tfexec.Reconfigure(true))
	}
	if m, ok := in["backend_config"].(map[string]any); ok {
		for _, k := range sortedKeys(m) {
			opts = append(opts, tfexec.BackendConfig(k+"="+render(m[k])))
		}
	}
	u := newUI(s.log)
	err = tf.InitJSON(ctx, u, opts...)
	var old *tfexec.ErrVersionMismatch
	if errors.As(err, &old) { // terraform before 1.9 has no init -json
		u = newUI(s.log)
		tf.SetStdout(u)
		err = tf.Init(ctx, opts...)
	}
	u.flush()
	if err != nil {
		return nil, s.fail(ctx, "init", u, err)
	}
	v, _, err := tf.Version(ctx, false)
	if err != nil {
		return nil, s.fail(ctx, "version", nil, err)
	}
	s.log.Printf("initialised %s with Terraform %s", s.dirName, v)
	return map[string]any{"version": v.String()}, nil
}

// planResult is what a plan would change.
type planResult struct {
	changes              bool
	add, change, destroy int
	resources            []string
}

func (r *planResult) summary() string {
	s := fmt.Sprintf("%d to add, %d to change, %d to destroy", r.add, r.change, r.destroy)
	if r.changes && r.add+r.change+r.destroy == 0 {
		s += " (outputs change)"
	}
	return s
}

func (r *planResult) outputs() map[string]any {
	res := make([]any, len(r.resources))
	for i, x := range r.resources {
		res[i] = x
	}
	return map[string]any{"changes": r.changes, "summary": r.summary(), "add": r.add, "change": r.change,
		"destroy": r.destroy, "resource_changes": res}
}

// plan runs terraform plan into a private plan file and reads it back as JSON.
func (s *session) plan(ctx context.Context, vs *varSet) (*planResult, error) {
	tf, err := s.tf()
	if err != nil {
		return nil, err
	}
	tmp, cleanup, err := tempDir()
	if err != nil {
		return nil, err
	}
	defer cleanup()
	opts, err := vs.planOptions(tmp)
	if err != nil {
		return nil, err
	}
	planFile := filepath.Join(tmp, "plan.tfplan")
	u := newUI(s.log)
	changes, err := tf.PlanJSON(ctx, u, append(opts, tfexec.Out(planFile))...)
	u.flush()
	if err != nil {
		return nil, s.fail(ctx, "plan", u, err)
	}
	tf.SetStdout(nil)
	plan, err := tf.ShowPlanFile(ctx, planFile)
	if err != nil {
		return nil, s.fail(ctx, "show the plan", nil, err)
	}
	res := &planResult{changes: changes}
	for _, rc := range plan.ResourceChanges {
		if rc.Change == nil {
			continue
		}
		action := countAction(res, rc.Change.Actions)
		if action != "" {
			res.resources = append(res.resources, action+" "+rc.Address)
		}
	}
	sort.Strings(res.resources)
	return res, nil
}

// countAction adds one resource's actions to the counts and names them.
func countAction(r *planResult, a tfjson.Actions) string {
	switch {
	case a.Replace():
		r.add++
		r.destroy++
		return "replace"
	case a.Create():
		r.add++
		return "create"
	case a.Update():
		r.change++
		return "update"
	case a.Delete():
		r.destroy++
		return "delete"
	}
	return "" // no-op or read
}

// apply runs terraform apply, bracketed by the step's marker.
func (s *session) apply(ctx context.Context, req sdk.Request) (map[string]any, error) {
	vs, err := readVars(req.Inputs)
	if err != nil {
		return nil, err
	}
	tf, err := s.tf()
	if err != nil {
		return nil, err
	}
	tmp, cleanup, err := tempDir()
	if err != nil {
		return nil, err
	}
	defer cleanup()
	opts, err := vs.applyOptions(tmp)
	if err != nil {
		return nil, err
	}
	marker := applyMarker{Vars: vs.vars, SecretVars: sortedKeys(vs.secret), VarFiles: vs.files, Targets: vs.targets}
	path := s.markerPath("apply", req.IdempotencyKey)
	if err := writeMarker(path, marker); err != nil {
		return nil, err
	}
	u := newUI(s.log)
	err = tf.ApplyJSON(ctx, u, opts...)
	u.flush()
	if err != nil {
		return nil, s.fail(ctx, "apply", u, err)
	}
	if u.summary != nil {
		marker.Add, marker.Change, marker.Destroy = u.summary.Changes.Add, u.summary.Changes.Change, u.summary.Changes.Remove
	}
	marker.Done = true
	if err := writeMarker(path, marker); err != nil {
		return nil, err
	}
	return s.applied(ctx, marker)
}

// applied returns an apply's outputs: its counts and the state's outputs.
func (s *session) applied(ctx context.Context, m applyMarker) (map[string]any, error) {
	values, secret, err := s.outputs(ctx)
	if err != nil {
		return nil, err
	}
	return map[string]any{
		"changes": m.Add+m.Change+m.Destroy > 0,
		"summary": fmt.Sprintf("%d added, %d changed, %d destroyed", m.Add, m.Change, m.Destroy),
		"add":     m.Add, "change": m.Change, "destroy": m.Destroy,
		"outputs": values, "sensitive_outputs": secret,
	}, nil
}

// reconcileApply plans again with the marker's variables: no changes means
// the apply finished.
func (s *session) reconcileApply(ctx context.Context, req sdk.Request) (sdk.Reconciliation, error) {
	var m applyMarker
	found, err := readMarker(s.markerPath("apply", req.IdempotencyKey), &m)
	if err != nil || !found {
		return sdk.Reconciliation{State: sdk.NotApplied}, err // never started: safe to run
	}
	vs := &varSet{vars: m.Vars, secret: map[string]any{}, files: m.VarFiles, targets: m.Targets}
	if len(req.Inputs) > 0 {
		if vs, err = readVars(req.Inputs); err != nil {
			return sdk.Reconciliation{}, err
		}
	} else if len(m.SecretVars) > 0 {
		return sdk.Reconciliation{State: sdk.Unknown}, nil // cannot plan without the secret values
	}
	res, err := s.plan(ctx, vs)
	if err != nil {
		return sdk.Reconciliation{}, err
	}
	if res.changes {
		return sdk.Reconciliation{State: sdk.NotApplied}, nil // applying again converges
	}
	out, err := s.applied(ctx, m)
	if err != nil {
		return sdk.Reconciliation{}, err
	}
	return sdk.Reconciliation{State: sdk.Applied, Outputs: out}, nil
}

// planApply runs a plan for a dry run of apply.
func (p *Plugin) planApply(ctx context.Context, s *session, req sdk.Request) (sdk.Plan, error) {
	vs, err := readVars(req.Inputs)
	if err != nil {
		return sdk.Plan{}, err
	}
	p.run.Lock()
	defer p.run.Unlock()
	res, err := s.plan(ctx, vs)
	if err != nil {
		return sdk.Plan{Summary: fmt.Sprintf("would run terraform apply in %s%s (terraform plan fails now: %v)", s.dirName, vs.describe(), err)}, nil
	}
	summary := fmt.Sprintf("would apply in %s%s: %s", s.dirName, vs.describe(), res.summary())
	if len(res.resources) > 0 {
		summary += " (" + strings.Join(res.resources, ", ") + ")"
	}
	out := res.outputs()
	delete(out, "resource_changes")
	return sdk.Plan{Summary: summary, Outputs: out}, nil
}

// output reads the outputs, one of them by name if asked.
func (s *session) output(ctx context.Context, name string) (map[string]any, error) {
	values, secret, err := s.outputs(ctx)
	if err != nil {
		return nil, err
	}
	out := map[string]any{"outputs": values, "sensitive_outputs": secret}
	if name == "" {
		return out, nil
	}
	if v, ok := values[name]; ok {
		out["value"], out["sensitive"] = v, false
		return out, nil
	}
	v, ok := secret[name]
	if !ok {
		return nil, sdk.NotFound("terraform: %s has no output %q; it has %s", s.dirName, name, names(values, secret))
	}
	text, isString := v.(string)
	if !isString {
		b, _ := json.Marshal(v)
		text = string(b)
	}
	out["secret_value"], out["sensitive"] = text, true
	return out, nil
}

// outputs reads the state's outputs, non-sensitive and sensitive apart.
func (s *session) outputs(ctx context.Context) (values, secret map[string]any, err error) {
	tf, err := s.tf()
	if err != nil {
		return nil, nil, err
	}
	metas, err := tf.Output(ctx)
	if err != nil {
		return nil, nil, s.fail(ctx, "output", nil, err)
	}
	values, secret = map[string]any{}, map[string]any{}
	for k, m := range metas {
		v, err := decodeJSON(m.Value)
		if err != nil {
			return nil, nil, sdk.Permanent(fmt.Errorf("terraform: output %s: %v", k, err))
		}
		if m.Sensitive {
			secret[k] = v
		} else {
			values[k] = v
		}
	}
	return values, secret, nil
}

// decodeJSON decodes an output's value, whole numbers as int.
func decodeJSON(raw json.RawMessage) (any, error) {
	if len(raw) == 0 {
		return nil, nil
	}
	d := json.NewDecoder(bytes.NewReader(raw))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		return nil, err
	}
	return numbers(v), nil
}

func numbers(v any) any {
	switch x := v.(type) {
	case json.Number:
		if n, err := x.Int64(); err == nil && math.Abs(float64(n)) < 1<<53 {
			return int(n)
		}
		f, _ := x.Float64()
		return f
	case []any:
		for i := range x {
			x[i] = numbers(x[i])
		}
	case map[string]any:
		for k := range x {
			x[k] = numbers(x[k])
		}
	}
	return v
}

func names(ms ...map[string]any) string {
	var all []string
	for _, m := range ms {
		all = append(all, sortedKeys(m)...)
	}
	if len(all) == 0 {
		return "none"
	}
	sort.Strings(all)
	return strings.Join(all, ", ")
}
