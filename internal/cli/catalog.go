package cli

import (
	"github.com/alpha-orion/runbook/engine/catalog"
	"github.com/alpha-orion/runbook/plugins/providers"
)

// DefaultCatalog is the catalogue of the built-in actions and the shipped providers.
func DefaultCatalog() *catalog.Catalog {
	return catalog.MustNew(providers.Specs()...)
}

// catalogWithExternal adds the pinned external plugins of the plugin folder.
func (c *Command) catalogWithExternal() (*catalog.Catalog, error) {
	l, err := readLock(c.pluginDir())
	if err != nil {
		return nil, err
	}
	if len(l.Plugins) == 0 {
		return DefaultCatalog(), nil
	}
	specs := providers.Specs()
	for _, p := range l.Plugins {
		specs = append(specs, p.Spec)
	}
	return catalog.New(specs...)
}
