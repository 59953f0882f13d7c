// Package providers lists the provider plugins that ship with runbook. It
// links only their catalogue entries (the *spec packages), never their
// client libraries: each provider runs as its own executable,
// runbook-plugin-NAME, built from cmd/runbook-plugin-NAME.
package providers

import (
	"github.com/alpha-orion/runbook/engine/catalog"
	"github.com/alpha-orion/runbook/plugins/contract/contractspec"
	"github.com/alpha-orion/runbook/plugins/dnscheck/dnscheckspec"
	"github.com/alpha-orion/runbook/plugins/gcs/gcsspec"
	"github.com/alpha-orion/runbook/plugins/httpcheck/httpcheckspec"
	"github.com/alpha-orion/runbook/plugins/neon/neonspec"
	"github.com/alpha-orion/runbook/plugins/postgres/postgresspec"
	"github.com/alpha-orion/runbook/plugins/redis/redisspec"
	"github.com/alpha-orion/runbook/plugins/render/renderspec"
	"github.com/alpha-orion/runbook/plugins/secretgen/secretgenspec"
	"github.com/alpha-orion/runbook/plugins/terraform/terraformspec"
)

// Specs returns the catalogue entries of the shipped providers. Add a
// provider here, and its cmd/runbook-plugin-NAME, to ship it.
func Specs() []catalog.Plugin {
	return []catalog.Plugin{
		secretgenspec.Spec,
		contractspec.Spec,
		neonspec.Spec,
		renderspec.Spec,
		postgresspec.Spec,
		gcsspec.Spec,
		httpcheckspec.Spec,
		dnscheckspec.Spec,
		redisspec.Spec,
		terraformspec.Spec,
	}
}

// Names returns the names of the shipped providers.
func Names() []string {
	var out []string
	for _, s := range Specs() {
		out = append(out, s.Name)
	}
	return out
}

// Env returns, per provider, the variables of the engine's environment
// that provider reads besides the host's base set (see host.Options.Env):
// the defaults its client library or its documentation promise. Secrets
// declared in runbooks never travel this way.
func Env() map[string][]string {
	return map[string][]string{
		contractspec.Spec.Name:  {contractspec.DefaultKeyFileEnv, contractspec.DefaultPasswordEnv, contractspec.DefaultOwnerKeysEnv, contractspec.DefaultOwnerPasswordEnv},
		gcsspec.Spec.Name:       {"GOOGLE_APPLICATION_CREDENTIALS", "GOOGLE_CLOUD_PROJECT", "CLOUDSDK_CONFIG", "STORAGE_EMULATOR_HOST"},
		terraformspec.Spec.Name: {"TF_*", "CHECKPOINT_DISABLE"},
	}
}
