// Package postgresspec is the postgres plugin's catalogue entry: what validate and plan
// need to know about its actions, without the plugin's dependencies, so the
// runbook core can link it.
package postgresspec

import (
	"github.com/alpha-orion/runbook/engine/catalog"
)

// Name is the name the plugin is served under: steps use postgres.ACTION.
const Name = "postgres"

// urlInput is the connection URL every action takes; it falls back to the
// plugin's `url` setting.
var urlInput = catalog.Field{
	Name: "url", Type: catalog.String, Secret: true,
	Description: "connection URL (postgres://user:password@host:port/db?sslmode=...); default: the plugin's url setting",
}

// Spec is the plugin's catalogue entry.
var Spec = catalog.Plugin{
	Name:        Name,
	Description: "PostgreSQL: query and change a database, check it is up, and restore pg_dump dumps with psql and pg_restore.",
	Config: []catalog.Field{
		{Name: "url", Type: catalog.String, Secret: true, Description: "default connection URL for steps that give none"},
		{Name: "bin_dir", Type: catalog.String, Description: "folder holding psql and pg_restore; default: pg_config --bindir, /usr/lib/postgresql/*/bin, then PATH"},
		{Name: "connect_timeout", Type: catalog.Duration, Description: "how long one connection attempt may take (default 10s)"},
	},
	Actions: []catalog.Action{
		{
			Name:        "query",
			Description: "Run one query in a read-only transaction and return its rows, typed (int, number, timestamp, string, bool, null).",
			Inputs: []catalog.Field{
				urlInput,
				{Name: "sql", Type: catalog.String, Required: true, Description: "one SQL statement; $1, $2... take args"},
				{Name: "args", Type: catalog.List, Description: "values for $1, $2..."},
				{Name: "max_rows", Type: catalog.Int, Description: "fail when the query returns more rows (default 10000)"},
				{Name: "read_only", Type: catalog.Bool, Description: "run in a read-only transaction (default true); use exec for changes"},
			},
			Outputs: []catalog.Field{
				{Name: "rows", Type: catalog.Rows, Description: "one map per row, by column name"},
				{Name: "count", Type: catalog.Int, Description: "how many rows"},
				{Name: "columns", Type: catalog.List, Description: "the column names, in order"},
			},
			Idempotent: true,
			ReadOnly:   true,
		},
		{
			Name:        "exec",
			Description: "Run one SQL statement that changes the database; with multiple_statements, several, as one implicit transaction.",
			Inputs: []catalog.Field{
				urlInput,
				{Name: "sql", Type: catalog.String, Required: true, Description: "one SQL statement; $1, $2... take args"},
				{Name: "args", Type: catalog.List, Description: "values for $1, $2..."},
				{Name: "multiple_statements", Type: catalog.Bool, Description: "allow several statements separated by ; (then no args); default false: one statement, so a value pasted into the text cannot add another"},
			},
			Outputs: []catalog.Field{
				{Name: "rows_affected", Type: catalog.Int, Description: "rows the last statement changed"},
				{Name: "command", Type: catalog.String, Description: "the last statement's command tag, e.g. UPDATE 3"},
			},
			Destructive: true,
		},
		{
			Name:        "ping",
			Description: "Connect and report the server's version and the round-trip time.",
			Inputs:      []catalog.Field{urlInput},
			Outputs: []catalog.Field{
				{Name: "server_version", Type: catalog.String, Description: "e.g. 15.10 (Debian 15.10-0+deb12u1)"},
				{Name: "server_version_num", Type: catalog.Int, Description: "e.g. 150010"},
				{Name: "latency", Type: catalog.Duration, Description: "one query's round trip on an open connection"},
				{Name: "database", Type: catalog.String},
				{Name: "user", Type: catalog.String},
				{Name: "in_recovery", Type: catalog.Bool, Description: "true on a standby"},
			},
			Idempotent: true,
			ReadOnly:   true,
		},
		{
			Name:        "wait_ready",
			Description: "Wait until the server accepts connections, e.g. after provisioning it.",
			Inputs: []catalog.Field{
				urlInput,
				{Name: "timeout", Type: catalog.Duration, Description: "give up after this long (default 2m)"},
				{Name: "interval", Type: catalog.Duration, Description: "pause between attempts (default 1s)"},
			},
			Outputs: []catalog.Field{
				{Name: "server_version", Type: catalog.String},
				{Name: "attempts", Type: catalog.Int},
				{Name: "waited", Type: catalog.Duration},
			},
			Idempotent: true,
			ReadOnly:   true,
		},
		{
			Name:        "create_database",
			Description: "Create a database unless it exists.",
			Inputs: []catalog.Field{
				{Name: "url", Type: catalog.String, Secret: true, Description: "connection URL of a maintenance database (e.g. .../postgres); default: the plugin's url setting"},
				{Name: "name", Type: catalog.String, Required: true, Description: "the database to create"},
				{Name: "owner", Type: catalog.String, Description: "its owner (default: the connecting role)"},
				{Name: "template", Type: catalog.String, Description: "template database (default template1)"},
			},
			Outputs: []catalog.Field{
				{Name: "name", Type: catalog.String},
				{Name: "created", Type: catalog.Bool, Description: "false when it already existed"},
			},
			Idempotent: true,
		},
		{
			Name: "restore_dump",
			Description: "Restore a pg_dump dump (plain SQL, optionally gzipped, or custom, tar or directory format) with psql or " +
				"pg_restore, in one transaction: an error or a truncated dump leaves the database unchanged.",
			Inputs: []catalog.Field{
				urlInput,
				{Name: "file", Type: catalog.String, Required: true, Description: "the dump: a file, or a directory-format dump's folder"},
				{Name: "clean", Type: catalog.Bool, Description: "drop the dump's objects before creating them (pg_restore --clean --if-exists; not for plain SQL)"},
				{Name: "jobs", Type: catalog.Int, Description: "parallel pg_restore jobs (custom or directory format); above 1 the restore is not one transaction"},
				{Name: "no_owner", Type: catalog.Bool, Description: "skip ownership commands (pg_restore --no-owner; not for plain SQL)"},
				{Name: "allow_incomplete", Type: catalog.Bool, Description: "accept SQL without pg_dump's 'dump complete' trailer (hand-written SQL); default false"},
				{Name: "marker", Type: catalog.Bool, Description: "record the restore in the database's comment (replacing it), in the same transaction, so a crashed run can tell whether it happened (default true; needs database ownership)"},
			},
			Outputs: []catalog.Field{
				{Name: "format", Type: catalog.String, Description: "plain, custom, tar or directory"},
				{Name: "tables", Type: catalog.Int, Description: "tables the dump created"},
				{Name: "rows", Type: catalog.Int, Description: "rows loaded, all tables together"},
				{Name: "table_rows", Type: catalog.Map, Description: "rows loaded per table, by schema.table"},
				{Name: "database", Type: catalog.String},
				{Name: "duration", Type: catalog.Duration},
			},
			Destructive: true,
		},
	},
}
