// Command runbook-plugin-test is the test plugin as a third-party plugin
// executable. Tests put it in a plugin folder and pin it
// (`runbook plugin pin test`); it is never built with the product.
package main

import (
	"github.com/alpha-orion/runbook/plugins/sdk"
	"github.com/alpha-orion/runbook/plugins/testplugin"
)

func main() { sdk.Main(testplugin.New()) }
