package terraform

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/alpha-orion/runbook/plugins/sdk"
	"github.com/hashicorp/terraform-exec/tfexec"
)

// readAddresses reads state_rm's addresses input: at least one, each a
// non-empty resource address.
func readAddresses(in map[string]any) ([]string, error) {
	raw, _ := in["addresses"].([]any)
	if len(raw) == 0 {
		return nil, sdk.BadInput("terraform: state_rm needs addresses, e.g. [render_web_service.api]")
	}
	out := make([]string, 0, len(raw))
	for _, v := range raw {
		a, ok := v.(string)
		if !ok || strings.TrimSpace(a) == "" || strings.HasPrefix(a, "-") {
			return nil, sdk.BadInput("terraform: state_rm: %v is not a resource address", v)
		}
		out = append(out, a)
	}
	return out, nil
}

// inState returns the resource addresses the state holds (terraform show -json).
func (s *session) inState(ctx context.Context) ([]string, error) {
	tf, err := s.tf()
	if err != nil {
		return nil, err
	}
	st, err := tf.Show(ctx)
	if err != nil {
		return nil, s.fail(ctx, "show", nil, err)
	}
	var out []string
	if st.Values == nil || st.Values.RootModule == nil {
		return out, nil
	}
	for _, r := range st.Values.RootModule.Resources {
		out = append(out, r.Address)
	}
	for _, m := range st.Values.RootModule.ChildModules {
		for _, r := range m.Resources {
			out = append(out, r.Address)
		}
	}
	return out, nil
}

// split sorts addresses into those the state holds (with or without an
// instance key) and those it does not.
func split(addresses, held []string) (present, absent []string) {
	for _, a := range addresses {
		if slices.ContainsFunc(held, func(h string) bool { return h == a || strings.HasPrefix(h, a+"[") }) {
			present = append(present, a)
		} else {
			absent = append(absent, a)
		}
	}
	return present, absent
}

func stateRmOutputs(removed, absent []string) map[string]any {
	return map[string]any{"removed": anyList(removed), "absent": anyList(absent)}
}

func anyList(xs []string) []any {
	out := make([]any, len(xs))
	for i, x := range xs {
		out[i] = x
	}
	return out
}

// stateRm runs terraform state rm for every address the state holds: the
// objects stay where they are, only Terraform forgets them. An address the
// state does not hold is reported, not an error, so a resumed run can
// repeat the step.
func (s *session) stateRm(ctx context.Context, in map[string]any) (map[string]any, error) {
	addrs, err := readAddresses(in)
	if err != nil {
		return nil, err
	}
	held, err := s.inState(ctx)
	if err != nil {
		return nil, err
	}
	present, absent := split(addrs, held)
	for _, a := range present {
		tf, err := s.tf()
		if err != nil {
			return nil, err
		}
		if err := tf.StateRm(ctx, a, tfexec.Lock(true)); err != nil {
			return nil, s.fail(ctx, "state rm "+a, nil, err)
		}
		s.log.Printf("forgot %s (the object itself is left as it is)", a)
	}
	if len(absent) > 0 {
		s.log.Printf("not in the state: %s", strings.Join(absent, ", "))
	}
	return stateRmOutputs(present, absent), nil
}

// planStateRm reads the state and says which addresses would be forgotten.
func (s *session) planStateRm(ctx context.Context, in map[string]any) (sdk.Plan, error) {
	addrs, err := readAddresses(in)
	if err != nil {
		return sdk.Plan{}, err
	}
	held, err := s.inState(ctx)
	if err != nil {
		return sdk.Plan{}, err
	}
	present, absent := split(addrs, held)
	summary := "would forget nothing (none of them is in the state)"
	if len(present) > 0 {
		summary = fmt.Sprintf("would remove %s from the state of %s, leaving the objects as they are", strings.Join(present, ", "), s.dirName)
	}
	return sdk.Plan{Summary: summary, Outputs: stateRmOutputs(present, absent)}, nil
}
