// Command runbook-plugin-terraform is the terraform provider plugin. The runbook core
// starts it over the plugin protocol; run alone, it says so and exits.
package main

import (
	"github.com/alpha-orion/runbook/plugins/sdk"
	"github.com/alpha-orion/runbook/plugins/terraform"
)

func main() { sdk.Main(terraform.New()) }
