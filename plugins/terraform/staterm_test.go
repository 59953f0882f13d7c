package terraform

import (
	"context"
	"reflect"
	"strings"
	"testing"
)

// TestStateRm forgets a resource after an apply: plan predicts it, the step
// removes it from the state (a later plan wants to create it again, not
// destroy anything), and running the step again reports it absent.
func TestStateRm(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	f.must("init", "k-init", nil)
	f.must("apply", "k-apply", nil)
	in := map[string]any{"addresses": []any{"terraform_data.user_api", "terraform_data.nowhere"}}
	want := map[string]any{"removed": []any{"terraform_data.user_api"}, "absent": []any{"terraform_data.nowhere"}}

	plan, err := f.mgr.Plan(context.Background(), Name, f.request("state_rm", "", in))
	if err != nil || !reflect.DeepEqual(plan.Outputs, want) || !strings.Contains(plan.Summary, "terraform_data.user_api") {
		t.Fatalf("plan state_rm = %+v, %v; want outputs %v", plan, err, want)
	}
	if out := f.must("state_rm", "k-rm", in); !reflect.DeepEqual(out, want) {
		t.Fatalf("state_rm = %v, want %v", out, want)
	}
	out := f.must("plan", "k-plan", nil)
	if out["summary"] != "1 to add, 0 to change, 0 to destroy" {
		t.Fatalf("plan after state_rm = %v, want the forgotten resource created again and nothing destroyed", out["summary"])
	}
	again := map[string]any{"removed": []any{}, "absent": []any{"terraform_data.user_api", "terraform_data.nowhere"}}
	if out := f.must("state_rm", "k-rm", in); !reflect.DeepEqual(out, again) {
		t.Fatalf("state_rm again = %v, want %v", out, again)
	}
}

func TestStateRmBadInput(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   map[string]any
		want string
	}{
		{"none", map[string]any{}, "needs addresses"},
		{"empty list", map[string]any{"addresses": []any{}}, "needs addresses"},
		{"blank", map[string]any{"addresses": []any{" "}}, "is not a resource address"},
		{"a flag", map[string]any{"addresses": []any{"-lock=false"}}, "is not a resource address"},
		{"not a string", map[string]any{"addresses": []any{3}}, "is not a resource address"},
	}
	for _, tc := range tests {
		if _, err := readAddresses(tc.in); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want %q", tc.name, err, tc.want)
		}
	}
}
