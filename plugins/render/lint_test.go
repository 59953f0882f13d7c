package render

import (
	"path/filepath"
	"testing"

	"github.com/alpha-orion/runbook/plugins/internal/plugintest"
)

// TestExampleRunbookLintsClean checks the example runbook against the
// plugin's catalogue entry, and that the linter refuses a literal API key.
func TestExampleRunbookLintsClean(t *testing.T) {
	t.Parallel()
	path := filepath.Join("testdata", "render-failover.yaml")
	src := plugintest.LintsClean(t, testCatalog, path)
	plugintest.RefusesLiteral(t, testCatalog, path, src, "${{ secrets.RENDER_API_KEY }}", "rnd_literal", "api_key")
}
