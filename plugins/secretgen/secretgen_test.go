package secretgen

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/alpha-orion/runbook/engine/catalog"
	"github.com/alpha-orion/runbook/plugins/host"
	"github.com/alpha-orion/runbook/plugins/sdk"
	"github.com/hashicorp/go-plugin"
)

func TestMain(m *testing.M) {
	if served, err := host.ServeIfPlugin(os.Args[1:], map[string]func() sdk.Plugin{Name: New}); served {
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
		os.Exit(0)
	}
	code := m.Run()
	plugin.CleanupClients()
	os.Exit(code)
}

func TestGenerateOutOfProcess(t *testing.T) {
	m := host.New(host.Options{Builtins: []string{Name}, Catalog: catalog.MustNew(Spec)})
	defer m.Close()
	ctx := context.Background()
	seen := map[string]bool{}
	for _, tc := range []struct {
		enc    string
		bytes  int
		length int
	}{{"hex", 32, 64}, {"base64url", 32, 43}, {"base64", 18, 24}} {
		var logs []string
		out, err := m.Execute(ctx, Name, sdk.Request{Action: "generate", Inputs: map[string]any{"bytes": tc.bytes, "encoding": tc.enc}}, func(l sdk.LogLine) { logs = append(logs, l.Message) })
		if err != nil {
			t.Fatal(err)
		}
		v, _ := out["value"].(string)
		if len(v) != tc.length || out["length"] != tc.length || seen[v] {
			t.Errorf("%s: value of length %d (want %d), repeated=%v", tc.enc, len(v), tc.length, seen[v])
		}
		seen[v] = true
		for _, l := range logs {
			if strings.Contains(l, v) {
				t.Errorf("the log shows the secret: %s", l)
			}
		}
	}
	_, err := m.Execute(ctx, Name, sdk.Request{Action: "generate", Inputs: map[string]any{"bytes": 4}}, nil)
	if sdk.KindOf(err) != sdk.KindBadInput {
		t.Errorf("4 bytes: %v (kind %s), want bad_input", err, sdk.KindOf(err))
	}
}
