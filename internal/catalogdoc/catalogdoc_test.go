package catalogdoc

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/alpha-orion/runbook/engine/catalog"
	"github.com/alpha-orion/runbook/engine/lint"
	"github.com/alpha-orion/runbook/plugins/providers"
)

var update = flag.Bool("update", false, "rewrite the golden files and docs/actions.md")

func shipped() *catalog.Catalog { return catalog.MustNew(providers.Specs()...) }

// golden compares got with the file, or rewrites it under -update.
func golden(t *testing.T, file string, got []byte) {
	t.Helper()
	if *update {
		if err := os.WriteFile(file, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(file)
	if err != nil {
		t.Fatalf("%v (run go test ./internal/catalogdoc -update)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s is stale; run go test ./internal/catalogdoc -update\n--- got\n%s", file, got)
	}
}

func TestGolden(t *testing.T) {
	writers := map[string]func(io.Writer, []Group) error{"txt": WriteText, "json": WriteJSON, "md": WriteMarkdown}
	for _, tc := range []struct{ name, query string }{
		{"builtin", "builtin"},
		{"redis", "redis"},
		{"redis-get", "redis.get"},
		{"log", "log"},
	} {
		for ext, write := range writers {
			t.Run(tc.name+"."+ext, func(t *testing.T) {
				groups, err := Select(shipped(), tc.query)
				if err != nil {
					t.Fatal(err)
				}
				var b bytes.Buffer
				if err := write(&b, groups); err != nil {
					t.Fatal(err)
				}
				golden(t, filepath.Join("testdata", tc.name+"."+ext), b.Bytes())
			})
		}
	}
}

// TestDocsFresh fails when docs/actions.md is not what the catalogue prints.
func TestDocsFresh(t *testing.T) {
	groups, err := Select(shipped(), "")
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := WriteMarkdown(&b, groups); err != nil {
		t.Fatal(err)
	}
	golden(t, filepath.Join("..", "..", "docs", "actions.md"), b.Bytes())
	for _, name := range shipped().ActionNames() {
		if !strings.Contains(b.String(), "\n### "+name+"\n") {
			t.Errorf("docs/actions.md has no section for %s", name)
		}
	}
}

func TestSelect(t *testing.T) {
	cat := shipped()
	for _, tc := range []struct {
		query   string
		groups  int
		entries int // in the first group
		err     error
	}{
		{"", len(cat.PluginNames()) + 1, len(catalog.Builtins), nil},
		{"redis", 1, len(mustPlugin(t, cat, "redis").Actions), nil},
		{"redis.get", 1, 1, nil},
		{"wait", 1, 1, nil},
		{"redis.nope", 0, 0, ErrNotFound},
		{"nope", 0, 0, ErrNotFound},
	} {
		t.Run(tc.query, func(t *testing.T) {
			groups, err := Select(cat, tc.query)
			if !errors.Is(err, tc.err) {
				t.Fatalf("err = %v, want %v", err, tc.err)
			}
			if got := len(groups); got != tc.groups {
				t.Fatalf("groups = %d, want %d", got, tc.groups)
			}
			if tc.groups > 0 && len(groups[0].Entries) != tc.entries {
				t.Errorf("entries = %d, want %d", len(groups[0].Entries), tc.entries)
			}
		})
	}
}

func mustPlugin(t *testing.T, cat *catalog.Catalog, name string) *catalog.Plugin {
	t.Helper()
	p, ok := cat.Plugin(name)
	if !ok {
		t.Fatalf("no plugin %q", name)
	}
	return p
}

// TestExamplesLintClean puts every action's example step in a runbook and
// lints it: the reference must show steps that validate accepts.
func TestExamplesLintClean(t *testing.T) {
	cat := shipped()
	groups, err := Select(cat, "")
	if err != nil {
		t.Fatal(err)
	}
	for _, g := range groups {
		for _, e := range g.Entries {
			t.Run(e.Uses, func(t *testing.T) {
				src := exampleRunbook(g, e)
				_, diags := lint.Bytes("example.yaml", []byte(src), cat)
				for _, d := range diags {
					t.Errorf("%s\n%s", d, src)
				}
			})
		}
	}
}

func exampleRunbook(g Group, e Entry) string {
	var secrets []string
	var b strings.Builder
	if g.Plugin != nil {
		fmt.Fprintf(&b, "plugins:\n  %s: {", g.Name)
		sep := ""
		for _, f := range g.Plugin.Config {
			if f.Required {
				fmt.Fprintf(&b, "%s%s: %q", sep, f.Name, ExampleValue(f))
				sep = ", "
				if f.Secret {
					secrets = append(secrets, SecretName(f))
				}
			}
		}
	}
	for _, f := range e.Action.Inputs {
		if f.Required && f.Secret {
			secrets = append(secrets, SecretName(f))
		}
	}
	if g.Plugin != nil {
		b.WriteString("}\n")
	}
	head := "apiVersion: runbook/v1\nkind: Runbook\nmetadata:\n  name: example\n"
	if len(secrets) > 0 {
		head += "secrets: [" + strings.Join(secrets, ", ") + "]\n"
	}
	step := strings.ReplaceAll(ExampleStep(e), "\n", "\n  ")
	return head + b.String() + "steps:\n  " + strings.TrimRight(step, " ")
}
