// Package neonspec is the neon plugin's catalogue entry: what validate and plan
// need to know about its actions, without the plugin's dependencies, so the
// runbook core can link it.
package neonspec

import (
	"time"

	"github.com/alpha-orion/runbook/engine/catalog"
)

// Name is the name the plugin is served under: steps use `neon.ACTION`.
const Name = "neon"

// DefaultBaseURL is the Neon API v2 the plugin talks to unless base_url says otherwise.
const DefaultBaseURL = "https://console.neon.tech/api/v2"

// Defaults of the configuration keys.
const (
	DefaultDatabase       = "neondb"
	DefaultRole           = "neondb_owner"
	DefaultRetries        = 5
	DefaultRetryDelay     = time.Second
	DefaultPollInterval   = 2 * time.Second
	DefaultRequestTimeout = 30 * time.Second
	DefaultRestoreTimeout = 15 * time.Minute
)

// branchRef is the input naming a branch by name or ID.
var branchRef = catalog.Field{Name: "branch", Type: catalog.String, Required: true,
	Description: "the branch, by name (e.g. main) or ID (br-…)"}

// connInputs select a connection URI's database, role and pooling.
var connInputs = []catalog.Field{
	{Name: "database_name", Type: catalog.String, Description: "the database; default the database_name setting (neondb)"},
	{Name: "role_name", Type: catalog.String, Description: "the role; default the role_name setting (neondb_owner)"},
	{Name: "pooled", Type: catalog.Bool, Description: "a pooled (PgBouncer) URI; default false"},
}

// branchOutputs describe one branch.
var branchOutputs = []catalog.Field{
	{Name: "id", Type: catalog.String},
	{Name: "name", Type: catalog.String},
	{Name: "parent_id", Type: catalog.String},
	{Name: "parent_timestamp", Type: catalog.String, Description: "RFC 3339; empty for a root branch, and Neon may leave it empty after a restore"},
	{Name: "parent_lsn", Type: catalog.String},
	{Name: "current_state", Type: catalog.String, Description: "e.g. ready, init, resetting"},
	{Name: "default", Type: catalog.Bool},
	{Name: "restore_status", Type: catalog.String, Description: "e.g. restored, empty when never restored"},
	{Name: "restored_from", Type: catalog.String},
	{Name: "restored_as", Type: catalog.String},
	{Name: "created_at", Type: catalog.Timestamp},
	{Name: "updated_at", Type: catalog.Timestamp},
}

