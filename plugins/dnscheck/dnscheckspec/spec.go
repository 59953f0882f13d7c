// Package dnscheckspec is the dnscheck plugin's catalogue entry: what validate and plan
// need to know about its actions, without the plugin's dependencies, so the
// runbook core can link it.
package dnscheckspec

import (
	"github.com/alpha-orion/runbook/engine/catalog"
)

// Name is the name the plugin is served under: steps use `dns.check`.
const Name = "dns"

// Spec is the plugin's catalogue entry.
var Spec = catalog.Plugin{
	Name:        Name,
	Description: "DNS checks: look a name up and compare its records with what a failover should have made them.",
	Config: []catalog.Field{
		{Name: "resolver", Type: catalog.String, Description: "the DNS server to ask, host:port (port 53 when left out); default the system's first nameserver"},
		{Name: "timeout", Type: catalog.Duration, Description: "per query; default 5s"},
	},
	Actions: []catalog.Action{
		{
			Name: "check",
			Description: "Look up NAME's records of one type and compare them with `expect` (the whole set) or " +
				"`expect_contains` (these among others). A mismatch, no records or NXDOMAIN fails the step as " +
				"retryable, so `retry` polls until DNS has caught up.",
			Inputs: []catalog.Field{
				{Name: "name", Type: catalog.String, Required: true, Description: "the name to look up, e.g. api.alpha-orion.com"},
				{Name: "type", Type: catalog.String, Description: "A, AAAA, CNAME or TXT; default A"},
				{Name: "expect", Type: catalog.Any, Description: "the exact set of values (a list, or one string); order and case do not matter"},
				{Name: "expect_contains", Type: catalog.Any, Description: "values that must be among the records (a list, or one string)"},
				{Name: "resolver", Type: catalog.String, Description: "ask this server (host:port) instead of the configured one"},
				{Name: "fail_on_mismatch", Type: catalog.Bool, Description: "fail when the records do not match (default true); false returns matched: false instead, for retry.until or a later guard"},
			},
			Outputs: []catalog.Field{
				{Name: "records", Type: catalog.List, Description: "the values, sorted: addresses, names without the final dot, TXT text"},
				{Name: "ttl", Type: catalog.Int, Description: "the smallest TTL among the records, in seconds"},
				{Name: "matched", Type: catalog.Bool, Description: "the expectations hold (with none: there is at least one record)"},
				{Name: "rcode", Type: catalog.String, Description: "the response code, e.g. NOERROR"},
				{Name: "resolver", Type: catalog.String, Description: "the server that answered"},
			},
			Idempotent: true,
			ReadOnly:   true,
		},
	},
}
