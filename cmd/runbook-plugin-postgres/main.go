// Command runbook-plugin-postgres is the postgres provider plugin. The runbook core
// starts it over the plugin protocol; run alone, it says so and exits.
package main

import (
	"github.com/alpha-orion/runbook/plugins/postgres"
	"github.com/alpha-orion/runbook/plugins/sdk"
)

func main() { sdk.Main(postgres.New()) }
