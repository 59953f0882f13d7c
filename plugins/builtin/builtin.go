// Package builtin lists the plugins that ship inside the runbook binary.
// The binary re-executes itself to serve each one (see host.ServeIfPlugin),
// and the linter reads their catalogue entries without starting them.
package builtin

import (
	"github.com/alpha-orion/runbook/engine/catalog"
	"github.com/alpha-orion/runbook/plugins/sdk"
	"github.com/alpha-orion/runbook/plugins/testplugin"
)

// Entry is one built-in plugin.
type Entry struct {
	Spec catalog.Plugin
	New  func() sdk.Plugin
}

// Entries returns every built-in plugin. Add a provider here to ship it.
func Entries() []Entry {
	return []Entry{
		{Spec: testplugin.Spec, New: testplugin.New},
	}
}

// Specs returns the catalogue entries of the built-in plugins.
func Specs() []catalog.Plugin {
	var out []catalog.Plugin
	for _, e := range Entries() {
		out = append(out, e.Spec)
	}
	return out
}

// Factories maps each built-in plugin's name to its constructor, for host.ServeIfPlugin.
func Factories() map[string]func() sdk.Plugin {
	out := map[string]func() sdk.Plugin{}
	for _, e := range Entries() {
		out[e.Spec.Name] = e.New
	}
	return out
}

// Names returns the names of the built-in plugins.
func Names() []string {
	var out []string
	for _, e := range Entries() {
		out = append(out, e.Spec.Name)
	}
	return out
}
