package run

import (
	"fmt"
	"strings"

	"github.com/alpha-orion/runbook/engine/eval"
	"github.com/alpha-orion/runbook/engine/load"
)

// PluginConfig resolves the runbook's `plugins:` blocks (templates over
// params, secrets and env) into each plugin's configuration. overrides,
// when set, replace keys per plugin (drills point plugins at emulators
// this way, without editing the runbook).
func PluginConfig(rb *load.Runbook, params map[string]any, secrets, env map[string]string, overrides map[string]map[string]any) (map[string]map[string]any, error) {
	progs := eval.NewPrograms(func(string) bool { return false })
	secretMap := make(map[string]any, len(secrets))
	for k, v := range secrets {
		secretMap[k] = v
	}
	envMap := make(map[string]any, len(env))
	for k, v := range env {
		envMap[k] = v
	}
	e := eval.Env{"params": params, "secrets": secretMap, "env": envMap, "steps": map[string]any{}, "outputs": map[string]any{},
		"run": map[string]any{}, "objectives": map[string]any{"rto": rb.Objectives.RTO.D, "rpo": rb.Objectives.RPO.D}}
	out := map[string]map[string]any{}
	for _, b := range rb.Plugins {
		cfg := map[string]any{}
		for _, kv := range b.Config {
			v, err := progs.Resolve(kv.Value, e)
			if err != nil {
				return nil, fmt.Errorf("plugins.%s.%s: %w", b.Name.Value, kv.Key.Value, err)
			}
			cfg[kv.Key.Value] = v
		}
		out[b.Name.Value] = cfg
	}
	for name, kv := range overrides {
		if out[name] == nil {
			out[name] = map[string]any{}
		}
		for k, v := range kv {
			out[name][k] = v
		}
	}
	return out, nil
}

// UsedPlugins lists the plugins a runbook's steps and undo steps use, in
// the order they first appear.
func UsedPlugins(rb *load.Runbook) []string { return PendingPlugins(rb, nil) }

// PendingPlugins lists the plugins of the steps a run may still execute,
// and of their undo steps: every step's when finished is nil, else those
// of the steps finished reports false for. A resumed run starts these
// ahead of time; a plugin whose steps are all done starts only if a step
// turns out to need it (an undo), never for nothing.
func PendingPlugins(rb *load.Runbook, finished func(stepID string) bool) []string {
	seen := map[string]bool{}
	var out []string
	add := func(s *load.Step) {
		if s == nil {
			return
		}
		if p, _, ok := strings.Cut(s.Uses.Value, "."); ok && !seen[p] {
			seen[p] = true
			out = append(out, p)
		}
	}
	for _, s := range rb.AllSteps() {
		if finished != nil && finished(s.ID.Value) {
			continue
		}
		add(s)
		add(s.Undo)
	}
	return out
}
