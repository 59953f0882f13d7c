// Package renderspec is the render plugin's catalogue entry: what validate and plan
// need to know about its actions, without the plugin's dependencies, so the
// runbook core can link it.
package renderspec

import (
	"github.com/alpha-orion/runbook/engine/catalog"
)

// Name is the name the plugin is served under: steps use `render.ACTION`.
const Name = "render"

// DefaultBaseURL is the Render API v1 the plugin talks to unless base_url says otherwise.
const DefaultBaseURL = "https://api.render.com/v1"

// serviceRef is the input naming a service by name or ID.
var serviceRef = catalog.Field{Name: "service", Type: catalog.String, Required: true,
	Description: "the service, by name (e.g. user-api-service) or ID (srv-…)"}

// suspendOutputs are the outputs of suspend and resume.
var suspendOutputs = []catalog.Field{
	{Name: "service_id", Type: catalog.String},
	{Name: "suspended", Type: catalog.Bool, Description: "the state now"},
	{Name: "was_suspended", Type: catalog.Bool, Description: "the state before, for an undo; absent when Reconcile found the step done after a crash"},
}

// envOutputs are the outputs of set_env and set_group_env: never a value.
var envOutputs = []catalog.Field{
	{Name: "target_id", Type: catalog.String, Description: "the service or environment group changed"},
	{Name: "previous_value_set", Type: catalog.Bool, Description: "whether the variable had a value before (never the value itself); absent after a crash"},
	{Name: "changed", Type: catalog.Bool, Description: "false when the variable already had the value (true when Reconcile found the step done after a crash)"},
}

// envInputs are key and value; value is not a secret input, so a literal
// stays allowed, but the plugin never prints it.
var envInputs = []catalog.Field{
	{Name: "key", Type: catalog.String, Required: true, Description: "e.g. DATABASE_URL"},
	{Name: "value", Type: catalog.String, Required: true, Description: "never printed by the plugin; pass secrets as ${{ secrets.X }} or a secret output"},
}

// Spec is the plugin's catalogue entry.
var Spec = catalog.Plugin{
	Name:        Name,
	Description: "Render hosting (API v1): scale, suspend, resume and restart services, deploy and wait until live, set environment variables.",
	Config: []catalog.Field{
		{Name: "api_key", Type: catalog.String, Required: true, Secret: true, Description: "a Render API key: ${{ secrets.RENDER_API_KEY }}"},
		{Name: "base_url", Type: catalog.String, Description: "the API base; default " + DefaultBaseURL + " (drills point it at an emulator)"},
		{Name: "retries", Type: catalog.Int, Description: "extra attempts of a call that failed with 429, 5xx or a network error; default 5"},
		{Name: "retry_delay", Type: catalog.Duration, Description: "the first wait between attempts, doubled each time up to 30s; default 1s"},
		{Name: "poll_interval", Type: catalog.Duration, Description: "how often a deploy is polled; default 5s"},
		{Name: "request_timeout", Type: catalog.Duration, Description: "the limit on one HTTP request; default 30s"},
	},
	Actions: []catalog.Action{
		{
			Name:        "scale",
			Description: "Set a service's instance count and read it back (Render ignores a manual count while autoscaling is on: the step fails then). previous_instances lets an undo scale it back.",
			Inputs:      []catalog.Field{serviceRef, {Name: "instances", Type: catalog.Int, Required: true, Description: "1 to 100 (Render's manual scaling); to stop a service, suspend it"}},
			Outputs: []catalog.Field{
				{Name: "service_id", Type: catalog.String},
				{Name: "previous_instances", Type: catalog.Int, Description: "the count before; absent when Reconcile found the step done after a crash"},
				{Name: "instances", Type: catalog.Int},
			},
			Idempotent: true,
		},
		{
			Name:        "suspend",
			Description: "Suspend a service (it stops serving until resumed).",
			Inputs:      []catalog.Field{serviceRef},
			Outputs:     suspendOutputs,
			Idempotent:  true,
		},
		{
			Name:        "resume",
			Description: "Resume a suspended service.",
			Inputs:      []catalog.Field{serviceRef},
			Outputs:     suspendOutputs,
			Idempotent:  true,
		},
		{
			Name:        "restart",
			Description: "Restart a service's instances.",
			Inputs:      []catalog.Field{serviceRef},
			Outputs:     []catalog.Field{{Name: "service_id", Type: catalog.String}},
		},
		{
			Name:        "deploy",
			Description: "Trigger a deploy and (by default) wait until it is live; fails when it ends otherwise.",
			Inputs: []catalog.Field{
				serviceRef,
				{Name: "clear_cache", Type: catalog.Bool, Description: "build without the build cache; default false"},
				{Name: "commit_id", Type: catalog.String, Description: "the commit to deploy; default the branch's latest. Giving it lets Reconcile find the deploy after a crash"},
				{Name: "image_url", Type: catalog.String, Description: "for image-backed services, the image to deploy"},
				{Name: "wait", Type: catalog.Bool, Description: "wait until the deploy is live; default true"},
				{Name: "timeout", Type: catalog.Duration, Description: "how long to wait; default 30m"},
			},
			Outputs: []catalog.Field{
				{Name: "service_id", Type: catalog.String},
				{Name: "deploy_id", Type: catalog.String},
				{Name: "status", Type: catalog.String, Description: "live after a wait; e.g. created with wait: false"},
				{Name: "commit_id", Type: catalog.String},
			},
		},
		{
			Name:        "set_env",
			Description: "Set an environment variable of a service, or of an environment group (give service or group).",
			Inputs: append([]catalog.Field{
				{Name: "service", Type: catalog.String, Description: "the service, by name or ID"},
				{Name: "group", Type: catalog.String, Description: "or the environment group, by name or ID"},
			}, envInputs...),
			Outputs:    envOutputs,
			Idempotent: true,
		},
		{
			Name:        "set_group_env",
			Description: "Set an environment variable of an environment group; the linked services see it on their next deploy.",
			Inputs: append([]catalog.Field{
				{Name: "group", Type: catalog.String, Required: true, Description: "the environment group, by name (e.g. production) or ID (evg-…)"},
			}, envInputs...),
			Outputs:    envOutputs,
			Idempotent: true,
		},
		{
			Name:        "get_service",
			Description: "Read a service.",
			Inputs:      []catalog.Field{serviceRef},
			Outputs: []catalog.Field{
				{Name: "id", Type: catalog.String},
				{Name: "name", Type: catalog.String},
				{Name: "type", Type: catalog.String},
				{Name: "instances", Type: catalog.Int},
				{Name: "suspended", Type: catalog.Bool},
				{Name: "region", Type: catalog.String},
				{Name: "url", Type: catalog.String},
				{Name: "dashboard_url", Type: catalog.String},
			},
			Idempotent: true,
			ReadOnly:   true,
		},
	},
}
