package eval

import (
	"slices"
	"testing"
)

func TestEnvRefs(t *testing.T) {
	tests := []struct {
		src  string
		want []string
	}{
		{`env.NEON_PROJECT_ID`, []string{"NEON_PROJECT_ID"}},
		{`env["RENDER_SERVICE"] + "-" + env.REGION`, []string{"RENDER_SERVICE", "REGION"}},
		{`env.A == env.A`, []string{"A"}},
		{`params.env`, nil},
		{`steps.a.outputs.env`, nil},
		{`upper(env.X ?? "d")`, []string{"X"}},
	}
	for _, tt := range tests {
		got, err := EnvRefs(tt.src)
		if err != nil || !slices.Equal(got, tt.want) {
			t.Errorf("EnvRefs(%q) = %v, %v; want %v", tt.src, got, err, tt.want)
		}
	}
	if _, err := EnvRefs("env."); err == nil {
		t.Error("a broken expression gave no error")
	}
}
