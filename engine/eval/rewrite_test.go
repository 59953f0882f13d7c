package eval

import "testing"

func TestRewrite(t *testing.T) {
	ids := map[string]bool{"stop-api": true, "a": true, "restore": true}
	isID := func(s string) bool { return ids[s] }
	for _, tc := range []struct{ in, want string }{
		{"steps.restore.outputs.x", "steps.restore.outputs.x"},
		{"steps.stop-api.outputs.x > 0", `steps["stop-api"].outputs.x > 0`},
		{"steps.a-b", `steps["a"]-b`},
		{"steps.no-such.status", `steps["no-such"].status`},
		{`"steps.stop-api" == x`, `"steps.stop-api" == x`},
		{"mysteps.stop-api", "mysteps.stop-api"},
		{"steps.stop-api.status == 'ok' && steps.stop-api.outputs.n", `steps["stop-api"].status == 'ok' && steps["stop-api"].outputs.n`},
	} {
		if got := Rewrite(tc.in, isID); got != tc.want {
			t.Errorf("Rewrite(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
