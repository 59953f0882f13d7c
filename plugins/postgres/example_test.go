package postgres_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/alpha-orion/runbook/engine/lint"
)

// TestExampleRunbooks: the runbooks in testdata lint clean, warnings included.
func TestExampleRunbooks(t *testing.T) {
	files, _ := filepath.Glob("testdata/*.yaml")
	if len(files) == 0 {
		t.Fatal("no example runbooks")
	}
	for _, f := range files {
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if _, diags := lint.Bytes(f, src, testCatalog); len(diags) > 0 {
			t.Errorf("%s:\n%s", f, diags.Err())
		}
	}
}
