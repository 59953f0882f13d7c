package terraform

import "github.com/alpha-orion/runbook/plugins/terraform/terraformspec"

// DefaultBinary is the terraform binary looked up on PATH unless the binary setting names one.
const DefaultBinary = "terraform"

// Name is the name the plugin is served under.
const Name = terraformspec.Name

// Spec is the plugin's catalogue entry. It lives in terraformspec so that the
// runbook core can link it without this package's dependencies.
var Spec = terraformspec.Spec
