// Command runbook-plugin-contract is the contract provider plugin. The runbook core
// starts it over the plugin protocol; run alone, it says so and exits.
package main

import (
	"github.com/alpha-orion/runbook/plugins/contract"
	"github.com/alpha-orion/runbook/plugins/sdk"
)

func main() { sdk.Main(contract.New()) }
