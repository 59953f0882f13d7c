package postgres

import "github.com/alpha-orion/runbook/plugins/postgres/postgresspec"

// Name is the name the plugin is served under.
const Name = postgresspec.Name

// Spec is the plugin's catalogue entry. It lives in postgresspec so that the
// runbook core can link it without this package's dependencies.
var Spec = postgresspec.Spec
