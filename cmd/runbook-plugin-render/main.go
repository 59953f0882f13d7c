// Command runbook-plugin-render is the render provider plugin. The runbook core
// starts it over the plugin protocol; run alone, it says so and exits.
package main

import (
	"github.com/alpha-orion/runbook/plugins/render"
	"github.com/alpha-orion/runbook/plugins/sdk"
)

func main() { sdk.Main(render.New()) }
