package neon

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/alpha-orion/runbook/engine/lint"
)

// TestExampleRunbookLintsClean checks the example runbook against the
// plugin's catalogue entry, and that the linter refuses a literal API key.
func TestExampleRunbookLintsClean(t *testing.T) {
	t.Parallel()
	path := filepath.Join("testdata", "neon-pitr.yaml")
	src, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	_, diags := lint.Bytes(path, src, testCatalog)
	if e, w := diags.Count(); e+w > 0 {
		t.Fatalf("%d errors, %d warnings:\n%v", e, w, diags.Err())
	}

	literal := strings.Replace(string(src), "${{ secrets.NEON_API_KEY }}", "napi_literal", 1)
	_, diags = lint.Bytes(path, []byte(literal), testCatalog)
	if e, _ := diags.Count(); e == 0 || !strings.Contains(diags.Err().Error(), "api_key") {
		t.Errorf("a literal api_key lints clean: %v", diags.Err())
	}
}
