package gcs

import "github.com/alpha-orion/runbook/plugins/gcs/gcsspec"

// Name is the name the plugin is served under.
const Name = gcsspec.Name

// Spec is the plugin's catalogue entry. It lives in gcsspec so that the
// runbook core can link it without this package's dependencies.
var Spec = gcsspec.Spec
