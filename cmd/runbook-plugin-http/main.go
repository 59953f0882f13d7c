// Command runbook-plugin-http is the http provider plugin. The runbook core
// starts it over the plugin protocol; run alone, it says so and exits.
package main

import (
	"github.com/alpha-orion/runbook/plugins/httpcheck"
	"github.com/alpha-orion/runbook/plugins/sdk"
)

func main() { sdk.Main(httpcheck.New()) }
