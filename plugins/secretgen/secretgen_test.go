package secretgen

import (
	"strings"
	"testing"

	"github.com/alpha-orion/runbook/engine/catalog"
	"github.com/alpha-orion/runbook/plugins/internal/plugintest"
	"github.com/alpha-orion/runbook/plugins/sdk"
)

func TestMain(m *testing.M) {
	plugintest.ServeOrRun(m, map[string]func() sdk.Plugin{Name: New})
}

func TestGenerateOutOfProcess(t *testing.T) {
	h := plugintest.Start(t, plugintest.Options{Name: Name, Catalog: catalog.MustNew(Spec)})
	seen := map[string]bool{}
	for _, tc := range []struct {
		enc    string
		bytes  int
		length int
	}{{"hex", 32, 64}, {"base64url", 32, 43}, {"base64", 18, 24}} {
		r := h.Exec("generate", map[string]any{"bytes": tc.bytes, "encoding": tc.enc}, "")
		if r.Err != nil {
			t.Fatal(r.Err)
		}
		v, _ := r.Out["value"].(string)
		if len(v) != tc.length || r.Out["length"] != tc.length || seen[v] {
			t.Errorf("%s: value of length %d (want %d), repeated=%v", tc.enc, len(v), tc.length, seen[v])
		}
		seen[v] = true
		for _, l := range r.Lines {
			if strings.Contains(l, v) {
				t.Errorf("the log shows the secret: %s", l)
			}
		}
	}
	r := h.Exec("generate", map[string]any{"bytes": 4}, "")
	plugintest.WantKind(t, r.Err, sdk.KindBadInput)
}
