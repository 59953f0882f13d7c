package cli

import "github.com/alpha-orion/runbook/engine/catalog"

// DefaultCatalog is the catalogue of the built-in actions and built-in plugins.
func DefaultCatalog() *catalog.Catalog {
	return catalog.MustNew(builtinPlugins()...)
}

func builtinPlugins() []catalog.Plugin { return nil }
