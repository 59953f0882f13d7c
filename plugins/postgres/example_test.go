package postgres_test

import (
	"testing"

	"github.com/alpha-orion/runbook/plugins/internal/plugintest"
)

// TestExampleRunbooks: the runbooks in testdata lint clean, warnings included.
func TestExampleRunbooks(t *testing.T) {
	plugintest.ExamplesLintClean(t, testCatalog, "testdata/*.yaml")
}
