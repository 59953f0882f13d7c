package plugintest

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/alpha-orion/runbook/engine/catalog"
	"github.com/alpha-orion/runbook/engine/lint"
)

// LintsClean fails the test unless the runbook at path lints against cat
// without errors or warnings, and returns its source.
func LintsClean(t testing.TB, cat *catalog.Catalog, path string) []byte {
	t.Helper()
	src, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	_, diags := lint.Bytes(path, src, cat)
	if e, w := diags.Count(); e+w > 0 {
		t.Fatalf("%d errors, %d warnings:\n%v", e, w, diags.Err())
	}
	return src
}

// ExamplesLintClean fails the test unless at least one runbook matches the
// glob pattern (e.g. "testdata/*.yaml") and each lints against cat without
// errors or warnings; it reports every runbook that does not.
func ExamplesLintClean(t testing.TB, cat *catalog.Catalog, pattern string) {
	t.Helper()
	files, err := filepath.Glob(pattern)
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatalf("no example runbooks match %s", pattern)
	}
	for _, f := range files {
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if _, diags := lint.Bytes(f, src, cat); len(diags) > 0 {
			t.Errorf("%s:\n%s", f, diags.Err())
		}
	}
}

// RefusesLiteral fails the test unless the linter reports an error naming
// key once the first ref (e.g. "${{ secrets.NEON_API_KEY }}") in the
// runbook src at path is replaced by a literal value.
func RefusesLiteral(t testing.TB, cat *catalog.Catalog, path string, src []byte, ref, literal, key string) {
	t.Helper()
	changed := strings.Replace(string(src), ref, literal, 1)
	_, diags := lint.Bytes(path, []byte(changed), cat)
	if e, _ := diags.Count(); e == 0 || !strings.Contains(diags.Err().Error(), key) {
		t.Errorf("a literal %s lints clean: %v", key, diags.Err())
	}
}
