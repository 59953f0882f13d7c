// Package builtin lists the plugins that ship inside the runbook binary.
// The binary re-executes itself to serve each one (see host.ServeIfPlugin),
// and the linter reads their catalogue entries without starting them.
package builtin

import (
	"github.com/alpha-orion/runbook/engine/catalog"
	"github.com/alpha-orion/runbook/plugins/contract"
	"github.com/alpha-orion/runbook/plugins/dnscheck"
	"github.com/alpha-orion/runbook/plugins/gcs"
	"github.com/alpha-orion/runbook/plugins/httpcheck"
	"github.com/alpha-orion/runbook/plugins/neon"
	"github.com/alpha-orion/runbook/plugins/postgres"
	"github.com/alpha-orion/runbook/plugins/redis"
	"github.com/alpha-orion/runbook/plugins/render"
	"github.com/alpha-orion/runbook/plugins/sdk"
	"github.com/alpha-orion/runbook/plugins/secretgen"
	"github.com/alpha-orion/runbook/plugins/terraform"
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
		{Spec: secretgen.Spec, New: secretgen.New},
		{Spec: contract.Spec, New: contract.New},
		{Spec: neon.Spec, New: neon.New},
		{Spec: render.Spec, New: render.New},
		{Spec: postgres.Spec, New: postgres.New},
		{Spec: gcs.Spec, New: gcs.New},
		{Spec: httpcheck.Spec, New: httpcheck.New},
		{Spec: dnscheck.Spec, New: dnscheck.New},
		{Spec: redis.Spec, New: redis.New},
		{Spec: terraform.Spec, New: terraform.New},
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