// Spec is the plugin's catalogue entry.
var Spec = catalog.Plugin{
	Name:        Name,
	Description: "Neon serverless Postgres (API v2): point-in-time restore of a branch, operations, branches and connection URIs.",
	Config: []catalog.Field{
		{Name: "project_id", Type: catalog.String, Required: true, Description: "the Neon project, e.g. shiny-wind-028834"},
		{Name: "api_key", Type: catalog.String, Required: true, Secret: true, Description: "a Neon API key: ${{ secrets.NEON_API_KEY }}"},
		{Name: "base_url", Type: catalog.String, Description: "the API base; default " + DefaultBaseURL + " (drills point it at an emulator)"},
		{Name: "database_name", Type: catalog.String, Description: "the database connection URIs name; default " + DefaultDatabase},
		{Name: "role_name", Type: catalog.String, Description: "the role connection URIs log in as; default " + DefaultRole},
		{Name: "retries", Type: catalog.Int, Description: "extra attempts of a call that failed with 423, 429, 5xx or a network error; default 5"},
		{Name: "retry_delay", Type: catalog.Duration, Description: "the first wait between attempts, doubled each time up to 30s; default 1s"},
		{Name: "poll_interval", Type: catalog.Duration, Description: "how often operations are polled; default 2s"},
		{Name: "request_timeout", Type: catalog.Duration, Description: "the limit on one HTTP request; default 30s"},
	},
	Actions: []catalog.Action{
		{
			Name: "restore_branch",
			Description: "Restore a branch to a timestamp or LSN of its own history (or of another branch), " +
				"keeping the state it had under a new branch name, and wait for the restore to finish.",
			Inputs: []catalog.Field{
				branchRef,
				{Name: "timestamp", Type: catalog.Timestamp, Description: "the moment to restore to (give this or lsn)"},
				{Name: "lsn", Type: catalog.String, Description: "the WAL position to restore to, e.g. 0/1E5A2C8 (give this or timestamp)"},
				{Name: "source_branch", Type: catalog.String, Description: "the branch whose history to restore from, by name or ID; default the branch itself"},
				{Name: "preserve_under_name", Type: catalog.String, Description: "the name that keeps the current state; default BRANCH_before_restore_KEY, the same for every attempt of the step"},
				{Name: "wait", Type: catalog.Bool, Description: "wait until the restore's operations finish; default true"},
				{Name: "timeout", Type: catalog.Duration, Description: "how long to wait for the operations; default 15m"},
				connInputs[0], connInputs[1], connInputs[2],
			},
			Outputs: []catalog.Field{
				{Name: "branch_id", Type: catalog.String},
				{Name: "connection_uri", Type: catalog.String, Secret: true, Description: "postgres://role:PASSWORD@host/db: it holds the role's password"},
				{Name: "host", Type: catalog.String, Description: "the host (and port) of connection_uri, safe to print"},
				{Name: "new_endpoint", Type: catalog.Bool, Description: "whether the connection URI's host or database changed across the restore (Neon documents that a restore keeps it; false when the URI before is unknown, after a lost answer or a crash)"},
				{Name: "restored_at", Type: catalog.Timestamp, Description: "when the restore happened: the branch's last_reset_at"},
				{Name: "restore_point", Type: catalog.String, Description: "the timestamp (RFC 3339) or LSN restored to; for the head of another branch, its LSN or \"head of branch NAME\""},
				{Name: "preserve_under_name", Type: catalog.String},
				{Name: "preserved_branch_id", Type: catalog.String, Description: "the branch holding the state from before the restore"},
				{Name: "operations", Type: catalog.List, Description: "the restore's operations: {id, action, status}"},
			},
			Destructive: true,
		},
		{
			Name:        "wait_operations",
			Description: "Wait until operations are final: the given ones, or every unfinished one of a branch. Fails if one failed, errored or was cancelled.",
			Inputs: []catalog.Field{
				{Name: "operation_ids", Type: catalog.List, Description: "operation IDs (give this or branch)"},
				{Name: "branch", Type: catalog.String, Description: "a branch, by name or ID: wait for its unfinished operations"},
				{Name: "timeout", Type: catalog.Duration, Description: "default 15m"},
			},
			Outputs: []catalog.Field{
				{Name: "operations", Type: catalog.List, Description: "{id, action, status}"},
				{Name: "count", Type: catalog.Int},
			},
			Idempotent: true,
			ReadOnly:   true,
		},
		{
			Name:        "list_branches",
			Description: "List the project's branches, optionally those whose name or ID contains search.",
			Inputs:      []catalog.Field{{Name: "search", Type: catalog.String}},
			Outputs: []catalog.Field{
				{Name: "branches", Type: catalog.List, Description: "{id, name, parent_id, current_state, default, restore_status, restored_from, restored_as, created_at}"},
				{Name: "count", Type: catalog.Int},
			},
			Idempotent: true,
			ReadOnly:   true,
		},
		{
			Name:        "get_branch",
			Description: "Read one branch, by name or ID.",
			Inputs:      []catalog.Field{branchRef},
			Outputs:     branchOutputs,
			Idempotent:  true,
			ReadOnly:    true,
		},
		{
			Name:        "connection_uri",
			Description: "Get the connection URI of a branch (default the project's default branch).",
			Inputs: append([]catalog.Field{
				{Name: "branch", Type: catalog.String, Description: "by name or ID; default the project's default branch"},
			}, connInputs...),
			Outputs: []catalog.Field{
				{Name: "uri", Type: catalog.String, Secret: true, Description: "it holds the role's password"},
				{Name: "host", Type: catalog.String},
				{Name: "branch_id", Type: catalog.String},
			},
			Idempotent: true,
			ReadOnly:   true,
		},
	},
}
