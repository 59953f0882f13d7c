// Command runbook-plugin-redis is the redis provider plugin. The runbook core
// starts it over the plugin protocol; run alone, it says so and exits.
package main

import (
	"github.com/alpha-orion/runbook/plugins/redis"
	"github.com/alpha-orion/runbook/plugins/sdk"
)

func main() { sdk.Main(redis.New()) }
