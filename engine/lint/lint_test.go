package lint

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/alpha-orion/runbook/engine/catalog"
)

var update = flag.Bool("update", false, "rewrite the golden .out files")

// testCatalog has one provider plugin, "demo", shaped like the real ones.
func testCatalog(t testing.TB) *catalog.Catalog {
	t.Helper()
	c, err := catalog.New(catalog.Plugin{
		Name: "demo",
		Config: []catalog.Field{
			{Name: "api_key", Type: catalog.String, Required: true, Secret: true},
			{Name: "project", Type: catalog.String},
			{Name: "base_url", Type: catalog.String},
		},
		Actions: []catalog.Action{
			{
				Name:        "restore",
				Destructive: true,
				Inputs: []catalog.Field{
					{Name: "branch", Type: catalog.String, Required: true},
					{Name: "timestamp", Type: catalog.Timestamp},
					{Name: "count", Type: catalog.Int},
					{Name: "token", Type: catalog.String, Secret: true},
				},
				Outputs: []catalog.Field{
					{Name: "connection_uri", Type: catalog.String},
					{Name: "new_endpoint", Type: catalog.Bool},
					{Name: "restored_at", Type: catalog.Timestamp},
				},
			},
			{
				Name:       "query",
				Idempotent: true,
				Inputs:     []catalog.Field{{Name: "url", Type: catalog.String, Required: true}, {Name: "sql", Type: catalog.String, Required: true}},
				Outputs:    []catalog.Field{{Name: "rows", Type: catalog.Rows}, {Name: "count", Type: catalog.Int}},
			},
			{
				Name:    "scale",
				Inputs:  []catalog.Field{{Name: "service", Type: catalog.String, Required: true}, {Name: "instances", Type: catalog.Int, Required: true}},
				Outputs: []catalog.Field{{Name: "previous", Type: catalog.Int}},
			},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestGoldenErrors(t *testing.T) {
	files, _ := filepath.Glob("testdata/err/*.yaml")
	if len(files) == 0 {
		t.Fatal("no golden files")
	}
	cat := testCatalog(t)
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			src, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			_, diags := Bytes(f, src, cat)
			var b strings.Builder
			for _, d := range diags {
				b.WriteString(d.String() + "\n")
			}
			golden := strings.TrimSuffix(f, ".yaml") + ".out"
			if *update {
				if err := os.WriteFile(golden, []byte(b.String()), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("missing golden file (run go test -update): %v", err)
			}
			if got := b.String(); got != string(want) {
				t.Errorf("findings differ from %s\n--- got\n%s--- want\n%s", golden, got, want)
			}
			if b.Len() == 0 {
				t.Errorf("%s has no findings; it belongs in testdata/ok", f)
			}
		})
	}
}

func TestOKFilesAreClean(t *testing.T) {
	files, _ := filepath.Glob("testdata/ok/*.yaml")
	examples, _ := filepath.Glob("../../examples/*.yaml")
	files = append(files, examples...)
	if len(files) < 3 {
		t.Fatalf("want clean files to check, found %v", files)
	}
	cat := testCatalog(t)
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			src, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			_, diags := Bytes(f, src, cat)
			for _, d := range diags {
				t.Errorf("unexpected finding: %s", d)
			}
		})
	}
}
