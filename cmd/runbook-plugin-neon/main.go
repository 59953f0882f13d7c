// Command runbook-plugin-neon is the neon provider plugin. The runbook core
// starts it over the plugin protocol; run alone, it says so and exits.
package main

import (
	"github.com/alpha-orion/runbook/plugins/neon"
	"github.com/alpha-orion/runbook/plugins/sdk"
)

func main() { sdk.Main(neon.New()) }
