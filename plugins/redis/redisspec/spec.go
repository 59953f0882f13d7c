// Package redisspec is the redis plugin's catalogue entry: what validate and plan
// need to know about its actions, without the plugin's dependencies, so the
// runbook core can link it.
package redisspec

import (
	"github.com/alpha-orion/runbook/engine/catalog"
)

// Name is the name the plugin is served under: steps use `redis.ACTION`.
const Name = "redis"

// Spec is the plugin's catalogue entry.
var Spec = catalog.Plugin{
	Name: Name,
	Description: "Redis (and Upstash, which speaks its protocol): ping, read a key, flush non-critical keys " +
		"by pattern, and re-hydrate the cache from database rows.",
	Config: []catalog.Field{
		{Name: "url", Type: catalog.String, Required: true, Secret: true,
			Description: "redis://… or rediss://default:PASSWORD@host:port (TLS) as Upstash gives it: ${{ secrets.REDIS_URL }}"},
		{Name: "tls_insecure_skip_verify", Type: catalog.Bool, Description: "accept any TLS certificate (drills against self-signed servers only)"},
		{Name: "timeout", Type: catalog.Duration, Description: "dial, read and write timeout; default 5s"},
	},
	Actions: []catalog.Action{
		{
			Name:        "ping",
			Description: "Check that the server answers, and how fast.",
			Outputs:     []catalog.Field{{Name: "latency", Type: catalog.Duration, Description: "the PING's round trip"}},
			Idempotent:  true,
			ReadOnly:    true,
		},
		{
			Name:        "get",
			Description: "Read one string key, e.g. to check that re-hydration wrote it. A missing key is not an error: exists is false.",
			Inputs:      []catalog.Field{{Name: "key", Type: catalog.String, Required: true}},
			Outputs: []catalog.Field{
				{Name: "value", Type: catalog.String, Description: "empty when the key does not exist"},
				{Name: "exists", Type: catalog.Bool},
				{Name: "ttl", Type: catalog.Duration, Description: "time left before the key expires; 0 when it never does or does not exist"},
			},
			Idempotent: true,
			ReadOnly:   true,
		},
		{
			Name: "delete_pattern",
			Description: "Delete every key matching a glob pattern (\"flush non-critical data\"), found with SCAN " +
				"(never KEYS, which blocks the server) and removed in batches with UNLINK (DEL where UNLINK is missing).",
			Inputs: []catalog.Field{
				{Name: "pattern", Type: catalog.String, Required: true, Description: "a Redis glob pattern, e.g. cache:*"},
				{Name: "exclude", Type: catalog.List, Description: "glob patterns of keys to keep although they match, e.g. [cache:config:*]"},
				{Name: "count", Type: catalog.Int, Description: "SCAN's COUNT hint, keys looked at per call (default 1000)"},
				{Name: "dry_run", Type: catalog.Bool, Description: "only count the keys that would be deleted"},
			},
			Outputs: []catalog.Field{
				{Name: "deleted", Type: catalog.Int, Description: "keys deleted (with dry_run: keys that would be)"},
				{Name: "sample", Type: catalog.List, Description: "up to 10 of those keys"},
				{Name: "dry_run", Type: catalog.Bool},
			},
			Destructive: true,
			Idempotent:  true,
		},
		{
			Name: "set_from_rows",
			Description: "Write one key per row, e.g. the rows of a postgres.query, to re-hydrate the cache. " +
				"The key comes from key_template (\"user:{id}\") or key_column; the value from value_column, or the whole row as JSON.",
			Inputs: []catalog.Field{
				{Name: "rows", Type: catalog.Rows, Required: true, Description: "a list of maps, e.g. ${{ steps.users.outputs.rows }}"},
				{Name: "key_template", Type: catalog.String, Description: "the key, with {column} replaced by the row's value, e.g. user:{id}"},
				{Name: "key_column", Type: catalog.String, Description: "the column whose value is the key"},
				{Name: "value_column", Type: catalog.String, Description: "the column whose value is stored; default the whole row as JSON"},
				{Name: "ttl", Type: catalog.Duration, Description: "expire the keys after this long; default never"},
			},
			Outputs: []catalog.Field{
				{Name: "written", Type: catalog.Int, Description: "keys written"},
			},
			Idempotent: true,
		},
	},
}
