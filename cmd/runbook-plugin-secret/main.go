// Command runbook-plugin-secret is the secret provider plugin. The runbook core
// starts it over the plugin protocol; run alone, it says so and exits.
package main

import (
	"github.com/alpha-orion/runbook/plugins/sdk"
	"github.com/alpha-orion/runbook/plugins/secretgen"
)

func main() { sdk.Main(secretgen.New()) }
