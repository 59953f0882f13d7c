// Package httpcheckspec is the httpcheck plugin's catalogue entry: what validate and plan
// need to know about its actions, without the plugin's dependencies, so the
// runbook core can link it.
package httpcheckspec

import (
	"github.com/alpha-orion/runbook/engine/catalog"
)

// Name is the name the plugin is served under: steps use `http.check`.
const Name = "http"

// Spec is the plugin's catalogue entry.
var Spec = catalog.Plugin{
	Name:        Name,
	Description: "HTTP checks: send a request and compare the answer's status and body, e.g. a health check after a restart.",
	Config: []catalog.Field{
		{Name: "base_url", Type: catalog.String, Description: "resolves a step's relative url, e.g. https://api.alpha-orion.com"},
		{Name: "timeout", Type: catalog.Duration, Description: "per request unless the step sets one; default 10s"},
		{Name: "tls_insecure_skip_verify", Type: catalog.Bool, Description: "accept any TLS certificate (drills against self-signed endpoints only)"},
	},
	Actions: []catalog.Action{
		{
			Name: "check",
			Description: "Send one request and check the answer. A status or body that does not match, a refused " +
				"connection or a timeout fails the step as retryable, so `retry` polls until the service is healthy.",
			Inputs: []catalog.Field{
				{Name: "url", Type: catalog.String, Required: true, Description: "absolute, or relative to the base_url setting"},
				{Name: "method", Type: catalog.String, Description: "default GET"},
				{Name: "headers", Type: catalog.Map, Secret: true, Description: "request headers by name; their values are masked in logs and errors"},
				{Name: "body", Type: catalog.String, Description: "the request body"},
				{Name: "expect_status", Type: catalog.Any, Description: "an int, a class such as \"2xx\", a list of them, or \"any\"; default 200"},
				{Name: "expect_body", Type: catalog.String, Description: "a substring the body must contain"},
				{Name: "expect_body_regex", Type: catalog.String, Description: "a regular expression (Go syntax) the body must match"},
				{Name: "timeout", Type: catalog.Duration, Description: "for the whole request; default the timeout setting"},
				{Name: "follow_redirects", Type: catalog.Bool, Description: "follow up to 10 redirects (default true)"},
			},
			Outputs: []catalog.Field{
				{Name: "status", Type: catalog.Int},
				{Name: "body", Type: catalog.String, Description: "the body, cut at 64 KiB"},
				{Name: "truncated", Type: catalog.Bool, Description: "the body was longer than 64 KiB"},
				{Name: "latency", Type: catalog.Duration, Description: "from sending the request to reading the body"},
				{Name: "headers", Type: catalog.Map, Description: "response headers by canonical name, values joined with \", \"; cookies masked"},
			},
			Idempotent: true,
			ReadOnly:   true,
		},
	},
}
