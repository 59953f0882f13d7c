package run

import (
	"slices"
	"testing"

	"github.com/alpha-orion/runbook/engine/load"
)

func TestPendingPlugins(t *testing.T) {
	rb, diags := load.Bytes("p.yaml", []byte(`apiVersion: runbook/v1
kind: Runbook
metadata: {name: p}
steps:
  - {id: a, uses: neon.restore_branch, with: {}, undo: {uses: render.resume_service, with: {}}}
  - {id: b, needs: [a], uses: http.check, with: {}}
  - {id: c, needs: [b], uses: log, with: {message: hi}}
finally:
  - {id: d, uses: dns.check, with: {}}
`))
	if len(diags) > 0 {
		t.Fatal(diags)
	}
	done := func(ids ...string) func(string) bool {
		return func(id string) bool { return slices.Contains(ids, id) }
	}
	tests := []struct {
		name     string
		finished func(string) bool
		want     []string
	}{
		{"a new run starts every plugin", nil, []string{"neon", "render", "http", "dns"}},
		{"nothing finished", done(), []string{"neon", "render", "http", "dns"}},
		{"a finished: neither its plugin nor its undo's", done("a"), []string{"http", "dns"}},
		{"all finished", done("a", "b", "c", "d"), nil},
	}
	for _, tt := range tests {
		if got := PendingPlugins(rb, tt.finished); !slices.Equal(got, tt.want) {
			t.Errorf("%s: %v, want %v", tt.name, got, tt.want)
		}
	}
}
