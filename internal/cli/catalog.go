package cli

import (
	"github.com/alpha-orion/runbook/engine/catalog"
	"github.com/alpha-orion/runbook/plugins/builtin"
)

// DefaultCatalog is the catalogue of the built-in actions and built-in plugins.
func DefaultCatalog() *catalog.Catalog {
	return catalog.MustNew(builtin.Specs()...)
}
