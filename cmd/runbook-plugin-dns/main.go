// Command runbook-plugin-dns is the dns provider plugin. The runbook core
// starts it over the plugin protocol; run alone, it says so and exits.
package main

import (
	"github.com/alpha-orion/runbook/plugins/dnscheck"
	"github.com/alpha-orion/runbook/plugins/sdk"
)

func main() { sdk.Main(dnscheck.New()) }
