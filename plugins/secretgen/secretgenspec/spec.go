// Package secretgenspec is the secretgen plugin's catalogue entry: what validate and plan
// need to know about its actions, without the plugin's dependencies, so the
// runbook core can link it.
package secretgenspec

import "github.com/alpha-orion/runbook/engine/catalog"

// Name is the plugin's name in `uses: secret.generate`.
const Name = "secret"

// Spec is the plugin's catalogue entry.
var Spec = catalog.Plugin{
	Name:        Name,
	Description: "Generate random secrets for rotations.",
	Actions: []catalog.Action{{
		Name:        "generate",
		Description: "Make a new random secret from the operating system's CSPRNG.",
		Inputs: []catalog.Field{
			{Name: "bytes", Type: catalog.Int, Description: "random bytes (default 32; 16 to 1024)"},
			{Name: "encoding", Type: catalog.String, Description: "hex, base64 or base64url (default base64url)"},
		},
		Outputs: []catalog.Field{
			{Name: "value", Type: catalog.String, Secret: true, Description: "the secret"},
			{Name: "fingerprint", Type: catalog.String, Description: "the first 12 hex digits of its SHA-256, safe to print"},
			{Name: "length", Type: catalog.Int, Description: "the secret's length in characters"},
		},
		ReadOnly: true,
	}},
}
