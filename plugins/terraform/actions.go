package terraform

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
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
	// file and sha256 name the kept plan (empty when it was not kept).
	file, sha256 string
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
	out := map[string]any{"changes": r.changes, "summary": r.summary(), "add": r.add, "change": r.change,
		"destroy": r.destroy, "resource_changes": res}
	if r.file != "" {
		out["plan_file"], out["plan_sha256"] = r.file, r.sha256
	}
	return out
}

// keptPlan runs a plan and keeps its file, under the key of the step, for
// an apply of exactly this plan.
func (s *session) keptPlan(ctx context.Context, vs *varSet, key string) (*planResult, error) {
	res, err := s.plan(ctx, vs, func(tmpPlan string) (string, error) {
		if key == "" {
			return "", nil
		}
		dst := strings.TrimSuffix(s.markerPath("plan", key), ".json") + ".tfplan"
		if err := os.MkdirAll(filepath.Dir(dst), 0o700); err != nil {
			return "", err
		}
		b, err := os.ReadFile(tmpPlan)
		if err != nil {
			return "", err
		}
		return dst, os.WriteFile(dst, b, 0o600)
	})
	if err != nil || res.file == "" {
		return res, err
	}
	res.sha256, err = fileSHA256(res.file)
	return res, err
}

// fileSHA256 is a file's SHA-256, hex.
func fileSHA256(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:]), nil
}

// plan runs terraform plan into a private plan file and reads it back as
// JSON; keep, when set, may copy the file before it is removed and returns
// where it kept it.
func (s *session) plan(ctx context.Context, vs *varSet, keep ...func(tmpPlan string) (string, error)) (*planResult, error) {
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
	for _, k := range keep {
		if res.file, err = k(planFile); err != nil {
			return nil, sdk.Permanent(fmt.Errorf("terraform: keep the plan: %w", err))
		}
	}
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

// savedPlan returns an apply's plan_file after checking it is the plan
// whose digest the step carries; "" when the step gives none.
func savedPlan(in map[string]any, vs *varSet) (string, error) {
	file, digest := str(in["plan_file"]), str(in["plan_sha256"])
	if file == "" && digest == "" {
		return "", nil
	}
	if file == "" || digest == "" {
		return "", sdk.BadInput("terraform: apply: plan_file and plan_sha256 go together (both from the plan step)")
	}
	if len(vs.vars)+len(vs.secret)+len(vs.files)+len(vs.targets) > 0 {
		return "", sdk.BadInput("terraform: apply: a saved plan already holds its variables and targets; give plan_file or variables, not both")
	}
	got, err := fileSHA256(file)
	if err != nil {
		return "", sdk.Permanent(fmt.Errorf("terraform: apply: read the saved plan: %w", err))
	}
	if !strings.EqualFold(got, digest) {
		return "", sdk.Permanent(fmt.Errorf("terraform: apply: the plan file's SHA-256 is %s, not the approved %s: make a new plan and get it approved", got, digest))
	}
	return file, nil
}

// apply runs terraform apply, bracketed by the step's marker: of the saved
// plan the step names, or else of a fresh plan with the step's variables.
func (s *session) apply(ctx context.Context, req sdk.Request) (map[string]any, error) {
	vs, err := readVars(req.Inputs)
	if err != nil {
		return nil, err
	}
	saved, err := savedPlan(req.Inputs, vs)
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
	if saved != "" {
		opts = []tfexec.ApplyOption{tfexec.DirOrPlan(saved)}
		s.log.Printf("applying the saved plan %s", filepath.Base(saved))
	}
	marker := applyMarker{Vars: vs.vars, SecretVars: sortedKeys(vs.secret), VarFiles: vs.files, Targets: vs.targets, PlanSHA256: str(req.Inputs["plan_sha256"])}
	path := s.markerPath("apply", req.IdempotencyKey)
	if err := writeMarker(path, marker); err != nil {
		return nil, err
	}
	u := newUI(s.log)
	err = tf.ApplyJSON(ctx, u, opts...)
	u.flush()
	if err != nil {
		if saved != "" && strings.Contains(err.Error(), "Saved plan is stale") {
			return nil, sdk.Permanent(fmt.Errorf("terraform: apply: the approved plan is stale (the state changed since it was made): make a new plan and get it approved"))
		}
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
	if m.PlanSHA256 != "" {
		if m.Done {
			out, err := s.applied(ctx, m)
			return sdk.Reconciliation{State: sdk.Applied, Outputs: out}, err
		}
		// A saved plan half applied is stale now, or not: terraform decides
		// when the step runs again; nothing here can tell.
		return sdk.Reconciliation{State: sdk.Unknown}, nil
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
	if f := str(req.Inputs["plan_file"]); f != "" {
		return sdk.Plan{Summary: fmt.Sprintf("would apply the saved plan %s (SHA-256 %s) in %s", filepath.Base(f), str(req.Inputs["plan_sha256"]), s.dirName)}, nil
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
