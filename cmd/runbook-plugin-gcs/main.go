// Command runbook-plugin-gcs is the gcs provider plugin. The runbook core
// starts it over the plugin protocol; run alone, it says so and exits.
package main

import (
	"github.com/alpha-orion/runbook/plugins/gcs"
	"github.com/alpha-orion/runbook/plugins/sdk"
)

func main() { sdk.Main(gcs.New()) }
